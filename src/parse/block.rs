//! The first path of [`super::parse_document`]: documents in the plain block style that nearly
//! every runefile uses, read line by line without a YAML parser.
//!
//! In: a document's text and where it sits ([`Anchor`]). Out: its [`Node`] tree, or `None`. It
//! must never build a tree serde-saphyr would not build, nor accept a text serde-saphyr refuses.
//!
//! granit-parser spends most of a lint run on such documents, in its general token machinery.
//! This reader takes only a strict subset and declines (returns `None`) on anything else, so
//! that the caller falls back to the events path ([`super::events`]) and then to serde-saphyr,
//! with the same results, spans and messages; a test compares the paths. The subset:
//!
//! - `\n` and the characters YAML counts as printable, other than those some parsers read as
//!   breaks, blanks or marks (U+0085, U+2028, U+2029, U+FEFF, U+00A0 and the other Unicode
//!   spaces; a comment line may hold the spaces): no tab, `\r` or control character. Offsets
//!   are bytes, as granit-parser's spans;
//! - blank and comment lines anywhere, a leading `---` line and a trailing `...` line;
//! - block mappings whose keys are plain (starting with a letter, digit, `_`, `/` or a
//!   non-ASCII character) or quoted
//!   without escapes, followed by `:` and a space or the line end;
//! - block sequences of `- ` entries, indented under their key or at its indentation, each
//!   entry holding a scalar or a mapping that starts on the dash's line;
//! - scalar values on their key's or dash's line: plain (one line, starting with a character
//!   that is no YAML indicator), single-quoted, or double-quoted without escapes; an empty value
//!   after `key:` is null; comments after values; an anchor on such a scalar and an alias to
//!   one ([`block_alias`]);
//! - literal and folded block scalars as mapping values ([`block_scalar`]).
//!
//! Spans are those granit-parser reports: a scalar's text (quotes included), a mapping at its
//! first key, a sequence at its first dash (or, indented no deeper than its key, at its first
//! entry's content), an empty value at its key's colon, an alias at its `*name`.

use std::borrow::Cow;
use std::cell::RefCell;

use serde_saphyr::granit_parser::ScalarStyle;

use crate::parse::block_alias::Anchors;
use crate::parse::block_scalar;
use crate::parse::budget::{MAX_BYTES, MAX_DEPTH};
use crate::parse::flow_line;
use crate::parse::node::{Anchor, Node, Value};
use crate::parse::scalar::{self, scalar};
use crate::source::Span;

/// Whether the reader may look at `line`: printable ASCII, or characters YAML counts as
/// printable other than those some parsers read as breaks, blanks or marks (U+0085, U+2028,
/// U+2029, U+FEFF, U+00A0 and the other Unicode spaces). A comment line may hold those spaces
/// too: it is skipped whole, so what it holds never reaches the tree.
fn readable(line: &str) -> bool {
    if line.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return true;
    }
    let printable = |c: char| matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF);
    line.chars()
        .all(|c| printable(c) && (c.is_ascii() || !c.is_whitespace() && c != '\u{feff}'))
        || line.trim_start_matches(' ').starts_with('#')
            && line
                .chars()
                .all(|c| printable(c) && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

/// An open block collection; its children so far are the nodes of the shared stack from
/// `first` on (keys and values alternating, for a mapping).
struct Level {
    first: usize,
    indent: usize,
    /// `Some(compact)` for a sequence (compact: at its key's indentation), `None` for a mapping.
    seq: Option<bool>,
    span: Span,
    /// For a mapping whose last key has no value yet: the offset of that key's colon.
    pending: Option<usize>,
}

struct Reader<'a, 't> {
    at: &'a Anchor<'t>,
    levels: Vec<Level>,
    stack: Vec<Node>,
    root: Option<Node>,
    /// The header of a block scalar whose lines follow the line just read.
    block: Option<block_scalar::Header>,
    anchors: Anchors<'t>,
}

/// The document's tree, or `None` when it is not in the subset.
pub(super) fn parse(at: &Anchor<'_>) -> Option<Node> {
    let text = at.text;
    if text.len() > MAX_BYTES || !text.split('\n').all(readable) {
        return None;
    }
    SCRATCH.with(|scratch| {
        let (levels, stack) = scratch
            .try_borrow_mut()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        let mut reader = Reader {
            at,
            levels,
            stack,
            root: None,
            block: None,
            anchors: Anchors::default(),
        };
        let root = read(&mut reader).filter(|root| reader.anchors.within_written(root, text));
        // Keep the buffers for the next document, but not what a declined one left in them.
        let Reader {
            mut levels,
            mut stack,
            ..
        } = reader;
        levels.clear();
        stack.clear();
        if let Ok(mut scratch) = scratch.try_borrow_mut() {
            *scratch = (levels, stack);
        }
        root
    })
}

thread_local! {
    /// The stacks of [`Reader`], kept per thread so that each document does not grow its own.
    static SCRATCH: RefCell<(Vec<Level>, Vec<Node>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn read(reader: &mut Reader<'_, '_>) -> Option<Node> {
    let text = reader.at.text;
    let mut started = false;
    let mut ended = false;
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end = crate::source::find_newline(&text.as_bytes()[line_start..])
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            // Blank or comment.
        } else if ended {
            return None;
        } else if let Some(rest) = marker(line, "---") {
            if started || !is_blank_or_comment(rest) {
                return None;
            }
        } else if let Some(rest) = marker(line, "...") {
            if !is_blank_or_comment(rest) {
                return None;
            }
            ended = true;
        } else {
            started = true;
            reader.line(indent, content, line_start + indent)?;
            if let Some(header) = reader.block.take() {
                let block = block_scalar::read(text, (line_end + 1).min(text.len()), header)?;
                let span = reader.span(block.start, block.end - block.start);
                reader.stack.push(Node {
                    span,
                    value: Value::String(block.value),
                });
                line_start = block.resume;
                continue;
            }
        }
        line_start = line_end + 1;
    }
    reader.close_above(None)?;
    reader.root.take()
}

/// What follows a `---` or `...` at the start of a line, if the line is that marker.
fn marker<'l>(line: &'l str, marker: &str) -> Option<&'l str> {
    line.strip_prefix(marker)
        .filter(|rest| rest.is_empty() || rest.starts_with(' '))
}

fn is_blank_or_comment(text: &str) -> bool {
    let text = text.trim_start_matches(' ');
    text.is_empty() || text.starts_with('#')
}

/// A `key:` at the start of a line's content: the key and the offset of its colon there.
struct Key {
    colon: usize,
    node: Node,
}

/// What the start of a line's content is.
enum Start {
    Key(Key),
    /// A scalar, or something the caller declines.
    Other,
}

impl<'t> Reader<'_, 't> {
    fn span(&self, offset: usize, len: usize) -> Span {
        self.at.span(Some(offset as u64), Some(len as u64))
    }

    /// One content line: `indent` spaces, then `content` (no line end) at `offset`.
    fn line(&mut self, indent: usize, content: &'t str, offset: usize) -> Option<()> {
        if let Some(entry) = content.strip_prefix("- ") {
            return self.entry(indent, entry, offset);
        }
        if content == "-" {
            return None;
        }
        let Start::Key(key) = key(self, content, offset)? else {
            return None;
        };
        self.close_above(Some((indent, false)))?;
        match self.levels.last() {
            // The next key of the innermost mapping; a key before it without a value is null.
            Some(level) if level.seq.is_none() && level.indent == indent => {
                if let Some(colon) = self.levels.last_mut()?.pending.take() {
                    let null = self.null(colon);
                    self.stack.push(null);
                }
            }
            // The first key of a mapping that is the value of the key before.
            Some(level)
                if level.seq.is_none() && level.indent < indent && level.pending.is_some() =>
            {
                self.levels.last_mut()?.pending = None;
                self.open(indent, None, key.node.span)?;
            }
            None if self.root.is_none() => self.open(indent, None, key.node.span)?,
            _ => return None,
        }
        self.key_value(key, content, offset)
    }

    /// A `- ` entry whose dash is at column `indent`; `entry` follows the dash at `offset + 2`.
    fn entry(&mut self, indent: usize, entry: &'t str, offset: usize) -> Option<()> {
        let content = entry.trim_start_matches(' ');
        if content.is_empty()
            || content.starts_with('#')
            || content == "-"
            || content.starts_with("- ")
        {
            return None;
        }
        let column = indent + 2 + (entry.len() - content.len());
        let content_offset = offset + 2 + (entry.len() - content.len());
        self.close_above(Some((indent, true)))?;
        match self.levels.last() {
            // The next entry of the innermost sequence.
            Some(level) if level.seq.is_some() && level.indent == indent => {}
            // The first entry of a sequence that is the value of the key before.
            Some(level)
                if level.seq.is_none() && level.indent <= indent && level.pending.is_some() =>
            {
                let compact = level.indent == indent;
                self.levels.last_mut()?.pending = None;
                let at = if compact { content_offset } else { offset };
                let span = self.span(at, 0);
                self.open(indent, Some(compact), span)?;
            }
            None if self.root.is_none() => {
                let span = self.span(offset, 0);
                self.open(indent, Some(false), span)?;
            }
            _ => return None,
        }
        match key(self, content, content_offset)? {
            Start::Key(key) => {
                self.open(column, None, key.node.span)?;
                self.key_value(key, content, content_offset)
            }
            Start::Other => {
                let node = value(self, content, content_offset)?;
                self.stack.push(node);
                Some(())
            }
        }
    }

    /// Pushes `key` into the innermost mapping, then its value from the rest of the line, or
    /// marks the value pending.
    fn key_value(&mut self, key: Key, content: &'t str, offset: usize) -> Option<()> {
        let rest = &content[key.colon + 1..];
        self.stack.push(key.node);
        let trimmed = rest.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            self.levels.last_mut()?.pending = Some(offset + key.colon);
            return Some(());
        }
        if trimmed.starts_with(['|', '>']) {
            self.block = Some(block_scalar::header(trimmed, self.levels.last()?.indent)?);
            return Some(());
        }
        let at = offset + key.colon + 1 + (rest.len() - trimmed.len());
        let node = value(self, trimmed, at)?;
        self.stack.push(node);
        Some(())
    }

    fn null(&self, colon: usize) -> Node {
        Node {
            span: self.span(colon, 0),
            value: Value::Null,
        }
    }

    fn open(&mut self, indent: usize, seq: Option<bool>, span: Span) -> Option<()> {
        if self.levels.len() >= MAX_DEPTH {
            return None;
        }
        self.levels.push(Level {
            first: self.stack.len(),
            indent,
            seq,
            span: Span::new(span.source, span.start, span.start),
            pending: None,
        });
        Some(())
    }

    /// Closes the collections a line at `next = (indent, is_entry)` ends (all of them for
    /// `None`): those indented deeper, and a compact sequence at a key's indentation.
    fn close_above(&mut self, next: Option<(usize, bool)>) -> Option<()> {
        while let Some(level) = self.levels.last() {
            let ends = match next {
                None => true,
                Some((indent, entry)) => {
                    level.indent > indent
                        || !entry && level.indent == indent && level.seq == Some(true)
                }
            };
            if !ends {
                break;
            }
            let level = self.levels.pop()?;
            if let Some(colon) = level.pending {
                let null = self.null(colon);
                self.stack.push(null);
            }
            let value = if level.seq.is_some() {
                Value::Seq(self.stack.drain(level.first..).collect())
            } else {
                let count = self.stack.len() - level.first;
                if !count.is_multiple_of(2) {
                    return None;
                }
                let mut entries = Vec::with_capacity(count / 2);
                let mut children = self.stack.drain(level.first..);
                while let (Some(key), Some(value)) = (children.next(), children.next()) {
                    entries.push((key, value));
                }
                drop(children);
                Value::Map(entries)
            };
            let node = Node {
                span: level.span,
                value,
            };
            if self.levels.is_empty() {
                if self.root.is_some() {
                    return None;
                }
                self.root = Some(node);
            } else {
                self.stack.push(node);
            }
        }
        Some(())
    }
}

/// Whether `content` (at `offset`) starts with a `key:`; `None`: declined.
fn key(reader: &Reader<'_, '_>, content: &str, offset: usize) -> Option<Start> {
    let bytes = content.as_bytes();
    let (text, style, len) = match bytes[0] {
        b'"' | b'\'' => {
            let (text, len) = quoted(content)?;
            (text, quote_style(bytes[0]), len)
        }
        b if b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || !b.is_ascii() => {
            // The first `:` followed by a blank or the line end ends a plain key.
            let Some(colon) = (0..bytes.len())
                .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|&b| b == b' '))
            else {
                return Some(Start::Other);
            };
            let text = &content[..colon];
            if text.ends_with(' ') || find_pair(text, b' ', b'#').is_some() || text.len() > 1000 {
                return None;
            }
            (Cow::Borrowed(text), ScalarStyle::Plain, colon)
        }
        _ => return Some(Start::Other),
    };
    if style != ScalarStyle::Plain {
        // A quoted scalar is a key only when a colon and a blank (or the end) follow at once.
        match &content[len..] {
            rest if rest == ":" || rest.starts_with(": ") => {}
            _ => return Some(Start::Other),
        }
    }
    let node = Node {
        span: reader.span(offset, len),
        value: scalar(text, style)?,
    };
    Some(Start::Key(Key {
        colon: len,
        node: scalar::key(node, reader.at),
    }))
}

/// A value filling the rest of a line (`content`, at `offset`), comments aside: a scalar,
/// an anchored scalar, an alias ([`block_alias`]) or a one-line flow collection
/// ([`flow_line`]).
fn value<'t>(reader: &mut Reader<'_, 't>, content: &'t str, offset: usize) -> Option<Node> {
    let at = reader.at;
    if content.starts_with(['{', '[']) {
        return flow_line::value(
            at,
            content,
            offset,
            reader.levels.len(),
            &mut reader.anchors,
        );
    }
    if !content.starts_with(['&', '*']) {
        return scalar_value(at, content, offset);
    }
    reader.anchors.value(
        content,
        offset,
        |offset, len| at.span(Some(offset as u64), Some(len as u64)),
        |content, offset| scalar_value(at, content, offset),
    )
}

/// [`value`] without anchor or alias.
fn scalar_value(at: &Anchor<'_>, content: &str, offset: usize) -> Option<Node> {
    let bytes = content.as_bytes();
    let (text, style, len) = match bytes[0] {
        b'"' | b'\'' => {
            let (text, len) = quoted(content)?;
            if !is_blank_or_comment(&content[len..]) || content[len..].starts_with('#') {
                return None;
            }
            (text, quote_style(bytes[0]), len)
        }
        b'-' if bytes.get(1).is_none_or(|&b| b == b' ') => return None,
        b if b.is_ascii_alphanumeric() || !b.is_ascii() || b == b'-' || scalar::starts_plain(b) => {
            let end = find_pair(content, b' ', b'#').unwrap_or(content.len());
            let text = content[..end].trim_end_matches(' ');
            if find_pair(text, b':', b' ').is_some() || text.ends_with(':') {
                return None;
            }
            (Cow::Borrowed(text), ScalarStyle::Plain, text.len())
        }
        _ => return None,
    };
    Some(Node {
        span: at.span(Some(offset as u64), Some(len as u64)),
        value: scalar(text, style)?,
    })
}

fn quote_style(quote: u8) -> ScalarStyle {
    if quote == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    }
}

/// The offset of the first `first` followed by `second` in `text`.
fn find_pair(text: &str, first: u8, second: u8) -> Option<usize> {
    text.as_bytes()
        .windows(2)
        .position(|pair| pair[0] == first && pair[1] == second)
}

/// A quoted scalar at the start of `content` that closes on this line: its value and its
/// length with the quotes. Double quotes: no escapes; single quotes: `''` is a quote.
fn quoted(content: &str) -> Option<(Cow<'_, str>, usize)> {
    let quote = content.as_bytes()[0];
    let body = &content[1..];
    if quote == b'"' {
        let close = body.bytes().position(|b| b == b'"' || b == b'\\')?;
        if body.as_bytes()[close] != b'"' {
            return None;
        }
        return Some((Cow::Borrowed(&body[..close]), close + 2));
    }
    let close = body.bytes().position(|b| b == b'\'')?;
    if body.as_bytes().get(close + 1) != Some(&b'\'') {
        return Some((Cow::Borrowed(&body[..close]), close + 2));
    }
    let mut text = String::new();
    let mut rest = body;
    let mut len = 1;
    loop {
        let close = rest.bytes().position(|b| b == b'\'')?;
        text.push_str(&rest[..close]);
        len += close + 1;
        if rest.as_bytes().get(close + 1) == Some(&b'\'') {
            text.push('\'');
            len += 1;
            rest = &rest[close + 2..];
        } else {
            return Some((Cow::Owned(text), len));
        }
    }
}
