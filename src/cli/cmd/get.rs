//! `rune get KIND [NAME]` (or `KIND/NAME`, as kubectl takes it): tables, runefile YAML or JSON;
//! secrets as metadata only. `-l key=value,…` keeps the objects with all those labels. An empty
//! answer from a namespace that does not exist says so (exit 4) instead of listing nothing.

use crate::cli::args::{GetArgs, GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::present;
use crate::cli::target;
use crate::client::{Backend, ClientError};
use crate::resource::Kind;
use crate::validate::set::BUILTIN_NAMESPACES;
use crate::wire::batch::Listed;
use crate::wire::error::ErrorKind;
use crate::wire::object::{KindName, ObjectKey};
use crate::wire::runner::RunnerStatus;

pub fn run(args: &GetArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (kind, name) = kind_and_name(&args.kind, args.name.as_deref())?;
    let selector = args.selector.as_deref().map(selector).transpose()?;
    if selector.is_some() && name.is_some() {
        return Err(CliError::Usage(
            "-l/--selector filters a list: give a KIND without a NAME".to_owned(),
        ));
    }
    let target = target::select_for(global, target::Access::Read)?;
    let format = global.output.unwrap_or(OutputFormat::Table);
    let text = if let Some(name) = name {
        let key = ObjectKey {
            kind: KindName(kind),
            name: name.to_owned(),
            namespace: if kind.is_namespaced() {
                target.namespace.clone()
            } else {
                String::new()
            },
        };
        let listed = match target.backend.get(&key) {
            Err(error) if error.kind() == ErrorKind::NotFound => {
                namespace_exists(target.backend.as_ref(), &key.namespace)?;
                return Err(error.into());
            }
            answer => answer?,
        };
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
        let mut items = target.backend.list(kind, namespace)?;
        if let Some(selector) = &selector {
            items.retain(|l| matches(l, selector));
        }
        if items.is_empty()
            && let Some(namespace) = namespace
        {
            namespace_exists(target.backend.as_ref(), namespace)?;
        }
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

/// `key=value[,key2=value2]`, as kubectl's equality-based selectors.
fn selector(text: &str) -> Result<Vec<(String, String)>, CliError> {
    text.split(',')
        .map(|term| match term.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                let value = value.strip_prefix('=').unwrap_or(value);
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(CliError::Usage(format!(
                "`{term}` in -l/--selector is not `key=value` (several: `k1=v1,k2=v2`)"
            ))),
        })
        .collect()
}

/// Whether the object carries every label of the selector.
fn matches(listed: &Listed, selector: &[(String, String)]) -> bool {
    selector
        .iter()
        .all(|(key, value)| listed.object.labels.get(key) == Some(value))
}

/// Exit 4 naming the namespace when it does not exist (the built-in ones always do).
fn namespace_exists(backend: &dyn Backend, namespace: &str) -> Result<(), CliError> {
    if namespace.is_empty() || BUILTIN_NAMESPACES.contains(&namespace) {
        return Ok(());
    }
    let key = ObjectKey {
        kind: KindName(Kind::Namespace),
        name: namespace.to_owned(),
        namespace: String::new(),
    };
    match backend.get(&key) {
        Err(error) if error.kind() == ErrorKind::NotFound => Err(CliError::NotFound(format!(
            "namespace `{namespace}` does not exist (see `rune get namespaces`)"
        ))),
        _ => Ok(()),
    }
}

/// `KIND/NAME` (kubectl's `secret/db`) or `KIND [NAME]`.
pub fn kind_and_name<'a>(
    kind_word: &'a str,
    name: Option<&'a str>,
) -> Result<(Kind, Option<&'a str>), CliError> {
    match kind_word.split_once('/') {
        Some(_) if name.is_some() => Err(CliError::Usage(format!(
            "`{kind_word}` names the object already: drop `{}`",
            name.unwrap_or_default()
        ))),
        Some((word, name)) if !name.is_empty() && !name.contains('/') => {
            Ok((kind(word)?, Some(name)))
        }
        Some(_) => Err(CliError::Usage(format!(
            "`{kind_word}` is not KIND/NAME (like `secret/db`)"
        ))),
        None => Ok((kind(kind_word)?, name)),
    }
}

/// [`kind_and_name`] for commands that need a name.
pub fn kind_and_required_name(
    kind_word: &str,
    name: Option<&str>,
) -> Result<(Kind, String), CliError> {
    match kind_and_name(kind_word, name)? {
        (kind, Some(name)) => Ok((kind, name.to_owned())),
        (_, None) => Err(CliError::Usage(format!(
            "name the object: `{kind_word} NAME` or `{kind_word}/NAME`"
        ))),
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
