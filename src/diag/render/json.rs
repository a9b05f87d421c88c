//! `rune lint --format json` (SPEC §3.2):
//!
//! ```json
//! {"diagnostics": [{"code", "severity", "message", "file", "line", "column",
//!                   "endLine", "endColumn", "help"}],
//!  "summary": {"files", "documents", "errors", "warnings", "skipped"}}
//! ```
//! `help` is `null` when a finding has none. Described by `schemas/lint-output.schema.json`.

use serde::Serialize;

use crate::diag::render::{Totals, locate};
use crate::diag::{Diagnostics, Severity};
use crate::source::SourceMap;

#[derive(Serialize)]
struct Output<'a> {
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    code: &'static str,
    column: u32,
    end_column: u32,
    end_line: u32,
    file: &'a str,
    help: Option<&'a str>,
    line: u32,
    message: &'a str,
    severity: Severity,
}

#[derive(Serialize)]
struct Summary {
    documents: usize,
    errors: usize,
    files: usize,
    skipped: usize,
    warnings: usize,
}

/// The JSON document, pretty-printed, with a trailing newline.
#[must_use]
pub fn render(diagnostics: &Diagnostics, sources: &SourceMap, totals: Totals) -> String {
    let output = Output {
        diagnostics: diagnostics
            .iter()
            .map(|d| {
                let at = locate(sources, d);
                Entry {
                    code: d.code.as_str(),
                    column: at.start.column,
                    end_column: at.end.column,
                    end_line: at.end.line,
                    file: at.file,
                    help: d.help.as_deref(),
                    line: at.start.line,
                    message: &d.message,
                    severity: d.severity,
                }
            })
            .collect(),
        summary: Summary {
            documents: totals.documents,
            errors: diagnostics.errors(),
            files: totals.files,
            skipped: totals.skipped,
            warnings: diagnostics.warnings(),
        },
    };
    let mut text = serde_json::to_string_pretty(&output).unwrap_or_default();
    text.push('\n');
    text
}
