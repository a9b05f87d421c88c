//! Keyed digests of sealed text, so that a re-plan can tell an unchanged `sealed:` value from
//! its text alone, without an X25519 agreement per value.
//!
//! In: the KEK (once, at load) and a sealed value's place and armor. Out: an HMAC-SHA-256 under
//! a key derived from the KEK with a label of its own. Must not happen here: a plain hash of a
//! value or of sealed text: anyone who can read the store (or a client comparing digests with
//! text it has seen) could then confirm a guess, and the KEK is what keeps the store's secrets.
//!
//! A digest is tied to the KEK that made it: a store records the KEK id beside its digests, and
//! digests under another KEK (after a rotation) no longer match, so those values are opened
//! once more and the next apply records digests under the new KEK.
//!
//! HMAC is written out here (RFC 2104, a dozen lines over `sha2`) because the `hmac` crate of
//! this `sha2` generation is not among the dependencies; it is checked against RFC 4231.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const BLOCK: usize = 64;

/// Every plan digests every sealed value: hex by table, not by the formatting machinery.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The label the digest key is derived under: no other use of the KEK shares it.
const KEY_LABEL: &[u8] = b"rune sealed-text digest key v1";

/// HMAC-SHA-256 of the concatenation of `parts` under `key` (at most one block long).
pub(super) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    let mut pad = Zeroizing::new([0u8; BLOCK]);
    for (p, k) in pad.iter_mut().zip(block.iter()) {
        *p = k ^ 0x36;
    }
    inner.update(pad.as_slice());
    for part in parts {
        inner.update(part);
    }
    let inner = inner.finalize();
    for (p, k) in pad.iter_mut().zip(block.iter()) {
        *p = k ^ 0x5c;
    }
    Sha256::new()
        .chain_update(pad.as_slice())
        .chain_update(inner)
        .finalize()
        .into()
}

/// The digest key of a KEK.
pub(super) fn derive_key(kek: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(hmac(kek, &[KEY_LABEL]))
}

/// The digest of `armor` sealed for `namespace/name/key`, as lowercase hex. Every part is
/// length-prefixed, so no two different inputs share the digested bytes.
pub(super) fn sealed_text(
    digest_key: &[u8],
    namespace: &str,
    name: &str,
    key: &str,
    armor: &str,
) -> String {
    let mut framed = Vec::with_capacity(64 + armor.len());
    for part in [
        b"rune sealed-text v1".as_slice(),
        namespace.as_bytes(),
        name.as_bytes(),
        key.as_bytes(),
        armor.as_bytes(),
    ] {
        framed.extend((part.len() as u64).to_be_bytes());
        framed.extend(part);
    }
    let mut hex = String::with_capacity(64);
    for b in hmac(digest_key, &[&framed]) {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than a block).
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// Two KEKs give two digests of the same text; the place is part of what is digested.
    #[test]
    fn digests_are_keyed_and_bound_to_the_place() {
        let one = derive_key(&[1; 32]);
        let two = derive_key(&[2; 32]);
        let armor = "-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n";
        let digest = sealed_text(one.as_slice(), "default", "db", "password", armor);
        assert_eq!(digest.len(), 64);
        assert_eq!(
            digest,
            sealed_text(one.as_slice(), "default", "db", "password", armor)
        );
        assert_ne!(
            digest,
            sealed_text(two.as_slice(), "default", "db", "password", armor)
        );
        assert_ne!(
            digest,
            sealed_text(one.as_slice(), "default", "db", "username", armor)
        );
        assert_ne!(
            digest,
            sealed_text(one.as_slice(), "default", "dbp", "assword", armor)
        );
        // Not a plain hash of the text.
        assert_ne!(digest, hex(&Sha256::digest(armor.as_bytes())));
    }
}
