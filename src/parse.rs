//! Stage 1: command-line paths → source texts → YAML documents with spans.
//!
//! In: paths. Out: a [`Loaded`] set of documents, each a [`Node`] tree whose spans point into the
//! [`SourceMap`], plus syntax findings. Every document of a multi-document file counts (upstream
//! silently dropped all but the first). Nothing here knows what a resource is.
//!
//! [`input`] turns paths into texts and [`split`] a text into documents; [`parse_document`] then
//! dispatches each document to the first of three paths that takes it. serde-saphyr does the
//! YAML work, but building the tree through serde is slow, so two shortcuts come first, each of
//! which declines what it cannot read exactly as serde-saphyr would: a line reader for the plain
//! block style (`block`), then a builder over granit-parser's events (`events`); the general
//! path (`saphyr`) takes the rest. The shortcuts share the scalar resolution (`scalar`) and
//! their limits (`budget`); all three build the types of [`node`]. The tests in `tests.rs`
//! check that all paths agree, spans included. Where the parser underneath departs from
//! YAML 1.2, `conform` corrects the trees of the last two paths (the line reader takes none of
//! the shapes concerned, or reads them right itself); `tests/yaml_suite.rs` runs the official YAML test suite.

mod block;
mod block_alias;
mod block_scalar;
mod budget;
mod conform;
mod events;
mod flow_line;
pub mod input;
pub mod node;
mod saphyr;
mod scalar;
pub mod split;
mod syntax_help;
#[cfg(test)]
mod tests;

use crate::diag::{Code, Diagnostic};
use crate::parse::node::Anchor;
use crate::source::{SourceId, SourceMap};

pub use input::{InputError, InputFile};
pub use node::Node;
pub use node::SyntaxError;

/// One parsed YAML document.
#[derive(Debug)]
pub struct Document {
    /// 0-based position of the document in its file.
    pub index: usize,
    pub root: Node,
    pub source: SourceId,
}

/// Everything read for one run.
#[derive(Debug, Default)]
pub struct Loaded {
    pub diagnostics: Vec<Diagnostic>,
    /// All documents that parsed, in file and document order.
    pub documents: Vec<Document>,
    /// How many documents the files hold, including those that failed to parse.
    pub document_count: usize,
    pub files: Vec<InputFile>,
    /// Documents split off their files but not parsed yet: [`read`] leaves them for
    /// validation to parse one at a time, so that no tree outlives its own validation.
    pub pending: Vec<Pending>,
    pub sources: SourceMap,
    /// What parsing may still build in this invocation, over every file and document.
    pub budget: budget::Invocation,
}

/// One stretch of a file to parse: a document (its 0-based `index` in the file) or a stretch
/// of directives that is no document (`index` is `None`), parsed for its syntax only.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub index: Option<usize>,
    pub slice: split::DocumentSlice,
    pub source: SourceId,
}

/// Reads and parses every runefile the arguments name.
///
/// # Errors
/// An [`InputError`] for a path that names nothing or cannot be read.
pub fn load(args: &[String], recursive: bool) -> Result<Loaded, InputError> {
    let mut loaded = read(args, recursive)?;
    parse_sources(&mut loaded);
    Ok(loaded)
}

/// [`load`] without the parsing: the documents are left [`Loaded::pending`], for
/// [`crate::validate::validate`] to parse each where it validates it. At a million documents
/// the trees of all of them at once would be several times the size of the input.
///
/// # Errors
/// An [`InputError`] for a path that names nothing or cannot be read.
pub fn read(args: &[String], recursive: bool) -> Result<Loaded, InputError> {
    let mut loaded = Loaded::default();
    loaded.files = input::read_all(
        args,
        recursive,
        &mut loaded.sources,
        &mut loaded.diagnostics,
    )?;
    split_sources(&mut loaded);
    Ok(loaded)
}

/// Parses in-memory texts (for tests, benchmarks and `--staged`), named as given.
#[must_use]
pub fn load_texts(texts: impl IntoIterator<Item = (String, String)>) -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in texts {
        let source = loaded.sources.add(name.clone(), text);
        loaded.files.push(InputFile {
            path: Some(name.into()),
            source,
        });
    }
    split_sources(&mut loaded);
    parse_sources(&mut loaded);
    loaded
}

/// A runefile read from somewhere other than its path: the git index or a commit's tree.
#[derive(Clone, Debug)]
pub struct ReadFile {
    pub bytes: Vec<u8>,
    /// How findings name the file (its path relative to the repository root).
    pub name: String,
    /// Where the file would be in the working tree: its `file:` entries resolve next to it.
    pub path: std::path::PathBuf,
}

/// Parses runefiles read out of git (`rune lint --staged`, `rune cast --rev`). Bytes that are
/// not UTF-8 are reported as for files on disk.
#[must_use]
pub fn load_read(files: impl IntoIterator<Item = ReadFile>) -> Loaded {
    let mut loaded = read_git(files);
    parse_sources(&mut loaded);
    loaded
}

/// [`load_read`] without the parsing, as [`read`] is to [`load`].
#[must_use]
pub fn read_git(files: impl IntoIterator<Item = ReadFile>) -> Loaded {
    let mut loaded = Loaded::default();
    for file in files {
        let source = input::register(
            &mut loaded.sources,
            file.name,
            file.bytes,
            &mut loaded.diagnostics,
        );
        loaded.files.push(InputFile {
            path: Some(file.path),
            source,
        });
    }
    split_sources(&mut loaded);
    loaded
}

/// Parses one YAML document; `text` is the document's slice of the file, starting at `base`.
/// The first path that takes the document builds its tree: the line reader, the events path,
/// serde-saphyr.
///
/// # Errors
/// A [`SyntaxError`] when the text is not YAML or exceeds the parser's budget.
pub fn parse_document(text: &str, source: SourceId, base: u32) -> Result<Node, SyntaxError> {
    parse_within(text, source, base, &budget::Invocation::default())
}

/// [`parse_document`] drawing from the budget of the whole invocation.
fn parse_within(
    text: &str,
    source: SourceId,
    base: u32,
    budget: &budget::Invocation,
) -> Result<Node, SyntaxError> {
    let at = Anchor { base, source, text };
    if let Some(root) = block::parse(&at) {
        return Ok(root);
    }
    let root = match events::parse(&at) {
        Some(root) => root,
        None => saphyr::parse(&at, budget)?,
    };
    conform::document(root, &at)
}

/// Splits every file into the documents it holds, left [`Loaded::pending`].
fn split_sources(loaded: &mut Loaded) {
    let mut pending = Vec::new();
    for file in &loaded.files {
        let text = loaded.sources.get(file.source).text();
        let mut index = 0;
        for slice in split::split_documents(text) {
            // Stretches that are no document are parsed for their syntax only.
            let document = slice.document.then(|| {
                index += 1;
                index - 1
            });
            pending.push(Pending {
                index: document,
                slice,
                source: file.source,
            });
        }
    }
    loaded.document_count += pending.iter().filter(|p| p.index.is_some()).count();
    loaded.pending.extend(pending);
    if let Some(refusal) = over_budget(loaded) {
        loaded.diagnostics.push(refusal);
        loaded.pending.clear();
    }
}

/// Parses one pending stretch, drawing from the invocation's budget: its document (`None` for
/// a stretch that is no document), or its syntax or budget finding.
pub fn parse_pending(
    sources: &SourceMap,
    budget: &budget::Invocation,
    pending: &Pending,
) -> Result<Option<Document>, Diagnostic> {
    let Pending {
        index,
        slice,
        source,
    } = *pending;
    let text = &sources.get(source).text()[slice.start..slice.end];
    let base = u32::try_from(slice.start).unwrap_or(u32::MAX);
    match parse_within(text, source, base, budget) {
        Ok(root) => Ok(index.map(|index| Document {
            index,
            root,
            source,
        })),
        Err(error) if error.message == budget::SPENT => {
            Err(budget_diagnostic(error.span, error.message))
        }
        Err(error) if is_budget(&error) => Err(budget_diagnostic(
            error.span,
            format!(
                "this document is over the parse budget ({}); a document nests at most 64 levels, holds at most 10,000 aliases and builds at most {} nodes and {} MiB of text",
                error.message,
                budget::MAX_DOCUMENT_NODES,
                budget::MAX_DOCUMENT_SCALAR_BYTES >> 20
            ),
        )),
        Err(error) => {
            let (error, help) = syntax_help::explain(error, text, base);
            Err(Diagnostic::new(
                Code::YamlSyntax,
                error.span,
                format!("invalid YAML: {}", error.message),
            )
            .label("here")
            .maybe_help(help))
        }
    }
}

/// Parses every pending document, in parallel.
fn parse_sources(loaded: &mut Loaded) {
    let pending = std::mem::take(&mut loaded.pending);
    let sources = &loaded.sources;
    let budget = &loaded.budget;
    let parsed = crate::par::map(&pending, |p| parse_pending(sources, budget, p));
    loaded.documents.reserve(parsed.len());
    for result in parsed {
        match result {
            Ok(document) => loaded.documents.extend(document),
            Err(diagnostic) => loaded.diagnostics.push(diagnostic),
        }
    }
}

/// The run's input over the invocation's byte or document budget: one finding, at the start of
/// the first file past it, and nothing is parsed.
fn over_budget(loaded: &Loaded) -> Option<Diagnostic> {
    let mut bytes = 0usize;
    for file in &loaded.files {
        bytes = bytes.saturating_add(loaded.sources.get(file.source).text().len());
        if bytes > budget::MAX_INPUT_BYTES {
            return Some(budget_diagnostic(
                crate::source::Span::new(file.source, 0, 0),
                format!(
                    "the input of this run is larger than {} MiB in all; rune parses no more",
                    budget::MAX_INPUT_BYTES >> 20
                ),
            ));
        }
    }
    if loaded.document_count > budget::MAX_DOCUMENTS {
        let past = loaded
            .pending
            .iter()
            .filter(|p| p.index.is_some())
            .nth(budget::MAX_DOCUMENTS)?;
        let start = u32::try_from(past.slice.start).unwrap_or(u32::MAX);
        return Some(budget_diagnostic(
            crate::source::Span::new(past.source, start, start),
            format!(
                "this run has {} documents, more than {}; rune parses none of them",
                loaded.document_count,
                budget::MAX_DOCUMENTS
            ),
        ));
    }
    None
}

fn budget_diagnostic(span: crate::source::Span, message: String) -> Diagnostic {
    Diagnostic::new(Code::ParseBudget, span, message)
        .label("over the parse budget")
        .help("split the input over several runs; the limits are in docs/parse-budget.md")
}

/// serde-saphyr's refusal of a document over its budget (nodes, scalar bytes, aliases, depth).
pub(crate) fn is_budget(error: &SyntaxError) -> bool {
    error.message.to_ascii_lowercase().contains("budget")
}
