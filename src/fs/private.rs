//! Files and directories for their owner only: created with mode 0600 (files) or 0700
//! (directories) from the first moment, never widened later.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates a new file with mode 0600, open for writing; refuses to replace an existing file or
/// to follow a symbolic link (a KEK is never overwritten). The caller writes and syncs it.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Creates `path` and its missing parents with mode 0700; an existing directory keeps its mode.
pub fn create_private_dirs(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// Creates `path` like [`create_private_dirs`], then sets it to exactly 0700: an existing
/// directory is narrowed, and a new one may have been narrowed further by the umask.
pub fn ensure_private_dir(path: &Path) -> std::io::Result<()> {
    create_private_dirs(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Narrows an existing file to mode 0600: for files another library creates (the redb store),
/// whose creation mode rune does not choose.
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Opens a file for appending, creating it with mode 0600 (logs that may hold what a process
/// printed).
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A private file is 0600 and never replaces an existing one.
    #[test]
    fn private_files_are_new_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        super::create_private(&path)
            .unwrap()
            .write_all(b"key\n")
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(super::create_private(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "key\n");
    }

    /// New directories are 0700; only `ensure_private_dir` narrows an existing one.
    #[test]
    fn private_directories_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b");
        super::create_private_dirs(&deep).unwrap();
        assert_eq!(mode(&deep), 0o700);
        std::fs::set_permissions(&deep, std::fs::Permissions::from_mode(0o755)).unwrap();
        super::create_private_dirs(&deep).unwrap();
        assert_eq!(mode(&deep), 0o755);
        super::ensure_private_dir(&deep).unwrap();
        assert_eq!(mode(&deep), 0o700);
        let log = deep.join("log");
        super::open_private_append(&log).unwrap();
        assert_eq!(mode(&log), 0o600);
        let store = deep.join("store");
        std::fs::write(&store, "").unwrap();
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::restrict_to_owner(&store).unwrap();
        assert_eq!(mode(&store), 0o600);
    }
}
