//! The command line as clap sees it. Raw arguments only: [`crate::cli::run`] turns them into
//! work. Exit codes (SPEC §3.1) are listed in the long help.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Print only errors: no warnings, summaries or progress
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runefiles offline and report every finding with its file, line and column
    Lint(LintArgs),
    /// Print the version of rune
    Version,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Output format of the findings
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Files, directories, globs, or `-` for standard input
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<String>,
    /// Read directories recursively
    #[arg(short = 'r', long)]
    pub recursive: bool,
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
