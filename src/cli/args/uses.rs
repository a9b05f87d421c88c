//! Which global flags each command uses, and the `-o` formats it can produce. A command is
//! offered only those (SPEC §3): the others are hidden from its help, and given on its command
//! line they are a usage error (exit 2), never silently ignored.

use clap::ArgMatches;
use clap::error::ErrorKind;
use clap::parser::ValueSource;

use super::{OutputFormat, help};

/// The flags that choose and reach the target (a server, or the embedded engine).
pub const TARGET: &[&str] = &[
    "ca_file",
    "client_cert",
    "client_key",
    "context",
    "data_dir",
    "embedded",
    "namespace",
    "server",
    "token",
    "token_file",
];
/// What `rune login` and `rune config set-context` save in a context.
const CONTEXT_FIELDS: &[&str] = &[
    "ca_file",
    "client_cert",
    "client_key",
    "namespace",
    "server",
    "token",
];
/// The namespace in force offline: `-n`, else the context's.
const NAMESPACE: &[&str] = &["context", "namespace"];
const QUIET: &[&str] = &["quiet"];
const COLOR: &[&str] = &["no_color"];
const VERBOSE: &[&str] = &["verbose"];

/// Every global flag but `-o`, which [`Uses::output`] covers.
const ALL: &[&[&str]] = &[TARGET, QUIET, COLOR, VERBOSE];

/// The global flags a command uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Uses {
    /// Groups of flag ids.
    pub flags: &'static [&'static [&'static str]],
    /// The formats of `-o`, and its help line; none: no `-o`.
    pub output: &'static [OutputFormat],
    pub output_help: &'static str,
}

impl Uses {
    fn has(&self, id: &str) -> bool {
        self.flags.iter().any(|group| group.contains(&id))
    }
}

use OutputFormat::{Json, Table, Yaml};

/// The global flags of the command at `path` (`get`, `config use-context`).
#[must_use]
pub fn uses(path: &str) -> Uses {
    let (flags, output, output_help): (&[&[&str]], &[OutputFormat], &str) = match path {
        "cast" | "diff" => (
            &[TARGET, QUIET, COLOR, VERBOSE],
            &[Json],
            "`json`: the plan and the result as one JSON document instead of text",
        ),
        "get" => (
            &[TARGET, QUIET],
            &[Table, Yaml, Json],
            "`table` (default), `yaml` (runefile YAML) or `json`",
        ),
        "restart" => (
            &[TARGET, QUIET],
            &[Json],
            "`json`: the restart's outcome as JSON",
        ),
        "create config" | "create namespace" | "create secret" | "delete" | "logs" => {
            (&[TARGET, QUIET], &[], "")
        }
        "seal" | "import" => (&[TARGET, QUIET, COLOR], &[], ""),
        "lint" => (&[NAMESPACE, QUIET, COLOR], &[], ""),
        "login" | "config set-context" => (&[CONTEXT_FIELDS], &[], ""),
        "version" => (&[], &[Json], "`json`: `{\"version\": …}`"),
        "describe"
        | "status"
        | "history"
        | "audit"
        | "admin kek status"
        | "admin seal-identity status" => (
            &[TARGET, QUIET],
            &[Table, Json],
            "`table` (default) or `json`",
        ),
        "rollback" | "admin kek rewrap" | "admin seal-identity rotate" => (
            &[TARGET, QUIET],
            &[Table, Json],
            "`json`: the outcome as JSON",
        ),
        _ => (&[], &[], ""),
    };
    Uses {
        flags,
        output,
        output_help,
    }
}

/// Every command below `root`, with its path.
fn leaves(root: &clap::Command) -> Vec<String> {
    let mut paths = Vec::new();
    for sub in root.get_subcommands() {
        collect(sub, "", &mut paths);
    }
    paths
}

fn collect(command: &clap::Command, prefix: &str, paths: &mut Vec<String>) {
    let path = if prefix.is_empty() {
        command.get_name().to_owned()
    } else {
        format!("{prefix} {}", command.get_name())
    };
    for sub in command.get_subcommands() {
        collect(sub, &path, paths);
    }
    paths.push(path);
}

/// Hides from each command the global flags it does not use, says which `-o` formats it has,
/// and ends its help with examples. Each command gets its own copy of every global flag before
/// clap builds the tree (clap then propagates nothing over a copy): a built command's
/// arguments cannot change.
#[must_use]
pub fn shape(mut root: clap::Command) -> clap::Command {
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    for path in leaves(&root) {
        let Some(command) = find_mut(&mut root, &path) else {
            continue;
        };
        let uses = uses(&path);
        let mut shaped = std::mem::take(command);
        for arg in &globals {
            let id = arg.get_id().as_str();
            let arg = arg.clone();
            shaped = shaped.arg(if id == "output" {
                if uses.output.is_empty() {
                    arg.hide(true)
                } else {
                    arg.help(uses.output_help).hide_possible_values(true)
                }
            } else {
                arg.hide(!uses.has(id))
            });
        }
        if let Some(examples) = help::examples(&path) {
            shaped = shaped.after_help(examples);
        }
        *command = shaped;
    }
    root
}

fn find_mut<'a>(root: &'a mut clap::Command, path: &str) -> Option<&'a mut clap::Command> {
    let mut command = root;
    for name in path.split(' ') {
        command = command.find_subcommand_mut(name)?;
    }
    Some(command)
}

/// Refuses a global flag that the command does not use and an `-o` format it cannot produce,
/// when given on the command line (a variable like `RUNE_SERVER` may serve other commands).
pub fn check(root: &mut clap::Command, matches: &ArgMatches) -> Result<(), clap::Error> {
    let mut path = Vec::new();
    let mut leaf = matches;
    while let Some((name, sub)) = leaf.subcommand() {
        path.push(name);
        leaf = sub;
    }
    if path.is_empty() {
        return Ok(());
    }
    let path = path.join(" ");
    let uses = uses(&path);
    let given = |id: &str| leaf.value_source(id) == Some(ValueSource::CommandLine);
    let refused = ALL
        .iter()
        .flat_map(|group| group.iter())
        .find(|id| !uses.has(id) && given(id));
    if let Some(id) = refused {
        let flag = root
            .get_arguments()
            .find(|a| a.get_id() == *id)
            .and_then(clap::Arg::get_long)
            .unwrap_or(id);
        return Err(error(
            root,
            &path,
            ErrorKind::UnknownArgument,
            &format!("`rune {path}` does not take `--{flag}`"),
        ));
    }
    if given("output")
        && let Some(format) = leaf.get_one::<OutputFormat>("output")
        && !uses.output.contains(format)
    {
        let name = format!("{format:?}").to_lowercase();
        let message = if uses.output.is_empty() {
            format!("`rune {path}` has no `-o`: it prints no data in other formats")
        } else {
            let formats: Vec<String> = uses
                .output
                .iter()
                .map(|f| format!("{f:?}").to_lowercase())
                .collect();
            format!(
                "`rune {path}` cannot print `-o {name}`; its formats: {}",
                formats.join(", ")
            )
        };
        return Err(error(root, &path, ErrorKind::InvalidValue, &message));
    }
    Ok(())
}

fn error(root: &mut clap::Command, path: &str, kind: ErrorKind, message: &str) -> clap::Error {
    let error = clap::Error::raw(kind, message);
    match find_mut(root, path) {
        Some(command) => error.format(command),
        None => error.format(root),
    }
}
