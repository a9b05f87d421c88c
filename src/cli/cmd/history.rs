//! `rune history secret|config NAME [-o json]` and `rune rollback secret|config NAME
//! --to-version N` (SPEC §3, issue #15).
//!
//! In: a kind word, a name, the global flags. Out: the retained versions newest first (a table,
//! or the server's JSON), or the version a rollback made, with a warning on stderr that the
//! next cast of the runefiles plans to change it back. Key names only: no value, length or hash
//! of one reaches the output, because none reaches the client at all.

use std::fmt::Write as _;
use std::io::Write as _;

use clap::Args;

use crate::cli::args::{GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::present::parse_kind;
use crate::cli::target;
use crate::resource::Kind;
use crate::validate::names::dns1123_problem;
use crate::wire::history::{History, HistoryEntry};
use crate::wire::object::{KindName, ObjectKey};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rune history secret db-credentials
  rune history config app-settings -n team -o json")]
pub struct HistoryArgs {
    /// `secret` or `config`
    #[arg(value_name = "KIND")]
    pub kind: String,
    /// The secret's or configmap's name
    pub name: String,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rune history secret db-credentials
  rune rollback secret db-credentials --to-version 3")]
pub struct RollbackArgs {
    /// `secret` or `config`
    #[arg(value_name = "KIND")]
    pub kind: String,
    /// The secret's or configmap's name
    pub name: String,
    /// The retained version whose data the new version takes (see `rune history`)
    #[arg(long, value_name = "N")]
    pub to_version: u64,
}

fn key(kind: &str, name: &str, namespace: String) -> Result<ObjectKey, CliError> {
    let Some(kind @ (Kind::Secret | Kind::ConfigMap)) = parse_kind(kind) else {
        return Err(CliError::Usage(format!(
            "`{kind}` has no versions: history and rollback are for `secret` and `config`"
        )));
    };
    if let Some(problem) = dns1123_problem(name) {
        return Err(CliError::Invalid(format!(
            "`{name}` is not a valid name: {problem}"
        )));
    }
    Ok(ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace,
    })
}

fn reject_yaml(global: &GlobalArgs) -> Result<(), CliError> {
    if global.output == Some(OutputFormat::Yaml) {
        return Err(CliError::Usage(
            "this command prints a table or JSON (`-o json`), not YAML".to_owned(),
        ));
    }
    Ok(())
}

pub fn history(args: &HistoryArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    reject_yaml(global)?;
    let target = target::select(global)?;
    let key = key(&args.kind, &args.name, target.namespace.clone())?;
    let history = target.backend.history(&key)?;
    if global.output == Some(OutputFormat::Json) {
        output::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&history).unwrap_or_default()
        ))?;
    } else {
        output::print(table(&history))?;
    }
    Ok(ExitCode::Success)
}

fn table(history: &History) -> String {
    let mut text = String::from("VERSION\tCAST AT\tCAST BY\tCOMMIT\tPATH\tCHANGES\n");
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    for entry in &history.versions {
        let commit = entry
            .commit
            .as_deref()
            .map_or_else(|| "-".to_owned(), |c| c.chars().take(12).collect());
        let _ = writeln!(
            text,
            "v{}\t{}\t{}\t{commit}\t{}\t{}",
            entry.version,
            dash(&entry.cast_at),
            dash(&entry.cast_by),
            dash(&entry.path),
            changes(entry)
        );
    }
    text
}

/// `+ new, - gone, ~ changed`, and where a rollback took its data from.
fn changes(entry: &HistoryEntry) -> String {
    let mut parts = Vec::new();
    if let Some(from) = entry.rollback_of {
        parts.push(format!("rollback to v{from}:"));
    }
    match &entry.changes {
        None => parts.push("(the version before is no longer retained)".to_owned()),
        Some(names)
            if names.added.is_empty() && names.removed.is_empty() && names.changed.is_empty() =>
        {
            parts.push("(same keys and values)".to_owned());
        }
        Some(names) => {
            parts.extend(names.added.iter().map(|k| format!("+ {k}")));
            parts.extend(names.removed.iter().map(|k| format!("- {k}")));
            parts.extend(names.changed.iter().map(|k| format!("~ {k}")));
        }
    }
    parts.join(" ")
}

pub fn rollback(args: &RollbackArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    reject_yaml(global)?;
    let target = target::select(global)?;
    let key = key(&args.kind, &args.name, target.namespace.clone())?;
    let result = target.backend.rollback(&key, args.to_version)?;
    if global.output == Some(OutputFormat::Json) {
        output::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        ))?;
    } else if !global.quiet {
        output::print(format!(
            "rolled back {} `{}/{}`: version {} holds the data of version {}\n",
            key.kind.0.singular(),
            key.namespace,
            key.name,
            result.version,
            result.from_version
        ))?;
    }
    // Always said, even with -q: the runefiles in git still declare the newer data.
    let _ = writeln!(
        std::io::stderr(),
        "warning: the runefiles that declare {} `{}/{}` still hold the newer data: the next `rune cast` of them will plan to overwrite this rollback; change them to keep it",
        key.kind.0.singular(),
        key.namespace,
        key.name
    );
    Ok(ExitCode::Success)
}
