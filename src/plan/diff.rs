//! Desired × live → changes: the plan's arithmetic, pure.
//!
//! In: a desired object and what the store holds of it ([`Live`]: the stored object, its
//! revision and, for a secret, its current data already opened by the engine). Out: one
//! [`Change`]. For pruning, the live objects of a source set and the batch's keys → deletions.
//! Must not happen here: storage, cryptography or any I/O (the engine loads and decrypts, then
//! calls this); a secret value in a change — only key names leave this module.

use std::collections::{BTreeMap, BTreeSet};

use crate::secrets::Secret;

use crate::plan::{Action, Change, KeyChanges};
use crate::wire::object::{Desired, DesiredSpec, ObjectKey, Stored, StoredSpec};

/// A secret's opened data: key → value.
pub use crate::secrets::Values;

/// What the store holds of one object. No `Debug`: it may hold secret values.
pub struct Live {
    pub object: Stored,
    pub revision: u64,
    /// The current data version of a secret, opened; `None` for every other kind (a configmap's
    /// data is part of its stored object).
    pub secret: Option<Values>,
}

/// The live object cannot be compared with the desired one: its stored shape does not match
/// its kind, or a secret came without its data. The store is corrupt (or the caller is wrong).
#[derive(Debug, Eq, PartialEq)]
pub struct Corrupt;

/// The change that takes `live` (`None`: absent) to `desired`. `force` bumps the data version
/// of a secret or configmap even when its data is unchanged.
pub fn change(desired: &Desired, live: Option<Live>, force: bool) -> Result<Change, Corrupt> {
    let Some(live) = live else {
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
    let version = live.object.version;
    let (keys, data_changed) = match &desired.spec {
        DesiredSpec::Secret { data, .. } => {
            let values = live.secret.as_ref().ok_or(Corrupt)?;
            let changes = compare(values, &data.0, Secret::same_as);
            let any = !changes.is_empty();
            (Some(changes), any)
        }
        DesiredSpec::ConfigMap { data } => {
            let StoredSpec::ConfigMap { data: values } = &live.object.spec else {
                return Err(Corrupt);
            };
            let changes = compare(values, data, |a, b| a == b);
            let any = !changes.is_empty();
            (Some(changes), any)
        }
        _ => (None, stored_spec(&desired.spec) != live.object.spec),
    };
    let bump = data_changed || (force && keys.is_some());
    let action = if bump || desired.labels != live.object.labels {
        Action::Update
    } else {
        Action::Unchanged
    };
    let shown = match desired.spec {
        DesiredSpec::Secret { .. } => None,
        _ => Some(Box::new(live.object)),
    };
    Ok(Change {
        action,
        from_version: Some(version),
        key: desired.key.clone(),
        keys,
        live: shown,
        revision: Some(live.revision),
        to_version: Some(version + u64::from(bump)),
    })
}

/// Deletions for pruning: the live objects cast from a source set that the batch (`wanted`)
/// no longer holds, in the order given.
pub fn prune(
    from_set: impl IntoIterator<Item = Live>,
    wanted: &BTreeSet<&ObjectKey>,
) -> Vec<Change> {
    from_set
        .into_iter()
        .filter(|live| !wanted.contains(&live.object.key))
        .map(|live| Change {
            action: Action::Delete,
            from_version: Some(live.object.version),
            key: live.object.key,
            keys: None,
            live: None,
            revision: Some(live.revision),
            to_version: None,
        })
        .collect()
}

/// What the store keeps of a desired spec: a secret's key names, never its values.
pub fn stored_spec(spec: &DesiredSpec) -> StoredSpec {
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

#[cfg(test)]
mod tests;
