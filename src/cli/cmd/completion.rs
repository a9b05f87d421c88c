//! `rune completion SHELL`: the shell's completion script. The script calls `rune` back with
//! `COMPLETE=SHELL` for each completion (see [`crate::cli::complete`]), so completions follow
//! the binary on `PATH` and can name the server's objects.

use clap_complete::Shell;
use clap_complete::env::Shells;

use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;

/// The variable the scripts set to ask `rune` for completions.
pub const VAR: &str = "COMPLETE";

pub fn run(shell: Shell) -> Result<ExitCode, CliError> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let Some(completer) = shells.completer(&name) else {
        return Err(CliError::Usage(format!("no completion for `{name}`")));
    };
    // A buffer cannot fail; the write below fails the way every command's output does (a
    // closed stdout is a quiet exit 0).
    let mut script = Vec::new();
    completer
        .write_registration(VAR, "rune", "rune", "rune", &mut script)
        .map_err(CliError::Output)?;
    output::print(script)?;
    Ok(ExitCode::Success)
}
