//! Reading a YAML mapping field by field, so that every unknown, duplicate or missing field
//! becomes its own diagnostic instead of stopping the run.

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::parse::node::{Node, Value};
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::validate::context::DocContext;

/// The fields of one mapping, as they are consumed.
pub struct Fields<'a> {
    /// What the mapping is, for messages: "secret", "`secretMounts` entry".
    what: &'a str,
    entries: Vec<(&'a str, &'a Node, &'a Node)>,
    /// Where to point when a required field is missing.
    anchor: Span,
}

impl<'a> Fields<'a> {
    /// Opens a mapping; reports a wrong type or repeated keys and returns `None` for a non-map.
    pub fn open(ctx: &mut DocContext<'_>, node: &'a Node, what: &'a str) -> Option<Self> {
        let Value::Map(map) = &node.value else {
            ctx.push(
                Diagnostic::new(
                    Code::FieldType,
                    node.span,
                    format!("{what} must be a mapping, found {}", node.value.type_name()),
                )
                .label("expected a mapping"),
            );
            return None;
        };
        let mut entries = Vec::with_capacity(map.len());
        let mut seen = Seen::with_capacity(map.len());
        for (key, value) in map {
            let Some(name) = ctx.key_text(key) else {
                continue;
            };
            if let Some(first) = seen.first(name, key.span) {
                ctx.push(duplicate_key(name, key.span, first));
                continue;
            }
            entries.push((name, key, value));
        }
        let anchor = map.first().map_or(node.span, |(key, _)| key.span);
        Some(Self {
            what,
            entries,
            anchor,
        })
    }

    /// The value of a field, if present.
    pub fn optional(&self, name: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(key, _, _)| *key == name)
            .map(|(_, _, value)| *value)
    }

    /// The key node of a field, if present (to point at `image:` rather than its value).
    pub fn key_span(&self, name: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(key, _, _)| *key == name)
            .map(|(_, key, _)| key.span)
    }

    /// The value of a field that must be present; reports its absence.
    pub fn required(&self, ctx: &mut DocContext<'_>, name: &str) -> Option<&'a Node> {
        let value = self.optional(name);
        if value.is_none() {
            ctx.push(
                Diagnostic::new(
                    Code::FieldRequired,
                    self.anchor,
                    format!("{} is missing the required field `{name}`", self.what),
                )
                .label(format!("this {} has no `{name}`", self.what)),
            );
        }
        value
    }

    /// Where a finding about the whole mapping should point.
    pub fn anchor(&self) -> Span {
        self.anchor
    }

    /// Reports every field that is not in `allowed`, with the closest allowed name.
    pub fn reject_unknown(&self, ctx: &mut DocContext<'_>, allowed: &[&str]) {
        for (name, key, _) in &self.entries {
            if allowed.contains(name) {
                continue;
            }
            let suggestion = did_you_mean(name, allowed.iter().copied());
            let help = match suggestion {
                Some(s) => format!(
                    "did you mean `{s}`? Fields of a {}: {}",
                    self.what,
                    list(allowed)
                ),
                None => format!("fields of a {}: {}", self.what, list(allowed)),
            };
            ctx.push(
                Diagnostic::new(
                    Code::FieldUnknown,
                    key.span,
                    format!("unknown field `{name}` in {}", self.what),
                )
                .label("unknown field")
                .help(help),
            );
        }
    }
}

/// The names of one mapping seen so far, for duplicate checks: a linear scan of an inline array
/// while the mapping is small (nearly always; no allocation, no hashing), a hash map beyond.
pub(crate) struct Seen<'a> {
    large: Option<HashMap<&'a str, Span>>,
    small: [(&'a str, Span); Seen::SMALL],
    len: usize,
}

impl<'a> Seen<'a> {
    const SMALL: usize = 16;

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            large: (capacity > Self::SMALL).then(|| HashMap::with_capacity(capacity)),
            small: [("", Span::default()); Self::SMALL],
            len: 0,
        }
    }

    /// Where `name` was first seen; `None` (and `name` recorded at `span`) if it is new.
    pub fn first(&mut self, name: &'a str, span: Span) -> Option<Span> {
        if let Some(large) = &mut self.large {
            if let Some(first) = large.get(name) {
                return Some(*first);
            }
            large.insert(name, span);
            return None;
        }
        if let Some((_, first)) = self.small[..self.len].iter().find(|(n, _)| *n == name) {
            return Some(*first);
        }
        if self.len == Self::SMALL {
            // More names than announced: move to the map.
            let mut large: HashMap<&str, Span> = self.small.iter().copied().collect();
            large.insert(name, span);
            self.large = Some(large);
            return None;
        }
        self.small[self.len] = (name, span);
        self.len += 1;
        None
    }
}

pub(crate) fn duplicate_key(name: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::YamlKeyDuplicate,
        again,
        format!("the key `{name}` appears twice in one mapping"),
    )
    .label("repeated here")
    .also(first, "first written here")
    .help("YAML keeps only one of them; remove or merge the repeated key")
}

/// `` `a`, `b` and `c` `` for messages.
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The fields each mapping accepts. The JSON Schemas in `schemas/` must list exactly these (a
/// test compares them), so the editor and `rune lint` never disagree about what is valid.
pub mod allowed {
    pub const CONFIGMAP: &[&str] = &["data", "labels", "name", "namespace", "skip"];
    pub const CONFIG_MOUNT: &[&str] = &["configName", "mountPath", "name"];
    pub const DATA_ENTRY: &[&str] = &["file", "key", "sealed", "value"];
    pub const ENV_FROM: &[&str] = &["configRef", "prefix", "secretRef"];
    pub const NAMESPACE: &[&str] = &["description", "labels", "name", "skip"];
    pub const PORT: &[&str] = &["name", "port", "protocol", "targetPort"];
    pub const PROCESS: &[&str] = &["args", "command", "workdir"];
    pub const SECRET: &[&str] = &[
        "allowPlaintext",
        "data",
        "labels",
        "name",
        "namespace",
        "skip",
    ];
    pub const SECRET_MOUNT: &[&str] = &["mountPath", "name", "secretName"];
    pub const SERVICE: &[&str] = &[
        "configMounts",
        "env",
        "envFrom",
        "image",
        "labels",
        "name",
        "namespace",
        "ports",
        "process",
        "scale",
        "secretMounts",
        "skip",
    ];
    pub const STORAGE_CLASS: &[&str] = &["labels", "name", "parameters", "provisioner", "skip"];
    pub const VOLUME: &[&str] = &[
        "labels",
        "name",
        "namespace",
        "parameters",
        "size",
        "skip",
        "storageClassName",
    ];
}

#[cfg(test)]
mod tests {
    use super::Seen;
    use crate::source::{SourceId, Span};

    #[test]
    fn seen_reports_the_first_place_of_a_repeated_name_at_any_size() {
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        for announced in [0, 3, 40] {
            let mut seen = Seen::with_capacity(announced);
            for (i, name) in names.iter().enumerate() {
                let at = Span::new(SourceId(0), i as u32, i as u32 + 1);
                assert_eq!(seen.first(name, at), None, "{name} is new");
            }
            for (i, name) in names.iter().enumerate() {
                let again = Span::new(SourceId(0), 100, 101);
                let first = Span::new(SourceId(0), i as u32, i as u32 + 1);
                assert_eq!(seen.first(name, again), Some(first), "{name} was seen");
            }
        }
    }
}
