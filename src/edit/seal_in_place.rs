//! `rune seal --in-place`: turning a runefile's plaintext secret entries into `sealed:` ones
//! while every other byte of the file stays as it was (comments, order, blank lines, quoting,
//! other documents, CRLF line breaks).
//!
//! In: a parsed and validated file (its node trees give the spans of the fields to replace; its
//! resources give each secret's resolved namespace and values). Out: the new text, checked by
//! [`Rewritten::verify`] before anyone writes it: parsed and validated again, it must declare
//! the same resources and keys, with exactly the expected entries sealed.
//!
//! Shapes: a list entry's `value:` (or, for one key, `sealed:`/`file:`) field is replaced by
//! `sealed: |` and the armor; a map-form `data:` becomes list form, entry by entry in place, so
//! comment lines between entries stay; flow collections get flow entries
//! (`{key: k, sealed: "…\n"}`). Skipped resources and configmaps are never touched.
//!
//! The parts: [`File`] finds a file's secrets and seals all its plaintext; [`Slot`] sets one key;
//! `reseal` lists the sealed entries and writes new armors into them (`rune seal --reseal`);
//! `splice` is the text surgery both use; `verify` is the safety net.
//!
//! Must not happen here: a value in an error or message.

mod file;
mod reseal;
mod slot;
mod splice;
mod verify;

use std::sync::Arc;

use crate::secrets::{Place, SealError};

pub use file::File;
pub use reseal::SealedEntry;
pub use slot::{Holds, Slot};

/// Why a file could not be rewritten. No variant carries a value.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("`{file}` declares no secret `{namespace}/{name}`")]
    NoSuchSecret {
        file: String,
        name: String,
        namespace: String,
    },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(
        "{file}:{line}: cannot rewrite {what} mechanically; edit that entry by hand \
         (`rune seal NAME KEY` prints one to paste)"
    )]
    Unsupported {
        file: String,
        line: u32,
        what: &'static str,
    },
    #[error(
        "`{file}`: the rewritten text would not declare the same resources and keys ({reason}), \
         so the file was left as it was; a YAML alias (`*name`) of a value being sealed is one \
         cause: seal that entry by hand"
    )]
    Unsafe { file: String, reason: String },
}

/// A rewritten file, not yet written anywhere.
#[derive(Debug)]
pub struct Rewritten {
    /// The places sealed, in file order.
    pub sealed: Vec<Place>,
    /// Plaintext entries left as they were because an empty value cannot be sealed.
    pub empty: Vec<Place>,
    pub text: String,
    name: String,
    original: Arc<str>,
    /// Each sealed place with its armor, for [`Rewritten::verify`].
    armors: Vec<(Place, String)>,
}

impl Rewritten {
    /// Whether the text is the original text.
    pub fn is_unchanged(&self) -> bool {
        *self.text == *self.original
    }

    /// The safety net: the new text, parsed and validated on its own, has no more errors than
    /// the old one and declares the same resources, keys and value sources, except that the
    /// sealed places now hold exactly the armor written for them.
    pub fn verify(&self, options: &crate::validate::Options) -> Result<(), RewriteError> {
        verify::same_declarations(
            &self.name,
            &self.original,
            &self.text,
            options,
            &self.armors,
        )
        .map_err(|reason| RewriteError::Unsafe {
            file: self.name.clone(),
            reason,
        })
    }
}

/// A list entry for `key` holding `armor`, ready to paste under a secret's `data:`.
pub fn entry(key: &str, armor: &str) -> String {
    let mut text = splice::list_entry(key, armor, 0, "\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
