//! What ties a store to its keys: the KEK check value and the server's seal identity.
//!
//! In: the store and the KEK, at open. Out: an error if the store was made with another KEK;
//! the age identity that opens `sealed:` values (created on first start).
//! Must not happen here: the identity stored in plaintext, or a store opened under a wrong KEK.

use std::path::Path;

use crate::secrets::Keys;
use crate::server::crypto::{self, CryptoError, Kek, RecordId, SecretData};
use crate::server::engine::EngineError;
use crate::server::store::Store;

/// The name the identity is sealed under, in a record namespace no secret can have.
const SEAL_IDENTITY: &str = "seal-identity";

/// Refuses a store set up with another KEK; records the check value on first start.
pub(super) fn check_kek(store: &dyn Store, kek: &Kek) -> Result<(), EngineError> {
    store.write(|tx| match tx.kek_check()? {
        Some(check) if !kek.verify_check_value(&check) => Err(EngineError::WrongKek),
        Some(_) => Ok(()),
        None => Ok(tx.set_kek_check(&kek.check_value()?)?),
    })
}

/// The store's age identity, created on first start. It is kept as a secret record under the
/// KEK (with a namespace no secret can have), so the data directory plus the KEK is a complete
/// backup: a restored runed still opens everything sealed for it.
pub(super) fn seal_identity(store: &dyn Store, kek: &Kek) -> Result<Keys, EngineError> {
    const KEY: &str = "identity";
    let id = RecordId {
        name: SEAL_IDENTITY,
        namespace: "",
        version: 1,
    };
    store.write(|tx| {
        if let Some(record) = tx.seal_identity()? {
            let data = crypto::open(kek, id, &record)?;
            let text = data.get(KEY).ok_or(CryptoError::Malformed)?;
            Keys::parse(text.expose(), Path::new(SEAL_IDENTITY))
                .map_err(|_| EngineError::Crypto(CryptoError::Malformed))
        } else {
            let keys = Keys::generate();
            let mut data = SecretData::new();
            data.insert(KEY.to_owned(), keys.to_text());
            tx.set_seal_identity(&crypto::seal(kek, id, &data)?)?;
            Ok(keys)
        }
    })
}
