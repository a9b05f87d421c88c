//! The second path of [`super::parse_document`], for what the line reader ([`super::block`])
//! declines: the node tree built straight from the YAML parser's events, with their spans.
//!
//! In: a document's text and where it sits ([`Anchor`]). Out: its [`Node`] tree, or `None`. It
//! must never build a tree serde-saphyr would not build, nor accept a text serde-saphyr refuses.
//!
//! serde-saphyr's generic deserialisation records and replays every mapping value (for merge keys
//! and duplicate-key policies) and builds each `Spanned` wrapper through serde's struct
//! machinery; for the small documents runefiles hold, that costs twice the YAML parse itself.
//! Most documents use only mappings, lists and scalars, and for those the tree can be built from
//! the events of granit-parser, the parser serde-saphyr drives, run with the same options.
//!
//! This path declines (returns `None`) wherever serde-saphyr adds meaning or may refuse the
//! input: anchors, aliases, tags, `%YAML` directives, merge keys, collections used as keys,
//! plain scalars whose resolution is not replicated here (floats, `0x1F`, `1_000`, `.inf`),
//! deep nesting, very large documents, and every syntax error. The caller then parses the
//! document with serde-saphyr, so results, spans and messages are the same either way; a test
//! compares both paths.

use std::cell::RefCell;
use std::sync::LazyLock;

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle};

use crate::parse::budget::{
    MAX_BYTES, MAX_DEPTH, MAX_DOCUMENT_NODES, MAX_DOCUMENT_SCALAR_BYTES, parser_options,
};
use crate::parse::node::{Anchor, Node, Value};
use crate::parse::scalar::{key, scalar};
use crate::source::Span;

/// granit-parser's options as serde-saphyr derives them from ours.
static PARSER_OPTIONS: LazyLock<granit_parser::Options> = LazyLock::new(|| {
    let options = parser_options(MAX_DOCUMENT_NODES, MAX_DOCUMENT_SCALAR_BYTES);
    let budget = options.budget.clone().unwrap_or_default();
    let mut parser = granit_parser::Options::default();
    parser.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    parser.flow_nesting_limit = budget.flow_nesting_limit;
    parser.block_nesting_limit = parser
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    parser.emit_comments = false;
    parser.strict_indentation = options.strict_indentation;
    parser.bom_inside_document_as_content = options.bom_inside_document_as_content;
    parser
});

/// A collection whose end has not been seen yet; its children so far are the nodes of the
/// shared stack from `first` on (keys and values alternating, for a mapping).
struct Open {
    first: usize,
    map: bool,
    span: Span,
}

thread_local! {
    /// The stacks of [`build`], kept per thread so that each document does not grow its own.
    static SCRATCH: RefCell<(Vec<Open>, Vec<Node>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The document's tree, or `None` when serde-saphyr must decide.
pub(super) fn parse(at: &Anchor<'_>) -> Option<Node> {
    if at.text.len() > MAX_BYTES {
        return None;
    }
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            return build(at, &mut Vec::new(), &mut Vec::new());
        };
        let (open, stack) = &mut *scratch;
        open.clear();
        stack.clear();
        let root = build(at, open, stack);
        // Keep the buffers, but not the nodes of a declined document.
        stack.clear();
        root
    })
}

/// Builds the tree with `open` and `stack` (both empty) as working space. `stack` holds the
/// children of every open collection, innermost last, so that each collection is allocated once,
/// at its exact size.
fn build(at: &Anchor<'_>, open: &mut Vec<Open>, stack: &mut Vec<Node>) -> Option<Node> {
    let mut parser = Parser::new_from_str_with_options(at.text, PARSER_OPTIONS.clone());
    let mut root = None;
    let mut documents = 0;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.ok()?;
        let span = match (span.start.byte_offset(), span.end.byte_offset()) {
            // As serde-saphyr's locations have it: byte offset and length, or nothing.
            (Some(start), Some(end)) => {
                at.span(Some(start as u64), Some(end.saturating_sub(start) as u64))
            }
            _ => at.span(None, None),
        };
        let in_key = open
            .last()
            .is_some_and(|o| o.map && (stack.len() - o.first).is_multiple_of(2));
        let node = match event {
            Event::StreamStart | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_, version) => {
                documents += 1;
                if documents > 1 || version.is_some() {
                    return None;
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                // A lone plain `?` may be a misplaced indicator: `conform` decides.
                if anchor != 0
                    || tag.is_some()
                    || in_key && is_merge_key(&text, style)
                    || style == ScalarStyle::Plain && text == "?"
                {
                    return None;
                }
                let node = Node {
                    span,
                    value: scalar(text, style)?,
                };
                if in_key { key(node, at) } else { node }
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if anchor != 0 || tag.is_some() || in_key || open.len() >= MAX_DEPTH {
                    return None;
                }
                open.push(Open {
                    first: stack.len(),
                    map: matches!(event, Event::MappingStart(..)),
                    span,
                });
                continue;
            }
            Event::SequenceEnd => {
                let Open { first, map, span } = open.pop()?;
                if map {
                    return None;
                }
                Node {
                    span,
                    value: Value::Seq(stack.drain(first..).collect()),
                }
            }
            Event::MappingEnd => {
                let Open { first, map, span } = open.pop()?;
                if !map || !(stack.len() - first).is_multiple_of(2) {
                    return None;
                }
                let mut entries = Vec::with_capacity((stack.len() - first) / 2);
                let mut children = stack.drain(first..);
                while let (Some(key), Some(value)) = (children.next(), children.next()) {
                    entries.push((key, value));
                }
                drop(children);
                Node {
                    span,
                    value: Value::Map(entries),
                }
            }
            // Aliases, and whatever else a parser version may add.
            _ => return None,
        };
        if open.is_empty() {
            if root.is_some() {
                return None;
            }
            root = Some(node);
        } else {
            stack.push(node);
        }
    }
    if open.is_empty() && documents == 1 {
        root
    } else {
        None
    }
}

fn is_merge_key(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && text == "<<"
}
