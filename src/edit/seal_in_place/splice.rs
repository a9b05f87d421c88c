//! Text surgery on a runefile: where a field ends, what a sealed entry looks like, and how a
//! set of edits becomes the new text. Everything outside an edit stays byte for byte.

use std::ops::Range;

use crate::parse::node::Node;

/// One replacement of a byte range of the file.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// Why a place in the file cannot be rewritten mechanically.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Unsupported {
    /// Byte offset the problem is at.
    pub at: usize,
    pub what: &'static str,
}

/// The file's text, with the line break it uses.
pub struct Text<'a> {
    pub nl: &'static str,
    pub s: &'a str,
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str) -> Self {
        let nl = if s.contains("\r\n") { "\r\n" } else { "\n" };
        Self { nl, s }
    }

    pub fn line_start(&self, pos: usize) -> usize {
        self.s[..pos].rfind('\n').map_or(0, |i| i + 1)
    }

    /// The end of the line holding `pos`, before its line break (`\n` or `\r\n`).
    pub fn line_end(&self, pos: usize) -> usize {
        let end = self.s[pos..].find('\n').map_or(self.s.len(), |i| pos + i);
        if end > pos && self.s[..end].ends_with('\r') {
            end - 1
        } else {
            end
        }
    }

    /// The start of the line after the one holding `pos`, if there is one.
    fn next_line(&self, pos: usize) -> Option<usize> {
        self.s[pos..]
            .find('\n')
            .map(|i| pos + i + 1)
            .filter(|&next| next < self.s.len())
    }

    /// The 0-based column of `pos`, in characters.
    pub fn column(&self, pos: usize) -> usize {
        self.s[self.line_start(pos)..pos].chars().count()
    }

    /// Whether `pos` is where a flow collection (`{`, `[`) opens.
    pub fn opens_flow(&self, pos: usize) -> bool {
        matches!(self.s.as_bytes().get(pos), Some(b'{' | b'['))
    }

    /// The offset just past the `close` that ends a flow collection, scanning from `from` over
    /// blanks, commas and comments only.
    pub fn closing(&self, from: usize, close: u8) -> Result<usize, Unsupported> {
        let bytes = self.s.as_bytes();
        let mut at = from;
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => at += 1,
                b'#' => at = self.line_end(at),
                _ if byte == close => return Ok(at + 1),
                _ => break,
            }
        }
        Err(Unsupported {
            at: from,
            what: "a flow collection whose end cannot be found",
        })
    }
}

/// How far a block-style field `key: value` reaches, and the comment that trails its value.
pub struct Extent {
    /// Whether the value is a block scalar (`|`, `>`).
    pub block: bool,
    /// The end of the value's last line (before its line break).
    pub end: usize,
    /// `  # …` after the value (or after a block scalar's indicator), to keep on the new field.
    pub comment: String,
}

/// The extent of a block-style field: the value's span for plain and quoted scalars; for block
/// scalars (`|`, `>`), whose spans do not say where their text ends, the last line indented as
/// deep as their first.
pub fn block_field(text: &Text<'_>, key: &Node, value: &Node) -> Result<Extent, Unsupported> {
    let key_start = key.span.start as usize;
    let key_end = key.span.end as usize;
    let value_start = value.span.start as usize;
    let between = text
        .s
        .get(key_end..value_start.max(key_end))
        .ok_or(Unsupported {
            at: key_start,
            what: "a field whose value comes before its key",
        })?;
    let mut line_at = key_end;
    for line in between.split('\n') {
        let (indicator, comment) = split_comment(line);
        let block = indicator
            .split_whitespace()
            .last()
            .filter(|token| token.starts_with('|') || token.starts_with('>'));
        if let Some(token) = block {
            let header_end = text.line_end(line_at);
            let column = text.column(key_start);
            // An explicit indentation indicator (`|2`) counts from the field's column.
            let explicit = token
                .chars()
                .find_map(|c| c.to_digit(10))
                .map(|d| column + d as usize);
            return Ok(Extent {
                block: true,
                end: block_scalar_end(text, header_end, column, explicit),
                comment: comment.trim_end_matches('\r').to_owned(),
            });
        }
        line_at += line.len() + 1;
    }
    let end = value.span.end as usize;
    let line_end = text.line_end(end);
    let rest = &text.s[end..line_end];
    let comment = if rest.trim().is_empty() {
        String::new()
    } else if rest.trim_start().starts_with('#') {
        rest.to_owned()
    } else {
        return Err(Unsupported {
            at: end,
            what: "text after a value on its line",
        });
    };
    Ok(Extent {
        block: false,
        end: line_end,
        comment,
    })
}

/// `(before, comment)`: a header line split at a ` #` comment (kept with its leading blanks).
fn split_comment(header: &str) -> (&str, &str) {
    let bytes = header.as_bytes();
    let at = (1..bytes.len()).find(|&i| bytes[i] == b'#' && matches!(bytes[i - 1], b' ' | b'\t'));
    match at {
        Some(i) => {
            let start = header[..i].trim_end().len();
            (&header[..start], &header[start..])
        }
        None => (header, ""),
    }
}

/// The end of a block scalar's last content line: content lines are indented deeper than the
/// field's `column`, as deep as the first of them (or as `explicit` says); blank lines in
/// between belong to it.
fn block_scalar_end(
    text: &Text<'_>,
    header_end: usize,
    column: usize,
    explicit: Option<usize>,
) -> usize {
    let mut end = header_end;
    let mut content_indent = explicit;
    let mut line = text.next_line(header_end);
    while let Some(start) = line {
        let line_end = text.line_end(start);
        let content = &text.s[start..line_end];
        if !content.trim().is_empty() {
            let indent = content.len() - content.trim_start_matches(' ').len();
            let deep_enough = match content_indent {
                None if indent > column => {
                    content_indent = Some(indent);
                    true
                }
                None => false,
                Some(first) => indent >= first,
            };
            if !deep_enough {
                break;
            }
            end = line_end;
        }
        line = text.next_line(line_end);
    }
    end
}

/// `sealed: |` and the armor, its lines indented two columns deeper than the key at `column`.
pub fn sealed_block(armor: &str, column: usize, comment: &str, nl: &str) -> String {
    let indent = " ".repeat(column + 2);
    let mut out = format!("sealed: |{comment}");
    for line in armor.trim().lines() {
        out.push_str(nl);
        out.push_str(&indent);
        out.push_str(line.trim_end_matches('\r'));
    }
    out
}

/// `sealed: "…"`: the armor as a double-quoted scalar, for flow collections.
pub fn sealed_flow(armor: &str) -> String {
    format!("sealed: {}", quoted(&format!("{}\n", armor.trim())))
}

/// A double-quoted YAML scalar (JSON's string syntax is a subset of YAML's).
pub fn quoted(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// A data key as a YAML scalar that reads back as the same string: plain where that is
/// unambiguous, else single-quoted (valid keys hold no quotes).
pub fn yaml_key(key: &str) -> String {
    const RESERVED: [&str; 9] = ["true", "false", "null", "yes", "no", "on", "off", "y", "n"];
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && !RESERVED.contains(&key.to_ascii_lowercase().as_str());
    if plain {
        key.to_owned()
    } else {
        format!("'{key}'")
    }
}

/// Applies non-overlapping edits to `text`.
pub fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| edit.range.start);
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `- key: K` + `sealed: |` and the armor, the dash at `column` (no line break at either end).
pub fn list_entry(key: &str, armor: &str, column: usize, nl: &str) -> String {
    format!(
        "{}- key: {}{nl}{}{}",
        " ".repeat(column),
        yaml_key(key),
        " ".repeat(column + 2),
        sealed_block(armor, column + 2, "", nl)
    )
}

/// `{key: K, sealed: "…"}`.
pub fn flow_entry(key: &str, armor: &str) -> String {
    format!("{{key: {}, {}}}", yaml_key(key), sealed_flow(armor))
}

/// The column of the `-` that starts the list item whose content begins at `content`, when
/// only blanks stand before it on its line.
pub fn dash_column(text: &Text<'_>, content: usize) -> Option<usize> {
    let line_start = text.line_start(content);
    let before = text.s[line_start..content].trim_end_matches(' ');
    let dash = before.strip_suffix('-')?;
    dash.chars().all(|c| c == ' ').then(|| dash.chars().count())
}

/// Edits relative to a slice that starts at `base`.
pub fn shift(edits: Vec<Edit>, base: usize) -> Vec<Edit> {
    edits
        .into_iter()
        .map(|e| Edit {
            range: e.range.start - base..e.range.end - base,
            text: e.text,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_respect_crlf() {
        let text = Text::new("a: 1\r\n  b: 2\r\n");
        assert_eq!(text.nl, "\r\n");
        assert_eq!(text.line_end(0), 4);
        assert_eq!(text.line_end(8), 12);
        assert_eq!(text.line_start(9), 6);
        assert_eq!(text.column(8), 2);
    }

    #[test]
    fn keys_that_yaml_would_read_otherwise_are_quoted() {
        assert_eq!(yaml_key("password"), "password");
        assert_eq!(yaml_key("tls.crt"), "tls.crt");
        assert_eq!(yaml_key("1.5"), "'1.5'");
        assert_eq!(yaml_key("-x"), "'-x'");
        assert_eq!(yaml_key(".env"), "'.env'");
        assert_eq!(yaml_key("True"), "'True'");
        assert_eq!(yaml_key("Null"), "'Null'");
    }

    #[test]
    fn comments_split_off_headers() {
        assert_eq!(split_comment(": |  # c"), (": |", "  # c"));
        assert_eq!(split_comment(": a#b"), (": a#b", ""));
        assert_eq!(split_comment(":"), (":", ""));
    }
}
