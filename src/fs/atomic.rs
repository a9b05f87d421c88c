//! Atomic replacement: the new bytes go to a temporary file in the target's directory (so that
//! the rename stays on one file system), which is synced and then renamed over the target. A
//! crash leaves the old file or the new one, never a mixture.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes`, readable and writable by its owner only (tokens, the config
/// file of contexts). The temporary file is `<path>.tmp`; one left by an earlier crash is
/// replaced.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    replace_via(
        &PathBuf::from(temporary),
        path,
        bytes,
        Permissions::from_mode(0o600),
    )
}

/// Replaces an existing file with `bytes`, keeping its permissions (a runefile that `rune seal
/// --in-place` rewrites). A symbolic link is followed, so the link stays and its target changes.
/// The temporary file is hidden and named after the process, so that two writers never share it.
pub fn replace_keeping_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    let name = target.file_name().map_or_else(
        || std::ffi::OsString::from("file"),
        std::ffi::OsStr::to_os_string,
    );
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(&name);
    temporary.push(format!(".rune-{}.tmp", std::process::id()));
    replace_via(
        &target.with_file_name(temporary),
        &target,
        bytes,
        permissions,
    )
}

/// Replaces `path` with an executable (mode 0755) holding `bytes`, through `temporary`, which
/// must be in the same directory (the git hook, staged under a name git does not run).
pub fn replace_executable(path: &Path, temporary: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_via(temporary, path, bytes, Permissions::from_mode(0o755))
}

/// The one way a file is replaced: a leftover `temporary` is removed; a new one is created
/// owner-only, given its final `permissions` (exactly: the umask may have narrowed the mode at
/// creation), written, synced and renamed over `target`. On failure it is removed again.
fn replace_via(
    temporary: &Path,
    target: &Path,
    bytes: &[u8],
    permissions: Permissions,
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(temporary);
    let written = (|| {
        // `create_new` never follows a symbolic link planted at the temporary name.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(temporary)?;
        std::fs::set_permissions(temporary, permissions)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(temporary, target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A private replacement is owner-only whatever the old file's mode, and leaves nothing.
    #[test]
    fn replaced_files_are_private_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(dir.path().join("f.tmp"), "a leftover of a crash").unwrap();
        super::replace_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A rewritten runefile keeps its mode, and a symbolic link to it stays a link.
    #[test]
    fn rewritten_files_keep_their_mode_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.yaml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        super::replace_keeping_mode(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(mode(&path), 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// An executable is 0755 and replaces the old file through its temporary name.
    #[test]
    fn executables_are_0755() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pre-commit");
        let staging = dir.path().join(".pre-commit.new");
        std::fs::write(&staging, "a leftover").unwrap();
        super::replace_executable(&path, &staging, b"#!/bin/sh\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "#!/bin/sh\n");
        assert_eq!(mode(&path), 0o755);
        assert!(!staging.exists());
    }
}
