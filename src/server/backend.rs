//! The configured storage backend (SPEC §4.1 `storage.backend`, §4.5), opened for runed and
//! for `runed token` / `runed store copy`.
//!
//! In: a [`ServerConfig`] and its data directory. Out: the object [`Store`] and the
//! [`TokenStore`] of the same backend — redb with `tokens.json` beside it, or one PostgreSQL
//! database for both. Must not happen here: the PostgreSQL URL in an error or a log line (it
//! holds a password); it lives in a [`Secret`] from the moment it is read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::secrets::Secret;
use crate::server::store::postgres::{PgOptions, PgStore};
use crate::server::store::redb::RedbStore;
use crate::server::store::{Store, StoreError, TokenFileStore, TokenStore};
use crate::server_config::{PostgresConfig, ServerConfig, StorageBackend, UrlSource};

/// Why the configured backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("the PostgreSQL URL: environment variable `{0}` is not set (or not UTF-8)")]
    UrlEnv(String),
    #[error("the PostgreSQL URL: cannot read `{path}`: {source}")]
    UrlFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An opened backend.
pub struct Opened {
    pub store: Box<dyn Store>,
    pub tokens: Arc<dyn TokenStore>,
    /// `true` when tokens live in the database (every replica reads them from there).
    pub shared: bool,
    /// For the log: where the store is, without a password.
    pub description: String,
    /// The database replicas share, for the runner's lock (postgres backend only).
    pub postgres: Option<PgStore>,
}

/// Opens the backend `config` names; objects and tokens, the data directory for redb.
pub fn open(config: &ServerConfig, data_dir: &Path) -> Result<Opened, BackendError> {
    match &config.storage {
        StorageBackend::Redb => Ok(Opened {
            store: Box::new(RedbStore::open(data_dir)?),
            tokens: Arc::new(TokenFileStore::new(data_dir)),
            shared: false,
            description: format!("redb in {}", data_dir.display()),
            postgres: None,
        }),
        StorageBackend::Postgres(postgres) => {
            let store = open_postgres(postgres)?;
            Ok(Opened {
                tokens: Arc::new(store.tokens()),
                store: Box::new(store.clone()),
                shared: true,
                description: "PostgreSQL".to_owned(),
                postgres: Some(store),
            })
        }
    }
}

/// The PostgreSQL store of a configuration.
pub fn open_postgres(config: &PostgresConfig) -> Result<PgStore, BackendError> {
    let options = PgOptions {
        url: url(&config.url)?,
        pool_size: config.pool_size,
        ca_file: config.ca_file.clone(),
        write_lock_wait: crate::server::store::postgres::WRITE_LOCK_WAIT,
    };
    Ok(PgStore::open(&options)?)
}

/// Reads the URL from where the configuration says.
pub fn url(source: &UrlSource) -> Result<Secret<String>, BackendError> {
    match source {
        UrlSource::Env(name) => std::env::var(name)
            .map(|url| Secret::new(url.trim().to_owned()))
            .map_err(|_| BackendError::UrlEnv(name.clone())),
        UrlSource::File(path) => std::fs::read_to_string(path)
            .map(|url| Secret::new(url.trim().to_owned()))
            .map_err(|source| BackendError::UrlFile {
                path: path.clone(),
                source,
            }),
    }
}
