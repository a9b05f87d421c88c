//! Splits a YAML stream into its documents without parsing them.
//!
//! A line that starts with `---` or `...` (followed by a blank or the end of the line) at column 0
//! is a document marker wherever it stands: YAML forbids it inside block and quoted scalars, so a
//! textual split agrees with the parser. Splitting first lets each document fail on its own (one
//! syntax error does not hide the findings in the next document) and lets large files be parsed
//! in parallel.

use crate::source::find_newline;

/// One stretch of a file the parser must see.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct DocumentSlice {
    /// Byte offset of the slice in the file.
    pub start: usize,
    /// Byte offset one past the slice's end.
    pub end: usize,
    /// `false` for a stretch that holds directives but no content: not a document (no
    /// resource comes of it), but parsed all the same, since a directive can be wrong
    /// (`%YAML 1.2` with no `---` after it, twice, or with extra words).
    pub document: bool,
}

/// The stretches of a stream, in order: its documents, and its empty documents that hold
/// directives. Stretches holding only blanks, comments and markers are skipped (a trailing
/// `---` does not make an empty resource); an empty document is a stretch of its own, so that
/// the next document is parsed alone. Lines end at `\n`, `\r\n` or a lone `\r`; a byte order
/// mark may start any line that starts a document.
#[must_use]
pub fn split_documents(text: &str) -> Vec<DocumentSlice> {
    let mut split = Split::default();
    let lone_cr = has_lone_cr(text.as_bytes());
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end = if lone_cr {
            line_end_any(text.as_bytes(), line_start)
        } else {
            find_newline(&text.as_bytes()[line_start..]).map_or(text.len(), |i| line_start + i + 1)
        };
        split.line(&text[line_start..line_end], line_start, line_end);
        line_start = line_end;
    }
    split.finish(text.len())
}

/// The state of [`split_documents`] between lines.
#[derive(Default)]
struct Split {
    slices: Vec<DocumentSlice>,
    /// Where the current stretch starts.
    start: usize,
    /// The stretch holds content: it is a document.
    content: bool,
    /// The stretch holds a `---` marker: a second one ends an empty document.
    marker: bool,
    /// The stretch holds a directive line (or a `%` line after its marker).
    directive: bool,
}

impl Split {
    fn line(&mut self, line: &str, line_start: usize, line_end: usize) {
        let body = line.strip_prefix('\u{feff}').unwrap_or(line);
        // Only a line's first byte decides whether it needs a closer look.
        match body.as_bytes().first() {
            Some(b'-') if is_marker(body, "---") => {
                if self.content {
                    self.push(line_start, true);
                } else if self.marker {
                    // The stretch so far is an empty document.
                    self.push(line_start, false);
                }
                // Otherwise only comments and directives came before: they belong to this
                // document.
                self.marker = true;
                // A marker followed by content on its own line (`--- {a: 1}`) starts content.
                self.content = !is_blank_or_comment(&body[3..]);
            }
            Some(b'.') if is_marker(body, "...") => {
                self.push(line_end, self.content);
            }
            Some(b'%') if !self.content => self.directive = true,
            _ if !self.content => self.content = !is_blank_or_comment(body),
            _ => {}
        }
    }

    /// Ends the current stretch at `end`: a document, or an empty one kept if it holds a
    /// directive; the next stretch starts at `end`.
    fn push(&mut self, end: usize, document: bool) {
        if document || self.directive {
            self.slices.push(DocumentSlice {
                start: self.start,
                end,
                document,
            });
        }
        self.start = end;
        self.content = false;
        self.marker = false;
        self.directive = false;
    }

    fn finish(mut self, len: usize) -> Vec<DocumentSlice> {
        self.push(len, self.content);
        self.slices
    }
}

/// Whether a line break is a lone `\r`, which only the slower line scan understands.
fn has_lone_cr(bytes: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == b'\r') {
        let at = from + at;
        if bytes.get(at + 1) != Some(&b'\n') {
            return true;
        }
        from = at + 1;
    }
    false
}

/// One past the end of the line starting at `from`, its break (`\n`, `\r\n`, `\r`) included.
pub(crate) fn line_end_any(bytes: &[u8], from: usize) -> usize {
    match bytes[from..].iter().position(|&b| b == b'\n' || b == b'\r') {
        None => bytes.len(),
        Some(at) if bytes[from + at] == b'\r' && bytes.get(from + at + 1) == Some(&b'\n') => {
            from + at + 2
        }
        Some(at) => from + at + 1,
    }
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        split_documents(text)
            .into_iter()
            .filter(|s| s.document)
            .map(|s| &text[s.start..s.end])
            .collect()
    }

    #[test]
    fn splits_at_markers_and_drops_empty_documents() {
        let text = "# head\n---\na: 1\n---\n# only a comment\n---\nb: 2\n---\n";
        assert_eq!(texts(text), ["# head\n---\na: 1\n", "---\nb: 2\n"]);
    }

    #[test]
    fn a_document_without_markers_is_one_document() {
        assert_eq!(texts("a: 1\nb: |\n  ---x\n"), ["a: 1\nb: |\n  ---x\n"]);
    }

    #[test]
    fn document_end_marker_closes_a_document() {
        assert_eq!(texts("a: 1\n...\nb: 2\n"), ["a: 1\n...\n", "b: 2\n"]);
    }

    #[test]
    fn content_on_the_marker_line_counts() {
        assert_eq!(texts("--- {a: 1}\n--- b\n"), ["--- {a: 1}\n", "--- b\n"]);
    }

    #[test]
    fn three_dashes_inside_a_word_are_not_a_marker() {
        assert_eq!(texts("a: 1\n---b: 2\n"), ["a: 1\n---b: 2\n"]);
    }

    /// An empty document is a stretch of its own: the next one must not reach the parser
    /// as a second document of the same text.
    #[test]
    fn an_empty_document_ends_at_the_next_marker() {
        assert_eq!(texts("---\n---\n{a: 1}\n"), ["---\n{a: 1}\n"]);
        assert_eq!(texts("---\n# c\n---\n|\n  x\n"), ["---\n|\n  x\n"]);
    }

    #[test]
    fn empty_documents_with_directives_are_kept_for_checking_only() {
        let text = "%YAML 1.2\n---\n%YAML 1.2\n---\na: 1\n%YAML 1.2\n";
        let slices = split_documents(text);
        let kinds: Vec<_> = slices
            .iter()
            .map(|s| (&text[s.start..s.end], s.document))
            .collect();
        assert_eq!(
            kinds,
            [
                ("%YAML 1.2\n---\n%YAML 1.2\n", false),
                ("---\na: 1\n%YAML 1.2\n", true),
            ]
        );
        let slices = split_documents("%YAML 1.2\n...\n");
        assert_eq!(slices.len(), 1);
        assert!(!slices[0].document);
    }

    #[test]
    fn a_byte_order_mark_may_start_a_directive_or_a_marker() {
        assert_eq!(
            texts("\u{feff}%YAML 1.2\n---\na: 1\n\u{feff}---\nb: 2\n"),
            ["\u{feff}%YAML 1.2\n---\na: 1\n", "\u{feff}---\nb: 2\n"]
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        assert_eq!(texts("a: 1\r---\rb: 2\r"), ["a: 1\r", "---\rb: 2\r"]);
        assert_eq!(
            texts("a: 1\r\n---\r\nb: 2\r\n"),
            ["a: 1\r\n", "---\r\nb: 2\r\n"]
        );
    }
}
