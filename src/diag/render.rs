//! Renderers: the same findings for people and for machines.
//!
//! Machine formats are a contract (SPEC §3.2) described by `schemas/lint-output.schema.json`;
//! their positions are 1-based lines and columns (columns count characters) from the start of
//! the file. No renderer prints source text except the human one, which masks secret values.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use crate::diag::Diagnostic;
use crate::source::{Position, SourceMap};

/// How many files and documents a run looked at, for summaries.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Totals {
    pub documents: usize,
    pub files: usize,
    pub skipped: usize,
}

/// A diagnostic's primary location, resolved against its file.
pub(crate) struct Located<'a> {
    pub end: Position,
    pub file: &'a str,
    pub start: Position,
}

pub(crate) fn locate<'a>(sources: &'a SourceMap, diagnostic: &Diagnostic) -> Located<'a> {
    let span = diagnostic.primary.span;
    let file = sources.get(span.source);
    Located {
        end: file.position(span.end),
        file: file.name(),
        start: file.position(span.start),
    }
}
