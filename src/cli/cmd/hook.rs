//! `rune hook install|uninstall`: the pre-commit hook that runs `rune lint --staged`.

use std::io::Write;

use crate::cli::args::{HookCommand, HookInstallArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::git::hook::{self, Previous};
use crate::git::{Repo, RepoError};

pub fn run(command: &HookCommand) -> Result<ExitCode, CliError> {
    let repo = Repo::from_env("hooks belong to a git repository")?;
    let message = match command {
        HookCommand::Install(args) => install(&repo, args)?,
        HookCommand::Uninstall => match hook::uninstall(&repo.hooks_dir())? {
            Some(path) => format!("removed {}\n", path.display()),
            None => "no pre-commit hook to remove\n".to_owned(),
        },
    };
    std::io::stdout()
        .lock()
        .write_all(message.as_bytes())
        .map_err(CliError::Output)?;
    Ok(ExitCode::Success)
}

/// The hook runs at the top of the working tree, so its paths are relative to the root.
fn install(repo: &Repo, args: &HookInstallArgs) -> Result<String, CliError> {
    let mut paths = Vec::with_capacity(args.paths.len());
    for arg in &args.paths {
        if arg == "-" {
            return Err(RepoError::Stdin("`rune hook install`").into());
        }
        let relative = repo.relative(arg)?;
        paths.push(if relative.is_empty() {
            ".".to_owned()
        } else {
            relative
        });
    }
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::canonicalize(exe).ok());
    let script = hook::script(binary.as_deref(), &paths);
    let (path, previous) = hook::install(&repo.hooks_dir(), &script, args.force)?;
    let verb = match previous {
        Previous::Foreign => "replaced",
        Previous::Ours => "updated",
        Previous::None => "installed",
    };
    let what = if paths.is_empty() {
        String::new()
    } else {
        format!(" {}", paths.join(" "))
    };
    Ok(format!(
        "{verb} {}: it runs `rune lint --staged{what}` before each commit\n",
        path.display()
    ))
}
