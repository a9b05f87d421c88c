//! The engine: the state of one rune installation, in one redb file, behind a small API that
//! both `runed` (over HTTP) and `rune` (embedded, in-process) call.
//!
//! In: desired objects (secret values in plaintext, on their way to encryption). Out: plans,
//! applied versions, stored objects without secret values. Every write is one redb transaction,
//! so a batch is all-or-nothing even if the process dies mid-way.
//! Must not happen here: a secret value in a return value, an error or a log line.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::limits::Limits;
use crate::plan::{Action, Change, KeyChanges, Plan};
use crate::resource::Kind;
use crate::secrets::{Keys, Place, UnsealError};
use crate::server::clock;
use crate::server::crypto::{self, CryptoError, Kek, RecordId, SecretData};
use crate::server::violation::check_desired;
use crate::wire::batch::{Applied, BatchOptions, Listed, VersionInfo};
use crate::wire::error::{ErrorKind, Violation, WireError};
use crate::wire::object::{
    Desired, DesiredSpec, KindName, NamespaceSpec, ObjectKey, Provenance, Stored, StoredSpec,
    namespace_key, path_of,
};

/// Objects by `kind\0namespace\0name` → JSON [`Record`].
const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
/// Data versions by `kind\0namespace\0name\0{version:020}` → sealed secret or configmap JSON.
const VERSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("versions");
/// Store-wide facts: the KEK check value, the format.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const KEK_CHECK: &str = "kek-check";
/// runed's age identity for sealed values (SPEC §6), sealed under the KEK like a secret.
const SEAL_IDENTITY: &str = "seal-identity";
const STORE_FILE: &str = "rune.redb";

/// Namespaces every installation has from its first start.
pub const BUILTIN_NAMESPACES: [&str; 2] = ["default", "system"];

/// Settings from the server runefile that the engine enforces.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub limits: Limits,
    pub versions_kept: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            versions_kept: 10,
        }
    }
}

/// Why an engine call failed; each variant maps to one HTTP status and one exit code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{} changed since the plan; plan again", list(.0))]
    Conflict(Vec<ObjectKey>),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{key} already exists")]
    Exists { key: ObjectKey },
    #[error("{key} is in use by {}", list(.users))]
    InUse {
        key: ObjectKey,
        users: Vec<ObjectKey>,
    },
    #[error("the input was rejected: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Violation>),
    #[error("namespace `{namespace}` is not empty ({count} objects)")]
    NamespaceNotEmpty { count: usize, namespace: String },
    #[error("{0} not found")]
    NotFound(ObjectKey),
    #[error("{key} is at revision {}, not {expected}", current.map_or_else(|| "none (absent)".to_owned(), |r| r.to_string()))]
    PreconditionFailed {
        current: Option<u64>,
        expected: u64,
        key: ObjectKey,
    },
    #[error("cannot create the data directory `{path}`: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the data directory `{0}` is in use by another process (a running runed, or another rune)"
    )]
    Locked(PathBuf),
    #[error("store error: {0}")]
    Store(String),
    #[error(
        "the KEK does not match this data directory: it was set up with another key encryption key; start with the KEK it was created with"
    )]
    WrongKek,
}

/// Internal failures are logged in full and reported in general terms: their detail (a path,
/// a store error) is for the operator, not for every client.
pub fn internal(detail: &str) -> WireError {
    crate::server::log::error(detail);
    WireError::new(
        ErrorKind::Internal,
        "internal",
        "internal server error; see the server log",
    )
}

impl From<EngineError> for WireError {
    /// The one mapping of engine failures to what clients see, over HTTP or embedded alike.
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        match error {
            EngineError::Conflict(keys) => WireError::new(ErrorKind::Conflict, "conflict", message)
                .with_details(json!({ "objects": keys })),
            EngineError::Exists { key } => {
                WireError::new(ErrorKind::Conflict, "already_exists", message)
                    .with_details(json!({ "object": key }))
            }
            EngineError::InUse { key, users } => {
                WireError::new(ErrorKind::Conflict, "in_use", message)
                    .with_details(json!({ "object": key, "users": users }))
            }
            EngineError::NamespaceNotEmpty { .. } => {
                WireError::new(ErrorKind::Conflict, "namespace_not_empty", message)
            }
            EngineError::Invalid(violations) => {
                let (kind, code) = if violations.iter().any(|v| v.limit.is_some()) {
                    (ErrorKind::Limit, "limit_exceeded")
                } else {
                    (ErrorKind::Invalid, "invalid")
                };
                WireError::new(kind, code, message)
                    .with_details(json!({ "violations": violations }))
            }
            EngineError::NotFound(key) => WireError::new(ErrorKind::NotFound, "not_found", message)
                .with_details(json!({ "object": key })),
            EngineError::PreconditionFailed { current, key, .. } => {
                WireError::new(ErrorKind::Precondition, "precondition_failed", message)
                    .with_details(json!({ "object": key, "revision": current }))
            }
            EngineError::Crypto(_)
            | EngineError::DataDir { .. }
            | EngineError::Locked(_)
            | EngineError::Store(_)
            | EngineError::WrongKek => internal(&message),
        }
    }
}

fn list(keys: &[ObjectKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! store_error {
    ($($t:ty),*) => {$(
        impl From<$t> for EngineError {
            fn from(error: $t) -> Self {
                EngineError::Store(error.to_string())
            }
        }
    )*};
}
store_error!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    serde_json::Error
);

/// What is stored under an object's key.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    object: Stored,
    /// Bumps on every change (data, labels, spec): the optimistic-concurrency token.
    revision: u64,
    /// Retained data versions, oldest first.
    versions: Vec<VersionInfo>,
}

/// One rune installation's state.
pub struct Engine {
    db: Database,
    kek: Kek,
    /// Opens `sealed:` values; its recipient is public (`GET /v1/seal-recipient`).
    sealing: Keys,
    settings: Settings,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("kek", &self.kek)
            .finish_non_exhaustive()
    }
}

/// The store file inside a data directory.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STORE_FILE)
}

impl Engine {
    /// Opens (or creates) the store in `data_dir` with `kek`. A store created with another KEK
    /// refuses to open. Seeds the built-in namespaces on first start.
    pub fn open(data_dir: &Path, kek: Kek, settings: Settings) -> Result<Self, EngineError> {
        create_private_dir(data_dir)?;
        let db = Database::create(store_path(data_dir)).map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => EngineError::Locked(data_dir.to_path_buf()),
            other => other.into(),
        })?;
        restrict_to_owner(&store_path(data_dir))?;
        check_kek(&db, &kek)?;
        let sealing = seal_identity(&db, &kek)?;
        let engine = Self {
            db,
            kek,
            sealing,
            settings,
        };
        engine.seed()?;
        Ok(engine)
    }

    /// The age recipient that `rune seal` encrypts for.
    pub fn seal_recipient(&self) -> String {
        self.sealing
            .recipients()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    fn seed(&self) -> Result<(), EngineError> {
        let desired: Vec<Desired> = BUILTIN_NAMESPACES
            .iter()
            .map(|name| Desired {
                key: namespace_key(name),
                labels: BTreeMap::new(),
                provenance: None,
                spec: DesiredSpec::Namespace(NamespaceSpec::default()),
            })
            .collect();
        let tx = self.db.begin_write()?;
        {
            // Read transactions cannot create tables: make every table exist from the start.
            tx.open_table(VERSIONS)?;
            let mut objects = tx.open_table(OBJECTS)?;
            for d in &desired {
                if objects.get(storage_key(&d.key).as_str())?.is_none() {
                    let record = new_record(d, 1, StoredSpec::Namespace(NamespaceSpec::default()));
                    objects.insert(
                        storage_key(&d.key).as_str(),
                        serde_json::to_vec(&record)?.as_slice(),
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Compares desired objects with the store. Nothing is written.
    pub fn plan(&self, desired: &[Desired], options: &BatchOptions) -> Result<Plan, EngineError> {
        let tx = self.db.begin_read()?;
        let objects = tx.open_table(OBJECTS)?;
        let versions = tx.open_table(VERSIONS)?;
        let desired = self.prepare(&objects, desired, options)?;
        let mut changes = Vec::with_capacity(desired.len());
        for d in &desired {
            changes.push(self.change_for(&objects, &versions, d, options.force)?);
        }
        changes.extend(prune_candidates(&objects, &desired, options)?);
        Ok(Plan::from_changes(changes))
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
        let tx = self.db.begin_write()?;
        let mut applied = Applied::default();
        {
            let mut objects = tx.open_table(OBJECTS)?;
            let mut versions = tx.open_table(VERSIONS)?;
            let moved: Vec<ObjectKey> = expected
                .iter()
                .filter_map(|(key, revision)| match load(&objects, key) {
                    Ok(record) if record.as_ref().map(|r| r.revision) == *revision => None,
                    _ => Some(key.clone()),
                })
                .collect();
            if !moved.is_empty() {
                return Err(EngineError::Conflict(moved));
            }
            let desired = self.prepare(&objects, desired, options)?;
            for d in &desired {
                let change = self.change_for(&objects, &versions, d, options.force)?;
                if change.action == Action::Unchanged {
                    continue;
                }
                let version = self.write(
                    &mut objects,
                    &mut versions,
                    d,
                    &change,
                    options.cast_by.as_ref(),
                )?;
                applied.applied += 1;
                applied.versions.insert(path_of(&d.key), version);
            }
            // Consumers go before what they consume, namespaces last, so that the checks below
            // see the batch's end state.
            let mut delete: Vec<&ObjectKey> = delete.iter().collect();
            delete.sort_by_key(|key| std::cmp::Reverse(apply_rank(key.kind.0)));
            for key in &delete {
                remove(&mut objects, &mut versions, key)?;
                applied.applied += 1;
            }
            check_deletions(&objects, &delete, options.force)?;
        }
        tx.commit()?;
        Ok(applied)
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
        let current = {
            let tx = self.db.begin_read()?;
            let objects = tx.open_table(OBJECTS)?;
            load(&objects, &desired.key)?.map(|r| r.revision)
        };
        if create && current.is_some() {
            return Err(EngineError::Exists {
                key: desired.key.clone(),
            });
        }
        if let Some(expected) = if_revision.filter(|r| current != Some(*r)) {
            return Err(EngineError::PreconditionFailed {
                current,
                expected,
                key: desired.key.clone(),
            });
        }
        self.apply(
            std::slice::from_ref(desired),
            &[],
            &[(desired.key.clone(), current)],
            &BatchOptions {
                cast_by,
                ..BatchOptions::default()
            },
        )
    }

    /// Validates a batch against the server's rules and adds implied namespaces. The batch's
    /// own objects are borrowed, not copied: a batch can hold thousands of them.
    fn prepare<'a>(
        &self,
        objects: &impl ReadableTable<&'static str, &'static [u8]>,
        desired: &'a [Desired],
        options: &BatchOptions,
    ) -> Result<Vec<Cow<'a, Desired>>, EngineError> {
        let (desired, mut violations) = self.unseal_batch(desired);
        violations.extend(
            desired
                .iter()
                .flat_map(|d| check_desired(d, &self.settings.limits)),
        );
        let in_batch: BTreeSet<&ObjectKey> = desired.iter().map(|d| &d.key).collect();
        let mut implied = Vec::new();
        // Each namespace is looked up in the store once, however many objects it holds.
        let mut stored_namespaces = BTreeSet::new();
        let mut missing_namespaces = BTreeSet::new();
        for d in desired.iter().filter(|d| d.key.kind.0.is_namespaced()) {
            let ns = namespace_key(&d.key.namespace);
            if in_batch.contains(&ns)
                || stored_namespaces.contains(&ns)
                || missing_namespaces.contains(&ns)
            {
                continue;
            }
            if load(objects, &ns)?.is_some() {
                stored_namespaces.insert(ns);
                continue;
            }
            missing_namespaces.insert(ns.clone());
            if options.create_namespaces {
                implied.push(Cow::Owned(Desired {
                    key: ns,
                    labels: BTreeMap::new(),
                    provenance: None,
                    spec: DesiredSpec::Namespace(NamespaceSpec::default()),
                }));
            } else {
                violations.push(Violation::new(
                    &d.key,
                    format!(
                        "namespace `{}` does not exist; declare it, create it with `rune create namespace {}`, or cast with `--create-namespace`",
                        d.key.namespace, d.key.namespace
                    ),
                ));
            }
        }
        for d in &desired {
            violations.extend(Self::unresolved_references(objects, d, &in_batch)?);
        }
        if !violations.is_empty() {
            return Err(EngineError::Invalid(violations));
        }
        implied.extend(desired);
        implied.sort_by_key(|d| apply_rank(d.key.kind.0));
        Ok(implied)
    }

    /// Opens every `sealed:` value into its secret's data, checking that it was sealed for
    /// this very place. Objects without sealed values stay borrowed. Opening is an X25519
    /// agreement per value, so a large batch is opened in parallel.
    fn unseal_batch<'a>(&self, desired: &'a [Desired]) -> (Vec<Cow<'a, Desired>>, Vec<Violation>) {
        let opened = crate::par::map(desired, |d| match &d.spec {
            DesiredSpec::Secret { sealed, .. } if !sealed.is_empty() => Some(self.unseal(d)),
            _ => None,
        });
        let mut violations = Vec::new();
        let unsealed = desired
            .iter()
            .zip(opened)
            .map(|(original, opened)| match opened {
                Some((object, problems)) => {
                    violations.extend(problems);
                    Cow::Owned(object)
                }
                None => Cow::Borrowed(original),
            })
            .collect();
        (unsealed, violations)
    }

    fn unseal(&self, desired: &Desired) -> (Desired, Vec<Violation>) {
        let mut object = desired.clone();
        let mut violations = Vec::new();
        if let DesiredSpec::Secret { data, sealed } = &mut object.spec {
            for (key, armor) in std::mem::take(sealed) {
                let place = Place::new(&desired.key.namespace, &desired.key.name, &key);
                if data.0.contains_key(&key) {
                    violations.push(Violation::new(
                        &desired.key,
                        format!("key `{key}` is given both as a value and sealed"),
                    ));
                    continue;
                }
                match self.sealing.unseal_for(&armor, &place) {
                    Ok(value) => {
                        data.0.insert(key, value);
                    }
                    Err(error) => violations.push(Violation::new(
                        &desired.key,
                        format!(
                            "sealed key `{key}` cannot be opened: {error}{}",
                            unseal_help(&error)
                        ),
                    )),
                }
            }
        }
        (object, violations)
    }

    fn unresolved_references(
        objects: &impl ReadableTable<&'static str, &'static [u8]>,
        desired: &Desired,
        in_batch: &BTreeSet<&ObjectKey>,
    ) -> Result<Vec<Violation>, EngineError> {
        let DesiredSpec::Service(spec) = &desired.spec else {
            return Ok(Vec::new());
        };
        let mut violations = Vec::new();
        for (kind, name) in crate::server::violation::service_references(spec) {
            let key = ObjectKey {
                kind: KindName(kind),
                name: name.to_owned(),
                namespace: desired.key.namespace.clone(),
            };
            if !in_batch.contains(&key) && load(objects, &key)?.is_none() {
                violations.push(Violation::new(
                    &desired.key,
                    format!("refers to {key}, which does not exist"),
                ));
            }
        }
        Ok(violations)
    }

    fn change_for(
        &self,
        objects: &impl ReadableTable<&'static str, &'static [u8]>,
        versions: &impl ReadableTable<&'static str, &'static [u8]>,
        desired: &Desired,
        force: bool,
    ) -> Result<Change, EngineError> {
        let record = load(objects, &desired.key)?;
        let Some(record) = record else {
            return Ok(Change {
                action: Action::Create,
                from_version: None,
                key: desired.key.clone(),
                keys: data_keys(&desired.spec).map(|added| KeyChanges {
                    added,
                    ..KeyChanges::default()
                }),
                live: None,
                revision: None,
                to_version: Some(1),
            });
        };
        let version = record.object.version;
        let (keys, data_changed) = match &desired.spec {
            DesiredSpec::Secret { data, .. } => {
                let live = self.open_secret(versions, &desired.key, version)?;
                let changes = compare(&live, &data.0, |a, b| a.as_bytes() == b.as_bytes());
                let any = !changes.is_empty();
                (Some(changes), any)
            }
            DesiredSpec::ConfigMap { data } => {
                let StoredSpec::ConfigMap { data: live } = &record.object.spec else {
                    return Err(EngineError::Store(format!(
                        "{} has a corrupt record",
                        desired.key
                    )));
                };
                let changes = compare(live, data, |a, b| a == b);
                let any = !changes.is_empty();
                (Some(changes), any)
            }
            _ => (None, stored_spec(&desired.spec) != record.object.spec),
        };
        let bump = data_changed || (force && keys.is_some());
        let action = if bump || desired.labels != record.object.labels {
            Action::Update
        } else {
            Action::Unchanged
        };
        let revision = record.revision;
        let live = match desired.spec {
            DesiredSpec::Secret { .. } => None,
            _ => Some(Box::new(record.object)),
        };
        Ok(Change {
            action,
            from_version: Some(version),
            key: desired.key.clone(),
            keys,
            live,
            revision: Some(revision),
            to_version: Some(version + u64::from(bump)),
        })
    }

    fn open_secret(
        &self,
        versions: &impl ReadableTable<&'static str, &'static [u8]>,
        key: &ObjectKey,
        version: u64,
    ) -> Result<SecretData, EngineError> {
        let sealed = versions
            .get(version_key(key, version).as_str())?
            .ok_or_else(|| EngineError::Store(format!("{key} version {version} is missing")))?;
        Ok(crypto::open(
            &self.kek,
            record_id(key, version),
            sealed.value(),
        )?)
    }

    fn write(
        &self,
        objects: &mut redb::Table<&'static str, &'static [u8]>,
        versions: &mut redb::Table<&'static str, &'static [u8]>,
        desired: &Desired,
        change: &Change,
        cast_by: Option<&String>,
    ) -> Result<u64, EngineError> {
        let version = change.to_version.unwrap_or(1);
        let now = clock::now();
        let mut record = match load(objects, &desired.key)? {
            Some(mut record) => {
                record.revision += 1;
                record.object.labels.clone_from(&desired.labels);
                record.object.updated_at.clone_from(&now);
                record.object.spec = stored_spec(&desired.spec);
                record
            }
            None => new_record(desired, 1, stored_spec(&desired.spec)),
        };
        // Time and caller come from here, whatever the client sent. A write that brings no
        // provenance (`rune create`, a plain PUT) records only those, so that no earlier cast's
        // commit and path go on claiming data they did not write.
        record.object.provenance = Some(Provenance {
            cast_at: Some(now.clone()),
            cast_by: cast_by.cloned(),
            ..desired.provenance.clone().unwrap_or_default()
        });
        let new_version = record.versions.last().is_none_or(|v| v.version != version);
        record.object.version = version;
        if new_version {
            let data = match &desired.spec {
                DesiredSpec::Secret { data, .. } => Some(crypto::seal(
                    &self.kek,
                    record_id(&desired.key, version),
                    &data.0,
                )?),
                DesiredSpec::ConfigMap { data } => Some(serde_json::to_vec(data)?),
                _ => None,
            };
            record.versions.push(VersionInfo {
                created_at: now,
                version,
            });
            if let Some(data) = data {
                versions.insert(version_key(&desired.key, version).as_str(), data.as_slice())?;
            }
            self.collect_garbage(versions, &desired.key, &mut record)?;
        }
        objects.insert(
            storage_key(&desired.key).as_str(),
            serde_json::to_vec(&record)?.as_slice(),
        )?;
        Ok(version)
    }

    /// Keeps the newest `versions-kept` data versions; older ones go in the same transaction.
    fn collect_garbage(
        &self,
        versions: &mut redb::Table<&'static str, &'static [u8]>,
        key: &ObjectKey,
        record: &mut Record,
    ) -> Result<(), EngineError> {
        let keep = self.settings.versions_kept.max(1) as usize;
        while record.versions.len() > keep {
            let old = record.versions.remove(0);
            versions.remove(version_key(key, old.version).as_str())?;
        }
        Ok(())
    }

    /// One object, without any secret value.
    pub fn get(&self, key: &ObjectKey) -> Result<Listed, EngineError> {
        let tx = self.db.begin_read()?;
        let objects = tx.open_table(OBJECTS)?;
        load(&objects, key)?
            .map(listed)
            .ok_or_else(|| EngineError::NotFound(key.clone()))
    }

    /// The current data of a secret or configmap, decrypted, with its version: what the process
    /// runner writes into an instance's mounts and environment. Crate-internal on purpose: no
    /// route and no response ever calls it, and the values stay in memory (zeroised on drop).
    pub(crate) fn materialise(&self, key: &ObjectKey) -> Result<(SecretData, u64), EngineError> {
        let tx = self.db.begin_read()?;
        let objects = tx.open_table(OBJECTS)?;
        let versions = tx.open_table(VERSIONS)?;
        let record = load(&objects, key)?.ok_or_else(|| EngineError::NotFound(key.clone()))?;
        let version = record.object.version;
        let data = match &record.object.spec {
            StoredSpec::Secret { .. } => self.open_secret(&versions, key, version)?,
            StoredSpec::ConfigMap { data } => data
                .iter()
                .map(|(k, v)| (k.clone(), zeroize::Zeroizing::new(v.clone())))
                .collect(),
            _ => return Err(EngineError::NotFound(key.clone())),
        };
        Ok((data, version))
    }

    /// Every object of a kind, in one namespace or (`None`) all of them.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, EngineError> {
        let tx = self.db.begin_read()?;
        let objects = tx.open_table(OBJECTS)?;
        let prefix = match namespace {
            Some(ns) if kind.is_namespaced() => format!("{}\0{ns}\0", kind.singular()),
            _ => format!("{}\0", kind.singular()),
        };
        let mut out = Vec::new();
        for entry in objects.range(prefix.as_str()..)? {
            let (key, value) = entry?;
            if !key.value().starts_with(&prefix) {
                break;
            }
            out.push(listed(serde_json::from_slice(value.value())?));
        }
        Ok(out)
    }

    /// Deletes an object. A secret or configmap that a service uses is refused unless `force`;
    /// a namespace that still holds objects is always refused.
    pub fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), EngineError> {
        let tx = self.db.begin_write()?;
        {
            let mut objects = tx.open_table(OBJECTS)?;
            let mut versions = tx.open_table(VERSIONS)?;
            if load(&objects, key)?.is_none() {
                return Err(EngineError::NotFound(key.clone()));
            }
            if key.kind.0 == Kind::Namespace {
                let count = count_in_namespace(&objects, &key.name)?;
                if count > 0 {
                    return Err(EngineError::NamespaceNotEmpty {
                        count,
                        namespace: key.name.clone(),
                    });
                }
            }
            if !force {
                let users = users_of(&objects, key)?;
                if !users.is_empty() {
                    return Err(EngineError::InUse {
                        key: key.clone(),
                        users,
                    });
                }
            }
            remove(&mut objects, &mut versions, key)?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn unseal_help(error: &UnsealError) -> &'static str {
    match error {
        UnsealError::WrongPlace(_) => {
            "; a sealed value only opens where it was sealed for: seal it for this place with `rune seal`"
        }
        UnsealError::NotRecipient => {
            "; it was not sealed for this server's recipient (`rune seal` fetches it from `GET /v1/seal-recipient`)"
        }
        UnsealError::NoPlace => "; seal values with `rune seal`, which binds them to their place",
        UnsealError::Malformed(_) | UnsealError::NotText => "",
    }
}

fn check_kek(db: &Database, kek: &Kek) -> Result<(), EngineError> {
    let tx = db.begin_write()?;
    {
        let mut meta = tx.open_table(META)?;
        let existing = meta.get(KEK_CHECK)?.map(|v| v.value().to_vec());
        match existing {
            Some(check) if !kek.verify_check_value(&check) => {
                return Err(EngineError::WrongKek);
            }
            Some(_) => {}
            None => {
                let check = kek.check_value()?;
                meta.insert(KEK_CHECK, check.as_slice())?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// The store's age identity, created on first start. It is kept as a secret record under the
/// KEK (with a namespace no secret can have), so the data directory plus the KEK is a complete
/// backup: a restored runed still opens everything sealed for it.
fn seal_identity(db: &Database, kek: &Kek) -> Result<Keys, EngineError> {
    const KEY: &str = "identity";
    let id = RecordId {
        name: SEAL_IDENTITY,
        namespace: "",
        version: 1,
    };
    let tx = db.begin_write()?;
    let keys = {
        let mut meta = tx.open_table(META)?;
        let existing = meta.get(SEAL_IDENTITY)?.map(|v| v.value().to_vec());
        if let Some(record) = existing {
            let data = crypto::open(kek, id, &record)?;
            let text = data.get(KEY).ok_or(CryptoError::Malformed)?;
            Keys::parse(text, Path::new(SEAL_IDENTITY))
                .map_err(|_| EngineError::Crypto(CryptoError::Malformed))?
        } else {
            let keys = Keys::generate();
            let mut data = SecretData::new();
            data.insert(KEY.to_owned(), keys.to_text());
            meta.insert(SEAL_IDENTITY, crypto::seal(kek, id, &data)?.as_slice())?;
            keys
        }
    };
    tx.commit()?;
    Ok(keys)
}

fn listed(record: Record) -> Listed {
    Listed {
        object: record.object,
        revision: record.revision,
        versions: record.versions,
    }
}

fn new_record(desired: &Desired, version: u64, spec: StoredSpec) -> Record {
    let now = clock::now();
    Record {
        object: Stored {
            created_at: now.clone(),
            key: desired.key.clone(),
            labels: desired.labels.clone(),
            provenance: desired.provenance.clone(),
            spec,
            updated_at: now,
            version,
        },
        revision: 1,
        versions: Vec::new(),
    }
}

fn stored_spec(spec: &DesiredSpec) -> StoredSpec {
    match spec {
        DesiredSpec::ConfigMap { data } => StoredSpec::ConfigMap { data: data.clone() },
        DesiredSpec::Namespace(s) => StoredSpec::Namespace(s.clone()),
        DesiredSpec::Secret { data, .. } => StoredSpec::Secret {
            keys: data.0.keys().cloned().collect(),
        },
        DesiredSpec::Service(s) => StoredSpec::Service(s.clone()),
        DesiredSpec::StorageClass(s) => StoredSpec::StorageClass(s.clone()),
        DesiredSpec::Volume(s) => StoredSpec::Volume(s.clone()),
    }
}

fn data_keys(spec: &DesiredSpec) -> Option<Vec<String>> {
    match spec {
        DesiredSpec::Secret { data, .. } => Some(data.0.keys().cloned().collect()),
        DesiredSpec::ConfigMap { data } => Some(data.keys().cloned().collect()),
        _ => None,
    }
}

/// Key-level differences; values are compared in memory and never leave this function.
fn compare<A, B>(
    live: &BTreeMap<String, A>,
    wanted: &BTreeMap<String, B>,
    same: impl Fn(&A, &B) -> bool,
) -> KeyChanges {
    let mut changes = KeyChanges::default();
    for (key, value) in wanted {
        match live.get(key) {
            None => changes.added.push(key.clone()),
            Some(old) if !same(old, value) => changes.changed.push(key.clone()),
            Some(_) => {}
        }
    }
    changes.removed = live
        .keys()
        .filter(|k| !wanted.contains_key(*k))
        .cloned()
        .collect();
    changes
}

fn prune_candidates(
    objects: &impl ReadableTable<&'static str, &'static [u8]>,
    desired: &[Cow<'_, Desired>],
    options: &BatchOptions,
) -> Result<Vec<Change>, EngineError> {
    let Some(set) = &options.prune_source_set else {
        return Ok(Vec::new());
    };
    let wanted: BTreeSet<&ObjectKey> = desired.iter().map(|d| &d.key).collect();
    let mut changes = Vec::new();
    for entry in objects.iter()? {
        let (_, value) = entry?;
        let record: Record = serde_json::from_slice(value.value())?;
        let from_set = record
            .object
            .provenance
            .as_ref()
            .and_then(|p| p.source_set.as_deref())
            == Some(set.as_str());
        if from_set && !wanted.contains(&record.object.key) {
            changes.push(Change {
                action: Action::Delete,
                from_version: Some(record.object.version),
                key: record.object.key.clone(),
                keys: None,
                live: None,
                revision: Some(record.revision),
                to_version: None,
            });
        }
    }
    Ok(changes)
}

/// A batch may not leave a namespace's objects behind without their namespace, nor (without
/// `force`) take a secret or configmap away from a service that still uses it. An error here
/// drops the whole transaction.
fn check_deletions(
    objects: &impl ReadableTable<&'static str, &'static [u8]>,
    deleted: &[&ObjectKey],
    force: bool,
) -> Result<(), EngineError> {
    for key in deleted {
        if key.kind.0 == Kind::Namespace {
            let count = count_in_namespace(objects, &key.name)?;
            if count > 0 {
                return Err(EngineError::NamespaceNotEmpty {
                    count,
                    namespace: key.name.clone(),
                });
            }
        } else if !force {
            let users = users_of(objects, key)?;
            if !users.is_empty() {
                return Err(EngineError::InUse {
                    key: (*key).clone(),
                    users,
                });
            }
        }
    }
    Ok(())
}

fn remove(
    objects: &mut redb::Table<&'static str, &'static [u8]>,
    versions: &mut redb::Table<&'static str, &'static [u8]>,
    key: &ObjectKey,
) -> Result<(), EngineError> {
    let Some(record) = load(objects, key)? else {
        return Err(EngineError::NotFound(key.clone()));
    };
    for v in &record.versions {
        versions.remove(version_key(key, v.version).as_str())?;
    }
    objects.remove(storage_key(key).as_str())?;
    Ok(())
}

fn count_in_namespace(
    objects: &impl ReadableTable<&'static str, &'static [u8]>,
    namespace: &str,
) -> Result<usize, EngineError> {
    let mut count = 0;
    for kind in Kind::ALL.into_iter().filter(|k| k.is_namespaced()) {
        let prefix = format!("{}\0{namespace}\0", kind.singular());
        for entry in objects.range(prefix.as_str()..)? {
            if !entry?.0.value().starts_with(&prefix) {
                break;
            }
            count += 1;
        }
    }
    Ok(count)
}

/// Services in the same namespace that mount or import a secret or configmap.
fn users_of(
    objects: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &ObjectKey,
) -> Result<Vec<ObjectKey>, EngineError> {
    if !matches!(key.kind.0, Kind::Secret | Kind::ConfigMap) {
        return Ok(Vec::new());
    }
    let prefix = format!("service\0{}\0", key.namespace);
    let mut users = Vec::new();
    for entry in objects.range(prefix.as_str()..)? {
        let (k, value) = entry?;
        if !k.value().starts_with(&prefix) {
            break;
        }
        let record: Record = serde_json::from_slice(value.value())?;
        if let StoredSpec::Service(spec) = &record.object.spec
            && crate::server::violation::service_references(spec)
                .any(|(kind, name)| kind == key.kind.0 && name == key.name)
        {
            users.push(record.object.key.clone());
        }
    }
    Ok(users)
}

fn load(
    objects: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &ObjectKey,
) -> Result<Option<Record>, EngineError> {
    match objects.get(storage_key(key).as_str())? {
        Some(value) => Ok(Some(serde_json::from_slice(value.value())?)),
        None => Ok(None),
    }
}

fn storage_key(key: &ObjectKey) -> String {
    format!("{}\0{}\0{}", key.kind.0.singular(), key.namespace, key.name)
}

fn version_key(key: &ObjectKey, version: u64) -> String {
    format!("{}\0{version:020}", storage_key(key))
}

fn record_id(key: &ObjectKey, version: u64) -> RecordId<'_> {
    RecordId {
        name: &key.name,
        namespace: &key.namespace,
        version,
    }
}

/// Namespaces first, then data, storage classes, volumes and services (SPEC §3 apply order).
fn apply_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Namespace => 0,
        Kind::Secret | Kind::ConfigMap | Kind::StorageClass => 1,
        Kind::Volume | Kind::Service => 2,
    }
}

/// The store holds only ciphertext for secrets, but configmaps and metadata are plaintext.
fn restrict_to_owner(path: &Path) -> Result<(), EngineError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| EngineError::DataDir {
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> Result<(), EngineError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let error = |source| EngineError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(error)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> Result<(), EngineError> {
    std::fs::create_dir_all(path).map_err(|source| EngineError::DataDir {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
