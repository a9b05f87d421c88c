//! The file names that GitHub annotations and SARIF results carry: paths relative to the root
//! of the git repository that holds each file, as GitHub and code-scanning tools resolve them
//! (issue #13); outside a repository, relative to the current directory.
//!
//! In: the files a run read, named as the command line named them (`../x.yaml`, an absolute
//! path). Out: a [`SourceMap`] with the same ids and texts under those names. Standard input,
//! and files read from git (`--staged`: already relative to the root), keep their names.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::git::Repo;
use crate::parse::Loaded;
use crate::source::{SourceId, SourceMap};

/// `loaded`'s sources, renamed for machines.
#[must_use]
pub fn sources(loaded: &Loaded) -> SourceMap {
    let cwd = std::env::current_dir().map(|d| canonical(&d)).ok();
    let mut roots = Roots::default();
    let mut names: Vec<Option<String>> = vec![None; loaded.sources.len()];
    for file in &loaded.files {
        let Some(path) = &file.path else { continue };
        let absolute = match &cwd {
            Some(cwd) if path.is_relative() => canonical(&cwd.join(path)),
            _ => canonical(path),
        };
        let name = roots
            .root_of(&absolute)
            .and_then(|root| absolute.strip_prefix(root).ok().map(slashed))
            .or_else(|| cwd.as_deref().map(|cwd| slashed(&relative(&absolute, cwd))));
        names[file.source.0 as usize] = name;
    }
    let mut renamed = SourceMap::new();
    for (index, name) in names.into_iter().enumerate() {
        let file = loaded
            .sources
            .get(SourceId(u32::try_from(index).unwrap_or(u32::MAX)));
        renamed.add(
            name.unwrap_or_else(|| file.name().to_owned()),
            file.text().clone(),
        );
    }
    renamed
}

/// The work-tree roots found so far, by directory, so that a tree of thousands of files asks
/// git once per directory at most.
#[derive(Default)]
struct Roots {
    by_dir: HashMap<PathBuf, Option<PathBuf>>,
}

impl Roots {
    fn root_of(&mut self, file: &Path) -> Option<&Path> {
        let dir = file.parent()?.to_path_buf();
        if !self.by_dir.contains_key(&dir) {
            let root = Repo::discover(&dir).map(|repo| repo.root().to_path_buf());
            self.by_dir.insert(dir.clone(), root);
        }
        self.by_dir.get(&dir).and_then(Option::as_deref)
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` relative to `base` (both absolute), with `..` where it leaves `base`.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component<'_>> = path.components().collect();
    let base: Vec<Component<'_>> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part.as_os_str());
    }
    out
}

/// A path as `/`-separated text.
fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn relative_paths_climb_with_dot_dot() {
        let at = |p: &str, b: &str| super::slashed(&super::relative(Path::new(p), Path::new(b)));
        assert_eq!(at("/a/b/c.yaml", "/a"), "b/c.yaml");
        assert_eq!(at("/a/b/c.yaml", "/a/d/e"), "../../b/c.yaml");
        assert_eq!(at("/x.yaml", "/a"), "../x.yaml");
    }
}
