//! What ties a store to its keys: the KEK check values and the server's seal identity.
//!
//! In: the store and the keyring, at open. Out: an error if a loaded KEK is not the one the
//! store knows under its id, or (for a store from before KEK rotation) if no loaded KEK made its
//! single check value; the age identity that opens `sealed:` values (created on first start).
//! Must not happen here: the identity stored in plaintext, or a store opened under a wrong KEK.

use std::path::Path;

use crate::secrets::Keys;
use crate::server::crypto::{self, CryptoError, Kek, RecordId, SecretData};
use crate::server::engine::EngineError;
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

/// The store's age identity, created on first start. It is kept as a secret record under the
/// KEK (with a namespace no secret can have), so the data directory plus the KEK is a complete
/// backup: a restored runed still opens everything sealed for it.
pub(super) fn seal_identity(store: &dyn Store, keys: &Keyring) -> Result<Keys, EngineError> {
    const KEY: &str = "identity";
    let id = seal_identity_id();
    store.write(|tx| {
        if let Some(record) = tx.seal_identity()? {
            let kek: &Kek = keys.for_record(&record).map_err(|e| missing(&e))?;
            let data = crypto::open(kek, id, &record)?;
            let text = data.get(KEY).ok_or(CryptoError::Malformed)?;
            Keys::parse(text.expose(), Path::new(SEAL_IDENTITY))
                .map_err(|_| EngineError::Crypto(CryptoError::Malformed))
        } else {
            let keys_new = Keys::generate();
            let mut data = SecretData::new();
            data.insert(KEY.to_owned(), keys_new.to_text());
            tx.set_seal_identity(&crypto::seal(keys.current(), id, &data)?)?;
            Ok(keys_new)
        }
    })
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
