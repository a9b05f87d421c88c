//! The plaintext guard's question, "does git track or stage this working-tree file?", answered
//! for `rune lint` from the last commit and the index of the file's own repository.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::git::repo::Repo;
use crate::validate::plaintext::InGit;

/// Answers "does git track or stage this working-tree file?" for the plaintext guard of
/// `rune lint`. Each directory is looked up once and each repository opened once.
#[derive(Default)]
pub struct Tracked {
    dirs: HashMap<PathBuf, Option<usize>>,
    repos: Vec<Known>,
}

struct Known {
    head: Option<git2::Oid>,
    index: Option<git2::Index>,
    repo: Repo,
}

impl Tracked {
    /// `Tracked` when the last commit holds the file, `Staged` when only the index does.
    pub fn in_git(&mut self, file: &Path) -> Option<InGit> {
        let file = std::fs::canonicalize(file).ok()?;
        let dir = file.parent()?.to_path_buf();
        let slot = match self.dirs.get(&dir) {
            Some(slot) => *slot,
            None => {
                let slot = self.open(&dir);
                self.dirs.insert(dir, slot);
                slot
            }
        };
        let known = &self.repos[slot?];
        let relative = file.strip_prefix(known.repo.root()).ok()?;
        let in_head = known
            .head
            .and_then(|id| known.repo.git().find_tree(id).ok())
            .is_some_and(|tree| tree.get_path(relative).is_ok());
        let in_index = known
            .index
            .as_ref()
            .is_some_and(|index| index.get_path(relative, 0).is_some());
        match (in_head, in_index) {
            (true, _) => Some(InGit::Tracked),
            (false, true) => Some(InGit::Staged),
            (false, false) => None,
        }
    }

    fn open(&mut self, dir: &Path) -> Option<usize> {
        let repo = Repo::discover(dir)?;
        if let Some(slot) = self.repos.iter().position(|k| k.repo.root() == repo.root()) {
            return Some(slot);
        }
        let git = repo.git();
        let head = git
            .head()
            .ok()
            .and_then(|h| h.peel_to_tree().ok())
            .map(|tree| tree.id());
        let index = git.index().ok();
        self.repos.push(Known { head, index, repo });
        Some(self.repos.len() - 1)
    }
}
