//! `rune seal --in-place`: turning a runefile's plaintext secret entries into `sealed:` ones
//! while every other byte of the file stays as it was (comments, order, blank lines, quoting,
//! other documents, CRLF line breaks).
//!
//! In: a parsed and validated file (its node trees give the spans of the fields to replace; its
//! resources give each secret's resolved namespace and values). Out: the new text, checked by
//! [`Rewritten::verify`] before anyone writes it: parsed and validated again, it must declare
//! the same resources and keys, with exactly the expected entries sealed.
//!
//! Shapes: a list entry's `value:` (or, for one key, `sealed:`/`file:`) field is replaced by
//! `sealed: |` and the armor; a map-form `data:` becomes list form, entry by entry in place, so
//! comment lines between entries stay; flow collections get flow entries
//! (`{key: k, sealed: "…\n"}`). Skipped resources and configmaps are never touched.
//!
//! Must not happen here: a value in an error or message.

mod splice;
mod verify;

use std::sync::Arc;

use age::x25519::Recipient;

use crate::parse::Loaded;
use crate::parse::node::{Node, Value};
use crate::resource::{Data, DataEntry, DataSource, Resource, Spec};
use crate::secrets::{Keys, Place, SealError, UnsealError, seal};
use crate::source::{SourceId, Span};
use crate::validate::Validated;

use splice::{Edit, Text, Unsupported, block_field, quoted, sealed_block, sealed_flow, yaml_key};

/// Why a file could not be rewritten. No variant carries a value.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("`{file}` declares no secret `{namespace}/{name}`")]
    NoSuchSecret {
        file: String,
        name: String,
        namespace: String,
    },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(
        "{file}:{line}: cannot rewrite {what} mechanically; edit that entry by hand \
         (`rune seal NAME KEY` prints one to paste)"
    )]
    Unsupported {
        file: String,
        line: u32,
        what: &'static str,
    },
    #[error(
        "`{file}`: the rewritten text would not declare the same resources and keys ({reason}), \
         so the file was left as it was; a YAML alias (`*name`) of a value being sealed is one \
         cause: seal that entry by hand"
    )]
    Unsafe { file: String, reason: String },
}

/// Whether an existing `sealed:` entry already holds a value.
#[derive(Debug, Eq, PartialEq)]
pub enum Holds {
    /// The key file opens it to the same place and the same value.
    Same,
    /// The key file opens it, to another value (or another place).
    Different,
    /// No key file, or one that cannot open it (why, when one was tried).
    Unopened(Option<UnsealError>),
    /// The entry is not sealed (or does not exist).
    NotSealed,
}

/// A rewritten file, not yet written anywhere.
#[derive(Debug)]
pub struct Rewritten {
    /// The places sealed, in file order.
    pub sealed: Vec<Place>,
    /// Plaintext entries left as they were because an empty value cannot be sealed.
    pub empty: Vec<Place>,
    pub text: String,
    name: String,
    original: Arc<str>,
    /// Each sealed place with its armor, for [`Rewritten::verify`].
    armors: Vec<(Place, String)>,
}

impl Rewritten {
    /// Whether the text is the original text.
    pub fn is_unchanged(&self) -> bool {
        *self.text == *self.original
    }

    /// The safety net: the new text, parsed and validated on its own, has no more errors than
    /// the old one and declares the same resources, keys and value sources, except that the
    /// sealed places now hold exactly the armor written for them.
    pub fn verify(&self, options: &crate::validate::Options) -> Result<(), RewriteError> {
        verify::same_declarations(
            &self.name,
            &self.original,
            &self.text,
            options,
            &self.armors,
        )
        .map_err(|reason| RewriteError::Unsafe {
            file: self.name.clone(),
            reason,
        })
    }
}

/// One parsed and validated runefile, ready to be rewritten.
pub struct File<'a> {
    loaded: &'a Loaded,
    source: SourceId,
    text: Text<'a>,
    validated: &'a Validated,
}

/// A secret resource of the file with its nodes.
struct Secret<'a> {
    data: &'a Data,
    /// The `data` key and its value, when the resource has one.
    field: Option<(&'a Node, &'a Node)>,
    node: &'a Node,
    resource: &'a Resource,
}

/// Where one value is set: a secret of the file, and the key in it.
pub struct Slot<'f> {
    file: &'f File<'f>,
    place: Place,
    secret: Secret<'f>,
}

/// What one map-form entry becomes in list form.
enum Field {
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
        secret: &Secret<'_>,
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
        Ok(Slot {
            file: self,
            place: place.clone(),
            secret,
        })
    }

    fn start(&self) -> Rewritten {
        Rewritten {
            sealed: Vec::new(),
            empty: Vec::new(),
            text: String::new(),
            name: self.name().to_owned(),
            original: Arc::clone(self.loaded.sources.get(self.source).text()),
            armors: Vec::new(),
        }
    }

    fn finish(&self, mut out: Rewritten, edits: Vec<Edit>) -> Rewritten {
        out.text = splice::apply(self.text.s, edits);
        out.sealed = out.armors.iter().map(|(p, _)| p.clone()).collect();
        out
    }

    /// Every validated secret of this file with its node, in file order. Resources are matched
    /// to nodes by their origin span: the kind key of a singular resource, the item of a list.
    fn secrets(&self) -> Vec<Secret<'a>> {
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
                    secrets.push(Secret {
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
    fn list_field<'n>(
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
    fn replace_field(
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
    fn convert_map(
        &self,
        secret: &Secret<'_>,
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
    fn kept_value(&self, value: &Node, extent: Option<&splice::Extent>) -> String {
        let own = &self.text.s[value.span.start as usize..value.span.end as usize];
        let single_line = !own.is_empty() && !own.contains('\n') && extent.is_none_or(|e| !e.block);
        match &value.value {
            Value::String(text) if !single_line => quoted(text),
            _ => own.to_owned(),
        }
    }

    fn unsupported(&self, at: usize, what: &'static str) -> RewriteError {
        RewriteError::Unsupported {
            file: self.name().to_owned(),
            line: self
                .loaded
                .sources
                .get(self.source)
                .position(u32::try_from(at).unwrap_or(u32::MAX))
                .line,
            what,
        }
    }

    fn unsupported_at(&self, problem: &Unsupported) -> RewriteError {
        self.unsupported(problem.at, problem.what)
    }
}

impl Slot<'_> {
    /// The place this slot sets.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// Where the key's value comes from now, if the secret has the key.
    pub fn current(&self) -> Option<&DataSource> {
        self.entry().map(|e| &e.source)
    }

    /// Whether the existing entry is sealed and `keys` open it to this place and `value`.
    pub fn holds(&self, value: &str, keys: Option<&Keys>) -> Holds {
        let Some(DataSource::Sealed(armor)) = self.current() else {
            return Holds::NotSealed;
        };
        let Some(keys) = keys else {
            return Holds::Unopened(None);
        };
        match keys.unseal(armor) {
            Ok(opened) if opened.place == self.place && opened.value.as_str() == value => {
                Holds::Same
            }
            Ok(_) => Holds::Different,
            Err(error) => Holds::Unopened(Some(error)),
        }
    }

    /// Seals `value` for this place and sets it: the existing entry of the key is replaced, or
    /// a new entry is added at the end of the secret's data.
    pub fn seal(&self, value: &str, recipients: &[Recipient]) -> Result<Rewritten, RewriteError> {
        let file = self.file;
        let armor = seal(value, &self.place, recipients)?;
        let mut out = file.start();
        let edit = self.edit(&armor)?;
        out.armors.push((self.place.clone(), armor));
        Ok(file.finish(out, vec![edit]))
    }

    fn entry(&self) -> Option<&DataEntry> {
        self.secret
            .data
            .entries
            .iter()
            .find(|e| e.key.value == self.place.key)
    }

    fn edit(&self, armor: &str) -> Result<Edit, RewriteError> {
        let file = self.file;
        let key = self.place.key.as_str();
        let Some((data_key, data)) = self.secret.field else {
            return self.add_data_field(armor);
        };
        match (&data.value, self.entry()) {
            (Value::Seq(items), Some(entry)) => {
                let (item, field_key, node) = file.list_field(items, entry)?;
                file.replace_field(item, field_key, node, armor)
            }
            (Value::Seq(items), None) if !items.is_empty() => self.append(items, armor),
            (Value::Map(entries), entry) if !entries.is_empty() => {
                let fields: Vec<(Span, Field)> = self
                    .secret
                    .data
                    .entries
                    .iter()
                    .map(|e| {
                        let field = if e.key.value == key {
                            Field::Sealed(armor.to_owned())
                        } else {
                            Field::Keep
                        };
                        (e.value_span, field)
                    })
                    .collect();
                let appended = entry.is_none().then_some((key, armor));
                file.convert_map(&self.secret, data, entries, &fields, appended)
            }
            (Value::Seq(_) | Value::Map(_), _) => {
                let start = data.span.start as usize;
                let close = if data.as_map().is_some() { b'}' } else { b']' };
                let end = file
                    .text
                    .closing(start + 1, close)
                    .map_err(|u| file.unsupported_at(&u))?;
                Ok(Edit {
                    range: start..end,
                    text: format!("[{}]", flow_entry(key, armor)),
                })
            }
            _ => self.replace_null(data_key, data, armor),
        }
    }

    /// A new entry after the last item of a list.
    fn append(&self, items: &[Node], armor: &str) -> Result<Edit, RewriteError> {
        let file = self.file;
        let text = &file.text;
        let last = items
            .last()
            .ok_or_else(|| file.unsupported(0, "an empty list"))?;
        let fields = last.as_map().unwrap_or_default();
        let (last_key, last_value) = fields
            .iter()
            .max_by_key(|(k, _)| k.span.start)
            .ok_or_else(|| file.unsupported(last.span.start as usize, "this entry"))?;
        if text.opens_flow(last.span.start as usize) {
            let end = text
                .closing(last_value.span.end as usize, b'}')
                .map_err(|u| file.unsupported_at(&u))?;
            if items.iter().all(|i| text.opens_flow(i.span.start as usize))
                && text.opens_flow(self.secret.field.map_or(0, |(_, d)| d.span.start as usize))
            {
                return Ok(Edit {
                    range: end..end,
                    text: format!(", {}", flow_entry(&self.place.key, armor)),
                });
            }
            let dash = dash_column(text, last.span.start as usize)
                .ok_or_else(|| file.unsupported(last.span.start as usize, "this list"))?;
            let at = text.line_end(end);
            return Ok(Edit {
                range: at..at,
                text: format!(
                    "{}{}",
                    text.nl,
                    list_entry(&self.place.key, armor, dash, text.nl)
                ),
            });
        }
        let extent =
            block_field(text, last_key, last_value).map_err(|u| file.unsupported_at(&u))?;
        let dash = dash_column(text, last.span.start as usize)
            .ok_or_else(|| file.unsupported(last.span.start as usize, "this list"))?;
        Ok(Edit {
            range: extent.end..extent.end,
            text: format!(
                "{}{}",
                text.nl,
                list_entry(&self.place.key, armor, dash, text.nl)
            ),
        })
    }

    /// `data:` (or `data: ~`) → a list holding the new entry.
    fn replace_null(&self, key: &Node, data: &Node, armor: &str) -> Result<Edit, RewriteError> {
        let file = self.file;
        let text = &file.text;
        if text.opens_flow(self.secret.node.span.start as usize) {
            if data.span.is_empty() {
                return Err(file.unsupported(data.span.start as usize, "an empty `data:`"));
            }
            return Ok(Edit {
                range: data.span.start as usize..data.span.end as usize,
                text: format!("[{}]", flow_entry(&self.place.key, armor)),
            });
        }
        let key_end = key.span.end as usize;
        let line_end = text.line_end(key_end);
        let rest = &text.s[key_end..line_end];
        if data.span.end as usize > line_end {
            return Err(file.unsupported(data.span.start as usize, "this `data:`"));
        }
        let comment = rest.find(" #").map_or("", |at| &rest[at..]);
        let column = text.column(key.span.start as usize);
        Ok(Edit {
            range: key_end..line_end,
            text: format!(
                ":{comment}{}{}",
                text.nl,
                list_entry(&self.place.key, armor, column + 2, text.nl)
            ),
        })
    }

    /// A secret without `data:` gets one, after its `name:`.
    fn add_data_field(&self, armor: &str) -> Result<Edit, RewriteError> {
        let file = self.file;
        let text = &file.text;
        let fields = self.secret.node.as_map().unwrap_or_default();
        let (name_key, name_value) = fields
            .iter()
            .find(|(k, _)| k.as_str() == Some("name"))
            .ok_or_else(|| file.unsupported(self.secret.node.span.start as usize, "this secret"))?;
        if text.opens_flow(self.secret.node.span.start as usize) {
            let at = name_value.span.end as usize;
            return Ok(Edit {
                range: at..at,
                text: format!(", data: [{}]", flow_entry(&self.place.key, armor)),
            });
        }
        let extent =
            block_field(text, name_key, name_value).map_err(|u| file.unsupported_at(&u))?;
        let column = text.column(name_key.span.start as usize);
        let nl = text.nl;
        Ok(Edit {
            range: extent.end..extent.end,
            text: format!(
                "{nl}{}data:{nl}{}",
                " ".repeat(column),
                list_entry(&self.place.key, armor, column + 2, nl)
            ),
        })
    }
}

/// The armor of a plaintext entry, recorded in `out`; `None` for other entries and for an
/// empty value (recorded as left alone: it cannot be sealed).
fn sealed_value(
    secret: &Secret<'_>,
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

/// A list entry for `key` holding `armor`, ready to paste under a secret's `data:`.
pub fn entry(key: &str, armor: &str) -> String {
    let mut text = list_entry(key, armor, 0, "\n");
    text.push('\n');
    text
}

/// `- key: K` + `sealed: |` and the armor, the dash at `column` (no line break at either end).
fn list_entry(key: &str, armor: &str, column: usize, nl: &str) -> String {
    format!(
        "{}- key: {}{nl}{}{}",
        " ".repeat(column),
        yaml_key(key),
        " ".repeat(column + 2),
        sealed_block(armor, column + 2, "", nl)
    )
}

/// `{key: K, sealed: "…"}`.
fn flow_entry(key: &str, armor: &str) -> String {
    format!("{{key: {}, {}}}", yaml_key(key), sealed_flow(armor))
}

/// The column of the `-` that starts the list item whose content begins at `content`, when
/// only blanks stand before it on its line.
fn dash_column(text: &Text<'_>, content: usize) -> Option<usize> {
    let line_start = text.line_start(content);
    let before = text.s[line_start..content].trim_end_matches(' ');
    let dash = before.strip_suffix('-')?;
    dash.chars().all(|c| c == ' ').then(|| dash.chars().count())
}

/// Edits relative to a slice that starts at `base`.
fn shift(edits: Vec<Edit>, base: usize) -> Vec<Edit> {
    edits
        .into_iter()
        .map(|e| Edit {
            range: e.range.start - base..e.range.end - base,
            text: e.text,
        })
        .collect()
}

#[cfg(test)]
mod tests;
