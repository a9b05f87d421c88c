//! Literal and folded block scalars (`|`, `>`, with chomping and an indentation indicator) as
//! the line reader ([`super::block`]) meets them: a mapping value whose lines follow its key.
//!
//! In: the header after `key:` and, once the key's line is read, the text after it. Out: the
//! scalar's text as YAML 1.2 reads it and the span granit-parser reports for it, or `None` for
//! anything unusual (no content, a whitespace-only line deeper than the content, a content line
//! that starts with `#`), which the caller declines. A scalar that ends the text without a line
//! break gains none: the other paths remove the break the parser invents there in
//! [`super::conform`], and this reader never adds it.

/// A block scalar's header: `|` or `>`, then chomping and indentation indicators.
#[derive(Clone, Copy)]
pub(super) struct Header {
    folded: bool,
    chomp: Chomp,
    /// The content's indentation: the parent's plus the indicator, if one is given.
    indent: Option<usize>,
    /// The indentation of the mapping whose value this is.
    parent: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// The header at the start of `value` (the rest of a `key:` line, from `|` or `>`) of a value
/// of a mapping indented `parent`; `None` when it is not one the reader takes.
pub(super) fn header(value: &str, parent: usize) -> Option<Header> {
    let bytes = value.as_bytes();
    let mut header = Header {
        folded: bytes[0] == b'>',
        chomp: Chomp::Clip,
        indent: None,
        parent,
    };
    let mut at = 1;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'-' | b'+' if header.chomp == Chomp::Clip => {
                header.chomp = if b == b'-' { Chomp::Strip } else { Chomp::Keep };
            }
            b'1'..=b'9' if header.indent.is_none() => {
                header.indent = Some(parent + usize::from(b - b'0'));
            }
            _ => break,
        }
        at += 1;
    }
    let rest = &value[at..];
    let after = rest.trim_start_matches(' ');
    (rest.is_empty() || rest.len() > after.len() && (after.is_empty() || after.starts_with('#')))
        .then_some(header)
}

/// A block scalar read: its value, its span in the text, and where the next line starts.
pub(super) struct Block {
    pub value: String,
    pub start: usize,
    pub end: usize,
    pub resume: usize,
}

/// Reads the scalar whose content lines start at `from` in `text`.
pub(super) fn read(text: &str, from: usize, header: Header) -> Option<Block> {
    let mut value = String::new();
    // Empty lines seen since the last content line (or the header) that end in a line break.
    let mut empties = 0;
    // The widest empty line so far, before the first content line.
    let mut widest = 0;
    let mut indent = header.indent;
    let mut start = None;
    // Whether the last content line was "more indented" (starts with a space), and whether it
    // ended in a line break.
    let mut last: Option<(bool, bool)> = None;
    let mut line_start = from;
    let (end, resume) = loop {
        if line_start >= text.len() {
            break (text.len(), text.len());
        }
        let line_end = crate::source::find_newline(&text.as_bytes()[line_start..])
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let broken = line_end < text.len();
        let content = line.trim_start_matches(' ');
        let spaces = line.len() - content.len();
        if content.is_empty() {
            match indent {
                Some(m) if spaces > m => return None,
                None => widest = widest.max(spaces),
                _ => {}
            }
            empties += usize::from(broken);
            line_start = line_end + 1;
            continue;
        }
        let m = *indent.get_or_insert(spaces);
        if spaces < m || m <= header.parent {
            last?;
            break (line_start + spaces, line_start);
        }
        if widest > m || content.starts_with('#') {
            return None;
        }
        let body = &line[m..];
        let more_indented = body.starts_with(' ');
        match last {
            None => push_breaks(&mut value, empties),
            Some((was_more, _)) if header.folded && !was_more && !more_indented => {
                if empties == 0 {
                    value.push(' ');
                } else {
                    push_breaks(&mut value, empties);
                }
            }
            Some(_) => push_breaks(&mut value, empties + 1),
        }
        start.get_or_insert(line_start + m);
        value.push_str(body);
        last = Some((more_indented, broken));
        empties = 0;
        line_start = line_end + 1;
    };
    let (_, broken) = last?;
    match header.chomp {
        Chomp::Strip => {}
        Chomp::Clip => push_breaks(&mut value, usize::from(broken)),
        Chomp::Keep => push_breaks(&mut value, usize::from(broken) + empties),
    }
    Some(Block {
        value,
        start: start?,
        end,
        resume,
    })
}

fn push_breaks(value: &mut String, count: usize) {
    for _ in 0..count {
        value.push('\n');
    }
}
