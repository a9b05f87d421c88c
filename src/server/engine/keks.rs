//! KEK rotation inside the store (SPEC §4.6): which KEK wraps how many records, the start-up
//! refusal when a needed KEK is not loaded, and rewrap batches.
//!
//! In: the keyring and the store. Out: counts per KEK id; batches that move records to the
//! current KEK, each one write transaction. Must not happen here: a data ciphertext changed (a
//! rewrap replaces the KEK id and the wrapped DEK only, [`crypto::rewrap`]), or a plaintext
//! opened.

use std::collections::BTreeMap;

use crate::resource::Kind;
use crate::server::crypto::{self, CryptoError};
use crate::server::engine::data::record_id;
use crate::server::engine::identity::seal_identity_number;
use crate::server::engine::{EngineError, Settings, audit};
use crate::server::keyring::Keyring;
use crate::server::store::{ReadTx, Store};
use crate::wire::admin::{KekStatus, KekUse, RewrapBatch, VersionCursor};
use crate::wire::object::{KindName, ObjectKey};

/// How many versions one page of a count reads.
const PAGE: usize = 1024;

/// The largest batch a rewrap request may ask for, and the default.
pub const MAX_BATCH: u32 = 10_000;
pub const DEFAULT_BATCH: u32 = 500;

/// (secret versions, seal identities) per KEK id.
type Counts = BTreeMap<String, (u64, u64)>;

fn kek_id(bytes: &[u8]) -> Result<String, EngineError> {
    Ok(crypto::kek_id_of(bytes)?.to_owned())
}

/// Counts every record by the KEK its header names, walking the versions page by page.
fn counts(tx: &dyn ReadTx) -> Result<Counts, EngineError> {
    let mut counts = Counts::new();
    for (_, identity) in tx.seal_identities()? {
        counts.entry(kek_id(&identity)?).or_default().1 += 1;
    }
    let mut after: Option<(ObjectKey, u64)> = None;
    loop {
        let page = tx.secret_versions(after.as_ref().map(|(k, v)| (k, *v)), PAGE)?;
        for version in &page {
            counts.entry(kek_id(&version.bytes)?).or_default().0 += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.key.clone(), last.version)),
            _ => return Ok(counts),
        }
    }
}

/// Refuses a store whose records need a KEK that is not loaded, naming it and the count.
pub(super) fn check_needed(store: &dyn Store, keys: &Keyring) -> Result<(), EngineError> {
    let counts = store.read(|tx| counts(tx))?;
    for (id, (versions, identities)) in counts {
        if keys.by_id(&id).is_none() {
            return Err(EngineError::MissingKek {
                count: versions + identities,
                id,
            });
        }
    }
    Ok(())
}

/// Every KEK the store knows or its records name, with what each wraps.
pub(super) fn status(store: &dyn Store, keys: &Keyring) -> Result<KekStatus, EngineError> {
    let (counts, known) = store.read(|tx| Ok::<_, EngineError>((counts(tx)?, tx.kek_checks()?)))?;
    let mut ids: Vec<String> = keys.all().map(|k| k.id().to_owned()).collect();
    for id in known
        .into_iter()
        .map(|(id, _)| id)
        .chain(counts.keys().cloned())
    {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let current = keys.current().id().to_owned();
    let uses = ids
        .into_iter()
        .map(|id| {
            let (secret_versions, seal_identities) = counts.get(&id).copied().unwrap_or_default();
            let is_current = id == current;
            KekUse {
                current: is_current,
                loaded: keys.by_id(&id).is_some(),
                removable: !is_current && secret_versions + seal_identities == 0,
                seal_identities,
                secret_versions,
                id,
            }
        })
        .collect();
    Ok(KekStatus {
        current,
        keks: uses,
    })
}

/// One rewrap batch: up to `limit` secret versions after `after` (and, on the first batch, the
/// seal identity) moved to the current KEK, in one write transaction. Versions already under
/// the current KEK are skipped, so a batch that runs again after a crash does nothing twice.
pub(super) fn rewrap(
    store: &dyn Store,
    settings: &Settings,
    keys: &Keyring,
    after: Option<&VersionCursor>,
    limit: u32,
) -> Result<RewrapBatch, EngineError> {
    let limit = limit.clamp(1, MAX_BATCH) as usize;
    let after = after.map(|c| {
        (
            ObjectKey {
                kind: KindName(Kind::Secret),
                name: c.name.clone(),
                namespace: c.namespace.clone(),
            },
            c.version,
        )
    });
    let current = keys.current();
    store.write(|tx| {
        let mut batch = RewrapBatch::default();
        if after.is_none() {
            for (number, identity) in tx.seal_identities()? {
                if crypto::kek_id_of(&identity)? == current.id() {
                    continue;
                }
                let from = keys.for_record(&identity).map_err(missing)?;
                let id = seal_identity_number(number);
                tx.put_seal_identity(number, &crypto::rewrap(from, current, id, &identity)?)?;
                batch.rewrapped += 1;
            }
        }
        let page = tx.secret_versions(after.as_ref().map(|(k, v)| (k, *v)), limit)?;
        for version in &page {
            batch.scanned += 1;
            if crypto::kek_id_of(&version.bytes)? == current.id() {
                continue;
            }
            let from = keys.for_record(&version.bytes).map_err(missing)?;
            let id = record_id(&version.key, version.version);
            let moved = crypto::rewrap(from, current, id, &version.bytes)?;
            tx.put_data(&version.key, version.version, &moved)?;
            batch.rewrapped += 1;
        }
        batch.next = page
            .last()
            .filter(|_| page.len() == limit)
            .map(|last| VersionCursor {
                name: last.key.name.clone(),
                namespace: last.key.namespace.clone(),
                version: last.version,
            });
        if batch.rewrapped > 0 {
            // No object list: a whole store's versions would drown the audit log.
            audit::record(tx, settings, "kek-rewrap", Vec::new(), None)?;
        }
        Ok::<_, EngineError>(batch)
    })
}

fn missing(error: CryptoError) -> EngineError {
    match error {
        CryptoError::WrongKek { record, .. } => EngineError::MissingKek {
            count: 1,
            id: record,
        },
        other => EngineError::Crypto(other),
    }
}
