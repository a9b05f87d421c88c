//! `rune seal`'s repository recipients. The sealed-value primitives are [`crate::secrets`], the
//! byte-preserving rewriter [`crate::edit::seal_in_place`].

pub mod recipients;
