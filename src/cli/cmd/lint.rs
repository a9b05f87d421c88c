//! `rune lint`: parse and validate offline, refuse plaintext secrets in files git holds, print
//! every finding, exit 6 on any error. With `--staged`, the runefiles come from the git index.

use std::io::Write;

use crate::cli::annotations;
use crate::cli::args::{GlobalArgs, LintArgs, LintFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::keys;
use crate::cli::output::Output;
use crate::cli::validation;
use crate::diag::Diagnostics;
use crate::diag::render::{self, Totals};
use crate::git::{Repo, Tracked};
use crate::parse::Loaded;
use crate::validate::plaintext::{self, InGit};
use crate::validate::{self, Validated};

pub fn run(args: &LintArgs, global: &GlobalArgs, out: &Output) -> Result<ExitCode, CliError> {
    let loaded = read(args)?;
    // The same namespace as cast and seal (`-n`, else the context's): a sealed value's place,
    // and the guard's findings, must read the same here as at cast time.
    let options = validation::options(global, &args.allow_file_root)?;
    let mut validated = validate::validate(&loaded, &options);
    guard_plaintext(&mut validated, &loaded, args.staged);
    let (sealed, note) = keys::check_sealed(
        args.key_file.as_deref(),
        &validated.resources,
        options.limits.secret,
    )?;
    if !sealed.is_empty() {
        validated.diagnostics.extend(sealed);
        validated.diagnostics.sort();
    }
    let totals = Totals {
        documents: loaded.document_count,
        files: loaded.files.len(),
        skipped: validated.skipped.len(),
    };
    let diagnostics = if global.quiet && args.format == LintFormat::Text {
        only_errors(&validated.diagnostics)
    } else {
        std::mem::take(&mut validated.diagnostics)
    };
    // Annotations and SARIF results name files relative to the repository root, as GitHub and
    // code scanning resolve them; `--staged` reads them from git with those names already.
    let machine_sources = || {
        if args.staged {
            None
        } else {
            Some(annotations::sources(&loaded))
        }
    };
    let text = match args.format {
        LintFormat::Github => {
            let renamed = machine_sources();
            render::github::render(&diagnostics, renamed.as_ref().unwrap_or(&loaded.sources))
        }
        LintFormat::Json => render::json::render(&diagnostics, &loaded.sources, totals),
        LintFormat::Sarif => {
            let renamed = machine_sources();
            render::sarif::render(&diagnostics, renamed.as_ref().unwrap_or(&loaded.sources))
        }
        LintFormat::Text => {
            let mut text = render::human::render(
                &diagnostics,
                &loaded.sources,
                &validated.redactions,
                out.style(),
            );
            if !global.quiet {
                text.push_str(&summary(&diagnostics, totals));
            }
            text
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(CliError::Output)?;
    if let Some(note) = note.filter(|_| !global.quiet) {
        let _ = writeln!(std::io::stderr(), "{note}");
    }
    // Freeing a large repository's node trees and resources one allocation at a time takes as
    // long as validating them; the process is about to end, so let a detached thread do it.
    std::thread::spawn(move || drop((loaded, validated)));
    Ok(if diagnostics.has_errors() {
        ExitCode::Validation
    } else {
        ExitCode::Success
    })
}

/// The runefiles the paths name, or with `--staged` those of the git index (every one when no
/// path is given), read together so that references resolve across them.
fn read(args: &LintArgs) -> Result<Loaded, CliError> {
    if !args.staged {
        return Ok(crate::parse::read(&args.paths, args.recursive)?);
    }
    let repo = Repo::from_env("`--staged` reads the git index")?;
    Ok(crate::parse::read_git(repo.staged(&args.paths)?))
}

/// `E-SECRET-PLAINTEXT` for plaintext secret values in files that git tracks or has staged;
/// with `--staged` every file is staged. Git is consulted only for files that hold such values;
/// when it cannot answer for one, `E-GIT-UNCHECKED` (the guard fails closed).
fn guard_plaintext(validated: &mut Validated, loaded: &Loaded, staged: bool) {
    let findings = if staged {
        plaintext::check(&validated.resources, |_| Some(InGit::Staged))
    } else {
        let mut paths = vec![None; loaded.sources.len()];
        for file in &loaded.files {
            paths[file.source.0 as usize] = file.path.as_deref();
        }
        let mut tracked = Tracked::default();
        plaintext::check_or_refuse(&validated.resources, |source| {
            paths[source.0 as usize].map_or(Ok(None), |path| tracked.in_git(path))
        })
    };
    if !findings.is_empty() {
        validated.diagnostics.extend(findings);
        validated.diagnostics.sort();
    }
}

fn only_errors(all: &Diagnostics) -> Diagnostics {
    let mut errors = Diagnostics::new();
    errors.extend(all.iter().filter(|d| d.is_error()).cloned());
    errors
}

/// `2 errors and 1 warning in 3 files (7 documents)`, or `3 files (7 documents): no problems`.
fn summary(diagnostics: &Diagnostics, totals: Totals) -> String {
    let files = plural(totals.files, "file", "files");
    let documents = plural(totals.documents, "document", "documents");
    let skipped = if totals.skipped > 0 {
        format!(
            ", {} skipped",
            plural(totals.skipped, "resource", "resources")
        )
    } else {
        String::new()
    };
    if diagnostics.is_empty() {
        return format!("{files} ({documents}{skipped}): no problems\n");
    }
    format!(
        "{} and {} in {files} ({documents}{skipped})\n",
        plural(diagnostics.errors(), "error", "errors"),
        plural(diagnostics.warnings(), "warning", "warnings"),
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
