//! `rune seal` (SPEC §6): one value sealed for its place and printed as an entry, one key set
//! in a runefile, or every plaintext secret value of runefiles sealed in place. The rewriting
//! is [`crate::edit::seal_in_place`], the recipients [`crate::secrets::recipients`]; this file reads the
//! value, asks for the server's recipient only when something is to be sealed, and reports.
//!
//! Must not happen here: a value, its length or a digest of it on any output.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use age::x25519::Recipient;

use crate::cli::args::{GlobalArgs, SealArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output::Output;
use crate::cli::target;
use crate::cli::validation;
use crate::diag::Diagnostics;
use crate::diag::render::human;
use crate::edit::seal_in_place::{self, File, Holds, Rewritten, Slot};
use crate::fs::confine::FileRoots;
use crate::git::Repo;
use crate::parse::{InputFile, Loaded};
use crate::secrets::{
    KeyFileLocation, Place, Recipients, SealError, Secret, load_recipients, parse_recipient,
    recipients,
};
use crate::validate::names::{data_key_problem, dns1123_problem};
use crate::validate::{self, Options, Validated};

pub fn run(args: &SealArgs, global: &GlobalArgs, out: &Output) -> Result<ExitCode, CliError> {
    let from_flag = args.from_literal.is_some() || args.from_file.is_some();
    if !args.reseal.is_empty() {
        return super::reseal::run(args, global, out);
    }
    if args.in_place.iter().any(|p| p == "-") {
        return Err(CliError::Usage(
            "--in-place rewrites files; standard input (`-`) cannot be rewritten".to_owned(),
        ));
    }
    let mut sources = Sources::new(args, global)?;
    match (&args.name, &args.key) {
        (Some(name), Some(key)) if args.in_place.is_empty() => {
            print_entry(args, global, &mut sources, name, key)
        }
        (Some(name), Some(key)) => set_key(args, global, out, &mut sources, name, key),
        (None, None) if !args.in_place.is_empty() && !from_flag => {
            seal_files(args, global, out, &mut sources)
        }
        (None, None) if from_flag => Err(CliError::Usage(
            "--from-literal and --from-file need NAME KEY: the value has to know its place"
                .to_owned(),
        )),
        _ => Err(CliError::Usage(
            "give NAME KEY to seal one value, or --in-place FILE… to seal the plaintext values of \
             runefiles"
                .to_owned(),
        )),
    }
}

/// `rune seal NAME KEY`: the entry on stdout.
fn print_entry(
    args: &SealArgs,
    global: &GlobalArgs,
    sources: &mut Sources<'_>,
    name: &str,
    key: &str,
) -> Result<ExitCode, CliError> {
    let place = place(global, name, key)?;
    let value = read_value(args, &place)?;
    let recipients = sources.for_dir(Path::new("."))?;
    let armor = crate::secrets::seal(value.expose(), &place, recipients.as_slice())?;
    std::io::stdout()
        .lock()
        .write_all(seal_in_place::entry(key, &armor).as_bytes())
        .map_err(CliError::Output)?;
    note(
        global,
        &format!("sealed {place} for {}", recipient_count(&recipients)),
    );
    Ok(ExitCode::Success)
}

/// `rune seal NAME KEY --in-place FILE`: that key of that secret, replaced or added.
fn set_key(
    args: &SealArgs,
    global: &GlobalArgs,
    out: &Output,
    sources: &mut Sources<'_>,
    name: &str,
    key: &str,
) -> Result<ExitCode, CliError> {
    let place = place(global, name, key)?;
    let options = Options {
        default_namespace: place.namespace.clone(),
        allow_file_roots: validation::roots(&args.allow_file_root)?,
        ..Options::default()
    };
    let loaded = crate::parse::load(&args.in_place, false)?;
    let [input] = loaded.files.as_slice() else {
        return Err(CliError::Usage(format!(
            "NAME KEY --in-place sets a key in one file; {} files were given",
            loaded.files.len()
        )));
    };
    let validated = validate::validate(&loaded, &options);
    if refuse_if_invalid(&loaded, &validated, input, out)? {
        return Ok(ExitCode::Validation);
    }
    let file = File::new(&loaded, &validated, input.source);
    let slot = file.slot(&place)?;
    let value = read_value(args, &place)?;
    if already_holds(args, global, &slot, value.expose(), file.name())? {
        return Ok(ExitCode::Success);
    }
    let recipients = sources.for_dir(&directory(input))?;
    let rewritten = slot.seal(value.expose(), recipients.as_slice())?;
    write(input, &rewritten, &options)?;
    note(
        global,
        &format!(
            "sealed {place} in {} for {}",
            file.name(),
            recipient_count(&recipients)
        ),
    );
    Ok(ExitCode::Success)
}

/// Whether the sealed entry already holds `value`, as the local key file tells; says so, or
/// says why the value is sealed again when the key file cannot tell.
fn already_holds(
    args: &SealArgs,
    global: &GlobalArgs,
    slot: &Slot<'_>,
    value: &str,
    file: &str,
) -> Result<bool, CliError> {
    let place = slot.place();
    let keys = KeyFileLocation::load_resolved(args.key_file.as_deref())?;
    match slot.holds(value, keys.as_ref()) {
        Holds::Same => {
            note(
                global,
                &format!("unchanged: {place} in {file} (the sealed value already holds it)"),
            );
            return Ok(true);
        }
        Holds::Unopened(why) => note(
            global,
            &format!(
                "note: {place} is sealed already, and {}; sealing it again",
                why.map_or_else(
                    || "no local key file can tell whether it holds this value".to_owned(),
                    |e| format!("the local key file cannot open it ({e})")
                )
            ),
        ),
        Holds::Different | Holds::NotSealed => {}
    }
    Ok(false)
}

/// `rune seal --in-place FILE…`: every plaintext secret value of every file that validates.
fn seal_files(
    args: &SealArgs,
    global: &GlobalArgs,
    out: &Output,
    sources: &mut Sources<'_>,
) -> Result<ExitCode, CliError> {
    let options = validation::options(global, &args.allow_file_root)?;
    let loaded = crate::parse::load(&args.in_place, false)?;
    let validated = validate::validate(&loaded, &options);
    let mut code = ExitCode::Success;
    for input in &loaded.files {
        if refuse_if_invalid(&loaded, &validated, input, out)? {
            code = ExitCode::Validation;
            continue;
        }
        let file = File::new(&loaded, &validated, input.source);
        let result = seal_file(global, sources, &file, input, &options);
        if let Err(error) = result {
            // Recipients that cannot be had fail every file alike: stop at the first.
            if matches!(error, CliError::Client(_) | CliError::KeyFile(_)) {
                return Err(error);
            }
            let _ = writeln!(std::io::stderr(), "error: {error}");
            if code == ExitCode::Success {
                code = error.exit_code();
            }
        }
    }
    Ok(code)
}

fn seal_file(
    global: &GlobalArgs,
    sources: &mut Sources<'_>,
    file: &File<'_>,
    input: &InputFile,
    options: &Options,
) -> Result<(), CliError> {
    let recipients = if file.plaintext().is_empty() {
        Recipients::new()
    } else {
        sources.for_dir(&directory(input))?
    };
    let rewritten = file.seal_plaintext(recipients.as_slice())?;
    for place in &rewritten.empty {
        note(
            global,
            &format!(
                "warning: {place} in {} stays as it is: an empty value cannot be sealed",
                file.name()
            ),
        );
    }
    if rewritten.is_unchanged() {
        note(global, &format!("nothing to seal in {}", file.name()));
        return Ok(());
    }
    write(input, &rewritten, options)?;
    let count = rewritten.sealed.len();
    note(
        global,
        &format!(
            "sealed {count} value{} in {} for {}",
            if count == 1 { "" } else { "s" },
            file.name(),
            recipient_count(&recipients)
        ),
    );
    Ok(())
}

/// Prints a file's errors and says that it is left alone; `true` when it has any.
pub(crate) fn refuse_if_invalid(
    loaded: &Loaded,
    validated: &Validated,
    input: &InputFile,
    out: &Output,
) -> Result<bool, CliError> {
    let mut errors = Diagnostics::new();
    errors.extend(
        validated
            .diagnostics
            .iter()
            .filter(|d| d.is_error() && d.primary.span.source == input.source)
            .cloned(),
    );
    if errors.is_empty() {
        return Ok(false);
    }
    let mut text = human::render(&errors, &loaded.sources, &validated.redactions, out.style());
    let _ = writeln!(
        text,
        "error: `{}` does not validate; it was left as it is",
        loaded.sources.get(input.source).name()
    );
    std::io::stderr()
        .lock()
        .write_all(text.as_bytes())
        .map_err(CliError::Terminal)?;
    Ok(true)
}

/// Checks the rewrite (the safety net) and replaces the file atomically, keeping its mode.
pub(crate) fn write(
    input: &InputFile,
    rewritten: &Rewritten,
    options: &Options,
) -> Result<(), CliError> {
    rewritten.verify(options)?;
    let path = input.path.clone().unwrap_or_default();
    confined(input, &path, options)?;
    crate::fs::replace_keeping_mode(&path, rewritten.text.as_bytes())
        .map_err(|source| CliError::Write { path, source })
}

/// A runefile that is a symbolic link leading outside its file root (SPEC §2.3) is not written
/// through: the link would make `--in-place` rewrite a file the repository does not hold.
fn confined(input: &InputFile, path: &Path, options: &Options) -> Result<(), CliError> {
    let roots = FileRoots::of(input.base_dir(), &options.allow_file_roots);
    let target = crate::fs::confine::resolve(&crate::fs::confine::absolute(path));
    if roots.contains(&target.path) {
        return Ok(());
    }
    Err(CliError::Invalid(format!(
        "`{}` is a symbolic link that leads outside the file root; it was left as it is \
         (pass `--allow-file-root DIR` to write there on purpose)",
        path.display()
    )))
}

/// The place NAME KEY names in the namespace in force (`-n`, the context's, `default`).
fn place(global: &GlobalArgs, name: &str, key: &str) -> Result<Place, CliError> {
    let namespace = target::namespace(global)?;
    for (what, text) in [("namespace", &namespace), ("secret name", &name.to_owned())] {
        if let Some(problem) = dns1123_problem(text) {
            return Err(CliError::Invalid(format!(
                "{what} `{text}` is not valid: {problem}"
            )));
        }
    }
    if let Some(problem) = data_key_problem(key) {
        return Err(CliError::Invalid(format!(
            "key `{key}` is not valid: {problem}"
        )));
    }
    Ok(Place::new(&namespace, name, key))
}

/// The value: `--from-literal`, `--from-file` (exactly), or standard input (exactly when
/// piped; one line without its line break, not echoed, at a terminal). An empty value is
/// refused here, before any server is asked for its recipient.
fn read_value(args: &SealArgs, place: &Place) -> Result<Secret<String>, CliError> {
    let value = read_raw_value(args, place)?;
    if value.expose().is_empty() {
        return Err(SealError::Empty(place.clone()).into());
    }
    Ok(value)
}

fn read_raw_value(args: &SealArgs, place: &Place) -> Result<Secret<String>, CliError> {
    if let Some(value) = &args.from_literal {
        return Ok(Secret::new(value.clone()));
    }
    if let Some(path) = &args.from_file {
        let bytes = Secret::new(
            std::fs::read(path)
                .map_err(|e| CliError::Usage(format!("cannot read `{}`: {e}", path.display())))?,
        );
        return text(bytes.expose(), &format!("`{}`", path.display()));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return read_hidden_line(&stdin, place).map_err(CliError::Terminal);
    }
    let mut bytes = Secret::new(Vec::new());
    stdin
        .lock()
        .read_to_end(bytes.expose_mut())
        .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
    text(bytes.expose(), "standard input")
}

fn text(bytes: &[u8], what: &str) -> Result<Secret<String>, CliError> {
    std::str::from_utf8(bytes)
        .map(|s| Secret::new(s.to_owned()))
        .map_err(|_| CliError::Usage(format!("{what} is not UTF-8 text; values are strings")))
}

/// One line typed at the terminal, with echo off while it is typed.
fn read_hidden_line(stdin: &std::io::Stdin, place: &Place) -> std::io::Result<Secret<String>> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let mut stderr = std::io::stderr();
    write!(stderr, "value for {place} (not echoed): ")?;
    stderr.flush()?;
    let saved = tcgetattr(stdin).ok();
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(stdin, SetArg::TCSANOW, &quiet);
    }
    let mut line = Secret::new(String::new());
    let read = stdin.lock().read_line(line.expose_mut());
    if let Some(saved) = &saved {
        let _ = tcsetattr(stdin, SetArg::TCSANOW, saved);
    }
    writeln!(stderr)?;
    read?;
    let trimmed = line.expose().trim_end_matches(['\n', '\r']).len();
    line.expose_mut().truncate(trimmed);
    Ok(line)
}

/// Where recipients come from: the flags (offline) or the server, asked at most once and only
/// when something is to be sealed; plus each repository's `.rune/recipients`.
pub(crate) struct Sources<'g> {
    /// `--recipient` and `--recipients-file`, when any was given.
    explicit: Option<Recipients>,
    global: &'g GlobalArgs,
    server: Option<Recipient>,
}

impl<'g> Sources<'g> {
    fn new(args: &SealArgs, global: &'g GlobalArgs) -> Result<Self, CliError> {
        Self::from_flags(&args.recipient, &args.recipients_file, global)
    }

    /// From `--recipient` and `--recipients-file` (also `rune import --seal`'s).
    pub(crate) fn from_flags(
        recipient: &[String],
        recipients_file: &[PathBuf],
        global: &'g GlobalArgs,
    ) -> Result<Self, CliError> {
        let mut explicit = Recipients::new();
        for text in recipient {
            explicit.add(parse_recipient(text).ok_or_else(|| {
                CliError::Usage(format!(
                    "--recipient `{text}` is not an age recipient (`age1…`)"
                ))
            })?);
        }
        for path in recipients_file {
            explicit.extend(load_recipients(path)?);
        }
        let given = !recipient.is_empty() || !recipients_file.is_empty();
        if given && explicit.is_empty() {
            return Err(CliError::Usage(
                "the recipients files list no recipient".to_owned(),
            ));
        }
        Ok(Self {
            explicit: given.then_some(explicit),
            global,
            server: None,
        })
    }

    /// The recipients for a runefile in `dir`.
    pub(crate) fn for_dir(&mut self, dir: &Path) -> Result<Recipients, CliError> {
        let mut set = match &self.explicit {
            Some(explicit) => explicit.clone(),
            None => {
                let mut set = Recipients::new();
                set.add(self.server()?);
                set
            }
        };
        if let Some(repo) = Repo::discover(dir) {
            set.extend(recipients::of_work_tree(repo.root())?);
        }
        Ok(set)
    }

    /// Whether [`Sources::for_dir`] still has to ask a server for its recipient.
    pub(crate) fn needs_server(&self) -> bool {
        self.explicit.is_none() && self.server.is_none()
    }

    /// The server's recipient, from a target the caller holds already.
    pub(crate) fn set_server(&mut self, text: &str) -> Result<(), CliError> {
        self.server = Some(parse_recipient(text).ok_or_else(|| {
            CliError::Other(format!(
                "the server's seal recipient `{text}` is not an age recipient"
            ))
        })?);
        Ok(())
    }

    fn server(&mut self) -> Result<Recipient, CliError> {
        if let Some(recipient) = &self.server {
            return Ok(recipient.clone());
        }
        let target = target::select(self.global)?;
        let text = target.backend.seal_recipient()?;
        let recipient = parse_recipient(&text).ok_or_else(|| {
            CliError::Other(format!(
                "the server's seal recipient `{text}` is not an age recipient"
            ))
        })?;
        self.server = Some(recipient.clone());
        Ok(recipient)
    }
}

pub(crate) fn directory(input: &InputFile) -> PathBuf {
    match input.base_dir() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn recipient_count(recipients: &Recipients) -> String {
    match recipients.len() {
        1 => "1 recipient".to_owned(),
        n => format!("{n} recipients"),
    }
}

/// A status line on stderr, unless `-q`.
pub(crate) fn note(global: &GlobalArgs, line: &str) {
    if !global.quiet {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
