//! What the parser accepts: serde-saphyr's options and budget, and the shortcuts' limits under it.
//!
//! In: nothing. Out: [`parser_options`] for serde-saphyr (and, through it, for granit-parser on
//! the events path), and [`MAX_BYTES`] and [`MAX_DEPTH`], past which the shortcut paths leave a
//! document to serde-saphyr. Both shortcuts read these from here, so that neither imports the
//! other. Changing a value here changes what rune accepts: every path must keep agreeing.

/// Larger documents go to serde-saphyr, whose budget (node and event counts) they might exceed.
pub(super) const MAX_BYTES: usize = 256 * 1024;

/// Deeper nesting goes to serde-saphyr, which enforces the depth budget.
pub(super) const MAX_DEPTH: usize = 48;

pub(super) fn parser_options() -> serde_saphyr::Options {
    // Each call sees exactly one document (the reader splits files), so the stream budget is
    // the per-document budget: generous for real runefiles, finite against alias bombs.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 64,
            max_nodes: 1_000_000,
            max_aliases: 10_000,
            max_total_scalar_bytes: 64 * 1024 * 1024,
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
