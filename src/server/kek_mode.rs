//! The KEK file's permissions at start (issue #12). A KEK file that others can read gives them
//! every secret: runed warns, naming the path and the mode, and says how to fix it. One that
//! every user can write lets anyone swap the key (new secrets would then be wrapped under a key
//! of their choosing): runed refuses to start — fail closed. A group-writable file is warned
//! about like a group-readable one: the group is a choice its owner made.
//!
//! In: the KEK configuration and the data directory. Out: a warning in runed's log, or
//! [`KekError::WorldWritable`]. Must not happen here: any byte of the file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::server::kek::{self, KekError};
use crate::server::log;
use crate::server_config::{KekConfig, KekSource};

/// Checks the mode of the KEK file `config` names, if it exists (a generated one is 0600).
pub fn check(config: &KekConfig, data_dir: &Path) -> Result<(), KekError> {
    if config.source == KekSource::Env {
        return Ok(());
    }
    let path = kek::file_path(config, data_dir);
    let Ok(metadata) = std::fs::metadata(&path) else {
        // Missing or unreadable: loading says which.
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o002 != 0 {
        return Err(KekError::WorldWritable { mode, path });
    }
    if mode & 0o077 != 0 {
        log::warn(&format!(
            "the KEK file `{}` is readable or writable by others (mode {mode:04o}): anyone who can read it can decrypt every secret; run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use crate::server::kek::KekError;
    use crate::server_config::KekConfig;

    #[test]
    fn a_world_writable_kek_file_is_refused_and_others_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        std::fs::write(&path, "x").unwrap();
        let config = KekConfig {
            file_path: Some(path.clone()),
            ..KekConfig::default()
        };
        for (mode, refused) in [
            (0o600, false),
            (0o640, false),
            (0o644, false),
            (0o666, true),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let result = super::check(&config, dir.path());
            assert_eq!(
                matches!(result, Err(KekError::WorldWritable { .. })),
                refused,
                "{mode:o}"
            );
        }
    }
}
