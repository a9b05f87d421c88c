//! The git pre-commit hook that runs `rune lint --staged` (SPEC §6).
//!
//! In: the repository's hooks directory, the `rune` binary that installs the hook and the paths
//! the hook lints (relative to the repository root, where git runs hooks). Out: an executable
//! POSIX sh script at `<hooks>/pre-commit`, marked as ours by [`MARKER`], so that installing
//! again replaces our own hook while a hook written by someone else is kept unless forced.

use std::path::{Path, PathBuf};

/// The line that identifies a hook written by `rune hook install`.
pub const MARKER: &str = "# installed by rune hook install";

/// Why a hook could not be installed or removed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("`{0}` exists and was not installed by rune; pass `--force` to replace it")]
    Foreign(PathBuf),
    #[error("`{0}` was not installed by rune; remove it yourself if you mean to")]
    NotOurs(PathBuf),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What an install found at the hook's place.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Previous {
    Foreign,
    None,
    Ours,
}

/// The hook script. It runs the binary that installed it while that is still executable (so a
/// hook keeps working when `rune` is not on the `PATH` git runs hooks with), else `rune`.
pub fn script(binary: Option<&Path>, paths: &[String]) -> String {
    // `-q`: silent on success, like every other pre-commit hook; errors still print and stop
    // the commit.
    let mut command = String::from("exec \"$rune\" -q lint --staged");
    if !paths.is_empty() {
        command.push_str(" --");
        for path in paths {
            command.push(' ');
            command.push_str(&quote(path));
        }
    }
    let binary = binary.map_or_else(|| "rune".to_owned(), |b| quote(&b.to_string_lossy()));
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Lints the runefiles of the commit as they are staged (`rune lint --staged`): any error,\n\
         # a plaintext secret value among them, stops the commit. `git commit --no-verify` skips it.\n\
         rune={binary}\n\
         if [ ! -x \"$rune\" ]; then\n    rune=rune\nfi\n\
         if ! command -v \"$rune\" >/dev/null 2>&1; then\n    \
         echo 'pre-commit: rune is not installed (or not on PATH); see `rune hook install`' >&2\n    \
         exit 1\nfi\n\
         {command}\n"
    )
}

/// A word for sh, in single quotes.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Writes `<hooks_dir>/pre-commit` (mode 0755), replacing it atomically. A hook that lacks the
/// marker is replaced only with `force`.
pub fn install(
    hooks_dir: &Path,
    script: &str,
    force: bool,
) -> Result<(PathBuf, Previous), HookError> {
    let path = hooks_dir.join("pre-commit");
    let previous = previous(&path)?;
    if previous == Previous::Foreign && !force {
        return Err(HookError::Foreign(path));
    }
    let io = |source| HookError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(hooks_dir).map_err(io)?;
    let staging = hooks_dir.join(".pre-commit.rune-new");
    crate::fs::replace_executable(&path, &staging, script.as_bytes()).map_err(io)?;
    Ok((path, previous))
}

/// Removes our hook; a foreign one is left in place. `None` when there was no hook.
pub fn uninstall(hooks_dir: &Path) -> Result<Option<PathBuf>, HookError> {
    let path = hooks_dir.join("pre-commit");
    match previous(&path)? {
        Previous::None => Ok(None),
        Previous::Foreign => Err(HookError::NotOurs(path)),
        Previous::Ours => {
            std::fs::remove_file(&path).map_err(|source| HookError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(Some(path))
        }
    }
}

fn previous(path: &Path) -> Result<Previous, HookError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(
            if String::from_utf8_lossy(&bytes).lines().any(|l| l == MARKER) {
                Previous::Ours
            } else {
                Previous::Foreign
            },
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symbolic link is someone's hook too.
            if std::fs::symlink_metadata(path).is_ok() {
                Ok(Previous::Foreign)
            } else {
                Ok(Previous::None)
            }
        }
        Err(source) => Err(HookError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{MARKER, Previous, install, script, uninstall};

    /// Paths and the binary are quoted for sh, and the marker is a line of its own.
    #[test]
    fn the_script_quotes_what_it_runs() {
        let text = script(
            Some(Path::new("/opt/it's/rune")),
            &["deploy".into(), "a b".into()],
        );
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.lines().any(|l| l == MARKER));
        assert!(text.contains(r"rune='/opt/it'\''s/rune'"));
        assert!(text.ends_with("exec \"$rune\" -q lint --staged -- 'deploy' 'a b'\n"));
        assert!(script(None, &[]).ends_with("exec \"$rune\" -q lint --staged\n"));
    }

    /// Our hook is replaced freely; a foreign one only with `force`, and never removed.
    #[test]
    fn foreign_hooks_are_kept_unless_forced() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let hooks = dir.path().join("hooks");
        let (path, previous) = install(&hooks, &script(None, &[]), false).expect("install");
        assert_eq!(previous, Previous::None);
        let (_, previous) = install(&hooks, &script(None, &[]), false).expect("reinstall");
        assert_eq!(previous, Previous::Ours);
        std::fs::write(&path, "#!/bin/sh\nmake check\n").expect("a foreign hook");
        assert!(install(&hooks, &script(None, &[]), false).is_err());
        assert!(uninstall(&hooks).is_err());
        let (_, previous) = install(&hooks, &script(None, &[]), true).expect("forced");
        assert_eq!(previous, Previous::Foreign);
        assert_eq!(uninstall(&hooks).expect("uninstall"), Some(path));
        assert_eq!(uninstall(&hooks).expect("nothing left"), None);
    }
}
