//! What the command line's paths select among the files of the index or of a commit.
//!
//! Selection, the same for the index and a commit: every blob whose path ends in `.yaml`/`.yml`
//! and has no component starting with `.` (no `.github/`, `.rune/` or `.pre-commit-hooks.yaml`),
//! or, with paths, what they select: a path selects itself, or the runefiles below it (always
//! recursive); a glob selects the runefiles it matches.

use std::path::Path;

use crate::git::repo::{Repo, RepoError};

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
pub(super) struct Selection {
    explicit: bool,
    selectors: Vec<Selector>,
}

impl Selection {
    pub(super) fn new(repo: &Repo, args: &[String]) -> Result<Self, RepoError> {
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

    pub(super) fn selects(&mut self, path: &str) -> bool {
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
    pub(super) fn may_select_below(&self, dir: &str) -> bool {
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

    pub(super) fn check_matched(&self, place: &str) -> Result<(), RepoError> {
        match self.selectors.iter().find(|s| self.explicit && !s.matched) {
            Some(selector) => Err(RepoError::NoMatch {
                path: selector.arg.clone(),
                place: place.to_owned(),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn paths(&self) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::is_runefile;

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
