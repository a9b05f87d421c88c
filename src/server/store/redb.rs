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

use std::cell::{Cell, OnceCell};
use std::path::{Path, PathBuf};

use ::redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};

use crate::resource::Kind;
use crate::server::store::{
    Health, IoFailure, PublishedInstance, ReadTx, Record, SealedVersion, Store, StoreError, WriteTx,
};
use crate::wire::audit::AuditEntry;
use crate::wire::object::ObjectKey;
use tables::{AUDIT, KEKS, META, OBJECTS, ReadTable, Rows, SEAL_IDENTITIES, VERSIONS, WriteTable};

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

/// Opens (or creates) the database file of `data_dir`, owner-only.
fn open_database(data_dir: &Path) -> Result<Database, StoreError> {
    let path = store_path(data_dir);
    let db = Database::create(&path).map_err(|error| match error {
        ::redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked(data_dir.to_path_buf()),
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
            let read = Read {
                tx: &tx,
                failed: Cell::new(None),
                identities: OnceCell::new(),
                audit: OnceCell::new(),
                keks: OnceCell::new(),
                meta: OnceCell::new(),
                objects: OnceCell::new(),
                versions: OnceCell::new(),
            };
            work(&read);
            let failed = read.failed.take();
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
            let mut write = Write {
                tx: &tx,
                failed: Cell::new(None),
                identities: OnceCell::new(),
                audit: OnceCell::new(),
                keks: OnceCell::new(),
                meta: OnceCell::new(),
                objects: OnceCell::new(),
                versions: OnceCell::new(),
            };
            let commit = work(&mut write);
            if let Some(failure) = write.failed.take() {
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

/// A read transaction; each table is opened on first use (a `get` needs only the objects).
struct Read<'t> {
    tx: &'t ReadTransaction,
    /// An I/O failure met inside the transaction, which then needs the database reopened.
    failed: Cell<Option<IoFailure>>,
    identities: OnceCell<ReadTable>,
    audit: OnceCell<ReadTable>,
    keks: OnceCell<ReadTable>,
    meta: OnceCell<ReadTable>,
    objects: OnceCell<ReadTable>,
    versions: OnceCell<ReadTable>,
}

impl Read<'_> {
    fn objects(&self) -> Result<&ReadTable, StoreError> {
        opened(&self.objects, || ReadTable::open(self.tx, OBJECTS))
    }
}

/// `result`, with an I/O failure noted in `failed`: the store reopens the database after it.
fn noted<T>(
    failed: &Cell<Option<IoFailure>>,
    work: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let result = work();
    if let Err(StoreError::Io(failure)) = &result {
        failed.set(Some(failure.clone()));
    }
    result
}

/// The table in `cell`, opened by `open` on first use.
fn opened<T>(
    cell: &OnceCell<T>,
    open: impl FnOnce() -> Result<T, StoreError>,
) -> Result<&T, StoreError> {
    if let Some(table) = cell.get() {
        return Ok(table);
    }
    let table = open()?;
    Ok(cell.get_or_init(|| table))
}

impl ReadTx for Read<'_> {
    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.object(key))
    }

    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || {
            opened(&self.versions, || ReadTable::open(self.tx, VERSIONS))?.data(key, version)
        })
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.list(kind, namespace))
    }

    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError> {
        noted(&self.failed, || {
            self.objects()?.count_in_namespace(namespace)
        })
    }

    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.in_source_set(source_set))
    }

    fn kek_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || {
            opened(&self.meta, || ReadTable::open(self.tx, META))?.meta(tables::KEK_CHECK)
        })
    }

    fn kek_checks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        noted(&self.failed, || {
            opened(&self.keks, || ReadTable::open(self.tx, KEKS))?.all()
        })
    }

    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError> {
        noted(&self.failed, || {
            opened(&self.versions, || ReadTable::open(self.tx, VERSIONS))?
                .secret_versions(after, limit)
        })
    }

    fn seal_identity(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || {
            opened(&self.meta, || ReadTable::open(self.tx, META))?.meta(tables::SEAL_IDENTITY)
        })
    }

    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        noted(&self.failed, || {
            opened(&self.audit, || ReadTable::open(self.tx, AUDIT))?.audit(since, limit)
        })
    }

    fn seal_identities(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        noted(&self.failed, || {
            let first = self.seal_identity()?;
            let more = opened(&self.identities, || {
                ReadTable::open(self.tx, SEAL_IDENTITIES)
            })?
            .all()?;
            tables::numbered(first, more)
        })
    }

    fn auth_required(&self) -> Result<bool, StoreError> {
        noted(&self.failed, || {
            let meta = opened(&self.meta, || ReadTable::open(self.tx, META))?;
            Ok(meta.meta(tables::AUTH_REQUIRED)?.is_some())
        })
    }

    fn runner_identities(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || {
            opened(&self.meta, || ReadTable::open(self.tx, META))?.meta(tables::RUNNER_IDENTITIES)
        })
    }
}

/// A write transaction; a table is opened (and so created) on first use, as before the seam.
struct Write<'t> {
    tx: &'t WriteTransaction,
    /// An I/O failure met inside the transaction, which then needs the database reopened.
    failed: Cell<Option<IoFailure>>,
    identities: OnceCell<WriteTable<'t>>,
    audit: OnceCell<WriteTable<'t>>,
    keks: OnceCell<WriteTable<'t>>,
    meta: OnceCell<WriteTable<'t>>,
    objects: OnceCell<WriteTable<'t>>,
    versions: OnceCell<WriteTable<'t>>,
}

impl<'t> Write<'t> {
    fn objects(&self) -> Result<&WriteTable<'t>, StoreError> {
        opened(&self.objects, || WriteTable::open(self.tx, OBJECTS))
    }

    fn versions(&self) -> Result<&WriteTable<'t>, StoreError> {
        opened(&self.versions, || WriteTable::open(self.tx, VERSIONS))
    }

    fn meta(&self) -> Result<&WriteTable<'t>, StoreError> {
        opened(&self.meta, || WriteTable::open(self.tx, META))
    }

    fn table_mut<'c>(
        tx: &'t WriteTransaction,
        cell: &'c mut OnceCell<WriteTable<'t>>,
        definition: tables::Definition,
    ) -> Result<&'c mut WriteTable<'t>, StoreError> {
        if cell.get().is_none() {
            let _ = cell.set(WriteTable::open(tx, definition)?);
        }
        cell.get_mut()
            .ok_or_else(|| StoreError::Backend("a table failed to open".to_owned()))
    }
}

impl ReadTx for Write<'_> {
    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.object(key))
    }

    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || self.versions()?.data(key, version))
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.list(kind, namespace))
    }

    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError> {
        noted(&self.failed, || {
            self.objects()?.count_in_namespace(namespace)
        })
    }

    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError> {
        noted(&self.failed, || self.objects()?.in_source_set(source_set))
    }

    fn kek_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || self.meta()?.meta(tables::KEK_CHECK))
    }

    fn kek_checks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        noted(&self.failed, || {
            opened(&self.keks, || WriteTable::open(self.tx, KEKS))?.all()
        })
    }

    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError> {
        noted(&self.failed, || {
            self.versions()?.secret_versions(after, limit)
        })
    }

    fn seal_identity(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || self.meta()?.meta(tables::SEAL_IDENTITY))
    }

    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        noted(&self.failed, || {
            opened(&self.audit, || WriteTable::open(self.tx, AUDIT))?.audit(since, limit)
        })
    }

    fn seal_identities(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        noted(&self.failed, || {
            let first = self.seal_identity()?;
            let more = opened(&self.identities, || {
                WriteTable::open(self.tx, SEAL_IDENTITIES)
            })?
            .all()?;
            tables::numbered(first, more)
        })
    }

    fn auth_required(&self) -> Result<bool, StoreError> {
        noted(&self.failed, || {
            Ok(self.meta()?.meta(tables::AUTH_REQUIRED)?.is_some())
        })
    }

    fn runner_identities(&self) -> Result<Option<Vec<u8>>, StoreError> {
        noted(&self.failed, || {
            self.meta()?.meta(tables::RUNNER_IDENTITIES)
        })
    }
}

impl WriteTx for Write<'_> {
    fn put_object(&mut self, record: &Record) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.objects, OBJECTS)?.put_object(record)
        })
    }

    fn remove_object(&mut self, key: &ObjectKey) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.objects, OBJECTS)?.remove_object(key)
        })
    }

    fn put_data(&mut self, key: &ObjectKey, version: u64, bytes: &[u8]) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.versions, VERSIONS)?.put_data(key, version, bytes)
        })
    }

    fn remove_data(&mut self, key: &ObjectKey, version: u64) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.versions, VERSIONS)?.remove_data(key, version)
        })
    }

    fn set_kek_check(&mut self, check: &[u8]) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.meta, META)?.set_meta(tables::KEK_CHECK, check)
        })
    }

    fn set_kek_check_for(&mut self, kek_id: &str, check: &[u8]) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.keks, KEKS)?.set_meta(kek_id, check)
        })
    }

    fn set_seal_identity(&mut self, sealed: &[u8]) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.meta, META)?.set_meta(tables::SEAL_IDENTITY, sealed)
        })
    }

    fn put_seal_identity(&mut self, number: u64, sealed: &[u8]) -> Result<(), StoreError> {
        if number <= 1 {
            return self.set_seal_identity(sealed);
        }
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.identities, SEAL_IDENTITIES)?
                .set_meta(&format!("{number:020}"), sealed)
        })
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.audit, AUDIT)?.append_audit(entry)
        })
    }

    fn prune_audit(&mut self, before: &str) -> Result<u64, StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.audit, AUDIT)?.prune_audit(before)
        })
    }

    fn set_auth_required(&mut self) -> Result<(), StoreError> {
        noted(&self.failed, || {
            let at = crate::server::clock::now();
            Write::table_mut(self.tx, &mut self.meta, META)?
                .set_meta(tables::AUTH_REQUIRED, at.as_bytes())
        })
    }

    fn set_runner_identities(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        noted(&self.failed, || {
            Write::table_mut(self.tx, &mut self.meta, META)?
                .set_meta(tables::RUNNER_IDENTITIES, bytes)
        })
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
