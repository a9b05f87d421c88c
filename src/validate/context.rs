//! What decoding one document needs: where it came from, the defaults in force, and where its
//! findings go.

use std::path::Path;

use crate::diag::{Code, Diagnostic};
use crate::fs::confine::FileRoots;
use crate::parse::node::{Node, Value};
use crate::resource::Spanned;
use crate::source::{SourceId, Span};
use crate::validate::fields::{Seen, duplicate_key};
use crate::validate::options::Options;

/// The state of decoding one document.
pub struct DocContext<'a> {
    pub diagnostics: Vec<Diagnostic>,
    pub document: usize,
    pub options: &'a Options,
    /// Spans of secret values: the human renderer masks them in snippets.
    pub redactions: Vec<Span>,
    /// The directory `file:` entries are relative to (`None` for stdin: the working directory).
    pub base_dir: Option<&'a Path>,
    /// Where `file:` entries may lead (SPEC §2.3).
    pub file_roots: &'a FileRoots,
    pub source: SourceId,
    /// The file's text, to map spans inside scalars.
    pub text: &'a str,
}

impl DocContext<'_> {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The source text under a span.
    pub fn source_text(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// A mapping key as text; collections used as keys are reported and skipped. (The parser
    /// already turned plain scalar keys such as `8080:` into their text.)
    pub fn key_text<'n>(&mut self, key: &'n Node) -> Option<&'n str> {
        if let Value::String(s) = &key.value {
            return Some(s);
        }
        self.push(
            Diagnostic::new(Code::FieldType, key.span, "mapping keys must be strings")
                .label(format!("{} used as a key", key.value.type_name())),
        );
        None
    }

    /// A string field. A number, boolean or null gets the "quote it" hint.
    pub fn string(&mut self, node: &Node, field: &str) -> Option<Spanned<String>> {
        if let Value::String(s) = &node.value {
            return Some(Spanned::new(s.clone(), node.span));
        }
        let found = node.value.type_name();
        let mut diagnostic = Diagnostic::new(
            Code::FieldType,
            node.span,
            format!("`{field}` must be a string, found {found}"),
        )
        .label(format!("YAML reads this as {found}"));
        if node.value.is_unquoted_scalar() {
            let written = self.source_text(node.span).trim().to_owned();
            diagnostic = diagnostic.help(format!("quote it to make it a string: `\"{written}\"`"));
        }
        self.push(diagnostic);
        None
    }

    pub fn bool(&mut self, node: &Node, field: &str) -> Option<bool> {
        if let Value::Bool(b) = node.value {
            return Some(b);
        }
        self.push(
            Diagnostic::new(
                Code::FieldType,
                node.span,
                format!(
                    "`{field}` must be `true` or `false`, found {}",
                    node.value.type_name()
                ),
            )
            .label("not a boolean"),
        );
        None
    }

    /// An integer field within `range`.
    pub fn integer(
        &mut self,
        node: &Node,
        field: &str,
        range: std::ops::RangeInclusive<i128>,
    ) -> Option<i128> {
        let Value::Int(n) = node.value else {
            self.push(
                Diagnostic::new(
                    Code::FieldType,
                    node.span,
                    format!(
                        "`{field}` must be a whole number, found {}",
                        node.value.type_name()
                    ),
                )
                .label("not a whole number"),
            );
            return None;
        };
        if let Some(problem) = super::rules::in_range(field, n, &range) {
            self.push(problem.at(node.span));
            return None;
        }
        Some(n)
    }

    /// The items of a list field.
    pub fn list<'n>(&mut self, node: &'n Node, field: &str) -> &'n [Node] {
        if let Value::Seq(items) = &node.value {
            return items;
        }
        self.push(
            Diagnostic::new(
                Code::FieldType,
                node.span,
                format!("`{field}` must be a list, found {}", node.value.type_name()),
            )
            .label("expected a list"),
        );
        &[]
    }

    /// A map of string to string (`labels`, `parameters`, `env`), with key spans.
    pub fn string_map(
        &mut self,
        node: &Node,
        field: &str,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        let Value::Map(map) = &node.value else {
            self.push(
                Diagnostic::new(
                    Code::FieldType,
                    node.span,
                    format!(
                        "`{field}` must be a mapping, found {}",
                        node.value.type_name()
                    ),
                )
                .label("expected a mapping"),
            );
            return Vec::new();
        };
        let mut seen = Seen::with_capacity(map.len());
        let mut out = Vec::with_capacity(map.len());
        for (key, value) in map {
            let Some(name) = self.key_text(key) else {
                continue;
            };
            if let Some(first) = seen.first(name, key.span) {
                let diagnostic = duplicate_key(name, key.span, first);
                self.push(diagnostic);
                continue;
            }
            if let Value::String(s) = &value.value {
                out.push((
                    Spanned::new(name.to_owned(), key.span),
                    Spanned::new(s.clone(), value.span),
                ));
            } else {
                // Not a string: `string` reports it, naming the field.
                let _ = self.string(value, &format!("{field}.{name}"));
            }
        }
        out
    }

    /// A DNS-1123 name field (a resource name, a namespace, a reference).
    pub fn dns_name(&mut self, node: &Node, field: &str, what: &str) -> Option<Spanned<String>> {
        let name = self.string(node, field)?;
        self.check_dns_name(&name, what);
        Some(name)
    }

    /// Reports a name that is not a DNS-1123 label; `what` says whose name it is.
    pub fn check_dns_name(&mut self, name: &Spanned<String>, what: &str) -> bool {
        let Some(problem) = super::rules::name(what, &name.value) else {
            return true;
        };
        self.push(problem.at(name.span));
        false
    }
}
