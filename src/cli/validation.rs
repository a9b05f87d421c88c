//! The validation options a command that reads runefiles works with: the namespace in force
//! (`-n`, else the context's) and the file roots `file:` entries may lead into (SPEC §2.3).
//! Lint, cast, diff and seal build them here, so that a runefile reads the same in each.

use std::path::PathBuf;

use crate::cli::args::GlobalArgs;
use crate::cli::error::CliError;
use crate::cli::target;
use crate::validate::Options;

/// Options with the namespace in force and `--allow-file-root` directories, resolved.
pub fn options(global: &GlobalArgs, allow_file_root: &[PathBuf]) -> Result<Options, CliError> {
    Ok(Options {
        default_namespace: target::namespace(global)?,
        namespace_flag: global.namespace.clone(),
        allow_file_roots: roots(allow_file_root)?,
        ..Options::default()
    })
}

/// `--allow-file-root` directories, resolved; one that does not exist is a usage error.
pub fn roots(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    dirs.iter()
        .map(|dir| {
            crate::fs::confine::allowed_root(dir).map_err(|e| {
                CliError::Usage(format!(
                    "--allow-file-root `{}` is not a directory: {e}",
                    dir.display()
                ))
            })
        })
        .collect()
}
