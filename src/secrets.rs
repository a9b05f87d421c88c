//! Sealed values (SPEC §6): a secret value encrypted with age, bound to its place, and the keys
//! and recipients that open and seal it; and [`Secret`], the wrapper that keeps plaintext
//! values, tokens and keys out of every printout.
//!
//! In: plain strings (a value, the namespace, name and key of its place), key and recipients
//! files. Out: ASCII-armored age payloads, and values opened from them with the place they were
//! sealed for. This module knows nothing of runefiles: it imports no `parse`, `validate`,
//! `resource` or `cli`, so that validation, the rewriter, the CLI and the server can all build
//! on it (a resource names its place with [`crate::resource::Resource::place`]).
//!
//! Only X25519 recipients (`age1…`) and identities (`AGE-SECRET-KEY-1…`) are supported: they
//! are what `age-keygen` and runed produce.
//!
//! Must not happen here: a value, its length or a digest of it in an error.

pub mod key_file;
pub mod keys;
pub mod payload;
pub mod place;
pub mod recipients;
pub mod secret;
pub mod wipe;

pub use key_file::{KeyFileError, KeyFileLocation};
pub use keys::Keys;
pub use payload::{SealError, UnsealError, Unsealed, seal};
pub use place::Place;
pub use recipients::{Recipients, load_recipients, parse_recipient, parse_recipients};
pub use secret::{Secret, Values};
