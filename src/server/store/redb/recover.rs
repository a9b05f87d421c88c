//! Recovery after an I/O failure (issue #12): redb answers `PreviousIo` to every call after one
//! until the database is reopened, so a full disk would otherwise break every later request
//! until runed restarts.
//!
//! Every transaction runs under the read side of the store's lock ([`RedbStore::with_db`]); an
//! I/O failure marks the store failed, and the next call takes the write side — so no
//! transaction is in flight — closes the database and opens it again. redb's commit is atomic (two
//! commit slots), so what reopening finds is the last committed state: a commit that failed for
//! want of space left nothing half-written. Until a write commits again the store reports the
//! failure ([`Health::Degraded`]); `/healthz` asks, and asking probes: a small file written and
//! synced in the data directory, then an empty write transaction.

use std::io::Write as _;
use std::sync::atomic::Ordering;

use ::redb::Database;

use super::{RedbStore, open_database};
use crate::server::log;
use crate::server::store::{Health, IoFailure, StoreError};

/// The probe's file in the data directory, written, synced and removed.
const PROBE_FILE: &str = ".rune-probe";
/// How much the probe writes: a commit needs a few pages of room.
const PROBE_BYTES: usize = 64 * 1024;

impl RedbStore {
    /// Runs `work` on the open database, reopening it first when an I/O failure closed it;
    /// an I/O failure of `work` marks the store failed.
    pub(super) fn with_db<R>(
        &self,
        work: impl FnOnce(&Database) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        if self.reopen.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let guard = self
            .db
            .read()
            .map_err(|_| StoreError::Backend("the store's lock is poisoned".to_owned()))?;
        let Some(db) = guard.as_ref() else {
            drop(guard);
            return Err(StoreError::Io(self.failed().unwrap_or_else(closed)));
        };
        let result = work(db);
        drop(guard);
        if let Err(StoreError::Io(failure)) = &result {
            self.fail(failure.clone());
        }
        result
    }

    /// A write committed: the store works again.
    pub(super) fn recovered(&self) {
        let mut failure = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(failure) = failure.take() {
            log::info(&format!(
                "the store works again (after: {failure}); writes are accepted"
            ));
        }
    }

    /// The state for `/healthz`; a failed store tries to recover first.
    pub(super) fn probe(&self) -> Health {
        if self.failed().is_none() {
            return Health::Ok;
        }
        let probed = self.probe_file().and_then(|()| {
            self.with_db(|db| {
                let tx = db.begin_write()?;
                tx.commit()?;
                Ok(())
            })
        });
        match probed {
            Ok(()) => {
                self.recovered();
                Health::Ok
            }
            Err(StoreError::Io(failure)) => {
                self.fail(failure.clone());
                Health::Degraded(failure)
            }
            Err(other) => Health::Degraded(IoFailure {
                full: false,
                cause: other.to_string(),
            }),
        }
    }

    fn failed(&self) -> Option<IoFailure> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn fail(&self, failure: IoFailure) {
        let mut current = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.is_none() {
            log::error(&format!(
                "store I/O failed: {failure}; writes fail until it works again (runed: 507/503, `/healthz` degraded)"
            ));
        }
        *current = Some(failure);
        self.reopen.store(true, Ordering::Release);
    }

    /// Closes the database and opens it again, once no transaction is in flight. When that
    /// fails (the disk is still full) the store stays closed, and the next call tries again.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut guard = self
            .db
            .write()
            .map_err(|_| StoreError::Backend("the store's lock is poisoned".to_owned()))?;
        if !self.reopen.load(Ordering::Acquire) {
            // Another call reopened it while this one waited for the lock.
            return Ok(());
        }
        if let Some(db) = guard.take() {
            // Closing releases the file lock; its error is the failure we already know of.
            let _ = db.close();
        }
        let Some(data_dir) = &self.data_dir else {
            return Err(StoreError::Backend(
                "a store in memory cannot be reopened".to_owned(),
            ));
        };
        match open_database(data_dir) {
            Ok(db) => {
                *guard = Some(db);
                self.reopen.store(false, Ordering::Release);
                drop(guard);
                log::info("reopened the store after an I/O failure");
                Ok(())
            }
            Err(error) => {
                drop(guard);
                if let StoreError::Io(failure) = &error {
                    self.fail(failure.clone());
                }
                Err(error)
            }
        }
    }

    /// Whether the data directory takes a small write now.
    fn probe_file(&self) -> Result<(), StoreError> {
        let Some(data_dir) = &self.data_dir else {
            return Ok(());
        };
        let path = data_dir.join(PROBE_FILE);
        let written = std::fs::File::create(&path).and_then(|mut file| {
            file.write_all(&vec![0; PROBE_BYTES])?;
            file.sync_all()
        });
        let _ = std::fs::remove_file(&path);
        written.map_err(|error| StoreError::Io(IoFailure::from_io(&error)))
    }
}

/// The cause when the database is closed but no failure is on record (it cannot be both).
fn closed() -> IoFailure {
    IoFailure {
        full: false,
        cause: "the store is closed".to_owned(),
    }
}
