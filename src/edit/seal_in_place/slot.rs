//! One value of one secret (`rune seal NAME KEY --in-place FILE`): whether the file already
//! holds it, and the edit that sets it — replacing the key's entry, or adding one at the end of
//! the secret's data, whatever shape that data has (a list, a map, flow style, none yet).

use age::x25519::Recipient;

use crate::parse::node::{Node, Value};
use crate::resource::{DataEntry, DataSource};
use crate::secrets::{Keys, Place, UnsealError, seal};
use crate::source::Span;

use super::file::{Field, File, SecretNode};
use super::splice::{Edit, block_field, dash_column, flow_entry, list_entry};
use super::{RewriteError, Rewritten};

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

/// Where one value is set: a secret of the file, and the key in it.
pub struct Slot<'f> {
    file: &'f File<'f>,
    place: Place,
    secret: SecretNode<'f>,
}

impl<'f> Slot<'f> {
    pub(super) fn new(file: &'f File<'f>, place: Place, secret: SecretNode<'f>) -> Self {
        Self {
            file,
            place,
            secret,
        }
    }

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
            Ok(opened) if opened.place == self.place && opened.value.expose() == value => {
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
