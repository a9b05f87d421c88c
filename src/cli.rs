//! The `rune` command line: arguments → one command → an exit code. Commands are thin shells
//! over the library; each lives in `cli/cmd/<verb>.rs`.

pub mod args;
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
    pub mod lint;
    pub mod logs;
    pub mod restart;
    pub mod seal;
    pub mod status;
    pub mod version;
}
pub mod contexts;
pub mod error;
pub mod keys;
pub mod output;
pub mod present;
pub mod progress;
pub mod target;
pub mod validation;

use std::io::Write;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::args::{Cli, Command};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output::Output;

/// Runs `rune` with the process's arguments and returns its exit code.
#[must_use]
pub fn run() -> ExitCode {
    match parse().map_err(CliError::Args).and_then(dispatch) {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            error.exit_code()
        }
    }
}

/// The arguments, and where the token came from: clap knows, and forgets it in the derived struct.
fn parse() -> Result<Cli, clap::Error> {
    let mut matches = Cli::command().try_get_matches()?;
    let from_env = matches.value_source("token") == Some(ValueSource::EnvVariable);
    let mut cli =
        Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))?;
    cli.global.token_from_env = from_env;
    Ok(cli)
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
        Command::Lint(args) => cmd::lint::run(&args, &cli.global, &out),
        Command::Login(args) => cmd::context::login(&args, &cli.global),
        Command::Logs(args) => cmd::logs::run(&args, &cli.global),
        Command::Restart(args) => cmd::restart::run(&args, &cli.global),
        Command::Rollback(args) => cmd::history::rollback(&args, &cli.global),
        Command::Seal(args) => cmd::seal::run(&args, &cli.global, &out),
        Command::Status(args) => cmd::status::run(&args, &cli.global),
        Command::Version => cmd::version::run(),
    }
}

/// Says on stderr what failed, unless clap says it itself, it was said already (findings), or
/// nobody reads the output any more.
fn report(error: &CliError) {
    if let CliError::Args(error) = error {
        let _ = error.print();
    } else if !error.is_silent() {
        let _ = writeln!(std::io::stderr(), "error: {error}");
    }
}
