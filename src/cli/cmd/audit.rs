//! `rune audit [--since DURATION] [-n NS] [-o json]` (SPEC §3, §4.6; issue #15): the server's
//! audit records, oldest first. Needs the `admin` permission.
//!
//! In: the flags. Out: a table (time, caller, address, action, objects with their versions,
//! outcome) or the records as JSON. Records hold no values, so neither does this.

use std::fmt::Write as _;

use clap::Args;

use crate::cli::args::{GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::wire::audit::{AuditEntry, AuditList};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rune audit --since 1h
  rune audit --since 7d -n team -o json")]
pub struct AuditArgs {
    /// Only records this recent (`30m`, `12h`, `7d`) or since this time (RFC 3339, UTC)
    /// [default: every record kept]
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

pub fn run(args: &AuditArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    if global.output == Some(OutputFormat::Yaml) {
        return Err(CliError::Usage(
            "`rune audit` prints a table or JSON (`-o json`), not YAML".to_owned(),
        ));
    }
    if let Some(since) = &args.since {
        let is_time = since.len() == 20 && since.ends_with('Z') && since.contains('T');
        if !is_time {
            crate::duration::parse(since).map_err(CliError::Usage)?;
        }
    }
    let target = target::select(global)?;
    // Only an explicit `-n` filters: the audit is about the whole server otherwise.
    let items = target
        .backend
        .audit(args.since.as_deref(), global.namespace.as_deref())?;
    if global.output == Some(OutputFormat::Json) {
        let list = AuditList { items };
        output::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ))?;
    } else {
        output::print(table(&items))?;
    }
    Ok(ExitCode::Success)
}

fn table(items: &[AuditEntry]) -> String {
    let mut text = String::from("AT\tCALLER\tREMOTE\tACTION\tOBJECTS\tOUTCOME\n");
    for entry in items {
        let objects = entry
            .objects
            .iter()
            .map(|o| {
                let place = if o.namespace.is_empty() {
                    format!("{}/{}", o.kind, o.name)
                } else {
                    format!("{}/{}/{}", o.kind, o.namespace, o.name)
                };
                match (o.from_version, o.to_version) {
                    (Some(from), Some(to)) => format!("{place} v{from}→v{to}"),
                    (None, Some(to)) => format!("{place} +v{to}"),
                    (Some(from), None) => format!("{place} -v{from}"),
                    (None, None) => place,
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let action = match &entry.request {
            Some(request) => format!("{} {request}", entry.action),
            None => entry.action.clone(),
        };
        let outcome = match entry.status {
            Some(status) => format!("{} ({status})", entry.outcome),
            None => entry.outcome.clone(),
        };
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{action}\t{}\t{outcome}",
            entry.at,
            entry.caller.as_deref().unwrap_or("-"),
            entry.remote.as_deref().unwrap_or("-"),
            if objects.is_empty() { "-" } else { &objects },
        );
    }
    text
}
