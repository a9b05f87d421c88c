//! `rune get KIND [NAME]`: tables, runefile YAML or JSON; secrets as metadata only.

use crate::cli::args::{GetArgs, GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::present;
use crate::cli::target;
use crate::client::ClientError;
use crate::resource::Kind;
use crate::wire::object::{KindName, ObjectKey};
use crate::wire::runner::RunnerStatus;

pub fn run(args: &GetArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let kind = kind(&args.kind)?;
    let target = target::select_for(global, target::Access::Read)?;
    let format = global.output.unwrap_or(OutputFormat::Table);
    let text = if let Some(name) = &args.name {
        let key = ObjectKey {
            kind: KindName(kind),
            name: name.clone(),
            namespace: if kind.is_namespaced() {
                target.namespace.clone()
            } else {
                String::new()
            },
        };
        let listed = target.backend.get(&key)?;
        match format {
            OutputFormat::Json => pretty(&present::json_object(&listed, args.versions)),
            OutputFormat::Yaml => present::yaml_object(&listed, args.versions),
            OutputFormat::Table => present::table(
                kind,
                std::slice::from_ref(&listed),
                args.versions,
                runner_status(&target, kind, Some(&key.namespace)).as_ref(),
            ),
        }
    } else {
        let namespace =
            (kind.is_namespaced() && !args.all_namespaces).then_some(target.namespace.as_str());
        let items = target.backend.list(kind, namespace)?;
        match format {
            OutputFormat::Json => {
                let items: Vec<_> = items
                    .iter()
                    .map(|l| present::json_object(l, args.versions))
                    .collect();
                pretty(&serde_json::json!({ "items": items }))
            }
            OutputFormat::Yaml => items.iter().fold(String::new(), |mut text, l| {
                text.push_str("---\n");
                text.push_str(&present::yaml_object(l, args.versions));
                text
            }),
            OutputFormat::Table => present::table(
                kind,
                &items,
                args.versions,
                runner_status(&target, kind, namespace).as_ref(),
            ),
        }
    };
    output::print(text)?;
    Ok(ExitCode::Success)
}

/// The runner's status for the `INSTANCES` column of services: `None` without runed; a server
/// that cannot say gives an empty status (the column then shows `?`).
fn runner_status(
    target: &target::Target,
    kind: Kind,
    namespace: Option<&str>,
) -> Option<RunnerStatus> {
    if kind != Kind::Service {
        return None;
    }
    match target.backend.status(namespace) {
        Ok(status) => Some(status),
        Err(ClientError::NoRunner) => None,
        Err(_) => Some(RunnerStatus::default()),
    }
}

pub fn kind(word: &str) -> Result<Kind, CliError> {
    present::parse_kind(word).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown kind `{word}`: use secrets, configs, services, namespaces, storageclasses or volumes"
        ))
    })
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
