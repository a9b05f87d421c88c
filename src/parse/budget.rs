//! What the parser accepts: serde-saphyr's options, the budget of a whole invocation, and the
//! shortcuts' limits under it.
//!
//! In: nothing. Out: [`parser_options`] for serde-saphyr (and, through it, for granit-parser on
//! the events path), and [`MAX_BYTES`] and [`MAX_DEPTH`], past which the shortcut paths leave a
//! document to serde-saphyr. Both shortcuts read these from here, so that neither imports the
//! other. Changing a value here changes what rune accepts: every path must keep agreeing.
//! The limits are documented in `docs/parse-budget.md`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Larger documents go to serde-saphyr, whose budget (node and event counts) they might exceed.
pub(super) const MAX_BYTES: usize = 256 * 1024;

/// Deeper nesting goes to serde-saphyr, which enforces the depth budget.
pub(super) const MAX_DEPTH: usize = 48;

/// The budget of one invocation (SPEC §2.3: bounded for the whole run, not per document):
/// every document and file one `rune` command parses draws from it. Input bytes and documents
/// are counted before parsing; the nodes and scalar bytes of the documents serde-saphyr builds
/// (those with anchors, aliases, tags, or over [`MAX_BYTES`]: where an alias can expand) are
/// drawn as each is built, and each such document may use only what is left. The shortcut
/// paths build one node per written node, so the input bytes bound them.
#[derive(Debug)]
pub struct Invocation {
    nodes: AtomicUsize,
    scalar_bytes: AtomicUsize,
}

/// Input bytes of one invocation, all files together.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024 * 1024;
/// YAML documents of one invocation, all files together.
pub const MAX_DOCUMENTS: usize = 10_000_000;
/// Nodes serde-saphyr built in one invocation beyond a node per byte written (what alias
/// expansions added), and at most [`MAX_DOCUMENT_NODES`] nodes in one document.
pub const MAX_EXPANDED_NODES: usize = 1_000_000;
pub const MAX_DOCUMENT_NODES: usize = 500_000;
/// Scalar bytes serde-saphyr built in one invocation beyond the bytes written (what alias
/// expansions added), and at most
/// [`MAX_DOCUMENT_SCALAR_BYTES`] in one document.
pub const MAX_EXPANDED_SCALAR_BYTES: usize = 64 * 1024 * 1024;
pub const MAX_DOCUMENT_SCALAR_BYTES: usize = 16 * 1024 * 1024;

impl Default for Invocation {
    fn default() -> Self {
        Self {
            nodes: AtomicUsize::new(MAX_EXPANDED_NODES),
            scalar_bytes: AtomicUsize::new(MAX_EXPANDED_SCALAR_BYTES),
        }
    }
}

impl Invocation {
    /// What one more document, `written` bytes long, may build: its own size plus what is left
    /// of the run's budget for expansion, at most the per-document budget. `None` once the run's
    /// budget is spent.
    pub(super) fn allowance(&self, written: usize) -> Option<(usize, usize)> {
        let left_nodes = self.nodes.load(Ordering::Relaxed);
        let left_bytes = self.scalar_bytes.load(Ordering::Relaxed);
        (left_nodes > 0 && left_bytes > 0).then(|| {
            (
                left_nodes.saturating_add(written).min(MAX_DOCUMENT_NODES),
                left_bytes
                    .saturating_add(written)
                    .min(MAX_DOCUMENT_SCALAR_BYTES),
            )
        })
    }

    /// Draws what a document `written` bytes long built beyond that size. Without aliases a
    /// document builds at most a node and a scalar byte per byte written, so only what aliases
    /// expanded is drawn: a million small anchored documents are not a bomb; sixteen small
    /// bombs are.
    pub(super) fn draw_expansion(&self, nodes: usize, scalar_bytes: usize, written: usize) {
        self.draw(
            nodes.saturating_sub(written),
            scalar_bytes.saturating_sub(written),
        );
    }

    /// Draws what a built document used. Documents build in parallel, so two may each have
    /// been allowed what is left: the overshoot is at most one document's budget per thread.
    pub(super) fn draw(&self, nodes: usize, scalar_bytes: usize) {
        let take = |counter: &AtomicUsize, n: usize| {
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(n))
            });
        };
        take(&self.nodes, nodes);
        take(&self.scalar_bytes, scalar_bytes);
    }
}

/// The message of a document refused because the invocation's budget is spent.
pub(super) const SPENT: &str = "the parse budget of this run is spent: the documents before this one expanded (through aliases) to more than 1,000,000 nodes or 64 MiB of text in all; rune stops here rather than exhaust memory";

pub(super) fn parser_options(nodes: usize, scalar_bytes: usize) -> serde_saphyr::Options {
    // Each call sees exactly one document (the reader splits files), with what is left of the
    // invocation's budget: generous for real runefiles, finite against alias bombs however
    // many documents and files carry them.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 64,
            max_nodes: nodes,
            max_aliases: 10_000,
            max_total_scalar_bytes: scalar_bytes,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        // YAML 1.2 core: `yes`, `on` and `y` stay strings, as the user wrote them.
        strict_booleans: true,
        // YAML 1.2 core has no `_` in numbers: `1_000` is the text the user wrote.
        underscored_numbers_as_strings: true,
        // `.inf` and `.nan` are floats in YAML 1.2 core; the validator then says "quote it"
        // where a string belongs, instead of a syntax error.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        // Continuation lines and flow entries must be indented past their block collection,
        // as YAML requires (the lenient default accepted three invalid suite cases).
        strict_indentation: true,
        // `!!binary` scalars reach `conform` as their base64 text, which decodes them: bytes
        // that are not UTF-8 are then a value of the wrong type, not a syntax error.
        ignore_binary_tag_for_string: true,
    }
}

#[cfg(test)]
mod tests {
    use super::{Invocation, MAX_DOCUMENT_NODES, MAX_DOCUMENT_SCALAR_BYTES, MAX_EXPANDED_NODES};

    /// Each document may use the per-document budget or what is left, whichever is less; once
    /// the run's budget is drawn, no document is allowed anything.
    #[test]
    fn the_budget_is_shared_by_the_whole_run() {
        let run = Invocation::default();
        assert_eq!(
            run.allowance(0),
            Some((MAX_DOCUMENT_NODES, MAX_DOCUMENT_SCALAR_BYTES))
        );
        run.draw(MAX_EXPANDED_NODES - 10, 0);
        assert_eq!(run.allowance(0), Some((10, MAX_DOCUMENT_SCALAR_BYTES)));
        run.draw(MAX_DOCUMENT_NODES, 0);
        assert_eq!(run.allowance(0), None);
    }
}
