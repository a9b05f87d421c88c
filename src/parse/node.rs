//! A YAML document as a tree of nodes that each remember their source span.
//!
//! serde-saphyr does the YAML work; we ask it for a generic tree of `Spanned` nodes instead of
//! typed structs, because typed deserialisation stops at the first unknown field or wrong type,
//! and `rune lint` must report every finding at once. Scalars keep whether YAML resolved them
//! to a string, a number, a boolean or null, so the validator can say "quote it".

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::{SourceId, Span};

/// One YAML node with its span in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

/// What YAML resolved a node to.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Float(f64),
    Int(i128),
    Map(Vec<(Node, Node)>),
    Null,
    Seq(Vec<Node>),
    String(String),
}

impl Value {
    /// The YAML type name used in messages ("expected a string, found a number").
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Float(_) | Value::Int(_) => "a number",
            Value::Map(_) => "a mapping",
            Value::Null => "null",
            Value::Seq(_) => "a list",
            Value::String(_) => "a string",
        }
    }

    /// Whether quoting the scalar in YAML would have made it the string the user meant.
    #[must_use]
    pub fn is_unquoted_scalar(&self) -> bool {
        matches!(
            self,
            Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null
        )
    }
}

impl Node {
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
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
fn attach(raw: Spanned<RawNode>, at: &Anchor<'_>) -> Node {
    let span = span_of(&raw, at);
    let value = match raw.value.0 {
        RawValue::Scalar(value) => value,
        RawValue::Seq(items) => {
            Value::Seq(items.into_iter().map(|item| attach(item, at)).collect())
        }
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (attach_key(k, at), attach(v, at)))
                .collect(),
        ),
    };
    Node { span, value }
}

/// Keys are names, so a plain scalar key that YAML resolves to a number or boolean (`8080:`,
/// `true:`) is kept as the text the user wrote.
fn attach_key(raw: Spanned<RawNode>, at: &Anchor<'_>) -> Node {
    let node = attach(raw, at);
    match node.value {
        Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null => {
            let local = (node.span.start - at.base) as usize..(node.span.end - at.base) as usize;
            let text = at.text.get(local).unwrap_or("").trim();
            Node {
                span: node.span,
                value: Value::String(text.to_owned()),
            }
        }
        value => Node {
            span: node.span,
            value,
        },
    }
}

/// Where a parsed text sits in its file.
struct Anchor<'t> {
    base: u32,
    source: SourceId,
    text: &'t str,
}

fn span_of(raw: &Spanned<RawNode>, at: &Anchor<'_>) -> Span {
    let span = raw.referenced.span();
    let start = span.byte_offset().unwrap_or(0);
    let len = span.byte_len().unwrap_or(0);
    let start = at
        .base
        .saturating_add(u32::try_from(start).unwrap_or(u32::MAX));
    Span::new(
        at.source,
        start,
        start.saturating_add(u32::try_from(len).unwrap_or(u32::MAX)),
    )
}

/// Why a document could not be read as YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// The parser's message, without any snippet of the source (the source may hold secrets).
    pub message: String,
    pub span: Span,
}

/// Parses one YAML document; `text` is the document's slice of the file, starting at `base`.
///
/// # Errors
/// A [`SyntaxError`] when the text is not YAML or exceeds the parser's budget.
pub fn parse_document(text: &str, source: SourceId, base: u32) -> Result<Node, SyntaxError> {
    let options = parser_options();
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, options) {
        Ok(raw) => Ok(attach(raw, &Anchor { base, source, text })),
        Err(error) => Err(syntax_error(&error, text, source, base)),
    }
}

fn parser_options() -> serde_saphyr::Options {
    // Each call sees exactly one document (the reader splits files), so the stream budget is
    // the per-document budget: generous for real runefiles, finite against alias bombs.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 64,
            max_nodes: 1_000_000,
            max_aliases: 10_000,
            max_total_scalar_bytes: 64 * 1024 * 1024,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        // YAML 1.2 core: `yes`, `on` and `y` stay strings, as the user wrote them.
        strict_booleans: true,
    }
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
