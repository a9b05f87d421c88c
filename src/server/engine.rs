//! The engine: the state of one rune installation behind a small API that both `runed` (over
//! HTTP) and `rune` (embedded, in-process) call.
//!
//! In: desired objects (secret values in plaintext, on their way to encryption). Out: plans,
//! applied versions, stored objects without secret values. Every write is one store
//! transaction, so a batch is all-or-nothing even if the process dies mid-way.
//! Must not happen here: a secret value in a return value, an error or a log line; storage
//! other than through the [`Store`] trait.
//!
//! This file is the public API, thin; the work is in the submodules, one concern each:
//! `prepare` (validation, implied namespaces, references), `unseal` (sealed values), `plan` (the
//! live side, then [`crate::plan::diff`]), `apply` (ordering, revisions, retention), `delete`,
//! `data` (versions under the KEK), `identity` (KEK check, seal identity) and `reseal`.

mod apply;
mod audit;
mod data;
mod delete;
mod error;
mod history;
mod identity;
mod keks;
mod plan;
mod prepare;
mod reseal;
mod unseal;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use crate::limits::Limits;
use crate::plan::Plan;
use crate::resource::Kind;
use crate::secrets::Keys;
use crate::server::crypto::{Kek, SecretData};
use crate::server::keyring::Keyring;
use crate::server::store::Store;
use crate::server::store::redb::RedbStore;
use crate::wire::admin::{KekStatus, ResealRequest, RewrapBatch, RewrapRequest};
use crate::wire::audit::AuditEntry;
use crate::wire::batch::{Applied, BatchOptions, Listed};
use crate::wire::history::{History, RollbackResult};
use crate::wire::object::{
    Desired, DesiredSpec, NamespaceSpec, ObjectKey, StoredSpec, namespace_key,
};

pub use crate::server::store::redb::store_path;
pub use error::{EngineError, internal};

/// Namespaces every installation has from its first start.
pub const BUILTIN_NAMESPACES: [&str; 2] = ["default", "system"];

/// Settings from the server runefile that the engine enforces.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How long audit records are kept (`storage.audit-retention`); zero keeps them for good.
    pub audit_retention: std::time::Duration,
    pub limits: Limits,
    pub versions_kept: u32,
}

/// The default of `storage.audit-retention`: 90 days.
pub const DEFAULT_AUDIT_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(90 * 24 * 3600);

impl Default for Settings {
    fn default() -> Self {
        Self {
            audit_retention: DEFAULT_AUDIT_RETENTION,
            limits: Limits::default(),
            versions_kept: 10,
        }
    }
}

/// One rune installation's state.
pub struct Engine {
    /// The current KEK and the previous ones still loaded (SPEC §4.6).
    keys: Keyring,
    /// Opens `sealed:` values: every seal identity, the current one first; its recipient is
    /// public (`GET /v1/seal-recipient`). Replaced whole by a rotation.
    sealing: std::sync::RwLock<std::sync::Arc<Keys>>,
    settings: Settings,
    store: Box<dyn Store>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (or creates) the redb store in `data_dir` with `kek`. A store created with another
    /// KEK refuses to open. Seeds the built-in namespaces on first start.
    pub fn open(data_dir: &Path, kek: Kek, settings: Settings) -> Result<Self, EngineError> {
        Self::open_with_keys(data_dir, Keyring::single(kek), settings)
    }

    /// [`Engine::open`] with previous KEKs too: a store whose records still need a KEK that is
    /// not among `keys` refuses to open, naming it and how many records need it.
    pub fn open_with_keys(
        data_dir: &Path,
        keys: Keyring,
        settings: Settings,
    ) -> Result<Self, EngineError> {
        Self::with_store_keys(Box::new(RedbStore::open(data_dir)?), keys, settings)
    }

    /// The engine over any store: what [`Engine::open`] does once the store is open.
    pub fn with_store(
        store: Box<dyn Store>,
        kek: Kek,
        settings: Settings,
    ) -> Result<Self, EngineError> {
        Self::with_store_keys(store, Keyring::single(kek), settings)
    }

    /// [`Engine::with_store`] with a whole keyring.
    pub fn with_store_keys(
        store: Box<dyn Store>,
        keys: Keyring,
        settings: Settings,
    ) -> Result<Self, EngineError> {
        // Before anything is written: a KEK that fits nothing must leave no trace in the store.
        keks::check_needed(&*store, &keys)?;
        identity::check_keys(&*store, &keys)?;
        let sealing = identity::seal_identities(&*store, &keys)?;
        let engine = Self {
            keys,
            sealing: std::sync::RwLock::new(std::sync::Arc::new(sealing)),
            settings,
            store,
        };
        engine.seed()?;
        Ok(engine)
    }

    /// The age recipient that `rune seal` encrypts for.
    pub fn seal_recipient(&self) -> String {
        self.sealing()
            .recipients()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// The store's state (`/healthz`); a failed store tries to recover while it is asked.
    pub fn store_health(&self) -> crate::server::store::Health {
        self.store.health()
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Compares desired objects with the store. Nothing is written.
    pub fn plan(&self, desired: &[Desired], options: &BatchOptions) -> Result<Plan, EngineError> {
        self.plan_within(desired, options, &|_| true)
    }

    /// [`Engine::plan`] for a caller who sees only some objects: prune candidates it may not see
    /// are left out, so a plan never reveals an object outside the caller's reach.
    pub fn plan_within(
        &self,
        desired: &[Desired],
        options: &BatchOptions,
        visible: &dyn Fn(&ObjectKey) -> bool,
    ) -> Result<Plan, EngineError> {
        self.store
            .read(|tx| plan::plan(self, tx, desired, options, visible))
    }

    /// Applies desired objects (and deletions) in one transaction, provided every object's
    /// revision still matches `expected` (`None` = must not exist). All or nothing.
    pub fn apply(
        &self,
        desired: &[Desired],
        delete: &[ObjectKey],
        expected: &[(ObjectKey, Option<u64>)],
        options: &BatchOptions,
    ) -> Result<Applied, EngineError> {
        self.apply_as("apply", desired, delete, expected, options)
    }

    /// [`Engine::apply`], audited as `action`.
    fn apply_as(
        &self,
        action: &str,
        desired: &[Desired],
        delete: &[ObjectKey],
        expected: &[(ObjectKey, Option<u64>)],
        options: &BatchOptions,
    ) -> Result<Applied, EngineError> {
        self.store.write(|tx| {
            let (applied, objects) =
                apply::apply_audited(self, tx, desired, delete, expected, options)?;
            audit::record(
                tx,
                &self.settings,
                action,
                objects,
                options.cast_by.as_ref(),
            )?;
            Ok(applied)
        })
    }

    /// Writes one object: `create` refuses an existing one; otherwise `if_revision`, when given,
    /// must match the current revision (HTTP `If-Match`).
    pub fn put(
        &self,
        desired: &Desired,
        create: bool,
        if_revision: Option<u64>,
        cast_by: Option<String>,
    ) -> Result<Applied, EngineError> {
        let current = self
            .store
            .read(|tx| Ok::<_, EngineError>(tx.object(&desired.key)?.map(|r| r.revision)))?;
        apply::check_put(&desired.key, current, create, if_revision)?;
        self.apply_as(
            if create { "create" } else { "replace" },
            std::slice::from_ref(desired),
            &[],
            &[(desired.key.clone(), current)],
            &BatchOptions {
                cast_by,
                ..BatchOptions::default()
            },
        )
    }

    /// One object, without any secret value.
    pub fn get(&self, key: &ObjectKey) -> Result<Listed, EngineError> {
        self.store.read(|tx| {
            tx.object(key)?
                .map(Listed::from)
                .ok_or_else(|| EngineError::NotFound(key.clone()))
        })
    }

    /// The current data of a secret or configmap, decrypted, with its version: what the process
    /// runner writes into an instance's mounts and environment. Crate-internal on purpose: no
    /// route and no response ever calls it, and the values stay in memory (zeroised on drop).
    pub(crate) fn materialise(&self, key: &ObjectKey) -> Result<(SecretData, u64), EngineError> {
        self.store.read(|tx| data::materialise(&self.keys, tx, key))
    }

    /// Every object of a kind, in one namespace or (`None`) all of them.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, EngineError> {
        self.store.read(|tx| {
            Ok::<_, EngineError>(
                tx.list(kind, namespace)?
                    .into_iter()
                    .map(Listed::from)
                    .collect(),
            )
        })
    }

    /// Deletes an object. A secret or configmap that a service uses is refused unless `force`;
    /// a namespace that still holds objects is always refused.
    pub fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), EngineError> {
        self.store.write(|tx| {
            let version = tx.object(key)?.map(|r| r.object.version);
            delete::delete(tx, key, force)?;
            let objects = vec![audit::object(key, version, None)];
            audit::record(tx, &self.settings, "delete", objects, None)
        })
    }

    /// Audit records from `since` (RFC 3339, UTC) on, oldest first; with `namespace`, those
    /// that touched it (or, for a denied request, named it in the path).
    pub fn audit(
        &self,
        since: &str,
        namespace: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, EngineError> {
        let mut entries = self
            .store
            .read(|tx| Ok::<_, EngineError>(tx.audit(since, limit)?))?;
        if let Some(ns) = namespace {
            let segment = format!("/{ns}/");
            entries.retain(|e| {
                e.objects.iter().any(|o| o.namespace == ns)
                    || e.request.as_deref().is_some_and(|r| {
                        r.contains(&segment) || r.ends_with(&segment[..segment.len() - 1])
                    })
            });
        }
        Ok(entries)
    }

    /// Records a denied request (401/403): its own transaction, as nothing else changed.
    pub fn audit_denied(&self, entry: &AuditEntry) -> Result<(), EngineError> {
        self.store
            .write(|tx| audit::append(tx, &self.settings, entry))
    }

    /// Every retained version of a secret or configmap, newest first, with the key names that
    /// changed (never a value).
    pub fn history(&self, key: &ObjectKey) -> Result<History, EngineError> {
        self.store.read(|tx| history::history(&self.keys, tx, key))
    }

    /// A new version with `to_version`'s data, made here: a secret's values never leave the
    /// engine, and the new version gets a fresh DEK. A version no longer retained is refused.
    pub fn rollback(
        &self,
        key: &ObjectKey,
        to_version: u64,
        cast_by: Option<&String>,
    ) -> Result<RollbackResult, EngineError> {
        self.store
            .write(|tx| history::rollback(self, tx, key, to_version, cast_by))
    }

    /// Every seal identity, the current one first (a poisoned lock still holds a whole value:
    /// rotation replaces the `Arc` in one assignment).
    pub(crate) fn sealing(&self) -> std::sync::Arc<Keys> {
        match self.sealing.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The recipients of every seal identity, the current one first (SPEC §4.6).
    pub fn seal_identities(&self) -> Vec<String> {
        self.sealing()
            .recipients()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Makes a new seal identity current; the ones before keep opening what was sealed for
    /// them. Returns the new recipient.
    pub fn rotate_seal_identity(&self) -> Result<String, EngineError> {
        let all = identity::rotate(&*self.store, &self.settings, &self.keys)?;
        let recipient = all
            .recipients()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        match self.sealing.write() {
            Ok(mut keys) => *keys = std::sync::Arc::new(all),
            Err(poisoned) => *poisoned.into_inner() = std::sync::Arc::new(all),
        }
        Ok(recipient)
    }

    /// Opens each sealed value of `request` with every seal identity and seals it again for
    /// the request's recipients, for the place it names and only if it was sealed for that
    /// place; the new armors in request order, all or nothing (SPEC §4.6). Audited.
    pub fn reseal(&self, request: &ResealRequest) -> Result<Vec<String>, EngineError> {
        reseal::reseal(self, request)
    }

    /// What every KEK the store knows still wraps (SPEC §4.6).
    pub fn kek_status(&self) -> Result<KekStatus, EngineError> {
        keks::status(&*self.store, &self.keys)
    }

    /// The id of the KEK new versions are wrapped with.
    pub fn current_kek_id(&self) -> &str {
        self.keys.current().id()
    }

    /// One rewrap batch (one transaction): see [`RewrapRequest`].
    pub fn kek_rewrap(&self, request: &RewrapRequest) -> Result<RewrapBatch, EngineError> {
        let limit = request.limit.unwrap_or(keks::DEFAULT_BATCH);
        keks::rewrap(
            &*self.store,
            &self.settings,
            &self.keys,
            request.after.as_ref(),
            limit,
        )
    }

    /// The process runner's record of service uids, as it last stored it.
    pub fn runner_identities(&self) -> Result<Option<Vec<u8>>, EngineError> {
        self.store
            .read(|tx| tx.runner_identities().map_err(EngineError::from))
    }

    /// Replaces the process runner's record of service uids, in one transaction.
    pub fn set_runner_identities(&self, bytes: &[u8]) -> Result<(), EngineError> {
        self.store
            .write(|tx| tx.set_runner_identities(bytes).map_err(EngineError::from))
    }

    /// Publishes the instance states of the replica that runs the `process:` services
    /// ([`Store::publish_instances`]); `false` when the store names another holder.
    pub fn publish_instances(
        &self,
        replica: &str,
        instances: &[crate::server::store::PublishedInstance],
    ) -> Result<bool, EngineError> {
        Ok(self.store.publish_instances(replica, instances)?)
    }

    /// The instance states the replica that runs the services last published.
    pub fn published_instances(
        &self,
    ) -> Result<Vec<crate::server::store::PublishedInstance>, EngineError> {
        Ok(self.store.published_instances()?)
    }

    /// Whether this store requires authentication for good (a token was seen for it).
    pub fn auth_required(&self) -> Result<bool, EngineError> {
        self.store
            .read(|tx| tx.auth_required().map_err(EngineError::from))
    }

    /// Records that this store requires authentication from now on (fail closed, SPEC §4.4).
    pub fn record_auth_required(&self) -> Result<(), EngineError> {
        self.store.write(|tx| {
            if !tx.auth_required()? {
                tx.set_auth_required()?;
            }
            Ok(())
        })
    }

    /// The first of `keys` whose stored object is a service with `process:`: changing or
    /// deleting it needs the `run` permission, like writing one.
    pub fn first_process_service(
        &self,
        keys: &[ObjectKey],
    ) -> Result<Option<ObjectKey>, EngineError> {
        self.store.read(|tx| {
            for key in keys.iter().filter(|k| k.kind.0 == Kind::Service) {
                let record = tx.object(key)?;
                if record.is_some_and(
                    |r| matches!(&r.object.spec, StoredSpec::Service(s) if s.process.is_some()),
                ) {
                    return Ok(Some(key.clone()));
                }
            }
            Ok::<_, EngineError>(None)
        })
    }

    /// Creates the built-in namespaces that do not exist yet.
    fn seed(&self) -> Result<(), EngineError> {
        self.store.write(|tx| {
            for name in BUILTIN_NAMESPACES {
                let desired = Desired {
                    key: namespace_key(name),
                    labels: BTreeMap::new(),
                    provenance: None,
                    spec: DesiredSpec::Namespace(NamespaceSpec::default()),
                };
                if tx.object(&desired.key)?.is_none() {
                    let spec = StoredSpec::Namespace(NamespaceSpec::default());
                    tx.put_object(&apply::new_record(&desired, spec))?;
                }
            }
            Ok(())
        })
    }
}
