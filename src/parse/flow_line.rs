//! The line reader's ([`super::block`]) flow collections: a value that opens with `{` or `[`
//! and closes on the same line, as in `configmap: {name: c, data: [{key: a, value: b}]}`.
//!
//! In: the rest of a line from the collection's opening bracket, where it sits, and how many
//! collections are open around it. Out: its [`Node`] tree, or `None`, so that the caller
//! declines the document and the events path ([`super::events`]) or serde-saphyr reads it. Like
//! the line reader, this must never build a tree serde-saphyr would not build, nor accept a
//! text serde-saphyr refuses; the agreement tests in `tests.rs` compare the paths.
//!
//! Runefiles written by tools or by hand often hold one-line flow collections, and on the
//! events path granit-parser spends three times as long on such a document as the line reader
//! on its block twin. The subset taken, with the YAML 1.2 flow rules granit-parser applies:
//!
//! - flow mappings and sequences, nested, empty (`{}`, `[ ]`), with a trailing comma
//!   (`[a, b,]`), spaces around entries, and a comment after the closing bracket (after a
//!   space);
//! - mapping keys: plain (starting with a letter, digit, `_` or `/`) or quoted, each followed
//!   by `:` and a space (spaces before the colon are allowed);
//! - values and sequence entries: a nested collection, a plain scalar (starting with a
//!   character that is no YAML indicator; it ends at `,[]{}`, at a `:` followed by a blank or
//!   one of those, or at spaces before another such end), or a quoted scalar without escapes
//!   (`''` in single quotes);
//! - an anchor on such a scalar (`&name value`) and an alias to a scalar anchored before it,
//!   here or on the block lines around ([`super::block_alias`], which also keeps the tree
//!   within the document's written size);
//! - printable ASCII only.
//!
//! It declines everything else: a collection or scalar that goes on past the line (a comment
//! inside the brackets does), `?` keys, a pair inside a sequence (`[a: b]`), a key or value
//! left empty (`{a}`, `{a: , b}`), `{"a":b}`, a merge key `<<`, anchors on collections or
//! keys, aliases to anything not anchored before, tags, escapes, and nesting
//! past [`MAX_DEPTH`] (counting the block collections around it), as the events path does.
//!
//! Spans are those granit-parser reports: a collection at its opening bracket (one byte), a
//! scalar at its text (quotes included, a plain scalar's trailing spaces not).

use std::borrow::Cow;

use serde_saphyr::granit_parser::ScalarStyle;

use crate::parse::block_alias::{self, Anchors};
use crate::parse::budget::MAX_DEPTH;
use crate::parse::node::{Anchor, Node, Value};
use crate::parse::scalar::{self, scalar};

/// Keys longer than this (with the spaces before their colon) may pass granit-parser's
/// simple-key lookahead (1,024 characters), past which a key is no key: those go to the other
/// paths.
const MAX_KEY: usize = 1000;

/// The flow collection at the start of `content` (at `offset` in the document), inside `depth`
/// open collections; the rest of the line must be blank or a comment. `None`: declined.
pub(super) fn value<'t>(
    at: &Anchor<'t>,
    content: &'t str,
    offset: usize,
    depth: usize,
    anchors: &mut Anchors<'t>,
) -> Option<Node> {
    let mut flow = Flow {
        at,
        bytes: content.as_bytes(),
        text: content,
        pos: 0,
        offset,
        anchors,
    };
    let node = match flow.peek()? {
        b'{' => flow.map(depth)?,
        b'[' => flow.seq(depth)?,
        _ => return None,
    };
    let rest = &content[flow.pos..];
    let comment = rest.trim_start_matches(' ');
    // A comment needs a space before it.
    let ends = comment.is_empty() || comment.starts_with('#') && comment.len() < rest.len();
    ends.then_some(node)
}

struct Flow<'a, 't> {
    at: &'a Anchor<'t>,
    bytes: &'t [u8],
    text: &'t str,
    /// The next byte to read, in `text`.
    pos: usize,
    /// Where `text` starts in the document.
    offset: usize,
    /// The document's anchored scalars, shared with the block lines around.
    anchors: &'a mut Anchors<'t>,
}

/// The bytes that end a plain scalar in a flow collection, and that may not start one.
fn is_flow(byte: u8) -> bool {
    matches!(byte, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'t> Flow<'_, 't> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn node_at(&self, start: usize, end: usize, value: Value) -> Node {
        Node {
            span: self.at.span(
                Some((self.offset + start) as u64),
                Some((end - start) as u64),
            ),
            value,
        }
    }

    /// Opens the collection whose bracket is at `pos`: its node, without children yet.
    fn open(&mut self, depth: usize) -> Option<Node> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let node = self.node_at(self.pos, self.pos + 1, Value::Null);
        self.pos += 1;
        self.skip_spaces();
        Some(node)
    }

    /// After an entry: a comma (and spaces), or the closing bracket, which it consumes.
    /// `Some(true)`: the collection is closed.
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.skip_spaces();
                Some(false)
            }
            b if b == close => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    fn map(&mut self, depth: usize) -> Option<Node> {
        let mut node = self.open(depth)?;
        let mut entries = Vec::new();
        loop {
            // The end, after `{` or a comma (a trailing comma is allowed).
            if self.peek()? == b'}' {
                self.pos += 1;
                break;
            }
            let key_start = self.pos;
            let key = self.key()?;
            // A merge key, quoted or not, is for serde-saphyr to judge.
            if matches!(&key.value, Value::String(text) if text == "<<") {
                return None;
            }
            self.skip_spaces();
            if self.pos - key_start > MAX_KEY {
                return None;
            }
            if self.bytes.get(self.pos..self.pos + 2)? != b": " {
                return None;
            }
            self.pos += 2;
            self.skip_spaces();
            let value = self.node(depth + 1)?;
            entries.push((key, value));
            if self.separator(b'}')? {
                break;
            }
        }
        node.value = Value::Map(entries);
        Some(node)
    }

    fn seq(&mut self, depth: usize) -> Option<Node> {
        let mut node = self.open(depth)?;
        let mut items = Vec::new();
        loop {
            if self.peek()? == b']' {
                self.pos += 1;
                break;
            }
            items.push(self.node(depth + 1)?);
            // `[a: b]` is a mapping inside the sequence: the separator declines its colon.
            if self.separator(b']')? {
                break;
            }
        }
        node.value = Value::Seq(items);
        Some(node)
    }

    /// A value or sequence entry at `pos`.
    fn node(&mut self, depth: usize) -> Option<Node> {
        match self.peek()? {
            b'{' => self.map(depth),
            b'[' => self.seq(depth),
            b'"' | b'\'' => self.quoted(),
            b'*' => self.alias(),
            b'&' => self.anchored(depth),
            first => {
                let next = self.bytes.get(self.pos + 1).copied();
                // `-` starts a plain scalar only before a character that may go on with it.
                let starts = first.is_ascii_alphanumeric()
                    || scalar::starts_plain(first)
                    || first == b'-' && next.is_some_and(|b| b != b' ' && !is_flow(b));
                if !starts {
                    return None;
                }
                let (start, end) = self.plain()?;
                let text = &self.text[start..end];
                let value = scalar(Cow::Borrowed(text), ScalarStyle::Plain)?;
                Some(self.node_at(start, end, value))
            }
        }
    }

    /// An alias at `pos` to a scalar anchored before it, ending where an entry may end.
    fn alias(&mut self) -> Option<Node> {
        let (start, name) = self.name()?;
        if !matches!(self.peek(), None | Some(b' ' | b',' | b']' | b'}')) {
            return None;
        }
        let value = self.anchors.alias(name)?;
        Some(self.node_at(start, self.pos, value))
    }

    /// A scalar at `pos` with an anchor before it (`&name value`): the scalar's node.
    fn anchored(&mut self, depth: usize) -> Option<Node> {
        let (_, name) = self.name()?;
        if self.peek() != Some(b' ') {
            return None;
        }
        self.skip_spaces();
        if matches!(self.peek()?, b'{' | b'[' | b'&' | b'*' | b'#') {
            return None;
        }
        let node = self.node(depth)?;
        self.anchors.define(name, &node.value)?;
        Some(node)
    }

    /// The name of the anchor or alias whose indicator is at `pos`: where it starts, and the
    /// name; `pos` moves past it.
    fn name(&mut self) -> Option<(usize, &'t str)> {
        let start = self.pos;
        let len = block_alias::name_len(&self.text[start + 1..]);
        if len == 0 {
            return None;
        }
        self.pos = start + 1 + len;
        Some((start, &self.text[start + 1..self.pos]))
    }

    /// A mapping key at `pos`: plain or quoted.
    fn key(&mut self) -> Option<Node> {
        let node = match self.peek()? {
            b'"' | b'\'' => self.quoted()?,
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'/' => {
                let (start, end) = self.plain()?;
                let value = scalar(Cow::Borrowed(&self.text[start..end]), ScalarStyle::Plain)?;
                self.node_at(start, end, value)
            }
            _ => return None,
        };
        Some(scalar::key(node, self.at))
    }

    /// A plain scalar from `pos` (its first character checked by the caller): its start and
    /// end, trailing spaces excluded; `pos` moves past it and those spaces.
    fn plain(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        let ends_at = |bytes: &[u8], i: usize| match bytes.get(i) {
            None | Some(b' ') => true,
            Some(&b) if is_flow(b) => true,
            // `:` ends it before a blank or a flow indicator, as in granit-parser.
            Some(b':') => bytes.get(i + 1).is_none_or(|&b| b == b' ' || is_flow(b)),
            Some(_) => false,
        };
        let mut end;
        loop {
            while !ends_at(self.bytes, self.pos) {
                if !(0x21..=0x7e).contains(&self.bytes[self.pos]) {
                    return None;
                }
                self.pos += 1;
            }
            end = self.pos;
            self.skip_spaces();
            if self.pos == end {
                break;
            }
            match self.peek() {
                // A comment inside a flow collection: it goes on past the line.
                None | Some(b'#') => return None,
                // Spaces, then more of the scalar.
                Some(_) if !ends_at(self.bytes, self.pos) => {}
                Some(_) => break,
            }
        }
        Some((start, end))
    }

    /// A quoted scalar at `pos` that closes on this line, without escapes in double quotes.
    fn quoted(&mut self) -> Option<Node> {
        let start = self.pos;
        let quote = self.bytes[start];
        let mut i = start + 1;
        let mut owned: Option<String> = None;
        let mut from = i;
        loop {
            let b = *self.bytes.get(i)?;
            if !(0x20..=0x7e).contains(&b) || quote == b'"' && b == b'\\' {
                return None;
            }
            if b == quote {
                if quote == b'\'' && self.bytes.get(i + 1) == Some(&b'\'') {
                    // `''` is one quote.
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(&self.text[from..=i]);
                    i += 2;
                    from = i;
                    continue;
                }
                break;
            }
            i += 1;
        }
        let text = match owned {
            Some(mut text) => {
                text.push_str(&self.text[from..i]);
                Cow::Owned(text)
            }
            None => Cow::Borrowed(&self.text[from..i]),
        };
        let style = if quote == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        let value = scalar(text, style)?;
        self.pos = i + 1;
        Some(self.node_at(start, i + 1, value))
    }
}
