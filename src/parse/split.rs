//! Splits a YAML stream into its documents without parsing them.
//!
//! A line that starts with `---` or `...` (followed by a blank or the end of the line) at column 0
//! is a document marker wherever it stands: YAML forbids it inside block and quoted scalars, so a
//! textual split agrees with the parser. Splitting first lets each document fail on its own (one
//! syntax error does not hide the findings in the next document) and lets large files be parsed
//! in parallel.

use crate::source::find_newline;

/// One document's slice of a file.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct DocumentSlice {
    /// Byte offset of the slice in the file.
    pub start: usize,
    /// Byte offset one past the slice's end.
    pub end: usize,
}

/// The documents of a stream, in order; stretches holding only blanks, comments and directives
/// are not documents (a trailing `---` does not make an empty resource).
#[must_use]
pub fn split_documents(text: &str) -> Vec<DocumentSlice> {
    let mut slices = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end =
            find_newline(&text.as_bytes()[line_start..]).map_or(text.len(), |i| line_start + i + 1);
        let line = &text[line_start..line_end];
        // Only a line's first byte decides whether it needs a closer look.
        match line.as_bytes()[0] {
            b'-' if is_marker(line, "---") => {
                if has_content {
                    slices.push(DocumentSlice {
                        start,
                        end: line_start,
                    });
                    start = line_start;
                }
                // A marker followed by content on its own line (`--- {a: 1}`) starts content.
                has_content = !is_blank_or_comment(&line[3..]);
            }
            b'.' if is_marker(line, "...") => {
                if has_content {
                    slices.push(DocumentSlice {
                        start,
                        end: line_end,
                    });
                }
                start = line_end;
                has_content = false;
            }
            b'%' => {}
            _ if !has_content => has_content = !is_blank_or_comment(line),
            _ => {}
        }
        line_start = line_end;
    }
    if has_content {
        slices.push(DocumentSlice {
            start,
            end: text.len(),
        });
    }
    slices
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
            .map(|s| &text[s.start..s.end])
            .collect()
    }

    #[test]
    fn splits_at_markers_and_drops_empty_documents() {
        let text = "# head\n---\na: 1\n---\n# only a comment\n---\nb: 2\n---\n";
        assert_eq!(
            texts(text),
            ["# head\n---\na: 1\n", "---\n# only a comment\n---\nb: 2\n"]
        );
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
}
