//! Findings for people: miette's graphical report with the source snippet, a caret under the
//! span and `file:line:col`.
//!
//! Secret values must not reach the terminal even when a finding points at one, so the snippet
//! is cut from a masked copy of the file: every secret value's span is replaced by
//! [`MASK`] (a fixed text, so that not even the value's length shows) and label offsets are
//! moved to match. A value that spans lines (a block scalar) keeps its line breaks, so that the
//! line numbers of the snippet stay those of the file.

use std::fmt::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::source::{SourceId, SourceMap, Span};

/// What a masked secret value reads as in a snippet.
pub const MASK: &str = "<redacted>";

/// How the report looks.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Renders every finding; `redactions` are the spans of secret values.
#[must_use]
pub fn render(
    diagnostics: &Diagnostics,
    sources: &SourceMap,
    redactions: &[Span],
    style: Style,
) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut masked: Vec<Option<MaskedFile>> = (0..sources.len()).map(|_| None).collect();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let id = diagnostic.primary.span.source;
        let file =
            masked[id.0 as usize].get_or_insert_with(|| MaskedFile::new(sources, id, redactions));
        let report = Report::new(diagnostic, sources, file);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&report.message);
            out.push('\n');
        }
    }
    out
}

/// A file's text with secret values masked, and the offset map back from the original.
struct MaskedFile {
    name: String,
    /// (original start, original end, masked start, masked end), sorted and non-overlapping.
    regions: Vec<(u32, u32, u32, u32)>,
    text: String,
    /// Whether the file might hold unparsed secrets (see [`Report::new`]).
    mentions_secrets: bool,
    /// The masked starts of the regions that are a tab shown as [`TAB`], not a masked value.
    tabs: Vec<u32>,
}

/// How a tab reads in a snippet: miette would expand it to spaces, which hides the very
/// character a "found a tab" finding is about (issue #13).
const TAB: &str = "→";

impl MaskedFile {
    fn new(sources: &SourceMap, id: SourceId, redactions: &[Span]) -> Self {
        let file = sources.get(id);
        let original = file.text();
        let mut spans: Vec<Span> = redactions
            .iter()
            .filter(|s| s.source == id && !s.is_empty())
            .copied()
            .collect();
        spans.sort();
        let mut text = String::with_capacity(original.len());
        let mut regions = Vec::with_capacity(spans.len());
        let mut copied = 0usize;
        let mut tabs = Vec::new();
        for span in spans {
            let (start, end) = (span.start as usize, span.end as usize);
            if start < copied || end > original.len() {
                continue;
            }
            push_visible(original, copied..start, &mut text, &mut regions, &mut tabs);
            let masked_start = u32::try_from(text.len()).unwrap_or(u32::MAX);
            text.push_str(MASK);
            let covered = &original[start..end];
            text.extend(std::iter::repeat_n('\n', covered.matches('\n').count()));
            // A block scalar's span runs into the next line's indentation: keep it, so that
            // columns on that line stay right too.
            if let Some(at) = covered.rfind('\n')
                && covered[at + 1..].trim().is_empty()
            {
                text.push_str(&covered[at + 1..]);
            }
            let masked_end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            regions.push((span.start, span.end, masked_start, masked_end));
            copied = end;
        }
        push_visible(
            original,
            copied..original.len(),
            &mut text,
            &mut regions,
            &mut tabs,
        );
        Self {
            mentions_secrets: original.contains("secret"),
            name: file.name().to_owned(),
            regions,
            text,
            tabs,
        }
    }

    /// Where an original offset lands in the masked text; inside a masked value, its start.
    fn map(&self, offset: u32) -> u32 {
        let mut shift: i64 = 0;
        for &(start, end, masked_start, masked_end) in &self.regions {
            if offset < start {
                break;
            }
            if offset < end {
                return masked_start;
            }
            shift = i64::from(masked_end) - i64::from(end);
        }
        u32::try_from(i64::from(offset) + shift).unwrap_or(offset)
    }

    fn source_span(&self, span: Span) -> SourceSpan {
        let start = self.map(span.start);
        let end = if span.is_empty() {
            start
        } else {
            self.map(span.end - 1) + 1
        };
        let end = self.widen_to_mask(start, end);
        SourceSpan::from((start as usize, (end - start) as usize))
    }

    /// A span that starts on a masked value covers the whole mask.
    fn widen_to_mask(&self, start: u32, end: u32) -> u32 {
        self.regions
            .iter()
            .find(|&&(_, _, masked_start, _)| masked_start == start && !self.tabs.contains(&start))
            .map_or(end, |_| {
                end.max(start + u32::try_from(MASK.len()).unwrap_or(0))
            })
    }
}

/// Copies `original[range]` to `text`, each tab as [`TAB`] (a region of its own, so that
/// offsets after it still map).
fn push_visible(
    original: &str,
    range: std::ops::Range<usize>,
    text: &mut String,
    regions: &mut Vec<(u32, u32, u32, u32)>,
    tabs: &mut Vec<u32>,
) {
    let offset = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut from = range.start;
    for (i, _) in original[range.clone()].match_indices('\t') {
        let at = range.start + i;
        text.push_str(&original[from..at]);
        let masked_start = offset(text.len());
        text.push_str(TAB);
        regions.push((offset(at), offset(at + 1), masked_start, offset(text.len())));
        tabs.push(masked_start);
        from = at + 1;
    }
    text.push_str(&original[from..range.end]);
}

/// One finding as miette wants it.
struct Report {
    code: &'static str,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    message: String,
    severity: Severity,
    source: Option<NamedSource<String>>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap, file: &MaskedFile) -> Self {
        let mut message = diagnostic.message.clone();
        // A document that is not valid YAML was never decoded, so its secret values are not
        // known and cannot be masked: show its position, not its text.
        let show_source = !(diagnostic.code == Code::YamlSyntax && file.mentions_secrets);
        let mut labels = Vec::new();
        if show_source {
            labels.push(LabeledSpan::new_primary_with_span(
                diagnostic.primary.message.clone(),
                file.source_span(diagnostic.primary.span),
            ));
            for label in &diagnostic.secondary {
                if label.span.source == diagnostic.primary.span.source {
                    labels.push(LabeledSpan::new_with_span(
                        label.message.clone(),
                        file.source_span(label.span),
                    ));
                } else {
                    let other = sources.get(label.span.source);
                    let at = other.position(label.span.start);
                    let note = label.message.as_deref().unwrap_or("see");
                    let _ = write!(
                        message,
                        "\n  {note}: {}:{}:{}",
                        other.name(),
                        at.line,
                        at.column
                    );
                }
            }
        } else {
            let at = sources
                .get(diagnostic.primary.span.source)
                .position(diagnostic.primary.span.start);
            let _ = write!(message, "\n  at {}:{}:{}", file.name, at.line, at.column);
        }
        Self {
            code: diagnostic.code.as_str(),
            help: diagnostic.help.clone(),
            labels,
            message,
            severity: diagnostic.severity,
            source: show_source.then(|| NamedSource::new(file.name.clone(), file.text.clone())),
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MASK, MaskedFile};
    use crate::source::{SourceMap, Span};

    /// A multi-line secret (a block scalar, whose span runs into the next line's indentation)
    /// keeps its line breaks and that indentation, so that later lines keep their numbers and
    /// columns.
    #[test]
    fn masking_keeps_lines_and_columns() {
        let text = "data:\n  k: |\n    s1\n    s2\n  n: 1\n";
        let mut sources = SourceMap::new();
        let id = sources.add("f.yaml", text);
        let start = u32::try_from(text.find("s1").unwrap()).unwrap();
        let next = u32::try_from(text.find("n:").unwrap()).unwrap();
        let file = MaskedFile::new(&sources, id, &[Span::new(id, start, next)]);
        assert_eq!(file.text, format!("data:\n  k: |\n    {MASK}\n\n  n: 1\n"));
        assert_eq!(&file.text[file.map(next) as usize..], "n: 1\n");
        assert_eq!(file.map(start + 1), file.map(start));
    }
}
