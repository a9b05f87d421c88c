//! The arguments of every command but `cast`, `diff` and `lint` (which sit with the global
//! flags in the parent module): objects (`get`, `create`, `delete`, …), `seal`, `hook`, `login`
//! and `config`.

use clap::{Args, Subcommand};

use super::help;

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
    /// `secrets`, `configs`, `services`, `namespaces`, `storageclasses`, `volumes` (or
    /// singular); `KIND/NAME` names one object
    pub kind: String,
    /// One object's name
    pub name: Option<String>,
    /// Only objects with these labels (`key=value[,key2=value2]`: all must match)
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "name")]
    pub selector: Option<String>,
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
    /// `secret`, `config`, `service`, `namespace`, `storageclass`, `volume`; `KIND/NAME`
    /// names the object
    pub kind: String,
    /// The object's name
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// `service`; `service/NAME` names it
    pub kind: String,
    /// The service's name
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until interrupted
    #[arg(short, long)]
    pub follow: bool,
    /// Only this instance [default: every instance, each line prefixed with `[N] `]
    #[arg(long, value_name = "N")]
    pub instance: Option<u32>,
    /// The service's name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The service's name
    pub name: String,
    /// Return once the rolling restart has begun instead of waiting for it
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for every instance to run again (exit 7 past it; the restart goes on)
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

/// `rune seal`: one value printed as an entry, one key set in a file, or files sealed in place.
#[derive(Debug, Args)]
#[command(after_long_help = help::SEAL)]
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
    /// Re-seal every sealed value of these runefiles for the current recipients (the server's
    /// current seal identity and `.rune/recipients`): with the local key file where it opens
    /// the value, else through the server (`admin`); the rest of each file stays as it is
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["in_place", "from_literal", "from_file", "name"])]
    pub reseal: Vec<String>,
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
    /// Print the name of the current context
    CurrentContext,
    /// Delete a context
    DeleteContext {
        /// The context's name
        name: String,
    },
    /// List the contexts: the current one marked `*`, each with its server and namespace
    GetContexts,
    /// Create or change a context (`--server`, `-n`, `--token-stdin`, `--ca-file`, `--client-cert`
    /// and `--client-key` set its fields)
    SetContext {
        /// The context's name (created when it does not exist)
        name: String,
        /// Read a new token from standard input
        #[arg(long)]
        token_stdin: bool,
    },
    /// Make a context current
    UseContext {
        /// The context's name
        name: String,
    },
    /// Print the config file (tokens masked)
    View,
}
