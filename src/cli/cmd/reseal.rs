//! `rune seal --reseal FILE…` (SPEC §4.6, §6): every sealed value of the files sealed again for
//! the current recipients — the server's current seal identity (after `rune admin seal-identity
//! rotate`) plus `.rune/recipients` — for the same place, with every other byte of each file
//! kept.
//!
//! In: runefiles, the local key file if any, the target. Out: the files rewritten (each checked
//! by the rewriter's safety net, then replaced atomically) and one line per file on stderr. A
//! value the local key file opens is opened and sealed again here; the others go to the server
//! (`POST /v1/reseal`, `admin`), which opens and re-seals them without any plaintext leaving it.
//! A value sealed for another place than the entry holding it is refused, never re-sealed; a
//! file with any value that cannot be re-sealed is left as it was (all or nothing per file).
//! Must not happen here: a value, its length or a digest of it on any output.

use std::fmt::Write as _;

use crate::cli::args::{GlobalArgs, SealArgs};
use crate::cli::cmd::seal::{Sources, directory, note, recipient_count, refuse_if_invalid, write};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output::Output;
use crate::cli::target::{self, Target};
use crate::cli::validation;
use crate::client::ClientError;
use crate::edit::seal_in_place::{File, SealedEntry};
use crate::parse::InputFile;
use crate::secrets::{KeyFileLocation, Keys, Place, Recipients, UnsealError, seal};
use crate::validate::{self, Options};
use crate::wire::admin::{MAX_RESEAL_VALUES, ResealRequest, ResealValue};

/// Why one file was left as it was.
#[derive(Debug)]
struct Refused {
    code: ExitCode,
    lines: Vec<String>,
}

pub fn run(args: &SealArgs, global: &GlobalArgs, out: &Output) -> Result<ExitCode, CliError> {
    if args.reseal.iter().any(|p| p == "-") {
        return Err(CliError::Usage(
            "--reseal rewrites files; standard input (`-`) cannot be rewritten".to_owned(),
        ));
    }
    let options = validation::options(global, &args.allow_file_root)?;
    let loaded = crate::parse::load(&args.reseal, false)?;
    let validated = validate::validate(&loaded, &options);
    let keys = KeyFileLocation::load_resolved(args.key_file.as_deref())?;
    let mut sources = Sources::from_flags(&args.recipient, &args.recipients_file, global)?;
    let mut server = Server {
        global,
        target: None,
    };
    let mut code = ExitCode::Success;
    for input in &loaded.files {
        if refuse_if_invalid(&loaded, &validated, input, out)? {
            code = worse(code, ExitCode::Validation);
            continue;
        }
        let file = File::new(&loaded, &validated, input.source);
        match reseal_file(
            &file,
            input,
            &options,
            keys.as_ref(),
            &mut sources,
            &mut server,
        ) {
            Ok(()) => {}
            Err(Failure::Stop(error)) => return Err(error),
            Err(Failure::File(refused)) => {
                let mut text = String::new();
                for line in &refused.lines {
                    let _ = writeln!(text, "error: {line}");
                }
                let _ = writeln!(
                    text,
                    "error: `{}` was left as it was: none of its values was re-sealed",
                    file.name()
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
                code = worse(code, refused.code);
            }
        }
    }
    if code == ExitCode::Success {
        note(
            global,
            "re-sealed: values sealed for the current recipients",
        );
    }
    Ok(code)
}

/// The first failure's code wins.
fn worse(now: ExitCode, new: ExitCode) -> ExitCode {
    if now == ExitCode::Success { new } else { now }
}

enum Failure {
    /// Every file would fail alike (no server, no permission, no recipient): stop.
    Stop(CliError),
    /// This file is left alone; the next may do better.
    File(Refused),
}

impl From<CliError> for Failure {
    fn from(error: CliError) -> Self {
        match error {
            CliError::Rewrite(_) | CliError::Invalid(_) | CliError::Write { .. } => {
                Failure::File(Refused {
                    code: error.exit_code(),
                    lines: vec![error.to_string()],
                })
            }
            other => Failure::Stop(other),
        }
    }
}

/// The target, selected once and only when the server is needed.
struct Server<'g> {
    global: &'g GlobalArgs,
    target: Option<Target>,
}

impl Server<'_> {
    fn target(&mut self) -> Result<&Target, CliError> {
        let target = match self.target.take() {
            Some(target) => target,
            None => target::select(self.global)?,
        };
        Ok(self.target.insert(target))
    }
}

fn reseal_file(
    file: &File<'_>,
    input: &InputFile,
    options: &Options,
    keys: Option<&Keys>,
    sources: &mut Sources<'_>,
    server: &mut Server<'_>,
) -> Result<(), Failure> {
    let entries = file.sealed();
    if entries.is_empty() {
        note(
            server.global,
            &format!("nothing to re-seal in {}", file.name()),
        );
        return Ok(());
    }
    if sources.needs_server() {
        let recipient = server
            .target()?
            .backend
            .seal_recipient()
            .map_err(CliError::from)?;
        sources.set_server(&recipient)?;
    }
    let recipients = sources.for_dir(&directory(input))?;
    let mut armors: Vec<Option<String>> = vec![None; entries.len()];
    let mut problems = Vec::new();
    let mut remote = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match keys.map(|k| k.unseal_for(&entry.armor, &entry.place)) {
            Some(Ok(value)) => match seal(value.expose(), &entry.place, recipients.as_slice()) {
                Ok(armor) => armors[index] = Some(armor),
                Err(error) => problems.push(at(file, entry, &error.to_string())),
            },
            None | Some(Err(UnsealError::NotRecipient)) => remote.push(index),
            Some(Err(error)) => problems.push(at(file, entry, &unopened(&error))),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::File(Refused {
            code: ExitCode::Validation,
            lines: problems,
        }));
    }
    let by_server = remote.len();
    for chunk in remote.chunks(MAX_RESEAL_VALUES) {
        let sealed = by_the_server(file, &entries, chunk, &recipients, server)?;
        for (index, armor) in chunk.iter().zip(sealed) {
            armors[*index] = Some(armor);
        }
    }
    let armors: Vec<(Place, String)> = entries
        .iter()
        .zip(armors)
        .filter_map(|(entry, armor)| Some((entry.place.clone(), armor?)))
        .collect();
    let rewritten = file.reseal(&armors).map_err(CliError::from)?;
    write(input, &rewritten, options)?;
    let count = armors.len();
    note(
        server.global,
        &format!(
            "re-sealed {count} value{} in {} for {} ({} with the local key file, {by_server} by the server)",
            if count == 1 { "" } else { "s" },
            file.name(),
            recipient_count(&recipients),
            count - by_server,
        ),
    );
    Ok(())
}

/// The values at `chunk`, re-sealed by the server; its refusals named by file and line.
fn by_the_server(
    file: &File<'_>,
    entries: &[SealedEntry],
    chunk: &[usize],
    recipients: &Recipients,
    server: &mut Server<'_>,
) -> Result<Vec<String>, Failure> {
    let request = ResealRequest {
        recipients: recipients
            .as_slice()
            .iter()
            .map(ToString::to_string)
            .collect(),
        values: chunk
            .iter()
            .map(|&i| ResealValue {
                key: entries[i].place.key.clone(),
                name: entries[i].place.name.clone(),
                namespace: entries[i].place.namespace.clone(),
                sealed: entries[i].armor.clone(),
            })
            .collect(),
    };
    let target = server.target()?;
    match target.backend.reseal(&request) {
        Ok(result) if result.sealed.len() == chunk.len() => Ok(result.sealed),
        Ok(_) => Err(Failure::Stop(CliError::Other(
            "the server answered a re-seal with another number of values than it was sent"
                .to_owned(),
        ))),
        Err(error) => Err(refused_by_server(file, entries, chunk, error)),
    }
}

/// A refusal with violations names each value by file and line; any other failure stops.
fn refused_by_server(
    file: &File<'_>,
    entries: &[SealedEntry],
    chunk: &[usize],
    error: ClientError,
) -> Failure {
    let violations = error.violations();
    if violations.is_empty() {
        return Failure::Stop(CliError::Client(error));
    }
    let lines = violations
        .iter()
        .map(|v| {
            let entry = chunk.iter().map(|&i| &entries[i]).find(|e| {
                e.place.namespace == v.object.namespace
                    && e.place.name == v.object.name
                    && Some(&e.place.key) == v.key.as_ref()
            });
            let code = v
                .code
                .as_deref()
                .map_or(String::new(), |c| format!(" [{c}]"));
            match entry {
                Some(entry) => at(file, entry, &format!("{}{code}", v.message)),
                None => format!("{}: {}{code}", file.name(), v.message),
            }
        })
        .collect();
    Failure::File(Refused {
        code: CliError::Client(error).exit_code(),
        lines,
    })
}

fn at(file: &File<'_>, entry: &SealedEntry, message: &str) -> String {
    format!("{}:{}: {}: {message}", file.name(), entry.line, entry.place)
}

/// Why the local key file's opening refuses a value for good (the server would too).
fn unopened(error: &UnsealError) -> String {
    match error {
        UnsealError::WrongPlace(_) => {
            format!("{error}; a value sealed for another place is not re-sealed [E-SEALED-PLACE]")
        }
        other => format!("cannot be re-sealed: {other}"),
    }
}
