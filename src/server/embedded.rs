//! Embedded mode: the engine in-process on a local data directory, so that `rune` works with no
//! server configured (SPEC §1). The directory has its own KEK file, generated on first use
//! (mode 0600) and never regenerated for an existing store. Where that directory is, and how
//! `rune` reaches the engine, is `crate::local`'s business.

use std::path::Path;

use crate::server::crypto::{CryptoError, Kek};
use crate::server::engine::{Engine, EngineError, Settings, store_path};
use crate::server::kek::{self, KekError};
use crate::server::store::redb::RedbStore;
use crate::server_config::KekConfig;

/// Why the local engine could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(transparent)]
    Kek(#[from] KekError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Opens the local engine in `data_dir` with the default limits and retention.
pub fn open(data_dir: &Path) -> Result<Engine, EmbeddedError> {
    let config = KekConfig {
        generate_if_missing: true,
        ..KekConfig::default()
    };
    let loaded = kek::load(&config, data_dir)?;
    Ok(Engine::open(data_dir, loaded.kek, Settings::default())?)
}

/// Opens the local engine for a command that only reads: an existing store as [`open`] does,
/// else an empty store in memory under a throw-away KEK, so that nothing (directory, store, KEK)
/// is created on disk (SPEC §3, target selection).
pub fn open_read_only(data_dir: &Path) -> Result<Engine, EmbeddedError> {
    if store_path(data_dir).exists() {
        return open(data_dir);
    }
    let store = RedbStore::in_memory().map_err(EngineError::from)?;
    Ok(Engine::with_store(
        Box::new(store),
        Kek::generate()?,
        Settings::default(),
    )?)
}

#[cfg(test)]
mod tests {
    /// The embedded engine works on a fresh directory and reopens with the KEK it generated.
    #[test]
    fn opens_and_reopens_a_local_directory() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local");
        drop(super::open(&local).unwrap());
        let engine = super::open(&local).unwrap();
        assert_eq!(
            engine
                .list(crate::resource::Kind::Namespace, None)
                .unwrap()
                .len(),
            2
        );
    }

    /// A read-only open of a directory with no store creates nothing and sees the seeded state.
    #[test]
    fn read_only_open_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local");
        let engine = super::open_read_only(&local).unwrap();
        assert_eq!(
            engine
                .list(crate::resource::Kind::Namespace, None)
                .unwrap()
                .len(),
            2
        );
        assert!(!local.exists());
    }
}
