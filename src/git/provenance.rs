//! Where a cast comes from, read from git (git2, no network): the commit, whether the work tree
//! was dirty, and the default source set (the `origin` remote plus the cast paths). The engine
//! adds the time and the caller of the cast when it writes an object. When git cannot be read
//! (it refuses a repository another user owns), `dirty` is unknown and the reason recorded:
//! never a claim of a clean tree.

use std::path::{Path, PathBuf};

use crate::git::repo::{Repo, Revision, origin_url, try_discover};
use crate::plan::desired::Origin;

/// Provenance for a cast of `paths`; outside a repository, only the source set (from the
/// absolute paths) is known. `source_set` overrides the default.
pub fn origin(paths: &[String], source_set: Option<&str>) -> Origin {
    let first = paths
        .iter()
        .find(|p| p.as_str() != "-")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let repo = match try_discover(&first) {
        Ok(Some(repo)) => repo,
        // Outside a repository there is no work tree to be dirty.
        Ok(None) => {
            return Origin {
                dirty: Some(false),
                source_set: Some(
                    source_set.map_or_else(|| default_set(None, None, paths), str::to_owned),
                ),
                ..Origin::default()
            };
        }
        // git refused (another user owns the repository) or failed: unknown, not clean.
        Err(error) => {
            return Origin {
                git_error: Some(error.message().to_owned()),
                source_set: Some(
                    source_set.map_or_else(|| default_set(None, None, paths), str::to_owned),
                ),
                ..Origin::default()
            };
        }
    };
    let root = repo.workdir().and_then(|w| std::fs::canonicalize(w).ok());
    let commit = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    let (dirty, git_error) = match is_dirty(&repo) {
        Ok(dirty) => (Some(dirty), None),
        Err(error) => (None, Some(error.message().to_owned())),
    };
    let remote = origin_url(&repo);
    Origin {
        commit,
        dirty,
        git_error,
        source_set: Some(source_set.map_or_else(
            || default_set(remote.as_deref(), root.as_deref(), paths),
            str::to_owned,
        )),
        relative_to: root,
    }
}

/// Provenance for a cast of the files of a commit (`rune cast --rev`): that commit, never dirty;
/// `paths` are relative to the repository root, as the recorded file paths are.
pub fn at_revision(repo: &Repo, revision: &Revision, source_set: Option<&str>) -> Origin {
    let set = source_set.map_or_else(
        || {
            let place = repo
                .origin_url()
                .unwrap_or_else(|| repo.root().display().to_string());
            set_name(Some(place), revision.paths.clone())
        },
        str::to_owned,
    );
    Origin {
        commit: Some(revision.commit.clone()),
        dirty: Some(false),
        git_error: None,
        source_set: Some(set),
        relative_to: None,
    }
}

/// Whether the work tree has changes; git's error when it cannot tell (never "clean" then).
fn is_dirty(repo: &git2::Repository) -> Result<bool, git2::Error> {
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    repo.statuses(Some(&mut options)).map(|s| !s.is_empty())
}

/// `<remote or repository root>:<paths relative to the root>`, or the absolute paths.
fn default_set(remote: Option<&str>, root: Option<&Path>, paths: &[String]) -> String {
    let parts: Vec<String> = paths
        .iter()
        .map(|p| {
            let absolute = std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
            root.and_then(|r| absolute.strip_prefix(r).ok())
                .map_or_else(
                    || absolute.display().to_string(),
                    |rel| rel.display().to_string(),
                )
        })
        .collect();
    let place = remote
        .map(str::to_owned)
        .or_else(|| root.map(|r| r.display().to_string()));
    set_name(place, parts)
}

/// `<place>:<sorted paths>`: the same name for the same files, however they were listed.
fn set_name(place: Option<String>, mut paths: Vec<String>) -> String {
    paths.sort();
    match place {
        Some(place) => format!("{place}:{}", paths.join(",")),
        None => paths.join(","),
    }
}
