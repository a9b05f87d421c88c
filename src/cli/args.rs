//! The command line as clap sees it. Raw arguments only: [`crate::cli::run`] turns them into
//! work.
//!
//! Flags are global (`rune -n prod get secrets` works, as with kubectl), but a command is offered
//! only the ones it uses: [`uses`] lists them per command, hides the rest from its help and
//! refuses them on its command line (exit 2). Where additions go:
//! - a flag of one command: a field of that command's `…Args` struct (below for `cast`, `diff`
//!   and `lint`, else in `args/commands.rs`);
//! - a flag that chooses or reaches the target (like `--server`): a field of [`GlobalArgs`] with
//!   `help_heading = TARGET`, and its id in [`uses::TARGET`];
//! - a new command: a variant of [`Command`], its `…Args` struct (in `args/commands.rs`, or a
//!   file of its own there), and its line in
//!   [`uses::uses`] (its flags and `-o` formats) and [`help::examples`] (its examples).

mod commands;
mod help;
mod import;
pub mod uses;

pub use commands::{
    ConfigCommand, CreateCommand, DataArgs, DeleteArgs, DescribeArgs, GetArgs, HookCommand,
    HookInstallArgs, LoginArgs, LogsArgs, RestartArgs, SealArgs, StatusArgs,
};
pub use import::ImportArgs;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::secrets::Secret;

/// The help heading of the flags that choose and reach the target.
const TARGET: &str = "Target options";
/// The help heading of the flags about rune's own output.
const GLOBAL: &str = "Global options";

/// Declarative `GitOps` for namespaces, secrets, configmaps and services.
#[derive(Debug, Parser)]
#[command(
    name = "rune",
    version,
    about,
    after_help = help::ROOT_SHORT,
    after_long_help = help::ROOT
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Folds the kubectl spellings into the plain ones (`-f`, `--dry-run=client|server`), so
    /// that commands see one form.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        match &mut self.command {
            Command::Cast(args) => args.normalize(),
            Command::Diff(args) => args.paths.append(&mut args.filename),
            Command::Lint(args) => args.paths.append(&mut args.filename),
            _ => {}
        }
        self
    }
}

/// The clap command of `rune`, as the binary parses it: every command offered only the
/// global flags it uses, and every command's help ending with examples.
#[must_use]
pub fn command() -> clap::Command {
    uses::shape(<Cli as clap::CommandFactory>::command())
}

/// The global flags: every command accepts those [`uses::uses`] lists for it.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// Trust the CA certificates in this PEM file for the server's certificate (instead of the
    /// public web roots) [default: the context's `ca-file`]
    #[arg(long, global = true, env = "RUNE_CA_FILE", value_name = "FILE", help_heading = TARGET)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Present this PEM client certificate to a server that requires one (with --client-key)
    /// [default: the context's `client-cert`]
    #[arg(long, global = true, value_name = "FILE", requires = "client_key", help_heading = TARGET)]
    pub client_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --client-cert [default: the context's `client-key`]
    #[arg(long, global = true, value_name = "FILE", requires = "client_cert", help_heading = TARGET)]
    pub client_key: Option<std::path::PathBuf>,
    /// Use this context of the config file instead of the current one
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = TARGET
    )]
    pub context: Option<String>,
    /// The embedded engine's data directory (when no server is configured) [default: ~/.rune/local]
    #[arg(long, global = true, env = "RUNE_DATA_DIR", value_name = "DIR", help_heading = TARGET)]
    pub data_dir: Option<std::path::PathBuf>,
    /// Use the embedded engine on purpose, even where a server or context is configured (in CI,
    /// rune never falls back to it on its own)
    #[arg(long, global = true, help_heading = TARGET)]
    pub embedded: bool,
    /// The namespace of resources that do not name one [default: the context's, else `default`]
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "RUNE_NAMESPACE",
        value_name = "NS",
        help_heading = TARGET
    )]
    pub namespace: Option<String>,
    /// Disable colour (also when `NO_COLOR` is set or the output is not a terminal)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_color: bool,
    /// Output format (each command lists the formats it can produce)
    #[arg(short = 'o', long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Print only errors: no warnings, summaries or progress
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// The runed to talk to (`http://…` or `https://…`); without one, rune runs the engine embedded
    #[arg(long, global = true, env = "RUNE_SERVER", value_name = "URL", help_heading = TARGET)]
    pub server: Option<String>,
    /// Bearer token for the server
    #[arg(
        long,
        global = true,
        env = "RUNE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        value_parser = secret_value,
        help_heading = TARGET
    )]
    pub token: Option<Secret<String>>,
    /// Read the bearer token from a file
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "token",
        help_heading = TARGET
    )]
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
    #[command(visible_alias = "apply")]
    Cast(CastArgs),
    /// Show what a cast would change; exit 1 when changes are pending (`cast --dry-run --exit-code`)
    Diff(DiffArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completion {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
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
    /// Convert Kubernetes `Secret` and `ConfigMap` manifests into runefiles (`--seal` seals the
    /// secret values on the way)
    Import(ImportArgs),
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
    /// A file, directory or glob, like PATHS (kubectl's spelling); repeatable
    #[arg(short = 'f', long, value_name = "PATH")]
    pub filename: Vec<String>,
    /// Output format of the findings
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Age identity that opens sealed values for offline checks [env: `RUNE_KEY_FILE`]
    /// [default: ~/.config/rune/key.txt]
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<std::path::PathBuf>,
    /// Files, directories, globs, or `-` for standard input; with `--staged`, what to select
    /// from the index [default with `--staged`: every runefile in it]
    #[arg(required_unless_present_any = ["staged", "filename"], value_name = "PATHS")]
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
    /// Stop after printing the plan; `--dry-run=client` is `--offline` (kubectl's spelling),
    /// `--dry-run=server` the same as `--dry-run`
    #[arg(
        long = "dry-run",
        id = "dry_run",
        value_enum,
        value_name = "WHERE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "server"
    )]
    pub dry_run_mode: Option<DryRun>,
    /// Whether to stop after the plan (`--dry-run`, `--dry-run=server`; set by `normalize`)
    #[arg(skip)]
    pub dry_run: bool,
    /// Exit 1 when changes are pending (with `--dry-run`)
    #[arg(long)]
    pub exit_code: bool,
    /// A file, directory or glob, like PATHS (kubectl's spelling); repeatable
    #[arg(short = 'f', long, value_name = "PATH")]
    pub filename: Vec<String>,
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
    #[arg(required_unless_present = "filename", value_name = "PATHS")]
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

/// `--dry-run=WHERE`: kubectl's two dry runs.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub enum DryRun {
    /// No server contact: the same as `--offline`
    Client,
    /// Plan against the server and stop: the same as `--dry-run`
    Server,
}

impl CastArgs {
    /// `-f` paths join the positional ones; `--dry-run=client|server` sets `offline`/`dry_run`.
    fn normalize(&mut self) {
        self.paths.append(&mut self.filename);
        match self.dry_run_mode {
            Some(DryRun::Client) => self.offline = true,
            Some(DryRun::Server) => self.dry_run = true,
            None => {}
        }
    }
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
    /// A file, directory or glob, like PATHS (kubectl's spelling); repeatable
    #[arg(short = 'f', long, value_name = "PATH")]
    pub filename: Vec<String>,
    /// Files, directories, globs, or `-` for standard input
    #[arg(required_unless_present = "filename", value_name = "PATHS")]
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
            dry_run_mode: None,
            dry_run: true,
            exit_code: true,
            filename: Vec::new(),
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

/// Reads a token argument straight into a [`Secret`], so that a `{:?}` of the arguments shows
/// no token.
#[allow(clippy::unnecessary_wraps)] // clap's value parsers return a `Result`
fn secret_value(text: &str) -> Result<Secret<String>, std::convert::Infallible> {
    Ok(Secret::new(text.to_owned()))
}
