//! `rune admin kek status|rewrap [--dry-run]` and `rune admin seal-identity status|rotate`
//! (SPEC §4.6, issue #15): what every KEK of the store still wraps, and moving it all to the
//! current KEK; runed's seal identities, and making a new one current.
//!
//! In: the subcommand and the global flags. Out: a table or JSON on stdout; a progress bar on
//! stderr while a rewrap runs (hidden when stderr is not a terminal or with `-q`). A rewrap is
//! a loop of batches, each one transaction on the server: a crash or an interrupted command
//! loses at most the batch in flight, and running the command again finishes the work (records
//! already under the current KEK are skipped). Casts go on between the batches.

use std::fmt::Write as _;
use std::io::IsTerminal;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::args::{GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::wire::admin::{KekStatus, RewrapRequest};

const EXAMPLES: &str = "\
Examples:
  rune admin kek status
  rune admin kek rewrap --dry-run
  rune admin kek rewrap --batch-size 1000";

/// Operations of the `admin` permission.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Key-encryption keys: what each wraps, and re-wrapping under the current one
    #[command(subcommand, after_help = EXAMPLES)]
    Kek(KekCommand),
    /// runed's age identities for sealed values: show them, or make a new one current
    #[command(subcommand, name = "seal-identity", after_help = SEAL_EXAMPLES)]
    SealIdentity(SealIdentityCommand),
}

const SEAL_EXAMPLES: &str = "\
Examples:
  rune admin seal-identity status
  rune admin seal-identity rotate";

#[derive(Debug, Subcommand)]
pub enum SealIdentityCommand {
    /// Show the recipient of every seal identity, the current one first
    #[command(after_help = SEAL_EXAMPLES)]
    Status,
    /// Make a new identity current; values sealed for the earlier ones still open
    #[command(after_help = SEAL_EXAMPLES)]
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum KekCommand {
    /// Show every KEK the store knows: secret versions and seal identities each still wraps
    #[command(after_help = EXAMPLES)]
    Status,
    /// Re-wrap every DEK under the current KEK, in batches (the data ciphertext is untouched)
    #[command(after_help = EXAMPLES)]
    Rewrap(RewrapArgs),
}

#[derive(Debug, Args)]
pub struct RewrapArgs {
    /// How many secret versions one batch (one transaction) looks at
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Print the plan (what each KEK still wraps) and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(command: &AdminCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    if global.output == Some(OutputFormat::Yaml) {
        return Err(CliError::Usage(
            "`rune admin` prints a table or JSON (`-o json`), not YAML".to_owned(),
        ));
    }
    let target = target::select(global)?;
    let command = match command {
        AdminCommand::Kek(command) => command,
        AdminCommand::SealIdentity(command) => {
            let identities = match command {
                SealIdentityCommand::Status => target.backend.seal_identities()?,
                SealIdentityCommand::Rotate => target.backend.rotate_seal_identity()?,
            };
            let text = if global.output == Some(OutputFormat::Json) {
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&identities).unwrap_or_default()
                )
            } else {
                identities.recipients.iter().fold(
                    String::from("RECIPIENT\tCURRENT\n"),
                    |mut text, r| {
                        let current = if *r == identities.current {
                            "yes"
                        } else {
                            "no"
                        };
                        let _ = writeln!(text, "{r}\t{current}");
                        text
                    },
                )
            };
            output::print(text)?;
            return Ok(ExitCode::Success);
        }
    };
    let backend = &*target.backend;
    let json = global.output == Some(OutputFormat::Json);
    match command {
        KekCommand::Status => print_status(&backend.kek_status()?, json)?,
        KekCommand::Rewrap(args) if args.dry_run => {
            let status = backend.kek_status()?;
            if json {
                output::print(json_text(&status))?;
            } else {
                output::print(plan_text(&status))?;
            }
        }
        KekCommand::Rewrap(args) => {
            let before = backend.kek_status()?;
            let bar = progress(global.quiet, before.to_rewrap());
            let mut request = RewrapRequest {
                after: None,
                limit: Some(args.batch_size),
            };
            let mut moved = 0;
            loop {
                let batch = backend.kek_rewrap(&request)?;
                moved += batch.rewrapped;
                bar.inc(batch.rewrapped);
                match batch.next {
                    Some(next) => request.after = Some(next),
                    None => break,
                }
            }
            bar.finish_and_clear();
            let after = backend.kek_status()?;
            if json {
                output::print(json_text(&after))?;
            } else if !global.quiet {
                let mut text = format!("re-wrapped {moved} records under KEK {}\n", after.current);
                text.push_str(&removable_text(&after));
                output::print(text)?;
            }
        }
    }
    Ok(ExitCode::Success)
}

fn json_text(status: &KekStatus) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(status).unwrap_or_default()
    )
}

fn print_status(status: &KekStatus, json: bool) -> Result<(), CliError> {
    if json {
        return output::print(json_text(status));
    }
    let mut text =
        String::from("KEK\tCURRENT\tLOADED\tSECRET VERSIONS\tSEAL IDENTITIES\tREMOVABLE\n");
    for kek in &status.keks {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}",
            kek.id,
            yes(kek.current),
            yes(kek.loaded),
            kek.secret_versions,
            kek.seal_identities,
            yes(kek.removable)
        );
    }
    output::print(text)
}

/// The plan of a rewrap: what moves from which KEK to the current one.
fn plan_text(status: &KekStatus) -> String {
    let mut text = String::new();
    for kek in status.keks.iter().filter(|k| !k.current) {
        if kek.secret_versions + kek.seal_identities > 0 {
            let _ = writeln!(
                text,
                "~ KEK {} → {}: {} secret versions, {} seal identities",
                kek.id, status.current, kek.secret_versions, kek.seal_identities
            );
        }
    }
    let _ = writeln!(
        text,
        "Plan: {} records to re-wrap under KEK {}",
        status.to_rewrap(),
        status.current
    );
    text.push_str(&removable_text(status));
    text
}

fn removable_text(status: &KekStatus) -> String {
    status
        .keks
        .iter()
        .filter(|k| k.removable && k.loaded)
        .fold(String::new(), |mut text, kek| {
            let _ = writeln!(
                text,
                "KEK {} wraps nothing: remove it from `crypto.previous-keks`",
                kek.id
            );
            text
        })
}

/// A bar over the records to move, drawn only where someone watches.
fn progress(quiet: bool, total: u64) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("re-wrapping {bar:30} {pos}/{len} records ({per_sec}, {eta})")
    {
        bar.set_style(style);
    }
    bar
}
