//! Planning: the live side of each desired object, loaded and opened, handed to the pure diff.
//!
//! In: a prepared batch and a transaction (read for a plan, write for an apply, which plans
//! again inside its transaction). Out: one change per object, plus prune deletions.
//! Must not happen here: a write; a comparison of values (that is [`crate::plan::diff`]'s).

use std::collections::BTreeSet;

use crate::plan::diff::{self, Live};
use crate::plan::{Change, Plan};
use crate::server::engine::prepare::{self, Prepared};
use crate::server::engine::{Engine, EngineError, data};
use crate::server::keyring::Keyring;
use crate::server::store::ReadTx;
use crate::wire::batch::BatchOptions;
use crate::wire::object::{Desired, DesiredSpec, ObjectKey};

/// The plan of a batch against the store.
pub(super) fn plan(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &[Desired],
    options: &BatchOptions,
    visible: &dyn Fn(&ObjectKey) -> bool,
) -> Result<Plan, EngineError> {
    let (desired, mut opened) = prepare::prepare(engine, tx, desired, options)?;
    let mut changes = Vec::with_capacity(desired.len());
    for d in &desired {
        let live = opened.remove(&d.key);
        changes.push(change_for(&engine.keys, tx, d, live, options.force)?);
    }
    changes.extend(prune_candidates(tx, &desired, options, visible)?);
    Ok(Plan::from_changes(changes))
}

/// One object's change: its record, and for a secret its current data opened, against the
/// desired object. `opened` is that live side when the same transaction has read it already.
pub(super) fn change_for(
    keys: &Keyring,
    tx: &dyn ReadTx,
    desired: &Desired,
    opened: Option<Live>,
    force: bool,
) -> Result<Change, EngineError> {
    if let Some(live) = opened {
        return diff::change(desired, Some(live), force).map_err(|diff::Corrupt| {
            EngineError::Store(format!("{} has a corrupt record", desired.key))
        });
    }
    let live = match tx.object(&desired.key)? {
        Some(record) => {
            let secret = match desired.spec {
                DesiredSpec::Secret { .. } => Some(data::open_secret(
                    keys,
                    tx,
                    &desired.key,
                    record.object.version,
                )?),
                _ => None,
            };
            Some(Live {
                object: record.object,
                revision: record.revision,
                secret,
            })
        }
        None => None,
    };
    diff::change(desired, live, force).map_err(|diff::Corrupt| {
        EngineError::Store(format!("{} has a corrupt record", desired.key))
    })
}

/// Objects cast earlier from the batch's source set (if it prunes one) and now absent, among
/// those the caller may see: a source set may span namespaces of other teams.
fn prune_candidates(
    tx: &dyn ReadTx,
    desired: &[Prepared<'_>],
    options: &BatchOptions,
    visible: &dyn Fn(&ObjectKey) -> bool,
) -> Result<Vec<Change>, EngineError> {
    let Some(set) = &options.prune_source_set else {
        return Ok(Vec::new());
    };
    let wanted: BTreeSet<&ObjectKey> = desired.iter().map(|d| &d.key).collect();
    let in_set = tx.in_source_set(set)?.into_iter();
    let from_set = in_set
        .filter(|r| visible(&r.object.key))
        .map(|record| Live {
            object: record.object,
            revision: record.revision,
            secret: None,
        });
    Ok(diff::prune(from_set, &wanted))
}
