//! Shell completion, as kubectl does it: the script `rune completion SHELL` prints calls `rune`
//! back (`clap_complete`'s dynamic completion, `COMPLETE=SHELL rune -- WORDS…`), which offers
//! kinds, and names, namespaces and contexts.
//!
//! Names and namespaces come from the configured server, asked with a short timeout; any
//! failure (no server, an unreachable one, a refused token) offers nothing and prints nothing,
//! so that a shell's prompt never fills with errors. The embedded engine is never opened here:
//! that would create its data directory for a key press.

use std::ffi::OsStr;
use std::time::Duration;

use clap::FromArgMatches;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

use crate::cli::args::GlobalArgs;
use crate::cli::contexts::{self, ConfigFile};
use crate::cli::{present, target};
use crate::client::Backend;
use crate::resource::Kind;

/// The command line of [`crate::cli::args::command`] with the completers below attached to
/// the arguments they complete: what the completion scripts call into.
#[must_use]
pub fn command() -> clap::Command {
    let mut root = crate::cli::args::command();
    attach_everywhere(&mut root);
    let specific = [
        ("get", "kind", kinds_plural()),
        ("get", "name", names()),
        ("delete", "kind", kinds_singular()),
        ("delete", "name", names()),
        ("describe", "kind", kinds_described()),
        ("describe", "name", names()),
        ("logs", "name", service_names()),
        ("restart", "name", service_names()),
        ("config use-context", "name", context_names()),
        ("config delete-context", "name", context_names()),
        ("config set-context", "name", context_names()),
    ];
    for (path, id, completer) in specific {
        let mut command = &mut root;
        for name in path.split(' ') {
            command = command
                .find_subcommand_mut(name)
                .unwrap_or_else(|| panic!("no command `{path}`"));
        }
        *command = std::mem::take(command).mut_arg(id, |a| a.add(completer));
    }
    root
}

/// `-n` and `--context` complete alike on every command that has them.
fn attach_everywhere(command: &mut clap::Command) {
    let has = |c: &clap::Command, id: &str| c.get_arguments().any(|a| a.get_id() == id);
    let mut shaped = std::mem::take(command);
    if has(&shaped, "namespace") {
        shaped = shaped.mut_arg("namespace", |a| a.add(namespace_names()));
    }
    if has(&shaped, "context") {
        shaped = shaped.mut_arg("context", |a| a.add(context_names()));
    }
    for sub in shaped.get_subcommands_mut() {
        attach_everywhere(sub);
    }
    *command = shaped;
}

/// How long a completion may wait for the server.
const TIMEOUT: Duration = Duration::from_secs(2);

const PLURAL: &[&str] = &[
    "configs",
    "namespaces",
    "secrets",
    "services",
    "storageclasses",
    "volumes",
];
const SINGULAR: &[&str] = &[
    "config",
    "namespace",
    "secret",
    "service",
    "storageclass",
    "volume",
];

/// `rune get` kinds, and `KIND/NAME` once a `/` is typed.
fn kinds_plural() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| kinds_or_names(current, PLURAL))
}

/// `rune delete` kinds, and `KIND/NAME` once a `/` is typed.
fn kinds_singular() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| kinds_or_names(current, SINGULAR))
}

/// `rune describe` kinds, and `service/NAME` once a `/` is typed.
fn kinds_described() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| kinds_or_names(current, &["service"]))
}

/// The names of the kind given before (`rune get secrets <TAB>`).
fn names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let (global, kind) = line();
        let Some(kind) = kind.as_deref().and_then(present::parse_kind) else {
            return Vec::new();
        };
        filtered(current, names_of(&global, kind))
    })
}

/// Service names (`rune logs <TAB>`).
fn service_names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let (global, _) = line();
        filtered(current, names_of(&global, Kind::Service))
    })
}

/// Namespaces, from the server.
fn namespace_names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let (global, _) = line();
        filtered(current, names_of(&global, Kind::Namespace))
    })
}

/// The contexts of the config file.
fn context_names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let names = contexts::path()
            .ok()
            .and_then(|path| ConfigFile::load(&path).ok())
            .map_or_else(Vec::new, |config| {
                config.contexts.into_iter().map(|c| c.name).collect()
            });
        filtered(current, names)
    })
}

fn kinds_or_names(current: &OsStr, kinds: &[&str]) -> Vec<CompletionCandidate> {
    let text = current.to_string_lossy();
    if let Some((word, _)) = text.split_once('/') {
        let Some(kind) = present::parse_kind(word) else {
            return Vec::new();
        };
        let (global, _) = line();
        let names = names_of(&global, kind)
            .into_iter()
            .map(|name| format!("{word}/{name}"));
        return filtered(current, names.collect());
    }
    filtered(current, kinds.iter().map(|&k| k.to_owned()).collect())
}

fn candidates<S: Into<String>>(words: impl IntoIterator<Item = S>) -> Vec<CompletionCandidate> {
    words
        .into_iter()
        .map(|w| CompletionCandidate::new(w.into()))
        .collect()
}

/// The words that start with what is typed.
fn filtered(current: &OsStr, words: Vec<String>) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    candidates(words.into_iter().filter(|w| w.starts_with(prefix.as_ref())))
}

/// The names of `kind` in the namespace in force; nothing on any failure.
fn names_of(global: &GlobalArgs, kind: Kind) -> Vec<String> {
    let Ok(Some(remote)) = target::remote_only(global, TIMEOUT) else {
        return Vec::new();
    };
    let namespace = if kind.is_namespaced() {
        match target::namespace(global) {
            Ok(namespace) => Some(namespace),
            Err(_) => return Vec::new(),
        }
    } else {
        None
    };
    remote
        .list(kind, namespace.as_deref())
        .map(|items| items.into_iter().map(|l| l.object.key.name).collect())
        .unwrap_or_default()
}

/// The flags typed so far on the line being completed, and the kind (a command's first
/// argument). The words follow `--` in the arguments the shell passes; the word under the
/// cursor (bash says which, the others complete the last one) is left out.
fn line() -> (GlobalArgs, Option<String>) {
    let mut words: Vec<std::ffi::OsString> = std::env::args_os()
        .skip_while(|w| w != "--")
        .skip(1)
        .collect();
    let cursor = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
        .unwrap_or_else(|| words.len().saturating_sub(1));
    words.truncate(cursor);
    let Ok(matches) = crate::cli::args::command()
        .ignore_errors(true)
        .try_get_matches_from(words)
    else {
        return (GlobalArgs::default(), None);
    };
    let mut leaf = &matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let global = GlobalArgs::from_arg_matches(leaf).unwrap_or_default();
    let kind = leaf.try_get_one::<String>("kind").ok().flatten().cloned();
    (global, kind)
}
