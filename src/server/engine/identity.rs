//! What ties a store to its keys: the KEK check values and the server's seal identity.
//!
//! In: the store and the keyring, at open. Out: an error if a loaded KEK is not the one the
//! store knows under its id, or (for a store from before KEK rotation) if no loaded KEK made its
//! single check value; the age identity that opens `sealed:` values (created on first start).
//! Must not happen here: the identity stored in plaintext, or a store opened under a wrong KEK.

use std::path::Path;

use crate::secrets::Keys;
use crate::server::crypto::{self, CryptoError, Kek, RecordId, SecretData};
use crate::server::engine::{EngineError, Settings, audit};
use crate::server::keyring::Keyring;
use crate::server::store::Store;

/// The name the identity is sealed under, in a record namespace no secret can have.
pub(super) const SEAL_IDENTITY: &str = "seal-identity";

/// The record id the seal identity is sealed under.
pub(in crate::server::engine) fn seal_identity_id() -> RecordId<'static> {
    RecordId {
        name: SEAL_IDENTITY,
        namespace: "",
        version: 1,
    }
}

/// Checks every loaded KEK against the check value stored under its id, and records the check
/// value of a KEK the store has not seen yet (a new current KEK, SPEC §4.6).
///
/// A store from before rotation has one check value without an id: it is migrated in place to
/// the id of the loaded KEK that made it; when no loaded KEK made it, the store was set up
/// with another KEK and refuses to open, as before.
pub(super) fn check_keys(store: &dyn Store, keys: &Keyring) -> Result<(), EngineError> {
    store.write(|tx| {
        let mut known = tx.kek_checks()?;
        if known.is_empty()
            && let Some(legacy) = tx.kek_check()?
        {
            let maker = keys
                .all()
                .find(|k| k.verify_check_value(&legacy))
                .ok_or(EngineError::WrongKek)?;
            tx.set_kek_check_for(maker.id(), &legacy)?;
            known.push((maker.id().to_owned(), legacy));
        }
        for kek in keys.all() {
            match known.iter().find(|(id, _)| id == kek.id()) {
                Some((_, check)) if !kek.verify_check_value(check) => {
                    return Err(EngineError::WrongKek);
                }
                Some(_) => {}
                None => tx.set_kek_check_for(kek.id(), &kek.check_value()?)?,
            }
        }
        Ok(())
    })
}

/// The store's age identities, current first, the first created on first start. Each is kept
/// as a secret record under the KEK (with a namespace no secret can have), so the data
/// directory plus the KEK is a complete backup: a restored runed still opens everything sealed
/// for it, and after a rotation ([`rotate`]) for the identities before too.
pub(super) fn seal_identities(store: &dyn Store, keys: &Keyring) -> Result<Keys, EngineError> {
    store.write(|tx| {
        let stored = tx.seal_identities()?;
        if stored.is_empty() {
            let fresh = Keys::generate();
            tx.put_seal_identity(1, &seal_keys(keys, 1, &fresh)?)?;
            return Ok(fresh);
        }
        open_all(keys, &stored)
    })
}

/// Makes a new identity current (`rune admin seal-identity rotate`); the ones before keep
/// opening what was sealed for them. Returns every identity, the new one first.
pub(super) fn rotate(
    store: &dyn Store,
    settings: &Settings,
    keys: &Keyring,
) -> Result<Keys, EngineError> {
    store.write(|tx| {
        let mut stored = tx.seal_identities()?;
        let number = stored.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let sealed = seal_keys(keys, number, &Keys::generate())?;
        tx.put_seal_identity(number, &sealed)?;
        stored.push((number, sealed));
        audit::record(tx, settings, "seal-identity-rotate", Vec::new(), None)?;
        open_all(keys, &stored)
    })
}

/// The record id of seal identity `number`.
pub(in crate::server::engine) fn seal_identity_number(number: u64) -> RecordId<'static> {
    RecordId {
        version: number,
        ..seal_identity_id()
    }
}

const KEY: &str = "identity";

fn seal_keys(keys: &Keyring, number: u64, identity: &Keys) -> Result<Vec<u8>, EngineError> {
    let mut data = SecretData::new();
    data.insert(KEY.to_owned(), identity.to_text());
    Ok(crypto::seal(
        keys.current(),
        seal_identity_number(number),
        &data,
    )?)
}

/// Every stored identity opened, the highest number (the current one) first.
fn open_all(keys: &Keyring, stored: &[(u64, Vec<u8>)]) -> Result<Keys, EngineError> {
    let mut sorted: Vec<&(u64, Vec<u8>)> = stored.iter().collect();
    sorted.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut all: Option<Keys> = None;
    for (number, record) in sorted {
        let kek: &Kek = keys.for_record(record).map_err(|e| missing(&e))?;
        let data = crypto::open(kek, seal_identity_number(*number), record)?;
        let text = data.get(KEY).ok_or(CryptoError::Malformed)?;
        let opened = Keys::parse(text.expose(), Path::new(SEAL_IDENTITY))
            .map_err(|_| EngineError::Crypto(CryptoError::Malformed))?;
        all = Some(match all {
            Some(newer) => newer.then(opened),
            None => opened,
        });
    }
    all.ok_or(EngineError::Crypto(CryptoError::Malformed))
}

/// A record under a KEK that is not loaded: the start refuses, naming it (the count comes from
/// [`super::keks::check_needed`], which runs over every record; this is the identity alone).
fn missing(error: &CryptoError) -> EngineError {
    match error {
        CryptoError::WrongKek { record, .. } => EngineError::MissingKek {
            count: 1,
            id: record.clone(),
        },
        other => EngineError::Crypto(other.clone()),
    }
}
