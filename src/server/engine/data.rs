//! Data versions under the KEK: sealing a desired object's data for a new version, opening a
//! stored secret's, and materialising the current data for the process runner.
//!
//! In: a desired object or a stored key and version, the KEK, a transaction. Out: the bytes to
//! store, or the opened values (zeroised on drop).
//! Must not happen here: a value in an error or a log line; a version opened under another
//! record's identity (the record id binds ciphertext to its namespace, name and version).

use crate::secrets::Secret;
use crate::server::crypto::{self, Kek, RecordId, SecretData};
use crate::server::engine::EngineError;
use crate::server::keyring::Keyring;
use crate::server::store::ReadTx;
use crate::wire::object::{Desired, DesiredSpec, ObjectKey, StoredSpec};

pub(super) fn record_id(key: &ObjectKey, version: u64) -> RecordId<'_> {
    RecordId {
        name: &key.name,
        namespace: &key.namespace,
        version,
    }
}

/// The stored bytes of a new data version: a secret sealed under the KEK, a configmap's JSON;
/// `None` for kinds without data.
pub(super) fn seal(
    kek: &Kek,
    desired: &Desired,
    version: u64,
) -> Result<Option<Vec<u8>>, EngineError> {
    Ok(match &desired.spec {
        DesiredSpec::Secret { data, .. } => Some(crypto::seal(
            kek,
            record_id(&desired.key, version),
            &data.0,
        )?),
        DesiredSpec::ConfigMap { data } => Some(serde_json::to_vec(data)?),
        _ => None,
    })
}

/// One version of a secret, opened.
pub(super) fn open_secret(
    keys: &Keyring,
    tx: &dyn ReadTx,
    key: &ObjectKey,
    version: u64,
) -> Result<SecretData, EngineError> {
    let sealed = tx
        .data(key, version)?
        .ok_or_else(|| EngineError::Store(format!("{key} version {version} is missing")))?;
    Ok(keys.open(record_id(key, version), &sealed)?)
}

/// The current data of a secret or configmap with its version; other kinds are not found.
pub(super) fn materialise(
    keys: &Keyring,
    tx: &dyn ReadTx,
    key: &ObjectKey,
) -> Result<(SecretData, u64), EngineError> {
    let record = tx
        .object(key)?
        .ok_or_else(|| EngineError::NotFound(key.clone()))?;
    let version = record.object.version;
    let data = match &record.object.spec {
        StoredSpec::Secret { .. } => open_secret(keys, tx, key, version)?,
        StoredSpec::ConfigMap { data } => data
            .iter()
            .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
            .collect(),
        _ => return Err(EngineError::NotFound(key.clone())),
    };
    Ok((data, version))
}
