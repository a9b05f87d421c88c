//! The layout of `rune.redb`: three tables of string keys and byte values.
//!
//! - `objects`: `kind\0namespace\0name` → a [`Record`] as JSON.
//! - `versions`: `kind\0namespace\0name\0{version:020}` → a sealed secret or a configmap's JSON.
//! - `meta`: `kek-check` → the KEK check value (before KEK rotation); `seal-identity` → the
//!   sealed age identity.
//! - `keks`: KEK id → that KEK's check value (a table of its own since KEK rotation, #15).
//! - `seal-identities`: `{number:020}` → seal identities 2, 3, … after a rotation (#15).
//! - `audit`: `{at}\0{n:010}` → an audit record as JSON, in time order (#15).
//!
//! Keys sort by kind, then namespace, then name (then version), so a kind or a namespace is one
//! key range. Must not happen here: any change to this layout without a migration.

use ::redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, TableError,
    WriteTransaction,
};

use crate::resource::Kind;
use crate::server::store::{Record, SealedVersion, StoreError};
use crate::wire::audit::AuditEntry;
use crate::wire::object::{KindName, ObjectKey};

pub(super) type Definition = TableDefinition<'static, &'static str, &'static [u8]>;

/// Objects by `kind\0namespace\0name` → JSON [`Record`].
pub(super) const OBJECTS: Definition = TableDefinition::new("objects");
/// Data versions by `kind\0namespace\0name\0{version:020}` → sealed secret or configmap JSON.
pub(super) const VERSIONS: Definition = TableDefinition::new("versions");
/// Store-wide facts: the KEK check value, the seal identity.
pub(super) const META: Definition = TableDefinition::new("meta");

/// Check values by KEK id (`kek id` → check value): one per KEK the store has known.
pub(super) const KEKS: Definition = TableDefinition::new("keks");

/// Seal identities after the first, by `{number:020}` → the identity sealed under a KEK (the
/// first stays in `meta`, where stores from before rotation keep it).
pub(super) const SEAL_IDENTITIES: Definition = TableDefinition::new("seal-identities");

/// Audit records by `{at}\0{n:010}` (time, then order within the second) → JSON entry.
pub(super) const AUDIT: Definition = TableDefinition::new("audit");

/// The check value of a store from before KEK rotation; migrated into `keks` at open.
pub(super) const KEK_CHECK: &str = "kek-check";
/// runed's age identity for sealed values (SPEC §6), sealed under the KEK like a secret.
pub(super) const SEAL_IDENTITY: &str = "seal-identity";
/// Present (holding the time it was first seen) once a token existed for this store: fail
/// closed (SPEC §4.4). A new key, so that existing stores read as before.
pub(super) const AUTH_REQUIRED: &str = "auth-required";
/// The process runner's record of every service's uid (SPEC §5): JSON, the runner's format.
pub(super) const RUNNER_IDENTITIES: &str = "runner-identities";

macro_rules! backend_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(error: $t) -> Self {
                StoreError::Backend(error.to_string())
            }
        }
    )*};
}
backend_error!(
    ::redb::DatabaseError,
    ::redb::TransactionError,
    ::redb::TableError,
    ::redb::StorageError,
    ::redb::CommitError
);

fn object_key(key: &ObjectKey) -> String {
    format!("{}\0{}\0{}", key.kind.0.singular(), key.namespace, key.name)
}

fn version_key(key: &ObjectKey, version: u64) -> String {
    format!("{}\0{version:020}", object_key(key))
}

/// The first seal identity (number 1) and the numbered rows of `seal-identities`, in order.
pub(super) fn numbered(
    first: Option<Vec<u8>>,
    more: Vec<(String, Vec<u8>)>,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut out: Vec<(u64, Vec<u8>)> = first.into_iter().map(|f| (1, f)).collect();
    for (key, value) in more {
        let number = key
            .parse()
            .map_err(|_| StoreError::Backend(format!("malformed seal identity key `{key}`")))?;
        out.push((number, value));
    }
    Ok(out)
}

/// The reads both kinds of transaction share, on a table that may not exist yet (reading as
/// empty: a read transaction cannot create it).
pub(super) trait Rows {
    type Table: ReadableTable<&'static str, &'static [u8]>;

    fn rows(&self) -> Option<&Self::Table>;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(table) = self.rows() else {
            return Ok(None);
        };
        Ok(table.get(key)?.map(|value| value.value().to_vec()))
    }

    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError> {
        let Some(table) = self.rows() else {
            return Ok(None);
        };
        match table.get(object_key(key).as_str())? {
            Some(value) => Ok(Some(serde_json::from_slice(value.value())?)),
            None => Ok(None),
        }
    }

    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&version_key(key, version))
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(name)
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError> {
        let prefix = match namespace {
            Some(ns) if kind.is_namespaced() => format!("{}\0{ns}\0", kind.singular()),
            _ => format!("{}\0", kind.singular()),
        };
        let mut out = Vec::new();
        let Some(table) = self.rows() else {
            return Ok(out);
        };
        for entry in table.range(prefix.as_str()..)? {
            let (key, value) = entry?;
            if !key.value().starts_with(&prefix) {
                break;
            }
            out.push(serde_json::from_slice(value.value())?);
        }
        Ok(out)
    }

    /// Audit records from `since` on, oldest first.
    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        let Some(table) = self.rows() else {
            return Ok(out);
        };
        for entry in table.range(since..)? {
            if out.len() >= limit {
                break;
            }
            out.push(serde_json::from_slice(entry?.1.value())?);
        }
        Ok(out)
    }

    /// Every row of a small table, in key order.
    fn all(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        let Some(table) = self.rows() else {
            return Ok(out);
        };
        for entry in table.iter()? {
            let (key, value) = entry?;
            out.push((key.value().to_owned(), value.value().to_vec()));
        }
        Ok(out)
    }

    /// Secret data versions after `after`, in key order (namespace, name, version).
    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError> {
        const PREFIX: &str = "secret\0";
        let mut out = Vec::new();
        let Some(table) = self.rows() else {
            return Ok(out);
        };
        let start = after.map_or_else(|| PREFIX.to_owned(), |(key, v)| version_key(key, v));
        for entry in table.range(start.as_str()..)? {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            let key = key.value();
            if !key.starts_with(PREFIX) {
                break;
            }
            if key == start {
                continue;
            }
            let mut parts = key.split('\0').skip(1);
            let (Some(namespace), Some(name), Some(version), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(StoreError::Backend(format!(
                    "malformed version key `{key:?}`"
                )));
            };
            let version = version
                .parse()
                .map_err(|_| StoreError::Backend(format!("malformed version key `{key:?}`")))?;
            out.push(SealedVersion {
                key: ObjectKey {
                    kind: KindName(Kind::Secret),
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                },
                version,
                bytes: value.value().to_vec(),
            });
        }
        Ok(out)
    }

    /// Counts keys without decoding a record.
    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError> {
        let mut count = 0;
        let Some(table) = self.rows() else {
            return Ok(count);
        };
        for kind in Kind::ALL.into_iter().filter(|k| k.is_namespaced()) {
            let prefix = format!("{}\0{namespace}\0", kind.singular());
            for entry in table.range(prefix.as_str()..)? {
                if !entry?.0.value().starts_with(&prefix) {
                    break;
                }
                count += 1;
            }
        }
        Ok(count)
    }

    /// A scan of every record: provenance is inside the JSON, not in the key.
    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let Some(table) = self.rows() else {
            return Ok(out);
        };
        for entry in table.iter()? {
            let (_, value) = entry?;
            let record: Record = serde_json::from_slice(value.value())?;
            let set = record
                .object
                .provenance
                .as_ref()
                .and_then(|p| p.source_set.as_deref());
            if set == Some(source_set) {
                out.push(record);
            }
        }
        Ok(out)
    }
}

/// A table in a read transaction; `None` if no write transaction has created it yet.
pub(super) struct ReadTable(Option<ReadOnlyTable<&'static str, &'static [u8]>>);

impl ReadTable {
    pub(super) fn open(tx: &ReadTransaction, definition: Definition) -> Result<Self, StoreError> {
        match tx.open_table(definition) {
            Ok(table) => Ok(Self(Some(table))),
            Err(TableError::TableDoesNotExist(_)) => Ok(Self(None)),
            Err(error) => Err(error.into()),
        }
    }
}

impl Rows for ReadTable {
    type Table = ReadOnlyTable<&'static str, &'static [u8]>;

    fn rows(&self) -> Option<&Self::Table> {
        self.0.as_ref()
    }
}

/// A table in a write transaction (created if missing).
pub(super) struct WriteTable<'t>(Table<'t, &'static str, &'static [u8]>);

impl<'t> WriteTable<'t> {
    pub(super) fn open(
        tx: &'t WriteTransaction,
        definition: Definition,
    ) -> Result<Self, StoreError> {
        Ok(Self(tx.open_table(definition)?))
    }

    pub(super) fn put_object(&mut self, record: &Record) -> Result<(), StoreError> {
        let key = object_key(&record.object.key);
        self.0
            .insert(key.as_str(), serde_json::to_vec(record)?.as_slice())?;
        Ok(())
    }

    pub(super) fn remove_object(&mut self, key: &ObjectKey) -> Result<(), StoreError> {
        self.0.remove(object_key(key).as_str())?;
        Ok(())
    }

    pub(super) fn put_data(
        &mut self,
        key: &ObjectKey,
        version: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.0.insert(version_key(key, version).as_str(), bytes)?;
        Ok(())
    }

    pub(super) fn remove_data(&mut self, key: &ObjectKey, version: u64) -> Result<(), StoreError> {
        self.0.remove(version_key(key, version).as_str())?;
        Ok(())
    }

    /// Appends after every record of the same second.
    pub(super) fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        let prefix = format!("{}\0", entry.at);
        let mut n = 0u64;
        for row in self.0.range(prefix.as_str()..)? {
            if !row?.0.value().starts_with(&prefix) {
                break;
            }
            n += 1;
        }
        let key = format!("{prefix}{n:010}");
        self.0
            .insert(key.as_str(), serde_json::to_vec(entry)?.as_slice())?;
        Ok(())
    }

    pub(super) fn prune_audit(&mut self, before: &str) -> Result<u64, StoreError> {
        let mut gone = 0;
        self.0.retain_in(..before, |_, _| {
            gone += 1;
            false
        })?;
        Ok(gone)
    }

    pub(super) fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0.insert(name, value)?;
        Ok(())
    }
}

impl<'t> Rows for WriteTable<'t> {
    type Table = Table<'t, &'static str, &'static [u8]>;

    fn rows(&self) -> Option<&Self::Table> {
        Some(&self.0)
    }
}
