//! The storage seam: everything the engine keeps, behind transactions it opens through one trait.
//!
//! In: object records ([`Record`]), data versions (sealed secret bytes, configmap JSON), the KEK
//! check value and the sealed seal identity, all as the engine hands them over. Out: the same,
//! read back, inside a read or write transaction. Tokens have a seam of their own,
//! [`TokenStore`] (re-exported here; its first implementation is the token file, which stays
//! beside the redb store so that `runed token` works while runed holds the store, SPEC §4.5).
//! Must not happen here: any engine rule (revisions, retention, references, limits) or any
//! cryptography. A store keeps bytes and records; it never sees a secret value in plaintext.
//!
//! # Why scoped transactions behind a trait object
//!
//! A transaction is a closure the store runs ([`Store::read_tx`], [`Store::write_tx`]; the engine
//! calls them through the typed `read` and `write` on `dyn Store`), not a value the engine
//! holds:
//!
//! - Both backends borrow their transaction from something: redb's tables borrow its
//!   `WriteTransaction`, Postgres's `Transaction` borrows its connection. A scope lets each
//!   keep those borrows on its own stack; a returned transaction object would have to own them
//!   and so borrow from itself.
//! - A write transaction is all-or-nothing by construction: the store commits only when the
//!   closure succeeds, and drops (rolls back) everything otherwise, early returns included.
//! - The trait is object-safe, so the engine holds a `Box<dyn Store>` and is compiled once: the
//!   backend is a runtime choice of the server configuration, and a test suite runs the same
//!   engine over every backend. The virtual calls are per record, next to JSON decoding and AES.
//!
//! # What a backend must guarantee
//!
//! A write transaction sees its own writes, and what it reads stays as read until it commits:
//! the engine compares an object's revision with the one its plan saw and then writes over it,
//! and counts a namespace's objects or finds a secret's users before committing a deletion.
//! redb serialises write transactions, so it needs nothing more; PostgreSQL serialises them
//! across replicas with one transaction-scoped advisory lock (see [`postgres`] for why not
//! `SELECT … FOR UPDATE` or `SERIALIZABLE`). A read transaction is one consistent snapshot.

pub mod fault;
pub mod postgres;
pub mod redb;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::resource::Kind;
use crate::wire::audit::AuditEntry;
use crate::wire::batch::{Listed, VersionInfo};
use crate::wire::object::{ObjectKey, Stored};
use crate::wire::runner::InstanceStatus;

pub use crate::server::tokens::{TokenFileStore, TokenStore};
pub use fault::{Health, IoFailure};

/// What is stored under an object's key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub object: Stored,
    /// Bumps on every change (data, labels, spec): the optimistic-concurrency token.
    pub revision: u64,
    /// Retained data versions, oldest first.
    pub versions: Vec<VersionInfo>,
    /// For a secret cast with `sealed:` values: keyed digests of the sealed text its current
    /// data version came from. Never leaves the server (a [`Listed`] has no such field).
    /// Records written before digests existed have none, and their values are opened instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedDigests>,
    /// Who made each retained version, and from where (`rune history`), oldest first. Empty in
    /// a record written before it existed (issue #15), which stays readable as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<VersionMeta>,
}

/// The provenance of one data version, kept beside the object's record (the record's own
/// provenance is that of its last write only).
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionMeta {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The version whose data a rollback copied into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<u64>,
}

/// Keyed digests of the sealed text of one data version, by data key (the engine makes them
/// with the KEK; to the store they are opaque).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedDigests {
    /// The data version the sealed text was opened into.
    pub version: u64,
    /// The id of the KEK the digests were made under.
    pub kek: String,
    pub keys: std::collections::BTreeMap<String, String>,
}

impl From<Record> for Listed {
    fn from(record: Record) -> Self {
        Listed {
            object: record.object,
            revision: record.revision,
            versions: record.versions,
        }
    }
}

/// One stored data version of a secret, as a KEK rewrap or count walks them.
#[derive(Clone, Debug)]
pub struct SealedVersion {
    pub key: ObjectKey,
    pub version: u64,
    /// The sealed bytes, exactly as stored.
    pub bytes: Vec<u8>,
}

/// Why a store operation failed. Messages are for the operator's log; none carries data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed or returned something it cannot decode (the backend's own message).
    #[error("{0}")]
    Backend(String),
    /// The data directory or the store file could not be created or restricted.
    #[error("cannot create the data directory `{path}`: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The storage could not be read or written: a full disk, a failing one (issue #12).
    #[error("{0}")]
    Io(IoFailure),
    /// Another process holds the store (the path of its data directory).
    #[error("the data directory `{0}` is in use by another process")]
    Locked(PathBuf),
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Backend(error.to_string())
    }
}

/// Reads, in a read transaction or a write transaction (which sees its own writes).
pub trait ReadTx {
    /// The record of one object.
    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError>;

    /// The stored bytes of one data version: a sealed secret or a configmap's JSON.
    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every object of a kind, ordered by namespace and name: in one namespace, or (`None`, or a
    /// kind without namespaces) all of them. A namespace's services come from here too.
    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError>;

    /// How many objects, of every namespaced kind, a namespace holds.
    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError>;

    /// Every object whose provenance names this source set, in key order (prune candidates).
    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError>;

    /// The KEK check value of a store from before KEK rotation (one KEK, no id beside it);
    /// read once to migrate it into [`ReadTx::kek_checks`].
    fn kek_check(&self) -> Result<Option<Vec<u8>>, StoreError>;

    /// The check value of every KEK this store has known, by KEK id, ordered by id.
    fn kek_checks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Up to `limit` stored secret versions, ordered by namespace, name and version, starting
    /// after `after` (a secret's key and a version) or at the first. Configmaps are not in it:
    /// only secrets are under a KEK.
    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError>;

    /// The seal identity, sealed under the KEK, once the store has one.
    fn seal_identity(&self) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every seal identity with its number (1 is the first, the one [`ReadTx::seal_identity`]
    /// reads), each sealed under a KEK, ordered by number; the highest is the current one.
    fn seal_identities(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;

    /// Audit records at or after `since` (RFC 3339, UTC), oldest first, at most `limit`.
    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// Whether a token was ever seen for this store: authentication is then required for good
    /// (SPEC §4.4, fail closed). Every replica of a shared store sees the same fact.
    fn auth_required(&self) -> Result<bool, StoreError>;

    /// The process runner's record of service uids (opaque bytes, the runner's format), once
    /// it has one. In the store so that a uid stays the same across restarts and replicas.
    fn runner_identities(&self) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Writes, seen by later reads of the same transaction and by others only after its commit.
pub trait WriteTx: ReadTx {
    /// Creates or replaces the record under `record.object.key`.
    fn put_object(&mut self, record: &Record) -> Result<(), StoreError>;

    /// Removes an object's record (not its data versions: the engine removes those it retains).
    fn remove_object(&mut self, key: &ObjectKey) -> Result<(), StoreError>;

    fn put_data(&mut self, key: &ObjectKey, version: u64, bytes: &[u8]) -> Result<(), StoreError>;

    fn remove_data(&mut self, key: &ObjectKey, version: u64) -> Result<(), StoreError>;

    fn set_kek_check(&mut self, check: &[u8]) -> Result<(), StoreError>;

    /// Records (or replaces) the check value of the KEK `kek_id`.
    fn set_kek_check_for(&mut self, kek_id: &str, check: &[u8]) -> Result<(), StoreError>;

    fn set_seal_identity(&mut self, sealed: &[u8]) -> Result<(), StoreError>;

    /// Stores seal identity `number` (1 is the slot of [`WriteTx::set_seal_identity`]).
    fn put_seal_identity(&mut self, number: u64, sealed: &[u8]) -> Result<(), StoreError>;

    /// Appends an audit record; records are only ever appended, and removed only by
    /// [`WriteTx::prune_audit`].
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Removes the audit records older than `before` (RFC 3339, UTC): the retention.
    fn prune_audit(&mut self, before: &str) -> Result<u64, StoreError>;

    /// Records that authentication is required from now on; nothing ever clears it.
    fn set_auth_required(&mut self) -> Result<(), StoreError>;

    fn set_runner_identities(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
}

/// A backend. Its two methods are the whole seam; the engine reaches them through `read` and
/// `write` on `dyn Store`, which carry the engine's result and error types across.
pub trait Store: Send + Sync {
    /// Runs `work` on one consistent snapshot.
    fn read_tx(&self, work: &mut dyn FnMut(&dyn ReadTx)) -> Result<(), StoreError>;

    /// Runs `work` in one write transaction and commits it if `work` returns `true`; otherwise
    /// nothing of it is kept.
    fn write_tx(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> bool) -> Result<(), StoreError>;

    /// The store's state for `/healthz`. A degraded store tries to recover first (reopening,
    /// a probe write), so that asking is also what heals it once the cause is gone.
    fn health(&self) -> Health {
        Health::Ok
    }

    /// Replaces the published instance states with `instances`, written by `replica`, the one
    /// that runs the `process:` services (SPEC §4.5), so that every replica's `rune status`
    /// shows them. `Ok(false)`, nothing written, when a shared store records another replica
    /// as the runner's holder: one that lost the lock must not overwrite its successor's.
    /// Outside the write transactions: states change often and are no part of any cast.
    fn publish_instances(
        &self,
        replica: &str,
        instances: &[PublishedInstance],
    ) -> Result<bool, StoreError>;

    /// The instance states last published, in service and index order.
    fn published_instances(&self) -> Result<Vec<PublishedInstance>, StoreError>;
}

/// One instance as the replica that runs it published it: names, states, codes and versions
/// (an [`InstanceStatus`]), never a value.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PublishedInstance {
    pub namespace: String,
    pub service: String,
    /// The replica that runs it (`HOST:PORT (pid N)`).
    pub replica: String,
    pub status: InstanceStatus,
}

impl dyn Store + '_ {
    /// Runs `work` in a read transaction and returns what it returns.
    pub fn read<R, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn ReadTx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut work = Some(work);
        let mut out = None;
        self.read_tx(&mut |tx| out = work.take().map(|work| work(tx)))?;
        out.unwrap_or_else(|| Err(not_run()))
    }

    /// Runs `work` in a write transaction, committed if and only if `work` returns `Ok`.
    pub fn write<R, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut work = Some(work);
        let mut out = None;
        self.write_tx(&mut |tx| {
            let result = work.take().map(|work| work(tx));
            let commit = matches!(result, Some(Ok(_)));
            out = result;
            commit
        })?;
        out.unwrap_or_else(|| Err(not_run()))
    }
}

/// A backend that returned without running the transaction broke the trait's contract.
fn not_run<E: From<StoreError>>() -> E {
    StoreError::Backend("the store did not run the transaction".to_owned()).into()
}
