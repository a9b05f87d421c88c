//! Embedded mode: the engine in-process on a local data directory, so that `rune` works with no
//! server configured (SPEC §1). The directory has its own KEK file, generated on first use
//! (mode 0600) and never regenerated for an existing store. Where that directory is, and how
//! `rune` reaches the engine, is `crate::local`'s business.

use std::path::Path;

use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::kek::{self, KekError};
use crate::server_config::KekConfig;

/// Why the local engine could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(transparent)]
    Kek(#[from] KekError),
    #[error(transparent)]
    Engine(#[from] EngineError),
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
}
