//! The `rune` command line: arguments → one command → an exit code. Commands are thin shells
//! over the library; each lives in `cli/cmd/<verb>.rs`.

pub mod annotations;
pub mod args;
pub mod complete;
pub mod cmd {
    pub mod admin;
    pub mod audit;
    pub mod cast;
    pub mod completion;
    pub mod context;
    pub mod create;
    pub mod delete;
    pub mod describe;
    pub mod get;
    pub mod history;
    pub mod hook;
    pub mod import;
    pub mod lint;
    pub mod logs;
    pub mod reseal;
    pub mod restart;
    pub mod seal;
    pub mod status;
    pub mod version;
}
pub mod contexts;
pub mod error;
pub mod findings;
pub mod interrupt;
pub mod keys;
pub mod output;
pub mod present;
pub mod progress;
pub mod target;
pub mod validation;

use std::io::Write;

use clap::FromArgMatches;
use clap::parser::ValueSource;

use crate::cli::args::{Cli, Command, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output::Output;

/// Runs `rune` with the process's arguments and returns its exit code.
#[must_use]
pub fn run() -> ExitCode {
    // A shell asking for completions (`COMPLETE=bash rune -- …`) gets them, and the process ends.
    clap_complete::CompleteEnv::with_factory(complete::command)
        .var(cmd::completion::VAR)
        .complete();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => {
            let error = CliError::Args(error);
            report(&error, asks_for_json(std::env::args_os()));
            return error.exit_code();
        }
    };
    let json = cli.global.output == Some(OutputFormat::Json);
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            report(&error, json);
            error.exit_code()
        }
    }
}

/// The arguments, and where the token came from: clap knows, and forgets it in the derived struct.
fn parse() -> Result<Cli, clap::Error> {
    let mut command = args::command();
    let mut matches = command.try_get_matches_from_mut(std::env::args_os())?;
    args::uses::check(&mut command, &matches)?;
    let from_env = matches.value_source("token") == Some(ValueSource::EnvVariable);
    let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))?;
    cli.global.token_from_env = from_env;
    Ok(cli.normalized())
}

fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    let out = Output::detect(cli.global.no_color);
    match cli.command {
        Command::Admin(command) => cmd::admin::run(&command, &cli.global),
        Command::Audit(args) => cmd::audit::run(&args, &cli.global),
        Command::Cast(args) => cmd::cast::run(&args, &cli.global, &out),
        Command::Diff(args) => cmd::cast::run(&args.into(), &cli.global, &out),
        Command::Completion { shell } => cmd::completion::run(shell),
        Command::Config(command) => cmd::context::run(&command, &cli.global),
        Command::Create(command) => cmd::create::run(&command, &cli.global),
        Command::Delete(args) => cmd::delete::run(&args, &cli.global),
        Command::Describe(args) => cmd::describe::run(&args, &cli.global),
        Command::Get(args) => cmd::get::run(&args, &cli.global),
        Command::History(args) => cmd::history::history(&args, &cli.global),
        Command::Hook(command) => cmd::hook::run(&command),
        Command::Import(args) => cmd::import::run(&args, &cli.global),
        Command::Lint(args) => cmd::lint::run(&args, &cli.global, &out),
        Command::Login(args) => cmd::context::login(&args, &cli.global),
        Command::Logs(args) => cmd::logs::run(&args, &cli.global),
        Command::Restart(args) => cmd::restart::run(&args, &cli.global),
        Command::Rollback(args) => cmd::history::rollback(&args, &cli.global),
        Command::Seal(args) => cmd::seal::run(&args, &cli.global, &out),
        Command::Status(args) => cmd::status::run(&args, &cli.global),
        Command::Version => cmd::version::run(&cli.global),
    }
}

/// Whether the raw arguments ask for `-o json`, for a command line that does not parse (clap
/// says nothing of the values it read then).
fn asks_for_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    args.iter().enumerate().any(|(i, arg)| {
        matches!(arg.as_str(), "-ojson" | "-o=json" | "--output=json")
            || (matches!(arg.as_str(), "-o" | "--output")
                && args.get(i + 1).is_some_and(|next| next == "json"))
    })
}

/// Says on stderr what failed, unless clap says it itself, it was said already (findings), or
/// nobody reads the output any more. With `-o json`, stdout also gets the failure as
/// `{"error": {"code", "message", "exitCode"}}`, so that a script reading stdout sees it.
fn report(error: &CliError, json: bool) {
    if let CliError::Args(clap_error) = error {
        if json && clap_error.use_stderr() {
            let _ = writeln!(std::io::stdout(), "{}", error.to_json());
        }
        let _ = clap_error.print();
        return;
    }
    if matches!(error, CliError::Output(_)) && error.is_silent() {
        return;
    }
    if json {
        let _ = writeln!(std::io::stdout(), "{}", error.to_json());
    }
    if !error.is_silent() {
        let _ = writeln!(std::io::stderr(), "error: {error}");
    }
}
