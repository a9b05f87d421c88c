//! Edits of runefiles that keep every byte outside the edit as it was: comments, order, blank
//! lines, quoting, other documents, line breaks.
//!
//! In: a runefile as parsed and validated (node trees for spans, resources for meaning). Out: the
//! new text, checked by parsing and validating it again before anyone writes it. Writing the
//! file is the caller's (through [`crate::fs`]); nothing here touches the disk.

pub mod seal_in_place;
