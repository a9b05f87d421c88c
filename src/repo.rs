//! Runefiles read out of git (git2, no network): the index for `rune lint --staged`, the tree of
//! a commit for `rune cast --rev`, whether a working-tree file is tracked or staged (the plaintext
//! guard), and where a repository keeps its hooks.
//!
//! In: the command line's paths, relative to the working directory. Out: [`ReadFile`]s for
//! [`crate::parse::load_read`], each named by its path relative to the repository root (so that
//! findings point at `deploy/secrets.yaml:3:5`) and placed at its working-tree path, which is
//! where its `file:` entries resolve: those files are usually kept out of git on purpose, so
//! neither the index nor a commit would hold them. Nothing here parses YAML.
//!
//! Selection, the same for the index and a commit: every blob whose path ends in `.yaml`/`.yml`
//! and has no component starting with `.` (no `.github/`, `.rune/` or `.pre-commit-hooks.yaml`),
//! or, with paths, what they select: a path selects itself, or the runefiles below it (always
//! recursive); a glob selects the runefiles it matches.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::parse::ReadFile;
use crate::validate::plaintext::InGit;

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

/// A repository with a working tree, opened the way git's own commands open it.
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
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let repo = git2::Repository::open_from_env().map_err(|_| RepoError::NotARepository {
            path: cwd.clone(),
            purpose,
        })?;
        let Some(workdir) = repo.workdir() else {
            return Err(RepoError::Bare(repo.path().to_path_buf()));
        };
        let root = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
        let relative = cwd.strip_prefix(&root).map(Path::to_path_buf);
        Ok(Self {
            cwd: relative.unwrap_or_default(),
            git: repo,
            root,
        })
    }

    /// The working tree's top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of the `origin` remote, if there is one.
    pub fn origin_url(&self) -> Option<String> {
        let remote = self.git.find_remote("origin").ok()?;
        remote.url().ok().map(str::to_owned)
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

/// A runefile's path below a selected directory: `.yaml`/`.yml`, nothing hidden on the way.
fn is_runefile(below: &str) -> bool {
    let named = Path::new(below)
        .extension()
        .is_some_and(|e| e == "yaml" || e == "yml");
    named && !below.split('/').any(|part| part.starts_with('.'))
}

enum Pattern {
    Glob(glob::Pattern),
    /// A file or directory, relative to the root (`""` is the root).
    Path(String),
}

struct Selector {
    arg: String,
    matched: bool,
    pattern: Pattern,
}

/// What the command line's paths select; remembers which of them selected something.
struct Selection {
    explicit: bool,
    selectors: Vec<Selector>,
}

impl Selection {
    fn new(repo: &Repo, args: &[String]) -> Result<Self, RepoError> {
        if args.iter().any(|a| a == "-") {
            return Err(RepoError::Stdin("`--staged` or `--rev`"));
        }
        let mut selectors = Vec::with_capacity(args.len().max(1));
        for arg in args {
            let relative = repo.relative(arg)?;
            let pattern = if arg.contains(['*', '?', '[']) {
                Pattern::Glob(
                    glob::Pattern::new(&relative).map_err(|e| RepoError::BadGlob {
                        message: e.msg.to_owned(),
                        pattern: arg.clone(),
                    })?,
                )
            } else {
                Pattern::Path(relative)
            };
            selectors.push(Selector {
                arg: arg.clone(),
                matched: false,
                pattern,
            });
        }
        let explicit = !selectors.is_empty();
        if !explicit {
            selectors.push(Selector {
                arg: ".".to_owned(),
                matched: false,
                pattern: Pattern::Path(String::new()),
            });
        }
        Ok(Self {
            explicit,
            selectors,
        })
    }

    fn selects(&mut self, path: &str) -> bool {
        let mut any = false;
        for selector in &mut self.selectors {
            let hit = match &selector.pattern {
                Pattern::Path(p) if p.is_empty() => is_runefile(path),
                Pattern::Path(p) => {
                    path == p
                        || path
                            .strip_prefix(p.as_str())
                            .and_then(|rest| rest.strip_prefix('/'))
                            .is_some_and(is_runefile)
                }
                Pattern::Glob(glob) => is_runefile(path) && glob.matches_with(path, MATCH),
            };
            selector.matched |= hit;
            any |= hit;
        }
        any
    }

    /// Whether anything below the directory `dir` could be selected (to skip whole subtrees).
    fn may_select_below(&self, dir: &str) -> bool {
        self.selectors
            .iter()
            .any(|selector| match &selector.pattern {
                Pattern::Path(p) if p.is_empty() => is_runefile_dir(dir),
                Pattern::Path(p) => {
                    p == dir
                        || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
                        || dir
                            .strip_prefix(p.as_str())
                            .and_then(|r| r.strip_prefix('/'))
                            .is_some_and(is_runefile_dir)
                }
                Pattern::Glob(_) => is_runefile_dir(dir),
            })
    }

    fn check_matched(&self, place: &str) -> Result<(), RepoError> {
        match self.selectors.iter().find(|s| self.explicit && !s.matched) {
            Some(selector) => Err(RepoError::NoMatch {
                path: selector.arg.clone(),
                place: place.to_owned(),
            }),
            None => Ok(()),
        }
    }

    fn paths(&self) -> Vec<String> {
        self.selectors
            .iter()
            .map(|s| match &s.pattern {
                Pattern::Glob(glob) => glob.as_str().to_owned(),
                Pattern::Path(p) if p.is_empty() => ".".to_owned(),
                Pattern::Path(p) => p.clone(),
            })
            .collect()
    }
}

/// A directory (relative to the selecting one) whose runefiles count: nothing hidden.
fn is_runefile_dir(dir: &str) -> bool {
    !dir.split('/').any(|part| part.starts_with('.'))
}

/// `*` stays within one directory; `**` crosses them.
const MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: true,
};

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
    repo: git2::Repository,
    root: PathBuf,
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
        let relative = file.strip_prefix(&known.root).ok()?;
        let in_head = known
            .head
            .and_then(|id| known.repo.find_tree(id).ok())
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
        let repo = git2::Repository::discover(dir).ok()?;
        let root = std::fs::canonicalize(repo.workdir()?).ok()?;
        if let Some(slot) = self.repos.iter().position(|k| k.root == root) {
            return Some(slot);
        }
        let head = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_tree().ok())
            .map(|tree| tree.id());
        self.repos.push(Known {
            head,
            index: repo.index().ok(),
            repo,
            root,
        });
        Some(self.repos.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{is_runefile, normalise};

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

    #[test]
    fn runefiles_are_yaml_and_not_hidden() {
        assert!(is_runefile("deploy/app.yaml"));
        assert!(is_runefile("app.yml"));
        assert!(!is_runefile("README.md"));
        assert!(!is_runefile(".github/workflows/ci.yaml"));
        assert!(!is_runefile(".pre-commit-hooks.yaml"));
        assert!(!is_runefile("deploy/.rune/x.yaml"));
    }
}
