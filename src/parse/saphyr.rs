//! The general path of [`super::parse_document`]: serde-saphyr builds the tree and words the
//! syntax errors.
//!
//! In: a document's text and where it sits ([`Anchor`]). Out: its [`Node`] tree with file spans,
//! or a [`SyntaxError`]. serde-saphyr resolves everything the shortcut paths decline (anchors,
//! merge keys, tags, every scalar form), so what it builds is the reference the shortcuts are
//! tested against. A syntax error's message must never carry a snippet of the source: the source
//! may hold secrets.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::parse::budget::{Invocation, SPENT, parser_options};
use crate::parse::conform;
use crate::parse::node::{Anchor, Node, SyntaxError, Value};
use crate::parse::scalar::key;
use crate::source::{SourceId, Span};

/// The general path: serde-saphyr resolves everything (anchors, merge keys, tags) and words the
/// syntax errors.
/// Parses one document with what is left of the invocation's budget, and draws what it built.
pub(super) fn parse(at: &Anchor<'_>, budget: &Invocation) -> Result<Node, SyntaxError> {
    let Some((nodes, scalar_bytes)) = budget.allowance(at.text.len()) else {
        let end = at
            .base
            .saturating_add(u32::try_from(at.text.len().min(1)).unwrap_or(0));
        return Err(SyntaxError {
            message: SPENT.to_owned(),
            span: Span::new(at.source, at.base, end),
        });
    };
    let options = parser_options(nodes, scalar_bytes);
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(at.text, options) {
        Ok(raw) => {
            let root = attach(raw, at)?;
            let (nodes, bytes) = root.size();
            budget.draw_expansion(nodes, bytes, at.text.len());
            Ok(root)
        }
        Err(error) => {
            let error = syntax_error(&error, at.text, at.source, at.base);
            if super::is_budget(&error) {
                // The work was done before the breach: it counts, so that a run of many
                // bombs stops after the first few instead of expanding each up to its cap.
                budget.draw(nodes, scalar_bytes);
            }
            Err(error)
        }
    }
}

/// The node tree as serde-saphyr hands it over: spans relative to the parsed text, not yet
/// attached to a file.
struct RawNode(RawValue);

enum RawValue {
    Scalar(Value),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
    Seq(Vec<Spanned<RawNode>>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Bool(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v.into()))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v.into()))))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v))))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(
            i128::try_from(v).map_or(Value::Float(v as f64), Value::Int),
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Float(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(v))))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(
            String::from_utf8_lossy(v).into_owned(),
        ))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Null)))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Null)))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            items.push(item);
        }
        Ok(RawNode(RawValue::Seq(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
            let value = map.next_value::<Spanned<RawNode>>()?;
            entries.push((key, value));
        }
        Ok(RawNode(RawValue::Map(entries)))
    }
}

/// Attaches raw spans to a file: `base` is the byte offset of the parsed `text` in the file.
/// Scalars get YAML 1.2 core resolution where serde-saphyr's differs ([`conform`]).
fn attach(raw: Spanned<RawNode>, at: &Anchor<'_>) -> Result<Node, SyntaxError> {
    let span = span_of(&raw, at);
    let value = match raw.value.0 {
        RawValue::Scalar(value) => conform::scalar(value, span, at)?,
        RawValue::Seq(items) => Value::Seq(
            items
                .into_iter()
                .map(|item| attach(item, at))
                .collect::<Result<_, _>>()?,
        ),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Ok((key(attach(k, at)?, at), attach(v, at)?)))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Node { span, value })
}

fn span_of(raw: &Spanned<RawNode>, at: &Anchor<'_>) -> Span {
    let span = raw.referenced.span();
    at.span(span.byte_offset(), span.byte_len())
}

fn syntax_error(
    error: &serde_saphyr::Error,
    text: &str,
    source: SourceId,
    base: u32,
) -> SyntaxError {
    let offset = error
        .location()
        .map_or(0, |loc| offset_of(text, loc.line(), loc.column()));
    let start = base.saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
    let rendered = error.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    SyntaxError {
        message: first_line(&rendered),
        span: Span::new(source, start, start),
    }
}

/// The byte offset of a 1-based line and character column, clamped to the text.
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .map(str::len)
        .sum::<usize>();
    let rest = &text[line_start..];
    let skip = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    line_start + rest.char_indices().nth(skip).map_or(rest.len(), |(i, _)| i)
}

fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or("invalid YAML").trim();
    // The location is ours to render; drop the parser's own " at line X column Y" suffix.
    let line = line.split(" at line ").next().unwrap_or(line);
    line.trim_end_matches('.').to_owned()
}
