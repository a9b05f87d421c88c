//! Findings the server rejects at plan or apply time (a missing reference, a namespace, a
//! limit, a name), mapped back to the runefiles so that they read like `rune lint`'s (SPEC §3,
//! issue #13).
//!
//! In: the [`Violation`]s of a rejected batch, the validated resources and the parsed files.
//! Out: [`Diagnostics`] at the document that declares each object — at the field the violation
//! names when it can be found in the parsed document (`spec.scale`, `data.KEY`,
//! `labels.KEY`), else at the resource's name — plus the violations no document declares (a
//! prune deletion), which have no place to point at. Secret values are never shown: the
//! snippets are rendered with the run's redactions, and a data finding points at the key.

use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::parse::Loaded;
use crate::parse::node::{Node, Value};
use crate::resource::Resource;
use crate::source::Span;
use crate::wire::error::Violation;

/// The server's findings as diagnostics, and those that no document declares.
#[must_use]
pub fn from_violations(
    violations: &[Violation],
    resources: &[Resource],
    loaded: &Loaded,
) -> (Diagnostics, Vec<Violation>) {
    let mut diagnostics = Diagnostics::new();
    let mut unplaced = Vec::new();
    for violation in violations {
        let object = &violation.object;
        let declared = resources.iter().find(|r| {
            r.kind() == object.kind.0
                && r.namespace_name() == object.namespace
                && r.name.value == object.name
        });
        let Some(resource) = declared else {
            unplaced.push(violation.clone());
            continue;
        };
        let field = violation
            .field
            .clone()
            .or_else(|| violation.key.as_ref().map(|key| format!("data.{key}")));
        let span = field
            .as_deref()
            .and_then(|field| field_span(loaded, resource, field))
            .unwrap_or(resource.name.span);
        diagnostics.push(diagnostic(violation, resource, span));
    }
    diagnostics.sort();
    (diagnostics, unplaced)
}

fn diagnostic(violation: &Violation, resource: &Resource, span: Span) -> Diagnostic {
    let code = violation
        .code
        .as_deref()
        .and_then(|text| Code::ALL.iter().copied().find(|c| c.as_str() == text))
        .unwrap_or(Code::ServerRejected);
    let mut diagnostic = Diagnostic::new(
        code,
        span,
        format!("{}: {}", resource.display_name(), violation.message),
    )
    .label("rejected by the server");
    // The server checked this against its state and limits: whatever lint calls it offline,
    // here it stopped the cast.
    diagnostic.severity = Severity::Error;
    diagnostic
}

/// The span of `field` in the document that declares `resource`. Validation drops each tree
/// once it is read (peak memory), so a document no longer held is parsed again: only for the
/// few objects the server refused.
fn field_span(loaded: &Loaded, resource: &Resource, field: &str) -> Option<Span> {
    let origin = resource.origin;
    let held = loaded
        .documents
        .iter()
        .find(|d| d.source == origin.source && d.index == origin.document);
    let reparsed;
    let root = if let Some(document) = held {
        &document.root
    } else {
        let pending = loaded
            .pending
            .iter()
            .find(|p| p.source == origin.source && p.index == Some(origin.document))?;
        reparsed = crate::parse::parse_pending(&loaded.sources, &loaded.budget, pending).ok()??;
        &reparsed.root
    };
    let node = resource_node(root, resource)?;
    find_field(node, field.strip_prefix("spec.").unwrap_or(field))
}

/// The mapping node of `resource` in its document's `root`: the value of its kind key
/// (`secret:`), or its item in a plural key's list (`secrets:`).
fn resource_node<'a>(root: &'a Node, resource: &Resource) -> Option<&'a Node> {
    let origin = resource.origin;
    root.as_map()?.iter().find_map(|(key, value)| {
        if key.span == origin.span {
            return Some(value);
        }
        match &value.value {
            Value::Seq(items) => items.iter().find(|item| item.span == origin.span),
            _ => None,
        }
    })
}

/// The span of `path` (`scale`, `data.app.conf`, `envFrom[0].secretRef`) below `node`. A map
/// key may hold dots (`app.conf`), so each step tries the keys the node has. A data entry
/// resolves to its key, never to its value.
fn find_field(node: &Node, path: &str) -> Option<Span> {
    if path.is_empty() {
        return Some(node.span);
    }
    match &node.value {
        Value::Map(entries) => {
            let (key, value, rest) = entries.iter().find_map(|(key, value)| {
                let name = key.as_str()?;
                let rest = step(path, name)?;
                Some((key, value, rest))
            })?;
            if key.as_str() == Some("data") {
                return find_data(value, rest).or(Some(key.span));
            }
            find_field(value, rest).or(Some(key.span))
        }
        Value::Seq(items) => {
            let inner = path.strip_prefix('[')?;
            let (index, rest) = inner.split_once(']')?;
            let item = items.get(index.parse::<usize>().ok()?)?;
            find_field(item, rest.strip_prefix('.').unwrap_or(rest)).or(Some(item.span))
        }
        _ => None,
    }
}

/// The rest of `path` after the key `name`, when `path` starts with it.
fn step<'p>(path: &'p str, name: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(name)?;
    if rest.is_empty() {
        Some(rest)
    } else if let Some(rest) = rest.strip_prefix('.') {
        Some(rest)
    } else if rest.starts_with('[') {
        Some(rest)
    } else {
        None
    }
}

/// The span of data key `key` (the whole rest of the path: a key may hold dots) in map form
/// (`KEY: value`) or list form (`- key: KEY`).
fn find_data(data: &Node, key: &str) -> Option<Span> {
    if key.is_empty() {
        return None;
    }
    match &data.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k.span),
        Value::Seq(items) => items.iter().find_map(|item| {
            item.as_map()?.iter().find_map(|(k, v)| {
                (k.as_str() == Some("key") && v.as_str() == Some(key)).then_some(v.span)
            })
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::find_field;
    use crate::parse::node::Node;

    fn parsed(text: &str) -> (crate::parse::Loaded, Node) {
        let loaded = crate::parse::load_read(vec![crate::parse::ReadFile {
            name: "t.yaml".to_owned(),
            bytes: text.as_bytes().to_vec(),
            path: std::path::PathBuf::from("t.yaml"),
        }]);
        let root = loaded.documents[0].root.clone();
        (loaded, root)
    }

    /// Fields resolve through maps, lists, dotted data keys and both data forms.
    #[test]
    fn fields_resolve_to_their_spans() {
        let text = "service:\n  name: web\n  scale: -1\n  envFrom:\n    - secretRef: gone\n---\nconfigmap:\n  name: c\n  data:\n    app.conf: x\n---\nsecret:\n  name: s\n  data:\n    - key: a.b\n      value: v\n";
        let (loaded, _) = parsed(text);
        let at = |doc: usize, path: &str| {
            let root = &loaded.documents[doc].root;
            let node = &root.as_map().unwrap()[0].1;
            find_field(node, path).map(|span| &text[span.start as usize..span.end as usize])
        };
        assert_eq!(at(0, "scale"), Some("-1"));
        assert_eq!(at(0, "envFrom[0].secretRef"), Some("gone"));
        assert_eq!(at(0, "envFrom[3]"), Some("envFrom"));
        assert_eq!(at(0, "nothing"), None);
        assert_eq!(at(1, "data.app.conf"), Some("app.conf"));
        assert_eq!(at(1, "data.other"), Some("data"));
        assert_eq!(at(2, "data.a.b"), Some("a.b"));
    }
}
