//! The one place that sets up how `rune` runs in tests: no colour, a fixed width, a private
//! HOME, and no `RUNE_*` variables leaking in from the developer's shell.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root, where `fixtures/` and `schemas/` live.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rune` with a normalised environment, run in `dir`.
pub fn rune(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("rune").expect("the rune binary is built for tests");
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("HOME", dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("RUNE_") {
            command.env_remove(&name);
        }
    }
    command
}

/// A temporary directory holding the given runefiles.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Writes a file (creating parent directories) and returns the workspace.
    #[track_caller]
    pub fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(full, text).expect("write a test file");
        self
    }

    pub fn rune(&self) -> Command {
        rune(self.dir.path())
    }
}
