//! Envelope encryption of secret versions (SPEC §4.2).
//!
//! Every secret version gets a fresh random 32-byte DEK. The version's key/value map is
//! serialised canonically and encrypted with AES-256-GCM under the DEK; the DEK is encrypted
//! ("wrapped") under the KEK. Both encryptions authenticate associated data that names the
//! record — `(namespace, name, version)`, plus a purpose tag that differs between data and
//! wrap — so bytes moved to another record, or a wrapped DEK used as data, fail to decrypt
//! instead of yielding garbage. Records carry a format version and the KEK's id so that a later
//! KEK rotation can tell which key opens which record.
//!
//! Keys and plaintexts live in [`Zeroizing`] buffers and are wiped when dropped.

mod digest;
mod rewrap;

pub use rewrap::{data_part, kek_id_of, rewrap};

use crate::secrets::Secret;
use std::fmt::Write;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The record layout this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;
const CHECK_PLAINTEXT: &[u8] = b"rune kek check v1";

/// Why a cryptographic operation failed. No variant carries key or plaintext material.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the system random number generator failed")]
    Random,
    #[error("integrity check failed: the record was altered, moved, or sealed under another key")]
    Integrity,
    #[error("the record was written with format {0}, which this build cannot read")]
    UnknownFormat(u8),
    #[error("the record is truncated or malformed")]
    Malformed,
    #[error("the record was sealed under KEK `{record}`, but the loaded KEK is `{loaded}`")]
    WrongKek { loaded: String, record: String },
    #[error("a key-encryption key is 32 bytes, base64-encoded; got {0} bytes")]
    KekLength(usize),
}

/// The key-encryption key, loaded once at start.
pub struct Kek {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
    /// Derived once: every sealed value of every plan is digested under it.
    digest_key: digest::DigestKey,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::KekLength(bytes.len()))?;
        let key = Zeroizing::new(key);
        // The id is a fingerprint of the key (domain-separated), never of any secret value.
        let digest = Sha256::new()
            .chain_update(b"rune kek id v1\0")
            .chain_update(key.as_slice())
            .finalize();
        let id = digest[..8]
            .iter()
            .fold(String::with_capacity(16), |mut id, b| {
                let _ = write!(id, "{b:02x}");
                id
            });
        let digest_key = digest::derive_key(key.as_slice());
        Ok(Self {
            id,
            key,
            digest_key,
        })
    }

    /// A fresh random KEK.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|_| CryptoError::Random)?;
        Self::from_bytes(bytes.as_slice())
    }

    /// The KEK's raw bytes, for persisting a generated KEK to its file.
    pub fn expose_bytes(&self) -> &[u8] {
        self.key.as_slice()
    }

    /// A short public fingerprint that names this KEK in records and messages.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The keyed digest of a sealed value's text for `namespace/name/key` (see [`digest`]): it
    /// names the text without revealing it, and only this KEK makes or checks it.
    pub fn sealed_digest(&self, namespace: &str, name: &str, key: &str, armor: &str) -> String {
        digest::sealed_text(&self.digest_key, namespace, name, key, armor)
    }

    /// Whether `digest` is [`Kek::sealed_digest`] of the same text, compared in constant time.
    pub fn is_sealed_digest(
        &self,
        digest: &str,
        namespace: &str,
        name: &str,
        key: &str,
        armor: &str,
    ) -> bool {
        let given = digest::sealed_text_hex(&self.digest_key, [namespace, name, key, armor]);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_slice(),
            digest.as_bytes(),
        ))
    }

    /// A value stored beside the data that proves, at the next start, that the same KEK is
    /// loaded: an authenticated encryption of a constant.
    pub fn check_value(&self) -> Result<Vec<u8>, CryptoError> {
        let nonce = random_nonce()?;
        let mut out = nonce.to_vec();
        out.extend(encrypt(
            self.key.as_slice(),
            &nonce,
            CHECK_PLAINTEXT,
            b"rune kek check",
        )?);
        Ok(out)
    }

    /// Whether `check` was made by [`Kek::check_value`] with this KEK.
    pub fn verify_check_value(&self, check: &[u8]) -> bool {
        if check.len() < NONCE_LEN {
            return false;
        }
        let (nonce, ciphertext) = check.split_at(NONCE_LEN);
        decrypt(self.key.as_slice(), nonce, ciphertext, b"rune kek check")
            .is_ok_and(|plain| plain.as_slice() == CHECK_PLAINTEXT)
    }
}

/// Which record a ciphertext belongs to; it becomes the associated data.
#[derive(Clone, Copy, Debug)]
pub struct RecordId<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub version: u64,
}

impl RecordId<'_> {
    /// Length-prefixed, so that no two different records share associated data.
    fn associated_data(&self, purpose: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(32 + self.namespace.len() + self.name.len());
        for part in [
            b"rune/v1".as_slice(),
            purpose.as_bytes(),
            self.namespace.as_bytes(),
            self.name.as_bytes(),
        ] {
            aad.extend((part.len() as u32).to_be_bytes());
            aad.extend(part);
        }
        aad.extend(self.version.to_be_bytes());
        aad
    }
}

/// The plaintext of one secret version: key → value, wiped on drop.
pub type SecretData = crate::secrets::Values;

/// Encrypts one secret version under a fresh DEK and returns the stored bytes.
pub fn seal(kek: &Kek, id: RecordId<'_>, data: &SecretData) -> Result<Vec<u8>, CryptoError> {
    let plaintext = canonical(data);
    let mut dek = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(dek.as_mut_slice()).map_err(|_| CryptoError::Random)?;
    let data_nonce = random_nonce()?;
    let ciphertext = encrypt(
        dek.as_slice(),
        &data_nonce,
        &plaintext,
        &id.associated_data("data"),
    )?;
    let dek_nonce = random_nonce()?;
    let wrapped = encrypt(
        kek.key.as_slice(),
        &dek_nonce,
        dek.as_slice(),
        &id.associated_data("dek"),
    )?;

    record_bytes(&kek.id, &dek_nonce, &wrapped, &[&data_nonce, &ciphertext])
}

/// A record's bytes: the format, the KEK's id, the DEK's nonce and wrapped DEK, then the data
/// part (its nonce and ciphertext), which a rewrap carries over unchanged.
fn record_bytes(
    kek_id: &str,
    dek_nonce: &[u8],
    wrapped: &[u8],
    data: &[&[u8]],
) -> Result<Vec<u8>, CryptoError> {
    let kek_id = kek_id.as_bytes();
    let data_len: usize = data.iter().map(|part| part.len()).sum();
    let mut record =
        Vec::with_capacity(4 + kek_id.len() + dek_nonce.len() + wrapped.len() + data_len);
    record.push(FORMAT_VERSION);
    record.push(u8::try_from(kek_id.len()).map_err(|_| CryptoError::Malformed)?);
    record.extend(kek_id);
    record.extend(dek_nonce);
    record.extend(
        u16::try_from(wrapped.len())
            .map_err(|_| CryptoError::Malformed)?
            .to_be_bytes(),
    );
    record.extend(wrapped);
    for part in data {
        record.extend(*part);
    }
    Ok(record)
}

/// Decrypts a record written by [`seal`] for the same `id`.
pub fn open(kek: &Kek, id: RecordId<'_>, record: &[u8]) -> Result<SecretData, CryptoError> {
    let parts = rewrap::parts(record)?;
    if parts.kek_id != kek.id {
        return Err(CryptoError::WrongKek {
            loaded: kek.id.clone(),
            record: parts.kek_id.to_owned(),
        });
    }
    let (dek_nonce, wrapped) = (parts.dek_nonce, parts.wrapped);
    let (data_nonce, ciphertext) = parts.data.split_at(NONCE_LEN);
    let dek = decrypt(
        kek.key.as_slice(),
        dek_nonce,
        wrapped,
        &id.associated_data("dek"),
    )?;
    if dek.len() != KEY_LEN {
        return Err(CryptoError::Integrity);
    }
    let plaintext = decrypt(&dek, data_nonce, ciphertext, &id.associated_data("data"))?;
    parse_canonical(&plaintext)
}

/// `u32 count`, then per entry `u32 len, key, u32 len, value`, in key order: one encoding per map.
fn canonical(data: &SecretData) -> Zeroizing<Vec<u8>> {
    let size: usize = data
        .iter()
        .map(|(k, v)| 8 + k.len() + v.expose().len())
        .sum();
    let mut out = Zeroizing::new(Vec::with_capacity(4 + size));
    out.extend((data.len() as u32).to_be_bytes());
    for (key, value) in data {
        out.extend((key.len() as u32).to_be_bytes());
        out.extend(key.as_bytes());
        out.extend((value.expose().len() as u32).to_be_bytes());
        out.extend(value.expose().as_bytes());
    }
    out
}

fn parse_canonical(bytes: &[u8]) -> Result<SecretData, CryptoError> {
    let mut reader = Reader(bytes);
    let count = reader.u32()?;
    let mut data = SecretData::new();
    for _ in 0..count {
        let key_len = reader.u32()? as usize;
        let key = String::from_utf8(reader.take(key_len)?.to_vec())
            .map_err(|_| CryptoError::Malformed)?;
        let value_len = reader.u32()? as usize;
        // A value that is not text is still plaintext: wiped before the error goes up.
        let value = crate::secrets::wipe::into_text(reader.take(value_len)?.to_vec())
            .ok_or(CryptoError::Malformed)?;
        data.insert(key, Secret::new(value));
    }
    if !reader.0.is_empty() {
        return Err(CryptoError::Malformed);
    }
    Ok(data)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if self.0.len() < n {
            return Err(CryptoError::Malformed);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, CryptoError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

fn random_nonce() -> Result<[u8; NONCE_LEN], CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
    Ok(nonce)
}

fn encrypt(key: &[u8], nonce: &[u8], msg: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::Malformed)?;
    let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
    cipher
        .encrypt(&nonce, Payload { aad, msg })
        .map_err(|_| CryptoError::Integrity)
}

fn decrypt(
    key: &[u8],
    nonce: &[u8],
    msg: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::Malformed)?;
    let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
    cipher
        .decrypt(&nonce, Payload { aad, msg })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> SecretData {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new((*v).to_owned())))
            .collect()
    }

    /// The values themselves, to compare in assertions (`Secret` has no `PartialEq`).
    fn exposed(data: &SecretData) -> Vec<(String, String)> {
        data.iter()
            .map(|(k, v)| (k.clone(), v.expose().clone()))
            .collect()
    }

    fn id<'a>(namespace: &'a str, name: &'a str, version: u64) -> RecordId<'a> {
        RecordId {
            name,
            namespace,
            version,
        }
    }

    #[test]
    fn round_trips() {
        let kek = Kek::generate().unwrap();
        let secret = data(&[("password", "hunter2"), ("username", "admin")]);
        let record = seal(&kek, id("default", "db", 1), &secret).unwrap();
        assert_eq!(
            exposed(&open(&kek, id("default", "db", 1), &record).unwrap()),
            exposed(&secret)
        );
    }

    #[test]
    fn ciphertext_does_not_contain_the_plaintext() {
        let kek = Kek::generate().unwrap();
        let record = seal(
            &kek,
            id("default", "db", 1),
            &data(&[("k", "plain-marker-value")]),
        )
        .unwrap();
        assert!(!record.windows(18).any(|w| w == b"plain-marker-value"));
    }

    /// A record moved to another namespace, name or version fails with an integrity error.
    #[test]
    fn moved_records_fail_integrity() {
        let kek = Kek::generate().unwrap();
        let record = seal(&kek, id("default", "db", 3), &data(&[("k", "v")])).unwrap();
        for other in [
            id("prod", "db", 3),
            id("default", "dc", 3),
            id("default", "db", 4),
        ] {
            assert_eq!(
                open(&kek, other, &record).map(|d| exposed(&d)),
                Err(CryptoError::Integrity)
            );
        }
    }

    /// Swapping the wrapped DEK (or the data) between two records is detected.
    #[test]
    fn spliced_records_fail_integrity() {
        let kek = Kek::generate().unwrap();
        let a = seal(&kek, id("default", "a", 1), &data(&[("k", "v")])).unwrap();
        let b = seal(&kek, id("default", "b", 1), &data(&[("k", "w")])).unwrap();
        // Header and wrapped DEK of `b` with the data of `a`.
        let header = 2 + kek.id().len() + NONCE_LEN + 2 + 48;
        let mut spliced = b[..header].to_vec();
        spliced.extend(&a[header..]);
        assert_eq!(
            open(&kek, id("default", "b", 1), &spliced).map(|d| exposed(&d)),
            Err(CryptoError::Integrity)
        );
        let mut flipped = a.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            open(&kek, id("default", "a", 1), &flipped).map(|d| exposed(&d)),
            Err(CryptoError::Integrity)
        );
    }

    #[test]
    fn another_kek_is_named_not_tried() {
        let kek = Kek::generate().unwrap();
        let other = Kek::generate().unwrap();
        let record = seal(&kek, id("default", "db", 1), &data(&[("k", "v")])).unwrap();
        assert!(matches!(
            open(&other, id("default", "db", 1), &record),
            Err(CryptoError::WrongKek { .. })
        ));
    }

    #[test]
    fn check_value_recognises_its_kek_only() {
        let kek = Kek::generate().unwrap();
        let check = kek.check_value().unwrap();
        assert!(kek.verify_check_value(&check));
        assert!(!Kek::generate().unwrap().verify_check_value(&check));
        assert!(!kek.verify_check_value(&check[..5]));
    }

    #[test]
    fn truncated_records_are_malformed_not_panics() {
        let kek = Kek::generate().unwrap();
        let record = seal(&kek, id("default", "db", 1), &data(&[("k", "v")])).unwrap();
        for len in 0..record.len() {
            assert!(open(&kek, id("default", "db", 1), &record[..len]).is_err());
        }
    }
}
