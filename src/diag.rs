//! One diagnostic model for every stage, and its renderers.
//!
//! In: findings from parsing and validation, each with a stable [`Code`], a severity, a message,
//! spans into the [`SourceMap`](crate::source::SourceMap) and a help text. Out: text for people
//! (miette, [`render::human`]) and JSON, SARIF or GitHub annotations for machines.
//! Must not happen here: printing a secret value. Messages are built without values, and the
//! human renderer masks secret scalars in the snippets it shows.

pub mod code;
pub mod render;

pub use code::Code;

use crate::source::Span;

/// How bad a finding is: errors fail the run (exit 6), warnings do not.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with an optional note shown beside it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Label {
    pub message: Option<String>,
    pub span: Span,
}

/// One finding.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub help: Option<String>,
    pub message: String,
    /// The span the finding is about; it decides the reported file, line and column.
    pub primary: Label,
    /// Other places that explain the finding (the first declaration of a duplicate, say).
    pub secondary: Vec<Label>,
    pub severity: Severity,
}

impl Diagnostic {
    /// A finding with the code's own severity.
    #[must_use]
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self {
            code,
            help: None,
            message: message.into(),
            primary: Label {
                message: None,
                span,
            },
            secondary: Vec::new(),
            severity: code.severity(),
        }
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Sets the note under the primary span's caret.
    #[must_use]
    pub fn label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = Some(message.into());
        self
    }

    #[must_use]
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            message: Some(message.into()),
            span,
        });
        self
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Findings collected across a whole run; nothing stops at the first one.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    #[must_use]
    pub fn errors(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    #[must_use]
    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Orders findings by file (in the order the files were read), then by position, so that
    /// one file's findings stay together and output is stable whatever the parallelism.
    pub fn sort(&mut self) {
        let order = |d: &Diagnostic| {
            (
                d.primary.span.source,
                d.primary.span.start,
                d.primary.span.end,
            )
        };
        self.items
            .sort_by(|a, b| (order(a), a.code, &a.message).cmp(&(order(b), b.code, &b.message)));
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    type Item = &'a Diagnostic;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.items.extend(iter);
    }
}
