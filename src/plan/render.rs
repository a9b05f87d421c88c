//! The plan for people and for machines (SPEC §3).
//!
//! Text: a summary line, then one block per change — `+` create, `~` update, `-` delete, `=`
//! unchanged (only when asked) — with a unified diff of normalised YAML for every kind but
//! secrets, which show key names and the version transition only.
//! JSON (`-o json`): `{"plan": {"summary", "changes": [...]}, "result": null | {...}}`, described
//! by `schemas/cast-output.schema.json`.

use std::collections::HashMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::plan::{Action, Change, KeyChanges, Plan, Summary};
use crate::resource::Kind;
use crate::wire::batch::Applied;
use crate::wire::object::{Desired, ObjectKey, Stored};

/// How the text looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle {
    pub color: bool,
    /// Also list unchanged objects (`-v`).
    pub verbose: bool,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// `Plan: 2 to create, 1 to update, 0 to delete, 5 unchanged`.
pub fn summary_line(summary: &Summary) -> String {
    format!(
        "Plan: {} to create, {} to update, {} to delete, {} unchanged",
        summary.create, summary.update, summary.delete, summary.unchanged
    )
}

/// The whole plan as text; `desired` supplies the new side of each diff.
pub fn text(plan: &Plan, desired: &[Desired], style: TextStyle) -> String {
    let mut out = summary_line(&plan.summary);
    out.push('\n');
    if !plan.has_changes() {
        out.push_str("No changes: the server matches the runefiles.\n");
    }
    let desired = by_key(desired);
    for change in &plan.changes {
        if change.action == Action::Unchanged && !style.verbose {
            continue;
        }
        let wanted = desired.get(&change.key).copied();
        block(&mut out, change, wanted, style);
    }
    out
}

/// Desired objects by key, the first of duplicates winning (as a search from the front would):
/// a plan of thousands of changes looks each one up once, not with a scan of the whole batch.
fn by_key(desired: &[Desired]) -> HashMap<&ObjectKey, &Desired> {
    let mut index = HashMap::with_capacity(desired.len());
    for d in desired {
        index.entry(&d.key).or_insert(d);
    }
    index
}

fn block(out: &mut String, change: &Change, desired: Option<&Desired>, style: TextStyle) {
    let (sign, color) = match change.action {
        Action::Create => ('+', GREEN),
        Action::Delete => ('-', RED),
        Action::Unchanged => ('=', ""),
        Action::Update => ('~', YELLOW),
    };
    let name = if change.key.namespace.is_empty() {
        change.key.name.clone()
    } else {
        format!("{}/{}", change.key.namespace, change.key.name)
    };
    let versions = match (change.from_version, change.to_version) {
        (None, Some(to)) => format!(" (v{to})"),
        (Some(from), Some(to)) if from != to => format!(" (v{from} → v{to})"),
        (Some(from), _) => format!(" (v{from})"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{sign} {} {name}{versions}{}",
        paint(style, color),
        change.key.kind.0,
        paint(style, RESET)
    );
    if change.key.kind.0 == Kind::Secret {
        if let Some(keys) = &change.keys {
            secret_keys(out, keys, style);
        }
        return;
    }
    if let Some(diff) = diff_text(change, desired) {
        for line in diff.lines() {
            let color = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => GREEN,
                Some(b'-') if !line.starts_with("---") => RED,
                Some(b'@') => CYAN,
                _ => "",
            };
            let _ = writeln!(
                out,
                "    {}{line}{}",
                paint(style, color),
                if color.is_empty() {
                    ""
                } else {
                    paint(style, RESET)
                }
            );
        }
    }
}

fn secret_keys(out: &mut String, keys: &KeyChanges, style: TextStyle) {
    let groups = [
        (&keys.added, '+', GREEN, ""),
        (&keys.removed, '-', RED, ""),
        (&keys.changed, '~', YELLOW, " (changed)"),
    ];
    for (names, sign, color, note) in groups {
        for key in names {
            let (on, off) = (paint(style, color), paint(style, RESET));
            let _ = writeln!(out, "    {on}{sign} {key}{note}{off}");
        }
    }
}

fn paint(style: TextStyle, code: &'static str) -> &'static str {
    if style.color { code } else { "" }
}

/// The unified diff between the live object and the desired one, as normalised YAML. Secrets
/// never get one: their values are not known here and must not be.
pub fn diff_text(change: &Change, desired: Option<&Desired>) -> Option<String> {
    if change.key.kind.0 == Kind::Secret {
        return None;
    }
    let old = change
        .live
        .as_deref()
        .map(live_view)
        .map(|v| yaml(&v))
        .unwrap_or_default();
    let new = match (change.action, desired) {
        (Action::Delete, _) | (_, None) => String::new(),
        (_, Some(d)) => yaml(&desired_view(d)),
    };
    if old == new {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header("live", "desired")
        .to_string();
    (!text.is_empty()).then_some(text)
}

/// The fields a person compares: name, namespace, labels and the kind's own fields.
fn desired_view(desired: &Desired) -> Value {
    let Ok(Value::Object(mut wire)) = serde_json::to_value(desired) else {
        return Value::Null;
    };
    let mut view = Map::new();
    for key in ["name", "namespace", "labels"] {
        if let Some(v) = wire.remove(key) {
            view.insert(key.to_owned(), v);
        }
    }
    if let Some(Value::Object(spec)) = wire.remove("spec") {
        view.extend(spec);
    }
    normalise(runefile_names(Value::Object(view)))
}

fn live_view(stored: &Stored) -> Value {
    let Ok(Value::Object(mut wire)) = serde_json::to_value(stored) else {
        return Value::Null;
    };
    for meta in ["createdAt", "updatedAt", "version", "kind", "provenance"] {
        wire.remove(meta);
    }
    normalise(runefile_names(Value::Object(wire)))
}

/// Mounts name their source `secretName`/`configName` in runefiles and `source` on the wire;
/// a diff speaks the runefile's language.
fn runefile_names(mut view: Value) -> Value {
    for (list, field) in [
        ("secretMounts", "secretName"),
        ("configMounts", "configName"),
    ] {
        let Some(Value::Array(mounts)) = view.get_mut(list) else {
            continue;
        };
        for mount in mounts.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(source) = mount.remove("source") {
                mount.insert(field.to_owned(), source);
            }
        }
    }
    view
}

/// Drops empty maps and lists and nulls so that "absent" and "empty" read the same.
fn normalise(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalise(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_default()
}

/// `rune cast -o json` / `rune diff -o json`.
#[derive(Serialize)]
pub struct JsonOutput<'a> {
    pub plan: JsonPlan<'a>,
    pub result: Option<&'a Applied>,
}

#[derive(Serialize)]
pub struct JsonPlan<'a> {
    pub changes: Vec<JsonChange<'a>>,
    pub summary: &'a Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonChange<'a> {
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    pub from_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<&'a KeyChanges>,
    pub kind: &'static str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub to_version: Option<u64>,
}

/// The JSON document (pretty, with a trailing newline).
pub fn json(plan: &Plan, desired: &[Desired], result: Option<&Applied>) -> String {
    let desired = by_key(desired);
    let changes = plan
        .changes
        .iter()
        .map(|change| {
            let wanted = desired.get(&change.key).copied();
            let is_secret = change.key.kind.0 == Kind::Secret;
            JsonChange {
                action: change.action,
                diff: diff_text(change, wanted),
                from_version: change.from_version,
                keys: if is_secret {
                    change.keys.as_ref()
                } else {
                    None
                },
                kind: change.key.kind.0.singular(),
                name: &change.key.name,
                namespace: &change.key.namespace,
                to_version: change.to_version,
            }
        })
        .collect();
    let output = JsonOutput {
        plan: JsonPlan {
            changes,
            summary: &plan.summary,
        },
        result,
    };
    let mut text = serde_json::to_string_pretty(&output).unwrap_or_default();
    text.push('\n');
    text
}
