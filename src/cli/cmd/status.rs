//! `rune status [-A]`: every service's instances as runed runs them — state, pid, restarts,
//! start time, and which instances run older secret or configmap versions than the current ones.

use std::io::Write;

use crate::cli::args::{GlobalArgs, OutputFormat, StatusArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::present;
use crate::cli::target;

pub fn run(args: &StatusArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let target = target::select_for(global, target::Access::Read)?;
    let namespace = (!args.all_namespaces).then_some(target.namespace.as_str());
    let status = target.backend.status(namespace)?;
    if let Some(reason) = &status.mount_namespaces_reason
        && !global.quiet
    {
        let _ = writeln!(std::io::stderr(), "warning: {reason}");
    }
    let text = if global.output == Some(OutputFormat::Json) {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        )
    } else {
        present::status_table(&status)
    };
    output::print(text)?;
    Ok(ExitCode::Success)
}
