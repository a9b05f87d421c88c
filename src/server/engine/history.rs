//! History and rollback of secrets and configmaps (SPEC §3, issue #15).
//!
//! In: an object's key (and, for a rollback, a retained version). Out: every retained version
//! with its provenance and the key names that changed from the version before; or a new version
//! holding an older version's data, sealed under a fresh DEK inside one write transaction.
//! Must not happen here: a value, a length or a hash of one in what is returned (values are
//! opened and compared in memory, zeroised on drop, and only key names leave).

use std::collections::BTreeMap;

use crate::resource::Kind;
use crate::secrets::Secret;
use crate::server::crypto::SecretData;
use crate::server::engine::{Engine, EngineError, apply, audit, data};
use crate::server::keyring::Keyring;
use crate::server::store::{ReadTx, Record, WriteTx};
use crate::wire::batch::BatchOptions;
use crate::wire::history::{History, HistoryEntry, KeyNames, RollbackResult};
use crate::wire::object::{Desired, DesiredSpec, ObjectKey, Provenance, SecretValues, path_of};

/// The record of a secret or configmap; other kinds have no data versions.
fn versioned(tx: &dyn ReadTx, key: &ObjectKey) -> Result<Record, EngineError> {
    match key.kind.0 {
        Kind::Secret | Kind::ConfigMap => tx
            .object(key)?
            .ok_or_else(|| EngineError::NotFound(key.clone())),
        _ => Err(EngineError::NotFound(key.clone())),
    }
}

/// One version's data, opened: a secret's under its KEK, a configmap's from its JSON.
fn open(
    keys: &Keyring,
    tx: &dyn ReadTx,
    key: &ObjectKey,
    version: u64,
) -> Result<SecretData, EngineError> {
    if key.kind.0 == Kind::Secret {
        return data::open_secret(keys, tx, key, version);
    }
    let bytes = tx
        .data(key, version)?
        .ok_or_else(|| EngineError::Store(format!("{key} version {version} is missing")))?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes)?;
    Ok(map.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
}

fn compare(before: &SecretData, after: &SecretData) -> KeyNames {
    let mut names = KeyNames::default();
    for (key, value) in after {
        match before.get(key) {
            None => names.added.push(key.clone()),
            Some(old) if old.expose() != value.expose() => names.changed.push(key.clone()),
            Some(_) => {}
        }
    }
    names.removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    names
}

/// Every retained version, newest first.
pub(super) fn history(
    keys: &Keyring,
    tx: &dyn ReadTx,
    key: &ObjectKey,
) -> Result<History, EngineError> {
    let record = versioned(tx, key)?;
    let mut entries = Vec::with_capacity(record.versions.len());
    let mut before: Option<(u64, SecretData)> = None;
    for info in &record.versions {
        let opened = open(keys, tx, key, info.version)?;
        let changes = match &before {
            Some((version, data)) if *version + 1 == info.version => Some(compare(data, &opened)),
            None if info.version == 1 => Some(compare(&SecretData::new(), &opened)),
            _ => None,
        };
        let meta = record.history.iter().find(|m| m.version == info.version);
        entries.push(HistoryEntry {
            cast_at: meta
                .and_then(|m| m.cast_at.clone())
                .or_else(|| Some(info.created_at.clone())),
            cast_by: meta.and_then(|m| m.cast_by.clone()),
            changes,
            commit: meta.and_then(|m| m.commit.clone()),
            path: meta.and_then(|m| m.path.clone()),
            rollback_of: meta.and_then(|m| m.rollback_of),
            version: info.version,
        });
        before = Some((info.version, opened));
    }
    entries.reverse();
    Ok(History {
        kind: key.kind.0.singular().to_owned(),
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        versions: entries,
    })
}

/// A new version with `to_version`'s data, written like a cast of it (validation, limits,
/// retention, a fresh DEK), always a new version even when the data equals the current one.
pub(super) fn rollback(
    engine: &Engine,
    tx: &mut dyn WriteTx,
    key: &ObjectKey,
    to_version: u64,
    cast_by: Option<&String>,
) -> Result<RollbackResult, EngineError> {
    let record = versioned(&*tx, key)?;
    if !record.versions.iter().any(|v| v.version == to_version) {
        return Err(EngineError::VersionGone {
            key: key.clone(),
            retained: retained(&record),
            version: to_version,
        });
    }
    let opened = open(&engine.keys, &*tx, key, to_version)?;
    let spec = if key.kind.0 == Kind::Secret {
        DesiredSpec::Secret {
            data: SecretValues(opened),
            sealed: BTreeMap::new(),
        }
    } else {
        DesiredSpec::ConfigMap {
            data: opened
                .into_iter()
                .map(|(k, v)| (k, v.expose().clone()))
                .collect(),
        }
    };
    // The object stays in its source set, so that a prune still knows it.
    let source_set = record
        .object
        .provenance
        .as_ref()
        .and_then(|p| p.source_set.clone());
    let desired = Desired {
        key: key.clone(),
        labels: record.object.labels.clone(),
        provenance: Some(Provenance {
            source_set,
            ..Provenance::default()
        }),
        spec,
    };
    let options = BatchOptions {
        cast_by: cast_by.cloned(),
        force: true,
        ..BatchOptions::default()
    };
    let applied = apply::apply(
        engine,
        tx,
        std::slice::from_ref(&desired),
        &[],
        &[(key.clone(), Some(record.revision))],
        &options,
    )?;
    let version = applied
        .versions
        .get(&path_of(key))
        .copied()
        .ok_or_else(|| EngineError::Store(format!("the rollback of {key} wrote no version")))?;
    let mut written = versioned(&*tx, key)?;
    if let Some(meta) = written.history.iter_mut().find(|m| m.version == version) {
        meta.rollback_of = Some(to_version);
    }
    tx.put_object(&written)?;
    let objects = vec![audit::object(
        key,
        Some(record.object.version),
        Some(version),
    )];
    audit::record(tx, &engine.settings, "rollback", objects, cast_by)?;
    Ok(RollbackResult {
        from_version: to_version,
        version,
    })
}

fn retained(record: &Record) -> String {
    match (record.versions.first(), record.versions.last()) {
        (Some(first), Some(last)) if first.version == last.version => {
            format!("only version {} is retained", first.version)
        }
        (Some(first), Some(last)) => {
            format!("versions {}-{} are retained", first.version, last.version)
        }
        _ => "no version is retained".to_owned(),
    }
}
