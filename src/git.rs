//! Everything rune reads from or writes into git (git2, no network): opening a repository (one
//! way, [`repo`]), runefiles of the index and of commits, the tracked/staged check of the
//! plaintext guard, the provenance of a cast, and the pre-commit hook.
//!
//! In: paths and revisions from the command line. Out: files, answers and provenance for the
//! stages that need them; git's own state is only ever read, except for the hook file.
//! Must not happen here: parsing or validating YAML (that is [`crate::parse`] and
//! [`crate::validate`], which never read git).

pub mod hook;
pub mod provenance;
pub mod repo;
mod select;
pub mod tracked;

pub use repo::{Repo, RepoError, Revision};
pub use tracked::Tracked;
