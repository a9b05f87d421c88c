//! The redb store: one file, `rune.redb`, in the data directory — the first [`Store`].
//!
//! In: a data directory. Out: a [`Store`] over six tables (their layout is in `tables.rs`).
//! The directory is made private (0700) and the file owner-only (0600); a second process that
//! opens the same file is refused with [`StoreError::Locked`].
//!
//! After an I/O failure (a full disk) redb answers `PreviousIo` to every later call until the
//! database is reopened; the store does that itself on the next call (`recover.rs`), so that
//! runed heals once space is back, without a restart.
//! Must not happen here: a change of the tables, their keys or the record JSON — existing data
//! directories are read as they are.

mod recover;
mod tables;
#[cfg(test)]
mod tests;
mod tx;

use std::path::{Path, PathBuf};

use ::redb::{Database, ReadableDatabase};

use crate::server::store::{
    Health, IoFailure, PublishedInstance, ReadTx, Store, StoreError, WriteTx,
};
use tx::{Read, Write};

const STORE_FILE: &str = "rune.redb";

/// The store file inside a data directory.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STORE_FILE)
}

/// The store of one data directory, open for this process alone.
pub struct RedbStore {
    /// `None` for a store in memory, which has no file to reopen or probe.
    data_dir: Option<PathBuf>,
    /// `None` while closed: after an I/O failure, until reopening succeeds. Transactions hold
    /// the read side; reopening takes the write side, so it waits for those in flight.
    db: std::sync::RwLock<Option<Database>>,
    /// The I/O failure since which the store is not known to work, if any (`/healthz`).
    failure: std::sync::Mutex<Option<IoFailure>>,
    /// An I/O failure happened since the database was opened: reopen it before the next call.
    reopen: std::sync::atomic::AtomicBool,
    /// Published instance states, in memory: one runed owns a redb store, so nobody else reads
    /// them, and writing them to the file on every change would only cost fsyncs.
    instances: std::sync::Mutex<Vec<PublishedInstance>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens (or creates) the store in `data_dir`, creating the directory if needed.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        create_private_dir(data_dir)?;
        let db = open_database(data_dir)?;
        Ok(Self {
            data_dir: Some(data_dir.to_path_buf()),
            db: std::sync::RwLock::new(Some(db)),
            failure: std::sync::Mutex::new(None),
            reopen: std::sync::atomic::AtomicBool::new(false),
            instances: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// A fresh store in memory, gone when dropped: the empty state a read-only command
    /// compares with when no store exists yet, without creating one on disk (SPEC §3).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db =
            Database::builder().create_with_backend(::redb::backends::InMemoryBackend::new())?;
        Ok(Self {
            data_dir: None,
            db: std::sync::RwLock::new(Some(db)),
            failure: std::sync::Mutex::new(None),
            reopen: std::sync::atomic::AtomicBool::new(false),
            instances: std::sync::Mutex::new(Vec::new()),
        })
    }
}

/// redb's page cache, its write buffer included (at most half of it). redb's default of 1 GiB
/// let the dirty pages of one large transaction stay in memory until it commits (some 113 MB
/// for an apply of 100,000 objects); past half of this they go to the file before the commit,
/// where the operating system's page cache still serves them (issue #14).
const CACHE_BYTES: usize = 64 << 20;

/// Opens (or creates) the database file of `data_dir`, owner-only.
fn open_database(data_dir: &Path) -> Result<Database, StoreError> {
    let path = store_path(data_dir);
    let db = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create(&path)
        .map_err(|error| match error {
            ::redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreError::Locked(data_dir.to_path_buf())
            }
            other => other.into(),
        })?;
    restrict_to_owner(&path)?;
    Ok(db)
}

impl Store for RedbStore {
    fn read_tx(&self, work: &mut dyn FnMut(&dyn ReadTx)) -> Result<(), StoreError> {
        let mut inner_failure = false;
        let result = self.with_db(|db| {
            let tx = db.begin_read()?;
            let read = Read::new(&tx);
            work(&read);
            let failed = read.take_failure();
            inner_failure = failed.is_some();
            failed.map_or(Ok(()), |f| Err(StoreError::Io(f)))
        });
        match result {
            // `work` met the failure and has the error already: the store only takes note.
            Err(StoreError::Io(_)) if inner_failure => Ok(()),
            other => other,
        }
    }

    fn write_tx(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> bool) -> Result<(), StoreError> {
        let mut inner_failure = false;
        let result = self.with_db(|db| {
            let tx = db.begin_write()?;
            let mut write = Write::new(&tx);
            let commit = work(&mut write);
            if let Some(failure) = write.take_failure() {
                // `work` has the error and returned it; nothing of the transaction is kept.
                drop(write);
                inner_failure = true;
                return Err(StoreError::Io(failure));
            }
            drop(write);
            // Dropped uncommitted, a redb write transaction is rolled back; a commit that fails
            // leaves the last committed state (redb's two commit slots).
            if commit {
                tx.commit()?;
                self.recovered();
            }
            Ok(())
        });
        match result {
            Err(StoreError::Io(_)) if inner_failure => Ok(()),
            other => other,
        }
    }

    fn health(&self) -> Health {
        self.probe()
    }

    fn publish_instances(
        &self,
        _replica: &str,
        instances: &[PublishedInstance],
    ) -> Result<bool, StoreError> {
        let mut slot = self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = instances.to_vec();
        Ok(true)
    }

    fn published_instances(&self) -> Result<Vec<PublishedInstance>, StoreError> {
        Ok(self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }
}

/// The store holds only ciphertext for secrets, but configmaps and metadata are plaintext.
fn restrict_to_owner(path: &Path) -> Result<(), StoreError> {
    crate::fs::restrict_to_owner(path).map_err(|source| StoreError::DataDir {
        path: path.to_path_buf(),
        source,
    })
}

fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    crate::fs::ensure_private_dir(path).map_err(|source| StoreError::DataDir {
        path: path.to_path_buf(),
        source,
    })
}
