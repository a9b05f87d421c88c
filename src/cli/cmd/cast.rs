//! `rune cast` (and `rune diff`): read (the working tree, or a git commit with `--rev`) → parse
//! → validate → plan (one round trip) → print → apply (one atomic batch guarded by the revisions
//! seen at plan time) → print the result.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use crate::cli::args::{CastArgs, GlobalArgs, OutputFormat};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::findings;
use crate::cli::interrupt;
use crate::cli::keys;
use crate::cli::output::{self, Output};
use crate::cli::progress::Progress;
use crate::cli::target;
use crate::cli::validation;
use crate::client::{self, Backend, ClientError};
use crate::diag::render::human;
use crate::git::Repo;
use crate::parse::Loaded;
use crate::plan::desired::Origin;
use crate::plan::render::{self, TextStyle};
use crate::plan::{Action, Plan};
use crate::validate::{self, Options};
use crate::wire::batch::{Applied, ApplyBatch, BatchOptions};
use crate::wire::object::Desired;

pub fn run(args: &CastArgs, global: &GlobalArgs, out: &Output) -> Result<ExitCode, CliError> {
    let json = global.output == Some(OutputFormat::Json);
    // Before any thread starts: they all inherit the blocked signals (see `interrupt`).
    let watch = interrupt::watch();
    let progress = Progress::new(global.quiet);
    progress.stage("reading runefiles");
    let (loaded, at_revision) = read(args)?;
    progress.stage(format!("validating {} documents", loaded.document_count));
    let options = validation::options(global, &args.allow_file_root)?;
    let mut validated = validate::validate(&loaded, &options);
    progress.finish();
    let note = offline_sealed_checks(args, &mut validated, &options)?;
    report_findings(&validated, &loaded, global, out)?;
    if let Some(note) = note.filter(|_| !global.quiet) {
        let _ = writeln!(std::io::stderr(), "{note}");
    }
    if validated.diagnostics.has_errors() {
        return Err(CliError::Validation);
    }
    let origin = at_revision
        .unwrap_or_else(|| crate::git::provenance::origin(&args.paths, args.source_set.as_deref()));
    let desired = crate::plan::desired::to_desired(&validated.resources, &loaded, &origin)?;
    if args.offline {
        return offline(&desired, args, json);
    }
    let access = if args.dry_run {
        target::Access::Read
    } else {
        target::Access::Write
    };
    let target = target::select_for(global, access)?;
    let batch = BatchOptions {
        create_namespaces: args.create_namespace,
        force: args.force,
        prune_source_set: args.prune.then(|| origin.source_set.clone()).flatten(),
        ..BatchOptions::default()
    };
    let progress = Progress::new(global.quiet);
    progress.stage(format!("planning {} objects", desired.len()));
    let rejected = |error| rejected(error, &validated, &loaded, out);
    let plan = target.backend.plan(&desired, &batch).map_err(rejected)?;
    let style = TextStyle {
        color: out.style().color,
        verbose: global.verbose,
    };
    progress.finish();
    if args.dry_run || !plan.has_changes() {
        output::print(if json {
            render::json(&plan, &desired, None)
        } else {
            render::text(&plan, &desired, style)
        })?;
        let pending = args.exit_code && plan.has_changes();
        return Ok(if pending {
            ExitCode::ChangesPending
        } else {
            ExitCode::Success
        });
    }
    if !json {
        output::print(render::text(&plan, &desired, style))?;
    }
    confirm_prune(&plan, args)?;
    let progress = Progress::new(global.quiet);
    progress.stage(format!(
        "applying {} changes",
        plan.summary.create + plan.summary.update + plan.summary.delete
    ));
    watch.applying(interrupt::diff_command(&check_args(args, global)));
    let applied = apply(target.backend.as_ref(), &plan, &desired, &batch);
    watch.applied();
    let applied = applied.map_err(rejected)?;
    progress.finish();
    let services_written = applied.versions.keys().any(|k| k.starts_with("service/"));
    if services_written && !global.quiet && !target.backend.runs_services() {
        let _ = writeln!(
            std::io::stderr(),
            "note: the embedded engine stores services but does not run them; runed runs them"
        );
    }
    if json {
        output::print(render::json(&plan, &desired, Some(&applied)))?;
    } else {
        let versions: Vec<String> = applied
            .versions
            .iter()
            .map(|(k, v)| format!("{k} v{v}"))
            .collect();
        let mut text = format!(
            "Applied {} change{}.\n",
            applied.applied,
            if applied.applied == 1 { "" } else { "s" }
        );
        if global.verbose && !versions.is_empty() {
            let _ = writeln!(text, "  {}", versions.join("\n  "));
        }
        output::print(text)?;
    }
    Ok(ExitCode::Success)
}

/// The arguments of the `rune diff` that tells whether an interrupted apply committed.
fn check_args(args: &CastArgs, global: &GlobalArgs) -> Vec<String> {
    let mut check = Vec::new();
    if let Some(server) = &global.server {
        check.extend(["--server".to_owned(), server.clone()]);
    }
    if let Some(context) = &global.context {
        check.extend(["--context".to_owned(), context.clone()]);
    }
    if let Some(dir) = &global.data_dir {
        check.extend(["--data-dir".to_owned(), dir.display().to_string()]);
    }
    if args.recursive {
        check.push("-r".to_owned());
    }
    if let Some(rev) = &args.rev {
        check.extend(["--rev".to_owned(), rev.clone()]);
    }
    if args.create_namespace {
        check.push("--create-namespace".to_owned());
    }
    check.extend(args.paths.iter().cloned());
    check
}

/// Only an offline cast opens sealed values itself; online, the server does, and the key file is
/// never read. Returns a note for stderr.
fn offline_sealed_checks(
    args: &CastArgs,
    validated: &mut validate::Validated,
    options: &Options,
) -> Result<Option<String>, CliError> {
    if !args.offline {
        return Ok(args.key_file.as_ref().map(|_| {
            "note: --key-file is read by offline checks only (`--offline`, `rune lint`); the server opens sealed values".to_owned()
        }));
    }
    let (sealed, note) = keys::check_sealed(
        args.key_file.as_deref(),
        &validated.resources,
        options.limits.secret,
    )?;
    validated.diagnostics.extend(sealed);
    validated.diagnostics.sort();
    Ok(note)
}

/// The runefiles of the working tree, or of the commit `--rev` names with that commit's
/// provenance (never dirty; paths relative to the repository root).
fn read(args: &CastArgs) -> Result<(Loaded, Option<Origin>), CliError> {
    let Some(rev) = &args.rev else {
        return Ok((crate::parse::read(&args.paths, args.recursive)?, None));
    };
    let repo = Repo::from_env("`--rev` reads a git commit")?;
    let revision = repo.at_revision(rev, &args.paths)?;
    let origin = crate::git::provenance::at_revision(&repo, &revision, args.source_set.as_deref());
    Ok((crate::parse::read_git(revision.files), Some(origin)))
}

/// Warnings (and errors) go to stderr: stdout is for the plan.
fn report_findings(
    validated: &validate::Validated,
    loaded: &crate::parse::Loaded,
    global: &GlobalArgs,
    out: &Output,
) -> Result<(), CliError> {
    if validated.diagnostics.is_empty() || (global.quiet && !validated.diagnostics.has_errors()) {
        return Ok(());
    }
    let text = human::render(
        &validated.diagnostics,
        &loaded.sources,
        &validated.redactions,
        out.style(),
    );
    std::io::stderr()
        .lock()
        .write_all(text.as_bytes())
        .map_err(CliError::Terminal)
}

fn apply(
    backend: &dyn Backend,
    plan: &Plan,
    objects: &[Desired],
    batch: &BatchOptions,
) -> Result<Applied, ClientError> {
    let options = BatchOptions {
        prune_source_set: None,
        ..batch.clone()
    };
    backend.apply_batch(&ApplyBatch {
        delete: plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .map(|c| &c.key)
            .collect(),
        expected: client::expected(plan),
        objects,
        options: &options,
    })
}

/// Deletions need `--yes`, or a "yes" typed at a terminal.
fn confirm_prune(plan: &Plan, args: &CastArgs) -> Result<(), CliError> {
    let deletes = plan.summary.delete;
    if deletes == 0 || args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "--prune would delete {deletes} object{}; pass --yes to confirm (no terminal to ask)",
            if deletes == 1 { "" } else { "s" }
        )));
    }
    let _ = write!(
        std::io::stderr(),
        "Delete {deletes} object(s)? Type `yes` to confirm: "
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(CliError::Terminal)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(CliError::Usage("cancelled: nothing was applied".to_owned()))
    }
}

/// `--offline`: no server, so every object is a "would create or update".
fn offline(desired: &[Desired], args: &CastArgs, json: bool) -> Result<ExitCode, CliError> {
    if json {
        // The online shape (SPEC §3.2), each object's action `unknown`: without the server,
        // nobody knows whether it would be created, updated or left unchanged.
        let changes: Vec<serde_json::Value> = desired
            .iter()
            .map(|d| {
                serde_json::json!({
                    "action": "unknown",
                    "kind": d.key.kind.0.singular(),
                    "namespace": d.key.namespace,
                    "name": d.key.name,
                    "fromVersion": null,
                    "toVersion": null,
                })
            })
            .collect();
        let summary = serde_json::json!({
            "create": 0, "update": 0, "delete": 0, "unchanged": 0, "unknown": changes.len(),
        });
        let output = serde_json::json!({
            "plan": {"summary": summary, "changes": changes},
            "result": null,
        });
        output::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&output).unwrap_or_default()
        ))?;
    } else {
        let mut text = format!(
            "Plan (offline): {} object{} would be created or updated; the server was not contacted\n",
            desired.len(),
            if desired.len() == 1 { "" } else { "s" }
        );
        for d in desired {
            let name = if d.key.namespace.is_empty() {
                d.key.name.clone()
            } else {
                format!("{}/{}", d.key.namespace, d.key.name)
            };
            let _ = writeln!(text, "? {} {name}", d.key.kind.0);
        }
        output::print(text)?;
    }
    Ok(if args.exit_code && !desired.is_empty() {
        ExitCode::ChangesPending
    } else {
        ExitCode::Success
    })
}

/// A rejected batch: its violations are printed once, as diagnostics at the documents that
/// declare the objects (even with `-q`: they are errors); the failure's own line only counts
/// them.
fn rejected(
    error: ClientError,
    validated: &validate::Validated,
    loaded: &Loaded,
    out: &Output,
) -> CliError {
    let violations = error.violations();
    if violations.is_empty() {
        return CliError::Client(error);
    }
    let (diagnostics, unplaced) =
        findings::from_violations(&violations, &validated.resources, loaded);
    let mut text = human::render(
        &diagnostics,
        &loaded.sources,
        &validated.redactions,
        out.style(),
    );
    for violation in &unplaced {
        let _ = writeln!(text, "error: {violation}");
    }
    if std::io::stderr().lock().write_all(text.as_bytes()).is_err() {
        return CliError::Client(error);
    }
    CliError::Rejected {
        error,
        findings: violations.len(),
    }
}
