//! One runefile, parsed and validated, as the rewriter sees it: its secrets matched to their
//! nodes, and the edits that seal every plaintext value (`rune seal --in-place FILE…`).

use std::sync::Arc;

use age::x25519::Recipient;

use crate::parse::Loaded;
use crate::parse::node::{Node, Value};
use crate::resource::{Data, DataEntry, DataSource, Resource, Spec};
use crate::secrets::{Place, seal};
use crate::source::{SourceId, Span};
use crate::validate::Validated;

use super::slot::Slot;
use super::splice::{
    self, Edit, Extent, Text, Unsupported, block_field, list_entry, quoted, sealed_block,
    sealed_flow, shift, yaml_key,
};
use super::{RewriteError, Rewritten};

/// One parsed and validated runefile, ready to be rewritten.
pub struct File<'a> {
    loaded: &'a Loaded,
    source: SourceId,
    pub(super) text: Text<'a>,
    validated: &'a Validated,
}

/// A secret resource of the file with its nodes.
pub(super) struct SecretNode<'a> {
    pub(super) data: &'a Data,
    /// The `data` key and its value, when the resource has one.
    pub(super) field: Option<(&'a Node, &'a Node)>,
    pub(super) node: &'a Node,
    pub(super) resource: &'a Resource,
}

/// What one map-form entry becomes in list form.
pub(super) enum Field {
    /// `sealed:` with this armor.
    Sealed(String),
    /// `value:` as it was.
    Keep,
}

impl<'a> File<'a> {
    pub fn new(loaded: &'a Loaded, validated: &'a Validated, source: SourceId) -> Self {
        Self {
            loaded,
            source,
            text: Text::new(loaded.sources.get(source).text()),
            validated,
        }
    }

    pub fn name(&self) -> &str {
        self.loaded.sources.get(self.source).name()
    }

    /// The places `seal_plaintext` would seal: every non-empty plaintext value of every secret
    /// that does not set `allowPlaintext`.
    pub fn plaintext(&self) -> Vec<Place> {
        self.secrets()
            .iter()
            .filter(|s| !s.data.allow_plaintext)
            .flat_map(|s| {
                s.data
                    .entries
                    .iter()
                    .filter(|e| matches!(&e.source, DataSource::Value(v) if !v.expose().is_empty()))
                    .map(|e| s.resource.place(&e.key.value))
            })
            .collect()
    }

    /// Seals every plaintext value of every secret that does not set `allowPlaintext`.
    pub fn seal_plaintext(&self, recipients: &[Recipient]) -> Result<Rewritten, RewriteError> {
        let mut out = self.start();
        let mut edits = Vec::new();
        for secret in self.secrets() {
            let Some((_, data)) = secret.field.filter(|_| !secret.data.allow_plaintext) else {
                continue;
            };
            match &data.value {
                Value::Seq(items) => {
                    for entry in &secret.data.entries {
                        if let Some(edit) =
                            self.seal_item(&secret, items, entry, recipients, &mut out)?
                        {
                            edits.push(edit);
                        }
                    }
                }
                Value::Map(entries) if !entries.is_empty() => {
                    let mut fields = Vec::with_capacity(entries.len());
                    for entry in &secret.data.entries {
                        let field = match sealed_value(&secret, entry, recipients, &mut out)? {
                            Some(armor) => Field::Sealed(armor),
                            None => Field::Keep,
                        };
                        fields.push((entry.value_span, field));
                    }
                    edits.push(self.convert_map(&secret, data, entries, &fields, None)?);
                }
                _ => {}
            }
        }
        Ok(self.finish(out, edits))
    }

    /// The edit that seals one list entry, if it holds a plaintext that can be sealed.
    fn seal_item(
        &self,
        secret: &SecretNode<'_>,
        items: &[Node],
        entry: &DataEntry,
        recipients: &[Recipient],
        out: &mut Rewritten,
    ) -> Result<Option<Edit>, RewriteError> {
        let Some(armor) = sealed_value(secret, entry, recipients, out)? else {
            return Ok(None);
        };
        let (item, key, node) = self.list_field(items, entry)?;
        self.replace_field(item, key, node, &armor).map(Some)
    }

    /// The secret `place` names (in its resolved namespace), to set `place.key` in.
    pub fn slot(&self, place: &Place) -> Result<Slot<'_>, RewriteError> {
        let secret = self
            .secrets()
            .into_iter()
            .find(|s| {
                s.resource.namespace_name() == place.namespace
                    && s.resource.name.value == place.name
            })
            .ok_or_else(|| RewriteError::NoSuchSecret {
                file: self.name().to_owned(),
                name: place.name.clone(),
                namespace: place.namespace.clone(),
            })?;
        Ok(Slot::new(self, place.clone(), secret))
    }

    pub(super) fn start(&self) -> Rewritten {
        Rewritten {
            sealed: Vec::new(),
            empty: Vec::new(),
            text: String::new(),
            name: self.name().to_owned(),
            original: Arc::clone(self.loaded.sources.get(self.source).text()),
            armors: Vec::new(),
        }
    }

    pub(super) fn finish(&self, mut out: Rewritten, edits: Vec<Edit>) -> Rewritten {
        out.text = splice::apply(self.text.s, edits);
        out.sealed = out.armors.iter().map(|(p, _)| p.clone()).collect();
        out
    }

    /// Every validated secret of this file with its node, in file order. Resources are matched
    /// to nodes by their origin span: the kind key of a singular resource, the item of a list.
    pub(super) fn secrets(&self) -> Vec<SecretNode<'a>> {
        let mut by_origin: Vec<(Span, &Resource, &Data)> = self
            .validated
            .resources
            .iter()
            .filter(|r| r.origin.source == self.source)
            .filter_map(|r| match &r.spec {
                Spec::Secret(data) => Some((r.origin.span, r, data)),
                _ => None,
            })
            .collect();
        by_origin.sort_by_key(|(span, _, _)| *span);
        let mut secrets = Vec::new();
        for document in self
            .loaded
            .documents
            .iter()
            .filter(|d| d.source == self.source)
        {
            for (key, value) in document.root.as_map().unwrap_or_default() {
                let nodes: Vec<(Span, &Node)> = match (key.as_str(), &value.value) {
                    (Some("secret"), Value::Map(_)) => vec![(key.span, value)],
                    (Some("secrets"), Value::Seq(items)) => {
                        items.iter().map(|item| (item.span, item)).collect()
                    }
                    _ => continue,
                };
                for (origin, node) in nodes {
                    let Ok(at) = by_origin.binary_search_by_key(&origin, |(span, _, _)| *span)
                    else {
                        continue;
                    };
                    let (_, resource, data) = by_origin[at];
                    let field = node
                        .as_map()
                        .unwrap_or_default()
                        .iter()
                        .find(|(k, _)| k.as_str() == Some("data"))
                        .map(|(k, v)| (k, v));
                    secrets.push(SecretNode {
                        data,
                        field,
                        node,
                        resource,
                    });
                }
            }
        }
        secrets
    }

    /// The list item holding `entry`, with the key and value nodes of its value field.
    pub(super) fn list_field<'n>(
        &self,
        items: &'n [Node],
        entry: &DataEntry,
    ) -> Result<(&'n Node, &'n Node, &'n Node), RewriteError> {
        items
            .iter()
            .find_map(|item| {
                item.as_map()?
                    .iter()
                    .find(|(_, v)| v.span == entry.value_span)
                    .map(|(k, v)| (item, k, v))
            })
            .ok_or_else(|| self.unsupported(entry.value_span.start as usize, "this entry"))
    }

    /// `value: …` (or `sealed:`, `file:`) of a list item → `sealed: …`.
    pub(super) fn replace_field(
        &self,
        item: &Node,
        key: &Node,
        value: &Node,
        armor: &str,
    ) -> Result<Edit, RewriteError> {
        let start = key.span.start as usize;
        if self.text.opens_flow(item.span.start as usize) {
            return Ok(Edit {
                range: start..value.span.end as usize,
                text: sealed_flow(armor),
            });
        }
        let extent = block_field(&self.text, key, value).map_err(|u| self.unsupported_at(&u))?;
        Ok(Edit {
            range: start..extent.end,
            text: sealed_block(
                armor,
                self.text.column(start),
                &extent.comment,
                self.text.nl,
            ),
        })
    }

    /// A map-form `data` → list form, entry by entry; `appended` adds a sealed key at the end.
    pub(super) fn convert_map(
        &self,
        secret: &SecretNode<'_>,
        data: &Node,
        entries: &[(Node, Node)],
        fields: &[(Span, Field)],
        appended: Option<(&str, &str)>,
    ) -> Result<Edit, RewriteError> {
        let field_of = |value: &Node| {
            fields
                .iter()
                .find(|(span, _)| *span == value.span)
                .map(|(_, f)| f)
                .ok_or_else(|| self.unsupported(value.span.start as usize, "this entry"))
        };
        let key_of = |key: &Node| {
            let text = secret
                .data
                .entries
                .iter()
                .find(|e| e.key.span == key.span)
                .map(|e| e.key.value.as_str());
            text.map(yaml_key)
                .ok_or_else(|| self.unsupported(key.span.start as usize, "this entry"))
        };
        if self.text.opens_flow(data.span.start as usize) {
            let mut items = Vec::with_capacity(entries.len() + 1);
            for (key, value) in entries {
                let field = match field_of(value)? {
                    Field::Sealed(armor) => sealed_flow(armor),
                    Field::Keep => format!("value: {}", self.kept_value(value, None)),
                };
                items.push(format!("{{key: {}, {field}}}", key_of(key)?));
            }
            if let Some((key, armor)) = appended {
                items.push(format!(
                    "{{key: {}, {}}}",
                    yaml_key(key),
                    sealed_flow(armor)
                ));
            }
            let from = entries
                .last()
                .map_or(data.span.start as usize + 1, |(_, v)| v.span.end as usize);
            let end = self
                .text
                .closing(from, b'}')
                .map_err(|u| self.unsupported_at(&u))?;
            return Ok(Edit {
                range: data.span.start as usize..end,
                text: format!("[{}]", items.join(", ")),
            });
        }
        let nl = self.text.nl;
        let mut edits = Vec::with_capacity(entries.len());
        for (index, (key, value)) in entries.iter().enumerate() {
            let start = key.span.start as usize;
            let column = self.text.column(start);
            let extent =
                block_field(&self.text, key, value).map_err(|u| self.unsupported_at(&u))?;
            let field = match field_of(value)? {
                Field::Sealed(armor) => sealed_block(armor, column + 2, &extent.comment, nl),
                Field::Keep => format!(
                    "value: {}{}",
                    self.kept_value(value, Some(&extent)),
                    extent.comment
                ),
            };
            let mut text = format!(
                "- key: {}{nl}{}{field}",
                key_of(key)?,
                " ".repeat(column + 2)
            );
            if let (Some((key, armor)), true) = (appended, index + 1 == entries.len()) {
                text.push_str(nl);
                text.push_str(&list_entry(key, armor, column, nl));
            }
            edits.push(Edit {
                range: start..extent.end,
                text,
            });
        }
        // One edit per entry keeps the lines between entries (comments, blank lines) as they
        // are; they are merged into one here only so that callers deal with one edit a secret.
        let range =
            edits.first().map_or(0, |e| e.range.start)..edits.last().map_or(0, |e| e.range.end);
        let text = splice::apply(&self.text.s[range.clone()], shift(edits, range.start));
        Ok(Edit { range, text })
    }

    /// A kept map-form value as a scalar for list form: its own text when that is one plain or
    /// quoted line, else a double-quoted copy (a block scalar's indentation would not fit).
    fn kept_value(&self, value: &Node, extent: Option<&Extent>) -> String {
        let own = &self.text.s[value.span.start as usize..value.span.end as usize];
        let single_line = !own.is_empty() && !own.contains('\n') && extent.is_none_or(|e| !e.block);
        match &value.value {
            Value::String(text) if !single_line => quoted(text),
            _ => own.to_owned(),
        }
    }

    pub(super) fn unsupported(&self, at: usize, what: &'static str) -> RewriteError {
        RewriteError::Unsupported {
            file: self.name().to_owned(),
            line: self.line(at),
            what,
        }
    }

    /// The 1-based line of byte offset `at`.
    pub(super) fn line(&self, at: usize) -> u32 {
        self.loaded
            .sources
            .get(self.source)
            .position(u32::try_from(at).unwrap_or(u32::MAX))
            .line
    }

    pub(super) fn unsupported_at(&self, problem: &Unsupported) -> RewriteError {
        self.unsupported(problem.at, problem.what)
    }
}

/// The armor of a plaintext entry, recorded in `out`; `None` for other entries and for an
/// empty value (recorded as left alone: it cannot be sealed).
fn sealed_value(
    secret: &SecretNode<'_>,
    entry: &DataEntry,
    recipients: &[Recipient],
    out: &mut Rewritten,
) -> Result<Option<String>, RewriteError> {
    let DataSource::Value(value) = &entry.source else {
        return Ok(None);
    };
    let place = secret.resource.place(&entry.key.value);
    if value.expose().is_empty() {
        out.empty.push(place);
        return Ok(None);
    }
    let armor = seal(value.expose(), &place, recipients)?;
    out.armors.push((place, armor.clone()));
    Ok(Some(armor))
}
