//! Syntax errors made readable (issue #13): the parser reports a tab at the end of the line
//! before it (where its scanner stood), so the finding is moved onto the tab itself; and a tab
//! or indentation error gets a help line, since the parser's own words ("mapping values are
//! not allowed in this context") do not say what to change.
//!
//! In: a [`SyntaxError`] and its document's text. Out: the error at the right place, and the
//! help text to show. Only the error-reporting layer: parsing itself is untouched.

use crate::parse::node::SyntaxError;
use crate::source::Span;

const TAB_HELP: &str = "YAML does not allow tabs for indentation: use spaces";
const INDENT_HELP: &str = "check the indentation: use spaces, and indent each key of a mapping exactly as far as the keys beside it";

/// The error at its place in `text` (the document that starts at `base` in its file), and its
/// help line.
#[must_use]
pub fn explain(mut error: SyntaxError, text: &str, base: u32) -> (SyntaxError, Option<String>) {
    let message = error.message.to_ascii_lowercase();
    if message.contains("tab") {
        if let Some(tab) = tab_after(text, error.span.start.saturating_sub(base) as usize) {
            let at = base.saturating_add(u32::try_from(tab).unwrap_or(u32::MAX));
            error.span = Span::new(error.span.source, at, at.saturating_add(1));
        }
        return (error, Some(TAB_HELP.to_owned()));
    }
    let indentation = [
        "indent",
        "mapping values are not allowed",
        "did not find expected",
        "block sequence entries are not allowed",
    ];
    let help = indentation
        .iter()
        .any(|m| message.contains(m))
        .then(|| INDENT_HELP.to_owned());
    (error, help)
}

/// The first tab at or after `offset`, at most on the line after the one `offset` is on: the
/// parser stops at the end of the line before the tab that it complains about.
fn tab_after(text: &str, offset: usize) -> Option<usize> {
    let rest = text.get(offset..)?;
    let mut lines = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '\t' => return Some(offset + i),
            '\n' if lines == 1 => return None,
            '\n' => lines += 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::explain;
    use crate::parse::node::SyntaxError;
    use crate::source::{SourceId, Span};

    fn error(message: &str, at: u32) -> SyntaxError {
        SyntaxError {
            message: message.to_owned(),
            span: Span::new(SourceId(0), at, at),
        }
    }

    /// A tab reported at the end of the line before moves onto the tab, with a help line.
    #[test]
    fn a_tab_is_reported_where_it_is() {
        let text = "secret:\n  name: db\n\tnamespace: x\n";
        let (moved, help) = explain(error("found a tab", 118), text, 100);
        assert_eq!((moved.span.start, moved.span.end), (119, 120));
        assert!(help.is_some_and(|h| h.contains("use spaces")));
        let (other, help) = explain(
            error("mapping values are not allowed in this context", 5),
            text,
            0,
        );
        assert_eq!(other.span.start, 5);
        assert!(help.is_some_and(|h| h.contains("indentation")));
        assert!(explain(error("unexpected end", 5), text, 0).1.is_none());
    }
}
