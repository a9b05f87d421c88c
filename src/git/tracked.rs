//! The plaintext guard's question, "does git track or stage this working-tree file?", answered
//! for `rune lint` from the last commit and the index of the file's own repository. When git
//! cannot answer (it refuses a repository another user owns, `safe.directory`; the repository
//! is broken) the answer is [`Unchecked`], never "no": the guard fails closed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::git::repo::Repo;
use crate::validate::plaintext::{InGit, Unchecked};

/// Answers "does git track or stage this working-tree file?" for the plaintext guard of
/// `rune lint`. Each directory is looked up once and each repository opened once.
#[derive(Default)]
pub struct Tracked {
    dirs: HashMap<PathBuf, Result<Option<usize>, Unchecked>>,
    repos: Vec<Known>,
}

struct Known {
    head: Option<git2::Oid>,
    index: git2::Index,
    repo: Repo,
}

impl Tracked {
    /// `Tracked` when the last commit holds the file, `Staged` when only the index does, `None`
    /// when neither does or the file is in no repository.
    ///
    /// # Errors
    /// [`Unchecked`] when git cannot say.
    pub fn in_git(&mut self, file: &Path) -> Result<Option<InGit>, Unchecked> {
        let file = std::fs::canonicalize(file).map_err(|e| Unchecked {
            reason: format!("cannot resolve `{}`: {e}", file.display()),
            safe_directory: None,
        })?;
        let Some(dir) = file.parent().map(Path::to_path_buf) else {
            return Ok(None);
        };
        let slot = match self.dirs.get(&dir) {
            Some(slot) => slot.clone(),
            None => {
                let slot = self.open(&dir);
                self.dirs.insert(dir.clone(), slot.clone());
                slot
            }
        };
        let Some(slot) = slot? else {
            return Ok(None);
        };
        let known = &self.repos[slot];
        let Ok(relative) = file.strip_prefix(known.repo.root()) else {
            return Ok(None);
        };
        let failed = |e: git2::Error| unchecked(&e, Some(known.repo.root()));
        let in_head = match known.head {
            None => false,
            Some(id) => match known
                .repo
                .git()
                .find_tree(id)
                .map_err(failed)?
                .get_path(relative)
            {
                Ok(_) => true,
                Err(e) if e.code() == git2::ErrorCode::NotFound => false,
                Err(e) => return Err(failed(e)),
            },
        };
        let in_index = known.index.get_path(relative, 0).is_some();
        Ok(match (in_head, in_index) {
            (true, _) => Some(InGit::Tracked),
            (false, true) => Some(InGit::Staged),
            (false, false) => None,
        })
    }

    fn open(&mut self, dir: &Path) -> Result<Option<usize>, Unchecked> {
        let repo = match Repo::try_discover(dir) {
            Ok(Some(repo)) => repo,
            Ok(None) => return Ok(None),
            Err(error) => return Err(unchecked(&error, work_tree_of(dir).as_deref())),
        };
        if let Some(slot) = self.repos.iter().position(|k| k.repo.root() == repo.root()) {
            return Ok(Some(slot));
        }
        let failed = |e: git2::Error| unchecked(&e, Some(repo.root()));
        let git = repo.git();
        let head = match git.head() {
            Ok(head) => Some(head.peel_to_tree().map_err(failed)?.id()),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                None
            }
            Err(e) => return Err(failed(e)),
        };
        let index = git.index().map_err(failed)?;
        self.repos.push(Known { head, index, repo });
        Ok(Some(self.repos.len() - 1))
    }
}

/// git's failure; an ownership refusal names the work tree to mark safe.
fn unchecked(error: &git2::Error, work_tree: Option<&Path>) -> Unchecked {
    Unchecked {
        reason: error.message().to_owned(),
        safe_directory: (error.code() == git2::ErrorCode::Owner)
            .then(|| work_tree.map(Path::to_path_buf))
            .flatten(),
    }
}

/// The nearest directory at or above `dir` holding `.git`: what `safe.directory` must name
/// when git refused to open it.
fn work_tree_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").symlink_metadata().is_ok())
        .map(Path::to_path_buf)
}
