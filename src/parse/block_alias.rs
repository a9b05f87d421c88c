//! Anchors on scalar values (`&name value`) and aliases to them (`*name`), as the line reader
//! ([`super::block`]) reads them.
//!
//! In: a value's text that starts with `&` or `*`, and how to read the scalar after an anchor.
//! Out: the value's node, or `None` for what the reader declines: an anchor on anything but a
//! scalar on the same line, a name defined twice, an alias to a name not defined before it (or
//! defined on a collection or a key, which this reader never records), and names outside
//! `[A-Za-z0-9_-]`, and more than [`MAX`] aliases or anchors in a document.
//!
//! The parse budget ([`super::budget::Invocation`]) draws only what a document builds beyond
//! its written size, and only serde-saphyr draws. So a tree with aliases is taken only while it
//! holds no more nodes and scalar bytes than its text holds bytes ([`Anchors::within_written`]):
//! serde-saphyr would draw nothing for it, and larger trees, alias bombs among them, still go to
//! serde-saphyr and its budget.

use crate::parse::node::{Node, Value};
use crate::source::Span;

/// Aliases, and anchors, the reader takes in one document. serde-saphyr refuses a document
/// with 100 aliases or more and over ten per anchor, and more than 10,000 aliases in all; below
/// 100 neither applies. Names are looked up one by one: few anchors keep that cheap.
const MAX: usize = 99;

/// The scalars anchored so far in one document.
#[derive(Default)]
pub(super) struct Anchors<'t> {
    defined: Vec<(&'t str, Value)>,
    aliases: usize,
}

impl<'t> Anchors<'t> {
    /// The value `content` (at `offset`; it starts with `&` or `*`). `span` makes the span of
    /// a stretch of the text, `scalar` reads the scalar after an anchor.
    pub(super) fn value(
        &mut self,
        content: &'t str,
        offset: usize,
        span: impl FnOnce(usize, usize) -> Span,
        scalar: impl FnOnce(&'t str, usize) -> Option<Node>,
    ) -> Option<Node> {
        let name_len = name_len(&content[1..]);
        let name = &content[1..=name_len];
        let rest = &content[1 + name_len..];
        let after = rest.trim_start_matches(' ');
        if name.is_empty() || !(rest.is_empty() || rest.len() > after.len()) {
            return None;
        }
        if content.starts_with('*') {
            let value = self.alias(name)?;
            return (after.is_empty() || after.starts_with('#')).then(|| Node {
                span: span(offset, content.len() - rest.len()),
                value,
            });
        }
        if self.is_defined(name) || after.is_empty() || after.starts_with(['&', '*', '#']) {
            return None;
        }
        let node = scalar(after, offset + content.len() - after.len())?;
        self.define(name, &node.value)?;
        Some(node)
    }

    /// The value anchored as `name`, counted as one more alias; `None` for a name not anchored
    /// before, or past [`MAX`] aliases.
    pub(super) fn alias(&mut self, name: &str) -> Option<Value> {
        let value = self.defined.iter().find(|(n, _)| *n == name)?.1.clone();
        self.aliases += 1;
        (self.aliases <= MAX).then_some(value)
    }

    fn is_defined(&self, name: &str) -> bool {
        self.defined.iter().any(|(n, _)| *n == name)
    }

    /// Anchors `value` as `name`; `None` for a name anchored before, or past [`MAX`] anchors.
    pub(super) fn define(&mut self, name: &'t str, value: &Value) -> Option<()> {
        if self.is_defined(name) || self.defined.len() >= MAX {
            return None;
        }
        self.defined.push((name, value.clone()));
        Some(())
    }

    /// Whether the tree builds no more nodes and scalar bytes than `text` has bytes (always,
    /// without aliases).
    pub(super) fn within_written(&self, root: &Node, text: &str) -> bool {
        if self.aliases == 0 {
            return true;
        }
        let (nodes, bytes) = root.size();
        nodes <= text.len() && bytes <= text.len()
    }
}

/// The length of the anchor or alias name at the start of `text`: the characters this reader
/// takes in names (`[A-Za-z0-9_-]`).
pub(super) fn name_len(text: &str) -> usize {
    text.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .unwrap_or(text.len())
}
