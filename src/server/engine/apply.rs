//! Applying a batch inside one write transaction: the revisions its plan saw are compared
//! first, the batch is planned again and written in apply order, deletions run in the reverse
//! order and are checked against the batch's end state, and old data versions are retired.
//!
//! In: the desired objects, the deletions and the expected revisions of a request, and a write
//! transaction. Out: what was applied, or an error — in which case the store commits nothing.
//! Must not happen here: a write when any expected revision moved; a version beyond
//! `versions-kept` left behind.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::plan::Action;
use crate::plan::Change;
use crate::plan::diff::stored_spec;
use crate::server::clock;
use crate::server::engine::{Engine, EngineError, audit, data, delete, plan, prepare, unseal};
use crate::server::store::{ReadTx, Record, VersionMeta, WriteTx};
use crate::wire::audit::AuditObject;
use crate::wire::batch::{Applied, BatchOptions, VersionInfo};
use crate::wire::object::{
    Desired, DesiredSpec, ObjectKey, Provenance, Stored, StoredSpec, path_of,
};

/// [`apply`], with the audit objects of what it changed: each written object with its
/// version transition, each deleted one with the version it had.
pub(super) fn apply_audited(
    engine: &Engine,
    tx: &mut dyn WriteTx,
    desired: &[Desired],
    delete: &[ObjectKey],
    expected: &[(ObjectKey, Option<u64>)],
    options: &BatchOptions,
) -> Result<(Applied, Vec<AuditObject>), EngineError> {
    let mut deleted = Vec::with_capacity(delete.len());
    for key in delete {
        deleted.push((key, tx.object(key)?.map(|r| r.object.version)));
    }
    let mut before = std::collections::BTreeMap::new();
    for d in desired {
        before.insert(
            path_of(&d.key),
            tx.object(&d.key)?.map(|r| r.object.version),
        );
    }
    let applied = apply(engine, tx, desired, delete, expected, options)?;
    let mut objects: Vec<AuditObject> = desired
        .iter()
        .filter_map(|d| {
            let path = path_of(&d.key);
            let to = applied.versions.get(&path).copied()?;
            Some(audit::object(
                &d.key,
                before.get(&path).copied().flatten(),
                Some(to),
            ))
        })
        .collect();
    objects.extend(
        deleted
            .into_iter()
            .map(|(key, version)| audit::object(key, version, None)),
    );
    Ok((applied, objects))
}

/// Applies a batch, provided every object's revision still matches `expected`.
pub(super) fn apply(
    engine: &Engine,
    tx: &mut dyn WriteTx,
    desired: &[Desired],
    delete: &[ObjectKey],
    expected: &[(ObjectKey, Option<u64>)],
    options: &BatchOptions,
) -> Result<Applied, EngineError> {
    let moved = moved(&*tx, expected);
    if !moved.is_empty() {
        return Err(EngineError::Conflict(moved));
    }
    // Opening takes the sealed text away; its digests are made from the request.
    let sealed: HashMap<&ObjectKey, &Desired> = desired
        .iter()
        .filter(|d| matches!(&d.spec, DesiredSpec::Secret { sealed, .. } if !sealed.is_empty()))
        .map(|d| (&d.key, d))
        .collect();
    let (desired, mut opened) = prepare::prepare(engine, &*tx, desired, options)?;
    let mut applied = Applied::default();
    for d in &desired {
        let live = opened.remove(&d.key);
        let change = plan::change_for(&engine.keys, &*tx, d, live, options.force)?;
        let sealed = sealed.get(&d.key).copied();
        if change.action == Action::Unchanged {
            refresh_digests(engine, tx, sealed)?;
            continue;
        }
        let version = write(engine, tx, d, sealed, &change, options.cast_by.as_ref())?;
        applied.applied += 1;
        applied.versions.insert(path_of(&d.key), version);
    }
    // Consumers go before what they consume, namespaces last, so that the checks below see the
    // batch's end state.
    let mut delete: Vec<&ObjectKey> = delete.iter().collect();
    delete.sort_by_key(|key| Reverse(prepare::apply_rank(key.kind.0)));
    for key in &delete {
        delete::remove(tx, key)?;
        applied.applied += 1;
    }
    delete::check_deletions(&*tx, &delete, options.force)?;
    Ok(applied)
}

/// The objects whose revision is not the one expected (`None`: absent), or cannot be read.
fn moved(tx: &dyn ReadTx, expected: &[(ObjectKey, Option<u64>)]) -> Vec<ObjectKey> {
    expected
        .iter()
        .filter_map(|(key, revision)| match tx.object(key) {
            Ok(record) if record.as_ref().map(|r| r.revision) == *revision => None,
            _ => Some(key.clone()),
        })
        .collect()
}

/// A single write's preconditions: `create` refuses an existing object (`current` is its
/// revision); `if_revision`, when given, must be the current revision.
pub(super) fn check_put(
    key: &ObjectKey,
    current: Option<u64>,
    create: bool,
    if_revision: Option<u64>,
) -> Result<(), EngineError> {
    if create && current.is_some() {
        return Err(EngineError::Exists { key: key.clone() });
    }
    if let Some(expected) = if_revision.filter(|r| current != Some(*r)) {
        return Err(EngineError::PreconditionFailed {
            current,
            expected,
            key: key.clone(),
        });
    }
    Ok(())
}

/// An unchanged secret cast from sealed text holds the values that text opens to: its digests
/// are recorded when missing or stale (written before digests existed, or under another KEK),
/// so that the next plan need not open them again. Neither revision nor version moves.
fn refresh_digests(
    engine: &Engine,
    tx: &mut dyn WriteTx,
    sealed: Option<&Desired>,
) -> Result<(), EngineError> {
    let Some(sealed) = sealed else {
        return Ok(());
    };
    let Some(mut record) = tx.object(&sealed.key)? else {
        return Ok(());
    };
    let digests = unseal::digests(engine, sealed, record.object.version);
    if record.sealed != digests {
        record.sealed = digests;
        tx.put_object(&record)?;
    }
    Ok(())
}

/// Writes one object's record and, when its data version moves, the new version (with the
/// digests of the sealed text it came from, `sealed` being the object as the request sent it).
fn write(
    engine: &Engine,
    tx: &mut dyn WriteTx,
    desired: &Desired,
    sealed: Option<&Desired>,
    change: &Change,
    cast_by: Option<&String>,
) -> Result<u64, EngineError> {
    let version = change.to_version.unwrap_or(1);
    let now = clock::now();
    let mut record = match tx.object(&desired.key)? {
        Some(mut record) => {
            record.revision += 1;
            record.object.labels.clone_from(&desired.labels);
            record.object.updated_at.clone_from(&now);
            record.object.spec = stored_spec(&desired.spec);
            record
        }
        None => new_record(desired, stored_spec(&desired.spec)),
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
    // Whether or not the version moves, its values are what this request's sealed text opens to.
    record.sealed = sealed.and_then(|s| unseal::digests(engine, s, version));
    if new_version {
        let data = data::seal(engine.keys.current(), desired, version)?;
        record.versions.push(VersionInfo {
            created_at: now,
            version,
        });
        if let Some(data) = data {
            tx.put_data(&desired.key, version, &data)?;
        }
        let provenance = record.object.provenance.as_ref();
        record.history.push(VersionMeta {
            cast_at: provenance.and_then(|p| p.cast_at.clone()),
            cast_by: provenance.and_then(|p| p.cast_by.clone()),
            commit: provenance.and_then(|p| p.commit.clone()),
            path: provenance.and_then(|p| p.path.clone()),
            rollback_of: None,
            version,
        });
        for old in retire(&mut record.versions, engine.settings.versions_kept) {
            tx.remove_data(&desired.key, old.version)?;
        }
        let kept = &record.versions;
        record
            .history
            .retain(|meta| kept.iter().any(|v| v.version == meta.version));
    }
    tx.put_object(&record)?;
    Ok(version)
}

/// Keeps the newest `versions_kept` (at least one) of `versions`, oldest first, and returns
/// the older ones, oldest first: they go in the same transaction.
fn retire(versions: &mut Vec<VersionInfo>, versions_kept: u32) -> Vec<VersionInfo> {
    let keep = versions_kept.max(1) as usize;
    let excess = versions.len().saturating_sub(keep);
    versions.drain(..excess).collect()
}

/// The record of an object written for the first time, at revision 1 and data version 1.
pub(super) fn new_record(desired: &Desired, spec: StoredSpec) -> Record {
    let now = clock::now();
    Record {
        object: Stored {
            created_at: now.clone(),
            key: desired.key.clone(),
            labels: desired.labels.clone(),
            provenance: desired.provenance.clone(),
            spec,
            updated_at: now,
            version: 1,
        },
        history: Vec::new(),
        revision: 1,
        sealed: None,
        versions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::retire;
    use crate::wire::batch::VersionInfo;

    fn versions(numbers: &[u64]) -> Vec<VersionInfo> {
        numbers
            .iter()
            .map(|&version| VersionInfo {
                created_at: String::new(),
                version,
            })
            .collect()
    }

    /// The oldest versions beyond the retention go, oldest first; at least one always stays.
    #[test]
    fn retire_keeps_the_newest() {
        let mut kept = versions(&[1, 2, 3, 4]);
        let gone = retire(&mut kept, 2);
        assert_eq!(gone, versions(&[1, 2]));
        assert_eq!(kept, versions(&[3, 4]));
        let mut one = versions(&[5, 6]);
        assert_eq!(retire(&mut one, 0), versions(&[5]));
        assert_eq!(retire(&mut one, 3), versions(&[]));
    }
}
