//! Whom a value is sealed for (SPEC §6): the server's recipient (or the `--recipient` and
//! `--recipients-file` given instead of it) plus every recipient the repository lists in
//! `.rune/recipients`, each once.
//!
//! The repository is the git work tree holding a directory (git2, no network); outside one, or
//! with no `.rune/recipients` in it, the repository adds nobody.

use std::path::{Path, PathBuf};

use age::x25519::Recipient;

use crate::secrets::{KeyFileError, load_recipients};

/// Where a repository keeps the recipients every sealed value is also encrypted for.
pub const REPOSITORY_FILE: &str = ".rune/recipients";

/// `.rune/recipients` at the root of the git work tree that holds `dir`, if that file exists.
#[must_use]
pub fn repository_file(dir: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let repo = git2::Repository::discover(&dir).ok()?;
    let file = repo.workdir()?.join(REPOSITORY_FILE);
    file.is_file().then_some(file)
}

/// The recipients of the repository holding `dir` (none outside a repository or without the
/// file).
pub fn repository(dir: &Path) -> Result<Vec<Recipient>, KeyFileError> {
    repository_file(dir).map_or_else(|| Ok(Vec::new()), |file| load_recipients(&file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Keys;

    #[test]
    fn the_repository_file_is_found_from_a_subdirectory() {
        let dir = tempfile::tempdir().expect("tempdir");
        git2::Repository::init(dir.path()).expect("git init");
        let deep = dir.path().join("deploy/prod");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(repository(&deep).expect("no file").len(), 0);
        let keys = Keys::generate();
        std::fs::create_dir_all(dir.path().join(".rune")).expect("mkdir");
        std::fs::write(
            dir.path().join(REPOSITORY_FILE),
            format!("# the team\n{}\n", keys.recipients()[0]),
        )
        .expect("write");
        let file = repository_file(&deep);
        assert!(file.is_some_and(|f| f.ends_with(REPOSITORY_FILE)));
        assert_eq!(repository(&deep).expect("reads").len(), 1);
    }
}
