//! `rune version [-o json]`.

use crate::cli::args::{GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;

pub fn run(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let version = env!("CARGO_PKG_VERSION");
    output::print(if global.output == Some(OutputFormat::Json) {
        format!("{}\n", serde_json::json!({ "version": version }))
    } else {
        format!("rune {version}\n")
    })?;
    Ok(ExitCode::Success)
}
