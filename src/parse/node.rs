//! A YAML document as a tree of nodes that each remember their source span: the types only.
//!
//! In: nothing; every path of [`super::parse_document`] builds these. Out: [`Node`] and
//! [`Value`] for the validator, [`SyntaxError`], and `Anchor`, where a parsed text sits in its
//! file. No parsing happens here, so this module imports no other part of `parse`.
//!
//! The tree is generic, not typed structs, because typed deserialisation stops at the first
//! unknown field or wrong type, and `rune lint` must report every finding at once. Scalars keep
//! whether YAML resolved them to a string, a number, a boolean or null, so the validator can say
//! "quote it".

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
    /// A `!!binary` scalar whose bytes are not UTF-8 text (those that are read as strings).
    Binary(Vec<u8>),
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
            Value::Binary(_) => "binary data",
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

    /// The nodes and scalar bytes of the tree.
    pub(super) fn size(&self) -> (usize, usize) {
        let mut nodes = 0;
        let mut bytes = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            nodes += 1;
            match &node.value {
                Value::String(s) => bytes += s.len(),
                Value::Binary(b) => bytes += b.len(),
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null => {}
            }
        }
        (nodes, bytes)
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Why a document could not be read as YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// The parser's message, without any snippet of the source (the source may hold secrets).
    pub message: String,
    pub span: Span,
}

/// Where a parsed text sits in its file.
pub(super) struct Anchor<'t> {
    pub base: u32,
    pub source: SourceId,
    pub text: &'t str,
}

impl Anchor<'_> {
    /// The file span of `len` bytes at `offset` in the parsed text (an unknown offset is 0).
    pub fn span(&self, offset: Option<u64>, len: Option<u64>) -> Span {
        let start = self
            .base
            .saturating_add(offset.map_or(0, |offset| u32::try_from(offset).unwrap_or(u32::MAX)));
        let len = len.map_or(0, |len| u32::try_from(len).unwrap_or(u32::MAX));
        Span::new(self.source, start, start.saturating_add(len))
    }
}

#[cfg(test)]
mod tests {
    use super::{Node, Value};
    use crate::source::{SourceId, Span};

    #[test]
    fn node_equality_includes_spans() {
        let a = Node {
            span: Span::new(SourceId(0), 0, 1),
            value: Value::Null,
        };
        let mut b = a.clone();
        b.span.end = 2;
        assert_ne!(a, b);
    }
}
