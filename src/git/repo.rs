//! Repositories, opened one way, and runefiles read out of them (git2, no network): the index
//! for `rune lint --staged`, the tree of a commit for `rune cast --rev`, and where a repository
//! keeps its hooks.
//!
//! Opening: [`Repo::from_env`] opens the repository around the working directory as git's own
//! commands do (for commands that need one, and for the hook, which git runs with `GIT_DIR` and
//! `GIT_INDEX_FILE` set); [`Repo::discover`] finds the work tree holding a given path (for the
//! tracked check and the repository's recipients), and [`discover`] the repository itself,
//! bare ones included (for provenance). Every path starts canonical, so symbolic links and `..`
//! resolve as the file system sees them.
//!
//! In: the command line's paths, relative to the working directory. Out: [`ReadFile`]s for
//! [`crate::parse::load_read`], each named by its path relative to the repository root (so that
//! findings point at `deploy/secrets.yaml:3:5`) and placed at its working-tree path, which is
//! where its `file:` entries resolve: those files are usually kept out of git on purpose, so
//! neither the index nor a commit would hold them. Nothing here parses YAML.

use std::path::{Component, Path, PathBuf};

use crate::git::select::Selection;
use crate::parse::ReadFile;

/// Why runefiles could not be read from git. Every variant but [`RepoError::Git`] is a mistake
/// in the invocation.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// `purpose` says why the command needs one (`--staged` reads the git index).
    #[error("`{path}` is not inside a git repository: {purpose}")]
    NotARepository {
        path: PathBuf,
        purpose: &'static str,
    },
    #[error("the repository at `{0}` has no working tree (it is bare)")]
    Bare(PathBuf),
    #[error("`{path}` is outside the repository at `{root}`")]
    Outside { path: String, root: PathBuf },
    #[error("`{path}` names no runefile in {place}")]
    NoMatch { path: String, place: String },
    #[error("the pattern `{pattern}` is not a valid glob: {message}")]
    BadGlob { message: String, pattern: String },
    #[error("`-` (standard input) cannot be combined with {0}")]
    Stdin(&'static str),
    #[error("`{rev}` names no commit: {message}")]
    Revision { message: String, rev: String },
    #[error("cannot read {what} from git: {message}")]
    Git { message: String, what: &'static str },
}

fn git(what: &'static str) -> impl Fn(git2::Error) -> RepoError {
    move |error| RepoError::Git {
        message: error.message().to_owned(),
        what,
    }
}

/// A repository with a working tree: [`Repo::from_env`] opens it the way git's own commands do,
/// [`Repo::discover`] finds it from a path.
pub struct Repo {
    /// The working directory relative to [`Repo::root`] (empty at the root).
    cwd: PathBuf,
    git: git2::Repository,
    root: PathBuf,
}

/// The runefiles of one commit.
pub struct Revision {
    /// The commit's full id.
    pub commit: String,
    pub files: Vec<ReadFile>,
    /// The selecting paths, relative to the root (for the default source set).
    pub paths: Vec<String>,
}

impl Repo {
    /// The repository around the working directory. `GIT_DIR`, `GIT_WORK_TREE` and
    /// `GIT_INDEX_FILE` are honoured: git runs a pre-commit hook with `GIT_INDEX_FILE` naming
    /// the index being committed (a temporary one for `git commit -a` or `git commit PATH`).
    pub fn from_env(purpose: &'static str) -> Result<Self, RepoError> {
        let cwd = std::env::current_dir().map_err(|e| RepoError::Git {
            message: e.to_string(),
            what: "the working directory",
        })?;
        let cwd = canonical(&cwd);
        // Only "no repository here" is a usage mistake; a refusal (another user owns it,
        // `safe.directory`) or a broken repository says git's own words.
        let git = git2::Repository::open_from_env().map_err(|error| {
            if error.code() == git2::ErrorCode::NotFound {
                RepoError::NotARepository {
                    path: cwd.clone(),
                    purpose,
                }
            } else {
                RepoError::Git {
                    message: error.message().to_owned(),
                    what: "the repository",
                }
            }
        })?;
        Self::with_work_tree(git, &cwd)
    }

    /// The repository whose work tree holds `path` (a file or a directory), found upward from
    /// it as [`discover`] finds one. `None` outside a repository, and for a bare one.
    pub fn discover(path: &Path) -> Option<Self> {
        Self::try_discover(path).ok().flatten()
    }

    /// [`Repo::discover`] that tells "no repository here" (`Ok(None)`, a bare one included)
    /// from "git refused or failed" (`Err`: another user owns it, `safe.directory`; it is
    /// broken), for the questions that must fail closed.
    pub fn try_discover(path: &Path) -> Result<Option<Self>, git2::Error> {
        let Some(git) = try_discover(path)? else {
            return Ok(None);
        };
        let cwd = std::env::current_dir().map_or_else(|_| PathBuf::new(), |cwd| canonical(&cwd));
        Ok(Self::with_work_tree(git, &cwd).ok())
    }

    /// `git` as a work tree: its canonical root, and `cwd` relative to it.
    fn with_work_tree(git: git2::Repository, cwd: &Path) -> Result<Self, RepoError> {
        let Some(workdir) = git.workdir() else {
            return Err(RepoError::Bare(git.path().to_path_buf()));
        };
        let root = canonical(workdir);
        let relative = cwd.strip_prefix(&root).map(Path::to_path_buf);
        Ok(Self {
            cwd: relative.unwrap_or_default(),
            git,
            root,
        })
    }

    /// The repository itself, for the reads of this module's siblings.
    pub(super) fn git(&self) -> &git2::Repository {
        &self.git
    }

    /// The working tree's top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of the `origin` remote, if there is one.
    pub fn origin_url(&self) -> Option<String> {
        origin_url(&self.git)
    }

    /// A command-line path as a path relative to the root, `/`-separated (`""` is the root).
    pub fn relative(&self, arg: &str) -> Result<String, RepoError> {
        let outside = || RepoError::Outside {
            path: arg.to_owned(),
            root: self.root.clone(),
        };
        let path = Path::new(arg);
        let inside = if path.is_absolute() {
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            absolute
                .strip_prefix(&self.root)
                .map_err(|_| outside())?
                .to_path_buf()
        } else {
            self.cwd.join(path)
        };
        normalise(&inside).ok_or_else(outside)
    }

    /// The selected runefiles of the index.
    pub fn staged(&self, args: &[String]) -> Result<Vec<ReadFile>, RepoError> {
        let mut selection = Selection::new(self, args)?;
        let index = self.git.index().map_err(git("the index"))?;
        let mut files = Vec::new();
        for entry in index.iter() {
            let stage = (entry.flags >> 12) & 0b11;
            let intent_only =
                entry.flags_extended & (git2::IndexEntryExtendedFlag::INTENT_TO_ADD.bits()) != 0;
            if stage != 0 || intent_only || !is_regular(entry.mode) {
                continue;
            }
            let Ok(path) = std::str::from_utf8(&entry.path) else {
                continue;
            };
            if selection.selects(path) {
                let blob = self.git.find_blob(entry.id).map_err(git("a staged file"))?;
                files.push(self.read_file(path, blob.content().to_vec()));
            }
        }
        selection.check_matched("the git index")?;
        Ok(files)
    }

    /// The selected runefiles of the commit `rev` names (`HEAD~2`, a tag, a hash).
    pub fn at_revision(&self, rev: &str, args: &[String]) -> Result<Revision, RepoError> {
        let revision = |error: git2::Error| RepoError::Revision {
            message: error.message().to_owned(),
            rev: rev.to_owned(),
        };
        let commit = self
            .git
            .revparse_single(rev)
            .and_then(|object| object.peel_to_commit())
            .map_err(revision)?;
        let tree = commit.tree().map_err(git("a commit's tree"))?;
        let mut selection = Selection::new(self, args)?;
        let mut found = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let path = format!("{dir}{}", entry.name().unwrap_or_default());
            match entry.kind() {
                Some(git2::ObjectType::Tree) if !selection.may_select_below(&path) => {
                    git2::TreeWalkResult::Skip
                }
                Some(git2::ObjectType::Blob)
                    if is_regular(u32::try_from(entry.filemode()).unwrap_or(0))
                        && selection.selects(&path) =>
                {
                    found.push((path, entry.id()));
                    git2::TreeWalkResult::Ok
                }
                _ => git2::TreeWalkResult::Ok,
            }
        })
        .map_err(git("a commit's tree"))?;
        selection.check_matched(&format!("`{rev}`"))?;
        let files = found
            .into_iter()
            .map(|(path, id)| {
                let blob = self.git.find_blob(id).map_err(git("a committed file"))?;
                Ok(self.read_file(&path, blob.content().to_vec()))
            })
            .collect::<Result<_, RepoError>>()?;
        Ok(Revision {
            commit: commit.id().to_string(),
            files,
            paths: selection.paths(),
        })
    }

    /// Where git looks for hooks: `core.hooksPath` (relative to the working tree) when set,
    /// else `hooks/` of the repository's common directory (shared by its worktrees).
    pub fn hooks_dir(&self) -> PathBuf {
        let configured = self
            .git
            .config()
            .ok()
            .and_then(|config| config.get_path("core.hooksPath").ok());
        match configured {
            Some(path) if path.is_absolute() => path,
            Some(path) => self.root.join(path),
            None => self.git.commondir().join("hooks"),
        }
    }

    fn read_file(&self, path: &str, bytes: Vec<u8>) -> ReadFile {
        ReadFile {
            bytes,
            name: path.to_owned(),
            path: self.root.join(path),
        }
    }
}

/// A regular file (not a symbolic link or a submodule).
fn is_regular(mode: u32) -> bool {
    mode & 0o170_000 == 0o100_000
}

/// The repository holding `path`, searched upward from its canonical form (git's environment,
/// `GIT_DIR` and the like, is not consulted: the path decides). The one way a repository is
/// found from a path.
pub fn discover(path: &Path) -> Option<git2::Repository> {
    try_discover(path).ok().flatten()
}

/// [`discover`], with git's refusals and failures kept apart from "not in a repository".
pub fn try_discover(path: &Path) -> Result<Option<git2::Repository>, git2::Error> {
    match git2::Repository::discover(canonical(path)) {
        Ok(git) => Ok(Some(git)),
        Err(error) if error.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// The URL of the `origin` remote of `git`, if there is one.
pub(super) fn origin_url(git: &git2::Repository) -> Option<String> {
    let remote = git.find_remote("origin").ok()?;
    remote.url().ok().map(str::to_owned)
}

/// `path` with symbolic links and `..` resolved, or as it is when that fails (it may not exist).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `a/./b/../c` → `a/c`; `None` when `..` leaves the root.
fn normalise(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Repo, normalise};

    #[test]
    fn paths_normalise_lexically_within_the_root() {
        assert_eq!(normalise(Path::new("a/./b/../c")).as_deref(), Some("a/c"));
        assert_eq!(
            normalise(Path::new("sub/../deploy/")).as_deref(),
            Some("deploy")
        );
        assert_eq!(normalise(Path::new("")).as_deref(), Some(""));
        assert_eq!(normalise(Path::new("a/../..")), None);
    }

    /// A path deep inside a work tree finds the tree's root; a path outside any finds none.
    #[test]
    fn discovery_finds_the_root_from_a_subdirectory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).expect("mkdir");
        let tree = dir.path().join("tree");
        git2::Repository::init(&tree).expect("git init");
        let deep = tree.join("deploy/prod");
        std::fs::create_dir_all(&deep).expect("mkdir");
        let repo = Repo::discover(&deep).expect("found from below");
        assert_eq!(
            repo.root(),
            std::fs::canonicalize(&tree).expect("canonical")
        );
        assert!(Repo::discover(&outside).is_none_or(|r| r.root() != repo.root()));
    }
}
