//! Deleting objects: one on its own, or a batch's deletions inside its apply.
//!
//! In: keys to delete and a write transaction. Out: the records and their retained data
//! versions removed, or a refusal that drops the whole transaction.
//! Must not happen here: a namespace removed while it holds objects, or (without `force`) a
//! secret or configmap removed while a remaining service uses it.

use crate::resource::Kind;
use crate::server::engine::EngineError;
use crate::server::store::{ReadTx, WriteTx};
use crate::server::violation::service_references;
use crate::wire::object::{ObjectKey, StoredSpec};

/// Deletes one object if nothing keeps it.
pub(super) fn delete(
    tx: &mut dyn WriteTx,
    key: &ObjectKey,
    force: bool,
) -> Result<(), EngineError> {
    if tx.object(key)?.is_none() {
        return Err(EngineError::NotFound(key.clone()));
    }
    check_removable(&*tx, key, force)?;
    remove(tx, key)
}

/// Removes an object's record and every data version it retains.
pub(super) fn remove(tx: &mut dyn WriteTx, key: &ObjectKey) -> Result<(), EngineError> {
    let Some(record) = tx.object(key)? else {
        return Err(EngineError::NotFound(key.clone()));
    };
    for v in &record.versions {
        tx.remove_data(key, v.version)?;
    }
    tx.remove_object(key)?;
    Ok(())
}

/// A batch may not leave a namespace's objects behind without their namespace, nor (without
/// `force`) take a secret or configmap away from a service that still uses it. Checked after
/// the batch's writes, so that it sees the batch's end state; an error here drops the whole
/// transaction.
pub(super) fn check_deletions(
    tx: &dyn ReadTx,
    deleted: &[&ObjectKey],
    force: bool,
) -> Result<(), EngineError> {
    for key in deleted {
        check_removable(tx, key, force)?;
    }
    Ok(())
}

fn check_removable(tx: &dyn ReadTx, key: &ObjectKey, force: bool) -> Result<(), EngineError> {
    if key.kind.0 == Kind::Namespace {
        let count = tx.count_in_namespace(&key.name)?;
        if count > 0 {
            return Err(EngineError::NamespaceNotEmpty {
                count,
                namespace: key.name.clone(),
            });
        }
    } else if !force {
        let users = users_of(tx, key)?;
        if !users.is_empty() {
            return Err(EngineError::InUse {
                key: key.clone(),
                users,
            });
        }
    }
    Ok(())
}

/// Services in the same namespace that mount or import a secret or configmap.
fn users_of(tx: &dyn ReadTx, key: &ObjectKey) -> Result<Vec<ObjectKey>, EngineError> {
    if !matches!(key.kind.0, Kind::Secret | Kind::ConfigMap) {
        return Ok(Vec::new());
    }
    let mut users = Vec::new();
    for record in tx.list(Kind::Service, Some(&key.namespace))? {
        if let StoredSpec::Service(spec) = &record.object.spec
            && service_references(spec).any(|(kind, name)| kind == key.kind.0 && name == key.name)
        {
            users.push(record.object.key);
        }
    }
    Ok(users)
}
