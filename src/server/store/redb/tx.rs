//! The two kinds of transaction of the redb store. The reads are the same in both — only how a
//! table opens differs: a read transaction cannot create one — so [`ReadTx`] is written once
//! for [`Transaction`], and [`WriteTx`] only for [`Write`].

use std::cell::{Cell, OnceCell};

use ::redb::{ReadTransaction, WriteTransaction};

use super::tables::{
    self, AUDIT, Definition, KEKS, META, OBJECTS, ReadTable, Rows, SEAL_IDENTITIES, VERSIONS,
    WriteTable,
};
use crate::resource::Kind;
use crate::server::store::{IoFailure, ReadTx, Record, SealedVersion, StoreError, WriteTx};
use crate::wire::audit::AuditEntry;
use crate::wire::object::ObjectKey;

/// The tables, in the order of [`Which`].
const DEFINITIONS: [Definition; 6] = [OBJECTS, VERSIONS, META, KEKS, SEAL_IDENTITIES, AUDIT];

#[derive(Clone, Copy)]
enum Which {
    Objects,
    Versions,
    Meta,
    Keks,
    Identities,
    Audit,
}

/// A transaction: each table is opened on first use (a `get` needs only the objects), and an
/// I/O failure met inside it is noted, for the store to reopen the database after it.
pub(super) struct Transaction<'t, X, T> {
    tx: &'t X,
    failed: Cell<Option<IoFailure>>,
    tables: [OnceCell<T>; 6],
}

pub(super) type Read<'t> = Transaction<'t, ReadTransaction, ReadTable>;
pub(super) type Write<'t> = Transaction<'t, WriteTransaction, WriteTable<'t>>;

impl<'t, X, T> Transaction<'t, X, T> {
    pub(super) fn new(tx: &'t X) -> Self {
        Self {
            tx,
            failed: Cell::new(None),
            tables: Default::default(),
        }
    }

    /// The I/O failure met inside the transaction, if any.
    pub(super) fn take_failure(&self) -> Option<IoFailure> {
        self.failed.take()
    }
}

/// How a table opens in a transaction of kind `X`.
pub(super) trait Open<'t, X>: Rows + Sized {
    fn open(tx: &'t X, definition: Definition) -> Result<Self, StoreError>;
}

impl<'t> Open<'t, ReadTransaction> for ReadTable {
    fn open(tx: &'t ReadTransaction, definition: Definition) -> Result<Self, StoreError> {
        ReadTable::open(tx, definition)
    }
}

impl<'t> Open<'t, WriteTransaction> for WriteTable<'t> {
    fn open(tx: &'t WriteTransaction, definition: Definition) -> Result<Self, StoreError> {
        WriteTable::open(tx, definition)
    }
}

impl<'t, X, T: Open<'t, X>> Transaction<'t, X, T> {
    fn table(&self, which: Which) -> Result<&T, StoreError> {
        let cell = &self.tables[which as usize];
        if let Some(table) = cell.get() {
            return Ok(table);
        }
        let table = T::open(self.tx, DEFINITIONS[which as usize])?;
        Ok(cell.get_or_init(|| table))
    }

    /// `work`'s result, with an I/O failure noted.
    fn noted<R>(&self, work: impl FnOnce() -> Result<R, StoreError>) -> Result<R, StoreError> {
        noted(&self.failed, work)
    }
}

fn noted<R>(
    failed: &Cell<Option<IoFailure>>,
    work: impl FnOnce() -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let result = work();
    if let Err(StoreError::Io(failure)) = &result {
        failed.set(Some(failure.clone()));
    }
    result
}

impl<'t, X, T: Open<'t, X>> ReadTx for Transaction<'t, X, T> {
    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError> {
        self.noted(|| self.table(Which::Objects)?.object(key))
    }

    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.noted(|| self.table(Which::Versions)?.data(key, version))
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError> {
        self.noted(|| self.table(Which::Objects)?.list(kind, namespace))
    }

    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError> {
        self.noted(|| self.table(Which::Objects)?.count_in_namespace(namespace))
    }

    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError> {
        self.noted(|| self.table(Which::Objects)?.in_source_set(source_set))
    }

    fn kek_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.noted(|| self.table(Which::Meta)?.meta(tables::KEK_CHECK))
    }

    fn kek_checks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.noted(|| self.table(Which::Keks)?.all())
    }

    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError> {
        self.noted(|| self.table(Which::Versions)?.secret_versions(after, limit))
    }

    fn seal_identity(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.noted(|| self.table(Which::Meta)?.meta(tables::SEAL_IDENTITY))
    }

    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.noted(|| self.table(Which::Audit)?.audit(since, limit))
    }

    fn seal_identities(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.noted(|| {
            let first = self.table(Which::Meta)?.meta(tables::SEAL_IDENTITY)?;
            let more = self.table(Which::Identities)?.all()?;
            tables::numbered(first, more)
        })
    }

    fn auth_required(&self) -> Result<bool, StoreError> {
        self.noted(|| {
            Ok(self
                .table(Which::Meta)?
                .meta(tables::AUTH_REQUIRED)?
                .is_some())
        })
    }

    fn runner_identities(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.noted(|| self.table(Which::Meta)?.meta(tables::RUNNER_IDENTITIES))
    }
}

/// The table of `which` in `tables`, opened (and so created) on first use. Takes the fields
/// apart from the transaction so that the failure cell stays borrowable beside it.
fn table_mut<'c, 't>(
    tx: &'t WriteTransaction,
    tables: &'c mut [OnceCell<WriteTable<'t>>; 6],
    which: Which,
) -> Result<&'c mut WriteTable<'t>, StoreError> {
    let cell = &mut tables[which as usize];
    if cell.get().is_none() {
        let _ = cell.set(WriteTable::open(tx, DEFINITIONS[which as usize])?);
    }
    cell.get_mut()
        .ok_or_else(|| StoreError::Backend("a table failed to open".to_owned()))
}

impl Write<'_> {
    /// `write` on the table of `which`, with an I/O failure noted.
    fn write<R>(
        &mut self,
        which: Which,
        write: impl FnOnce(&mut WriteTable<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        noted(&self.failed, || {
            write(table_mut(self.tx, &mut self.tables, which)?)
        })
    }
}

impl WriteTx for Write<'_> {
    fn put_object(&mut self, record: &Record) -> Result<(), StoreError> {
        self.write(Which::Objects, |t| t.put_object(record))
    }

    fn remove_object(&mut self, key: &ObjectKey) -> Result<(), StoreError> {
        self.write(Which::Objects, |t| t.remove_object(key))
    }

    fn put_data(&mut self, key: &ObjectKey, version: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(Which::Versions, |t| t.put_data(key, version, bytes))
    }

    fn remove_data(&mut self, key: &ObjectKey, version: u64) -> Result<(), StoreError> {
        self.write(Which::Versions, |t| t.remove_data(key, version))
    }

    fn set_kek_check(&mut self, check: &[u8]) -> Result<(), StoreError> {
        self.write(Which::Meta, |t| t.set_meta(tables::KEK_CHECK, check))
    }

    fn set_kek_check_for(&mut self, kek_id: &str, check: &[u8]) -> Result<(), StoreError> {
        self.write(Which::Keks, |t| t.set_meta(kek_id, check))
    }

    fn set_seal_identity(&mut self, sealed: &[u8]) -> Result<(), StoreError> {
        self.write(Which::Meta, |t| t.set_meta(tables::SEAL_IDENTITY, sealed))
    }

    fn put_seal_identity(&mut self, number: u64, sealed: &[u8]) -> Result<(), StoreError> {
        if number <= 1 {
            return self.set_seal_identity(sealed);
        }
        self.write(Which::Identities, |t| {
            t.set_meta(&format!("{number:020}"), sealed)
        })
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write(Which::Audit, |t| t.append_audit(entry))
    }

    fn prune_audit(&mut self, before: &str) -> Result<u64, StoreError> {
        self.write(Which::Audit, |t| t.prune_audit(before))
    }

    fn set_auth_required(&mut self) -> Result<(), StoreError> {
        let at = crate::server::clock::now();
        self.write(Which::Meta, |t| {
            t.set_meta(tables::AUTH_REQUIRED, at.as_bytes())
        })
    }

    fn set_runner_identities(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(Which::Meta, |t| {
            t.set_meta(tables::RUNNER_IDENTITIES, bytes)
        })
    }
}
