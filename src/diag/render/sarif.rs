//! `rune lint --format sarif`: SARIF 2.1.0, for code-scanning dashboards. The rules come from
//! the code registry, so every code has a description whether or not it fired.

use serde_json::{Value, json};

use crate::diag::render::locate;
use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::source::SourceMap;

#[must_use]
pub fn render(diagnostics: &Diagnostics, sources: &SourceMap) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": {"text": code.description()},
                "defaultConfiguration": {"level": level(code.severity())},
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics.iter().map(|d| result(d, sources)).collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rune",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn result(d: &Diagnostic, sources: &SourceMap) -> Value {
    let at = locate(sources, d);
    let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
    let text = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<Value> = d
        .secondary
        .iter()
        .enumerate()
        .map(|(id, label)| {
            let file = sources.get(label.span.source);
            let start = file.position(label.span.start);
            let end = file.position(label.span.end);
            json!({
                "id": id,
                "message": {"text": label.message.clone().unwrap_or_default()},
                "physicalLocation": physical(file.name(), start, end),
            })
        })
        .collect();
    json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical(at.file, at.start, at.end)}],
        "relatedLocations": related,
    })
}

fn physical(file: &str, start: crate::source::Position, end: crate::source::Position) -> Value {
    json!({
        "artifactLocation": {"uri": file.replace('\\', "/")},
        "region": {
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column,
        },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
