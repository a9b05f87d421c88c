//! `rune lint --format github`: workflow commands that GitHub Actions shows as annotations on the
//! changed lines (`::error file=…,line=…,col=…::message`).

use std::fmt::Write;

use crate::diag::render::locate;
use crate::diag::{Diagnostics, Severity};
use crate::source::SourceMap;

#[must_use]
pub fn render(diagnostics: &Diagnostics, sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let at = locate(sources, d);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(at.file),
            at.start.line,
            at.start.column,
            at.end.line,
            at.end.column,
            d.code.as_str(),
            data(&message)
        );
    }
    out
}

/// Escapes a message the way the Actions runner unescapes it.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, which additionally ends at `,` and `:`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_the_runner_unescapes() {
        assert_eq!(super::data("50%\nnext"), "50%25%0Anext");
        assert_eq!(super::property("a,b:c"), "a%2Cb%3Ac");
    }
}
