//! The command line as clap sees it. Raw arguments only: [`crate::cli::run`] turns them into
//! work. Exit codes (SPEC §3.1) are listed in the long help.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::secrets::Secret;

const EXIT_CODES: &str = "\
Exit codes:
  0  success; for `diff`/`--exit-code`: no changes
  1  changes pending (`diff`, `cast --dry-run --exit-code` only)
  2  usage error
  3  authentication or permission failure
  4  not found
  5  conflict
  6  validation failed
  7  timeout
  8  server unreachable / I/O failure
  9  any other error";

/// Declarative `GitOps` for namespaces, secrets, configmaps and services.
#[derive(Debug, Parser)]
#[command(name = "rune", version, about, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Trust the CA certificates in this PEM file for the server's certificate (instead of the
    /// public web roots) [default: the context's `ca-file`]
    #[arg(long, global = true, env = "RUNE_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Present this PEM client certificate to a server that requires one (with --client-key)
    /// [default: the context's `client-cert`]
    #[arg(long, global = true, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --client-cert [default: the context's `client-key`]
    #[arg(long, global = true, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<std::path::PathBuf>,
    /// Use this context of the config file instead of the current one
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The embedded engine's data directory (when no server is configured) [default: ~/.rune/local]
    #[arg(long, global = true, env = "RUNE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// The namespace of resources that do not name one [default: the context's, else `default`]
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "RUNE_NAMESPACE",
        value_name = "NS"
    )]
    pub namespace: Option<String>,
    /// Disable colour (also when `NO_COLOR` is set or the output is not a terminal)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Output format of data (tables, objects, plans)
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<OutputFormat>,
    /// Print only errors: no warnings, summaries or progress
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The runed to talk to (`http://…` or `https://…`); without one, rune runs the engine embedded
    #[arg(long, global = true, env = "RUNE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for the server
    #[arg(
        long,
        global = true,
        env = "RUNE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        value_parser = secret_value
    )]
    pub token: Option<Secret<String>>,
    /// Read the bearer token from a file
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "token")]
    pub token_file: Option<std::path::PathBuf>,
    /// Whether `token` came from `RUNE_TOKEN` rather than `--token` (set after parsing), so that
    /// an authentication error can say where the token came from.
    #[arg(skip)]
    pub token_from_env: bool,
    /// Also show unchanged objects in plans
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `-o`: how data is printed.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Table,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Operate the server's keys (`admin` permission): `rune admin kek status|rewrap`
    #[command(subcommand)]
    Admin(crate::cli::cmd::admin::AdminCommand),
    /// Show the server's audit records: every change and every denied request (`admin`)
    Audit(crate::cli::cmd::audit::AuditArgs),
    /// Validate runefiles, plan against the server, and apply the changes atomically
    Cast(CastArgs),
    /// Show what a cast would change; exit 1 when changes are pending (`cast --dry-run --exit-code`)
    Diff(DiffArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completion { shell: clap_complete::Shell },
    /// Show, switch and edit contexts in the config file (`~/.rune/config.yaml`)
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create a namespace, secret or configmap imperatively
    #[command(subcommand)]
    Create(CreateCommand),
    /// Delete an object (refused while a service uses it, unless `--force`)
    Delete(DeleteArgs),
    /// Show how a service consumes its secrets and configmaps, without values
    Describe(DescribeArgs),
    /// List or show objects; secrets show metadata only
    Get(GetArgs),
    /// Show the retained versions of a secret or configmap: who cast each, from which commit,
    /// and which keys changed
    History(crate::cli::cmd::history::HistoryArgs),
    /// Install or remove the git pre-commit hook that runs `rune lint --staged`
    #[command(subcommand)]
    Hook(HookCommand),
    /// Check runefiles offline and report every finding with its file, line and column
    Lint(LintArgs),
    /// Save a server and its token as a context and make it current
    Login(LoginArgs),
    /// Print a service's instance output (stdout and stderr), kept by runed
    Logs(LogsArgs),
    /// Replace a service's instances one at a time, so they start with the current versions
    Restart(RestartArgs),
    /// Make a new version of a secret or configmap with the data of a retained version, on the
    /// server (values never leave it)
    Rollback(crate::cli::cmd::history::RollbackArgs),
    /// Encrypt a secret value for the server, bound to its namespace, name and key; or seal the
    /// plaintext values of runefiles in place
    Seal(SealArgs),
    /// Show every service's instances as runed runs them
    Status(StatusArgs),
    /// Print the version of rune
    Version,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Let `file:` entries also read files below DIR (repeatable); by default they must stay
    /// inside the git work tree holding the runefile, else the runefile's directory
    #[arg(long, value_name = "DIR")]
    pub allow_file_root: Vec<std::path::PathBuf>,
    /// Output format of the findings
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Age identity that opens sealed values for offline checks [env: `RUNE_KEY_FILE`]
    /// [default: ~/.config/rune/key.txt]
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<std::path::PathBuf>,
    /// Files, directories, globs, or `-` for standard input; with `--staged`, what to select
    /// from the index [default with `--staged`: every runefile in it]
    #[arg(required_unless_present = "staged", value_name = "PATHS")]
    pub paths: Vec<String>,
    /// Read directories recursively
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Lint the runefiles as staged in the git index, not as in the working tree
    #[arg(long)]
    pub staged: bool,
}

/// The formats of `rune lint`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub enum LintFormat {
    /// GitHub Actions annotations (`::error file=…`)
    Github,
    /// `{"diagnostics": [...], "summary": {...}}`
    Json,
    /// SARIF 2.1.0 for code-scanning tools
    Sarif,
    /// Source snippets with carets, for people
    Text,
}

#[derive(Debug, Args)]
pub struct CastArgs {
    /// Let `file:` entries also read files below DIR (repeatable); by default they must stay
    /// inside the git work tree holding the runefile, else the runefile's directory
    #[arg(long, value_name = "DIR")]
    pub allow_file_root: Vec<std::path::PathBuf>,
    /// Create namespaces that resources use and nobody declared
    #[arg(long)]
    pub create_namespace: bool,
    /// Stop after printing the plan
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 1 when changes are pending (with `--dry-run`)
    #[arg(long)]
    pub exit_code: bool,
    /// Bump secret and configmap versions even when nothing changed
    #[arg(long)]
    pub force: bool,
    /// Age identity that opens sealed values with `--offline` (never read online) [env: `RUNE_KEY_FILE`]
    /// [default: ~/.config/rune/key.txt]
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<std::path::PathBuf>,
    /// No server contact at all: lint-level checks and what would be cast
    #[arg(long)]
    pub offline: bool,
    /// Files, directories, globs, or `-` for standard input
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<String>,
    /// Delete objects cast earlier from the same source set that the files no longer declare
    #[arg(long)]
    pub prune: bool,
    /// Read directories recursively
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Cast the files as they are in this git commit (`HEAD~1`, a tag, a hash), not the working tree
    #[arg(long, value_name = "REF")]
    pub rev: Option<String>,
    /// Name the source set recorded on each object [default: git remote + paths]
    #[arg(long, value_name = "NAME")]
    pub source_set: Option<String>,
    /// Confirm `--prune` deletions without asking
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Let `file:` entries also read files below DIR (repeatable); by default they must stay
    /// inside the git work tree holding the runefile, else the runefile's directory
    #[arg(long, value_name = "DIR")]
    pub allow_file_root: Vec<std::path::PathBuf>,
    /// Create namespaces that resources use and nobody declared
    #[arg(long)]
    pub create_namespace: bool,
    /// Files, directories, globs, or `-` for standard input
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<String>,
    /// Include deletions of objects from the same source set that the files no longer declare
    #[arg(long)]
    pub prune: bool,
    /// Read directories recursively
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Compare the files as they are in this git commit, not the working tree
    #[arg(long, value_name = "REF")]
    pub rev: Option<String>,
    /// The source set to compare deletions against [default: git remote + paths]
    #[arg(long, value_name = "NAME")]
    pub source_set: Option<String>,
}

impl From<DiffArgs> for CastArgs {
    fn from(diff: DiffArgs) -> Self {
        Self {
            allow_file_root: diff.allow_file_root,
            create_namespace: diff.create_namespace,
            dry_run: true,
            exit_code: true,
            force: false,
            key_file: None,
            offline: false,
            paths: diff.paths,
            prune: diff.prune,
            recursive: diff.recursive,
            rev: diff.rev,
            source_set: diff.source_set,
            yes: false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// Create a configmap from literals and files
    Config(DataArgs),
    /// Create a namespace
    Namespace {
        /// A description shown by `rune get namespaces`
        #[arg(long)]
        description: Option<String>,
        name: String,
    },
    /// Create a secret from literals and files (encrypted by the server)
    Secret(DataArgs),
}

#[derive(Debug, Args)]
pub struct DataArgs {
    /// `KEY=PATH` or `PATH` (the key is the file's name); repeatable
    #[arg(long = "from-file", value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,
    /// `KEY=VALUE` lines of a file (blank lines and `#` comments skipped); repeatable
    #[arg(long = "from-env-file", value_name = "PATH")]
    pub from_env_file: Vec<std::path::PathBuf>,
    /// `KEY=VALUE` (split at the first `=`); repeatable
    #[arg(long = "from-literal", value_name = "KEY=VALUE")]
    pub from_literal: Vec<String>,
    pub name: String,
    /// Replace an existing object instead of failing with a conflict (exit 5)
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// List across all namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// `secrets`, `configs`, `services`, `namespaces`, `storageclasses`, `volumes` (or singular)
    pub kind: String,
    pub name: Option<String>,
    /// Also list the retained versions (metadata only)
    #[arg(long)]
    pub versions: bool,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write the repository's pre-commit hook: it runs `rune lint --staged [PATHS]`
    Install(HookInstallArgs),
    /// Remove the pre-commit hook `rune hook install` wrote (any other hook is left alone)
    Uninstall,
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// Replace a pre-commit hook that rune did not install
    #[arg(long)]
    pub force: bool,
    /// What the hook lints, as for `rune lint --staged` [default: every runefile in the index]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Delete even while a service uses it
    #[arg(long)]
    pub force: bool,
    /// `secret`, `config`, `service`, `namespace`, `storageclass`, `volume`
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// `service`
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until interrupted
    #[arg(short, long)]
    pub follow: bool,
    /// Only this instance [default: every instance, each line prefixed with `[N] `]
    #[arg(long, value_name = "N")]
    pub instance: Option<u32>,
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    pub name: String,
    /// Return once the rolling restart has begun instead of waiting for it
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for every instance to run again (exit 7 past it; the restart goes on)
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

const SEAL_HELP: &str = "\
Modes:
  rune seal NAME KEY [-n NS]                  print a `- key: KEY` + `sealed: |` entry to paste
  rune seal NAME KEY --in-place FILE          set KEY of secret NAME in FILE (replaced, or added)
  rune seal --in-place FILE…                  every plaintext secret value in the files is sealed

The value comes from --from-literal, --from-file (exactly as the file is), or standard input:
taken exactly as given when piped, one line without its line break when typed at a terminal
(not echoed). Empty values are refused. rune never prints a value.

Recipients: the server's own (`GET /v1/seal-recipient`; with no server configured, the embedded
engine's), or instead only those given with --recipient/--recipients-file (then no server is
contacted: offline use). Always added: every `age1…` line of `.rune/recipients` at the root of
the git repository holding the runefile (print mode: the current directory).

A sealed value is bound to its place, `(namespace, name, key)`: the server refuses it under any
other secret or key. The namespace is the document's `namespace:`, else -n, else the context's,
else `default`.

--in-place keeps the rest of each file byte for byte (comments, order, formatting, other
documents, CRLF). Map-form `data:` becomes list form. `sealed:` and `file:` entries, configmaps
and secrets with `allowPlaintext: true` are left alone. With NAME KEY, an existing sealed entry
that the local key file opens to the same value is left unchanged, so git sees no diff. A file
that does not validate is not touched (exit 6); a secret the file does not declare is exit 4.";

/// `rune seal`: one value printed as an entry, one key set in a file, or files sealed in place.
#[derive(Debug, Args)]
#[command(after_long_help = SEAL_HELP)]
pub struct SealArgs {
    /// Let `file:` entries also read files below DIR (repeatable); by default they must stay
    /// inside the git work tree holding the runefile, else the runefile's directory
    #[arg(long, value_name = "DIR")]
    pub allow_file_root: Vec<std::path::PathBuf>,
    /// Read the value from this file, exactly as it is (UTF-8)
    #[arg(long, value_name = "PATH", conflicts_with = "from_literal")]
    pub from_file: Option<std::path::PathBuf>,
    /// The value itself (it stays in the shell's history: prefer standard input)
    #[arg(long, value_name = "VALUE")]
    pub from_literal: Option<String>,
    /// Rewrite runefiles instead of printing: with NAME KEY one file, else every file given
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub in_place: Vec<String>,
    /// The data key inside the secret
    #[arg(index = 2, value_name = "KEY")]
    pub key: Option<String>,
    /// The local age identity that tells whether an existing sealed value already holds the
    /// value [default: `RUNE_KEY_FILE`, else ~/.config/rune/key.txt]
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<std::path::PathBuf>,
    /// The secret's name
    #[arg(index = 1, value_name = "NAME", requires = "key")]
    pub name: Option<String>,
    /// Seal for this age recipient (`age1…`) instead of the server's; repeatable
    #[arg(long, value_name = "AGE1…")]
    pub recipient: Vec<String>,
    /// Seal for the recipients listed in this file (one `age1…` a line) instead of the
    /// server's; repeatable
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Services of every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

/// `rune login NAME --server URL --token-stdin [-n NS] [--ca-file F] [--client-cert F
/// --client-key F]` (`--server`, `-n` and the TLS files are global flags).
#[derive(Debug, Args)]
pub struct LoginArgs {
    pub name: String,
    /// Save the context without first checking that the server answers and takes the token
    #[arg(long)]
    pub no_verify: bool,
    /// Read the token from standard input (so it stays out of shell history)
    #[arg(long)]
    pub token_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Delete a context
    DeleteContext { name: String },
    /// Create or change a context (`--server`, `-n`, `--token-stdin`, `--ca-file`, `--client-cert`
    /// and `--client-key` set its fields)
    SetContext {
        name: String,
        /// Read a new token from standard input
        #[arg(long)]
        token_stdin: bool,
    },
    /// Make a context current
    UseContext { name: String },
    /// Print the config file (tokens masked)
    View,
}

/// Reads a token argument straight into a [`Secret`], so that a `{:?}` of the arguments shows
/// no token.
#[allow(clippy::unnecessary_wraps)] // clap's value parsers return a `Result`
fn secret_value(text: &str) -> Result<Secret<String>, std::convert::Infallible> {
    Ok(Secret::new(text.to_owned()))
}
