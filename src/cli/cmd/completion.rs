//! `rune completion SHELL`: the shell's completion script, from the same clap definitions.

use clap_complete::Shell;

use crate::cli::args::Cli;
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;

pub fn run(shell: Shell) -> Result<ExitCode, CliError> {
    let mut command = <Cli as clap::CommandFactory>::command();
    // clap_complete panics when its writer fails, as a closed stdout does (`| head -1`); a
    // buffer cannot fail, and the write below fails the way every command's output does.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "rune", &mut script);
    output::print(script)?;
    Ok(ExitCode::Success)
}
