//! `rune restart SERVICE [--no-wait] [--timeout SECS]`: runed replaces the instances one at a
//! time, each started with the current secret and configmap versions, and (unless `--no-wait`)
//! this waits until every one runs again. Past the timeout: exit 7, the restart goes on.

use std::time::Duration;

use crate::cli::args::{GlobalArgs, OutputFormat, RestartArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::resource::Kind;
use crate::wire::object::{KindName, ObjectKey};

pub fn run(args: &RestartArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let target = target::select(global)?;
    let key = ObjectKey {
        kind: KindName(Kind::Service),
        name: args.name.clone(),
        namespace: target.namespace.clone(),
    };
    let result = target
        .backend
        .restart(&key, !args.no_wait, Duration::from_secs(args.timeout))?;
    let text = if global.output == Some(OutputFormat::Json) {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        )
    } else if result.completed {
        format!(
            "restarted service `{}/{}`: {} instances running\n",
            key.namespace,
            key.name,
            result.service.instances.len()
        )
    } else {
        format!(
            "restarting service `{}/{}` ({} instances, one at a time); see `rune status`\n",
            key.namespace,
            key.name,
            result.service.instances.len()
        )
    };
    if !global.quiet || global.output == Some(OutputFormat::Json) {
        output::print(text)?;
    }
    Ok(ExitCode::Success)
}
