//! Re-wrapping a version's DEK under another KEK (SPEC §4.6), without touching its data.
//!
//! In: a record written by [`super::seal`], the KEK that wraps it, the KEK to wrap it with.
//! Out: the same record with a new KEK id, DEK nonce and wrapped DEK; the data nonce and the
//! data ciphertext are copied byte for byte. Must not happen here: the data decrypted (the DEK
//! is unwrapped into a zeroised buffer only to be wrapped again).

use zeroize::Zeroizing;

use super::{
    CryptoError, FORMAT_VERSION, KEY_LEN, Kek, NONCE_LEN, Reader, RecordId, decrypt, encrypt,
    random_nonce,
};

/// The parts of a stored record, borrowed from it.
pub(super) struct Parts<'a> {
    pub(super) kek_id: &'a str,
    pub(super) dek_nonce: &'a [u8],
    pub(super) wrapped: &'a [u8],
    /// The data nonce (at least [`NONCE_LEN`] bytes long) and the data ciphertext: what a
    /// rewrap keeps as it is.
    pub(super) data: &'a [u8],
}

/// The record's header read, without any key: the format checked, the fields borrowed.
pub(super) fn parts(record: &[u8]) -> Result<Parts<'_>, CryptoError> {
    let mut reader = Reader(record);
    let format = reader.take(1)?[0];
    if format != FORMAT_VERSION {
        return Err(CryptoError::UnknownFormat(format));
    }
    let kek_id_len = reader.take(1)?[0] as usize;
    let kek_id =
        std::str::from_utf8(reader.take(kek_id_len)?).map_err(|_| CryptoError::Malformed)?;
    let dek_nonce = reader.take(NONCE_LEN)?;
    let wrapped_len = u16::from_be_bytes([reader.take(1)?[0], reader.take(1)?[0]]) as usize;
    let wrapped = reader.take(wrapped_len)?;
    if reader.0.len() < NONCE_LEN {
        return Err(CryptoError::Malformed);
    }
    Ok(Parts {
        kek_id,
        dek_nonce,
        wrapped,
        data: reader.0,
    })
}

/// The id of the KEK that wraps a record's DEK, read from its header (no key needed).
pub fn kek_id_of(record: &[u8]) -> Result<&str, CryptoError> {
    parts(record).map(|p| p.kek_id)
}

/// The record with its DEK unwrapped by `from` and wrapped again by `to`; its data bytes stay.
pub fn rewrap(
    from: &Kek,
    to: &Kek,
    id: RecordId<'_>,
    record: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let parts = parts(record)?;
    if parts.kek_id != from.id {
        return Err(CryptoError::WrongKek {
            loaded: from.id.clone(),
            record: parts.kek_id.to_owned(),
        });
    }
    let aad = id.associated_data("dek");
    let dek = decrypt(from.key.as_slice(), parts.dek_nonce, parts.wrapped, &aad)?;
    if dek.len() != KEY_LEN {
        return Err(CryptoError::Integrity);
    }
    let dek = Zeroizing::new(dek.to_vec());
    let dek_nonce = random_nonce()?;
    let wrapped = encrypt(to.key.as_slice(), &dek_nonce, &dek, &aad)?;
    super::record_bytes(&to.id, &dek_nonce, &wrapped, &[parts.data])
}

/// The data part (nonce and ciphertext) of a record: identical before and after a rewrap.
pub fn data_part(record: &[u8]) -> Result<&[u8], CryptoError> {
    parts(record).map(|p| p.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use crate::server::crypto::{SecretData, open, seal};

    fn id(version: u64) -> RecordId<'static> {
        RecordId {
            name: "db",
            namespace: "default",
            version,
        }
    }

    /// A rewrapped record opens under the new KEK only, with the same values, and its data
    /// bytes are the very bytes it had.
    #[test]
    fn rewrap_keeps_the_data_bytes_and_moves_the_kek() {
        let (old, new) = (Kek::generate().unwrap(), Kek::generate().unwrap());
        let mut data = SecretData::new();
        data.insert("password".into(), Secret::new("hunter2".into()));
        let record = seal(&old, id(3), &data).unwrap();
        let moved = rewrap(&old, &new, id(3), &record).unwrap();
        assert_eq!(data_part(&moved).unwrap(), data_part(&record).unwrap());
        assert_eq!(kek_id_of(&moved).unwrap(), new.id());
        let opened = open(&new, id(3), &moved).unwrap();
        assert_eq!(opened["password"].expose(), "hunter2");
        assert!(matches!(
            open(&old, id(3), &moved),
            Err(CryptoError::WrongKek { .. })
        ));
        // Bound to its record still: a rewrap for another version fails.
        assert_eq!(
            rewrap(&old, &new, id(4), &record),
            Err(CryptoError::Integrity)
        );
    }
}
