//! `rune version`.

use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;

pub fn run() -> Result<ExitCode, CliError> {
    output::print(format!("rune {}\n", env!("CARGO_PKG_VERSION")))?;
    Ok(ExitCode::Success)
}
