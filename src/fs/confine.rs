//! File confinement (SPEC §2.3): where a path really leads, and whether that lies inside a
//! **file root** — the git work tree holding a runefile, else the runefile's own directory,
//! plus any `--allow-file-root DIR`.
//!
//! In: a base directory and a path as a runefile wrote it. Out: the path resolved as the file
//! system would (symbolic links followed, `..` applied after them), or why it is refused.
//! Resolution tolerates a missing tail, so that a path is judged before anyone learns whether
//! the file exists. Must not happen here: reading a file's content.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// More links than this in one path is a loop (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// Where `file:` entries of one runefile may lead.
#[derive(Clone, Debug)]
pub struct FileRoots {
    /// The directory relative paths start from (resolved).
    pub base: PathBuf,
    /// The runefile's own root (resolved): its git work tree, else `base`.
    pub root: PathBuf,
    /// Whether `root` is a git work tree (for the help text).
    pub in_git: bool,
    /// `--allow-file-root` directories (resolved).
    pub extra: Vec<PathBuf>,
}

/// A resolved path, and whether a symbolic link took part in resolving it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Resolved {
    pub path: PathBuf,
    pub through_link: bool,
}

impl FileRoots {
    /// The roots of a runefile whose `file:` entries are relative to `base_dir` (`None`: the
    /// working directory, as for standard input).
    #[must_use]
    pub fn of(base_dir: Option<&Path>, extra: &[PathBuf]) -> Self {
        let base = match base_dir {
            Some(dir) if !dir.as_os_str().is_empty() => absolute(dir),
            _ => absolute(Path::new(".")),
        };
        let base = resolve(&base).path;
        let work_tree = base
            .ancestors()
            .find(|dir| dir.join(".git").symlink_metadata().is_ok());
        Self {
            root: work_tree.unwrap_or(&base).to_path_buf(),
            in_git: work_tree.is_some(),
            base,
            extra: extra.to_vec(),
        }
    }

    /// Resolves `written` (relative to the base) and checks it lies inside a root.
    ///
    /// # Errors
    /// The resolved path, when it lies outside every root.
    pub fn confine(&self, written: &Path) -> Result<Resolved, Resolved> {
        let resolved = resolve(&self.base.join(written));
        if self.contains(&resolved.path) {
            Ok(resolved)
        } else {
            Err(resolved)
        }
    }

    /// Whether a resolved path lies inside a root.
    #[must_use]
    pub fn contains(&self, resolved: &Path) -> bool {
        std::iter::once(&self.root)
            .chain(&self.extra)
            .any(|root| resolved.starts_with(root))
    }
}

/// `path` made absolute against the working directory (lexically; nothing resolved yet).
#[must_use]
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

/// An `--allow-file-root` directory, resolved.
///
/// # Errors
/// The I/O error when it does not exist or is not a directory.
pub fn allowed_root(dir: &Path) -> std::io::Result<PathBuf> {
    let resolved = std::fs::canonicalize(dir)?;
    if resolved.is_dir() {
        Ok(resolved)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        ))
    }
}

/// Resolves an absolute path as the kernel would: each existing component that is a symbolic
/// link is replaced by its target, `..` removes the component before it once links are
/// resolved, and components that do not exist are taken as written. A link loop stops
/// resolving and keeps the rest as written (opening it fails anyway).
#[must_use]
pub fn resolve(path: &Path) -> Resolved {
    let mut pending: VecDeque<OsString> = parts(&absolute(path));
    let mut out = PathBuf::from("/");
    let mut links = 0;
    let mut through_link = false;
    while let Some(part) = pending.pop_front() {
        match part.to_str() {
            Some("/") => out = PathBuf::from("/"),
            Some("" | ".") => {}
            Some("..") => {
                out.pop();
            }
            _ => {
                let next = out.join(&part);
                let is_link = next.symlink_metadata().is_ok_and(|m| m.is_symlink());
                match std::fs::read_link(&next) {
                    Ok(target) if is_link && links < MAX_LINKS => {
                        links += 1;
                        through_link = true;
                        for (i, p) in parts(&target).into_iter().enumerate() {
                            pending.insert(i, p);
                        }
                    }
                    _ => out = next,
                }
            }
        }
    }
    Resolved {
        path: out,
        through_link,
    }
}

/// The components of a path as owned strings: `/` for the root, `..`, `.` and names.
fn parts(path: &Path) -> VecDeque<OsString> {
    path.components()
        .map(|c| match c {
            Component::RootDir | Component::Prefix(_) => OsString::from("/"),
            Component::CurDir => OsString::from("."),
            Component::ParentDir => OsString::from(".."),
            Component::Normal(name) => name.to_os_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{FileRoots, resolve};

    fn roots(dir: &Path) -> FileRoots {
        FileRoots::of(Some(dir), &[])
    }

    /// Inside stays inside; absolute paths, `..` escapes and links out are refused; a missing
    /// file is judged by where it would be.
    #[test]
    fn paths_are_confined_to_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(tmp.path()).unwrap();
        let repo = top.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("deploy/files")).unwrap();
        std::fs::write(repo.join("deploy/files/a.txt"), "a").unwrap();
        std::fs::write(top.join("outside.txt"), "o").unwrap();
        std::os::unix::fs::symlink(top.join("outside.txt"), repo.join("deploy/out")).unwrap();
        std::os::unix::fs::symlink("files/a.txt", repo.join("deploy/in")).unwrap();
        std::os::unix::fs::symlink("files", repo.join("deploy/dir")).unwrap();
        let r = roots(&repo.join("deploy"));
        assert_eq!(r.root, repo);
        assert!(r.in_git);
        let ok = |p: &str| r.confine(Path::new(p)).is_ok();
        assert!(ok("files/a.txt"));
        assert!(ok("../deploy/files/a.txt"));
        assert!(ok("missing.txt"));
        assert!(ok("in"));
        assert!(ok("dir/../files/a.txt"));
        assert!(ok(repo.join("deploy/files/a.txt").to_str().unwrap()));
        assert!(!ok("../../outside.txt"));
        assert!(!ok("../../missing.txt"));
        assert!(!ok("nothing/../../../outside.txt"));
        assert!(!ok("/etc/passwd"));
        assert!(!ok("/proc/self/environ"));
        let out = r.confine(Path::new("out")).unwrap_err();
        assert!(out.through_link);
        assert_eq!(out.path, top.join("outside.txt"));
        // `dir/..` is `deploy/` only after the link: the kernel's reading, not the text's.
        std::os::unix::fs::symlink(&top, repo.join("deploy/up")).unwrap();
        assert!(!ok("up/repo/../outside.txt"));
        let allowed = FileRoots::of(Some(&repo.join("deploy")), &[top]);
        assert!(allowed.confine(Path::new("out")).is_ok());
    }

    /// Outside git, the runefile's own directory is the root.
    #[test]
    fn without_git_the_runefile_directory_is_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap().join("d");
        std::fs::create_dir_all(&dir).unwrap();
        let r = roots(&dir);
        if !r.in_git {
            assert_eq!(r.root, dir);
            assert!(r.confine(Path::new("../x")).is_err());
        }
    }

    /// A link loop ends.
    #[test]
    fn link_loops_end() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        std::os::unix::fs::symlink(&a, &a).unwrap();
        let resolved = resolve(&a);
        assert!(resolved.through_link);
        assert_ne!(resolved.path, PathBuf::new());
    }
}
