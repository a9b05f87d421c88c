//! The redb data directory on disk, through `Engine::open`: its modes and its bytes.

use std::path::Path;

use super::{cast, key, secret};
use crate::resource::Kind;
use crate::server::crypto::Kek;
use crate::server::engine::{Engine, Settings, store_path};

fn engine_in(dir: &Path) -> Engine {
    Engine::open(dir, Kek::from_bytes(&[7; 32]).unwrap(), Settings::default()).unwrap()
}

/// No file of the data directory holds a secret value: after writes, updates, deletes and a
/// compaction.
#[test]
fn no_plaintext_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let markers = ["MARKER-one-4f1c", "MARKER-two-77aa", "MARKER-three-9b0e"];
    {
        let engine = engine_in(dir.path());
        cast(
            &engine,
            &[
                secret("a", &[("k", markers[0])]),
                secret("b", &[("k", markers[1])]),
            ],
        )
        .unwrap();
        cast(&engine, &[secret("a", &[("k", markers[2])])]).unwrap();
        engine
            .delete(&key(Kind::Secret, "default", "b"), false)
            .unwrap();
    }
    let mut db = redb::Database::create(store_path(dir.path())).unwrap();
    db.compact().unwrap();
    drop(db);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for marker in markers {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found on disk"
            );
        }
    }
}

/// The data directory is the owner's alone, and so is the store file.
#[cfg(unix)]
#[test]
fn data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(engine_in(&data));
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&store_path(&data)), 0o600);
}

/// A second engine on the same directory is refused while the first holds it.
#[test]
fn a_second_open_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = engine_in(dir.path());
    let second = Engine::open(
        dir.path(),
        Kek::from_bytes(&[7; 32]).unwrap(),
        Settings::default(),
    );
    assert!(
        matches!(second, Err(crate::server::engine::EngineError::Locked(_))),
        "{second:?}"
    );
}
