//! `rune seal`'s file work: the byte-preserving rewriter and the repository's recipients. The
//! sealed-value primitives are [`crate::secrets`].

pub mod recipients;
pub mod rewrite;
