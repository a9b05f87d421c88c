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
//! HMAC is the `hmac` crate's: the key's inner and outer states are computed once per KEK
//! ([`DigestKey`]) and copied for each digest, so a digest costs the hash of its text only.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Every plan digests every sealed value: hex by table, not by the formatting machinery.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The label the digest key is derived under: no other use of the KEK shares it.
const KEY_LABEL: &[u8] = b"rune sealed-text digest key v1";

/// A KEK's digest key, keyed once (its state is wiped when dropped, like every copy of it).
#[derive(Clone)]
pub(super) struct DigestKey(HmacSha256);

/// HMAC-SHA-256 of the concatenation of `parts` under `key`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length (a long one is hashed first): this cannot fail.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// The digest key of a KEK.
pub(super) fn derive_key(kek: &[u8]) -> DigestKey {
    let key = zeroize::Zeroizing::new(hmac(kek, &[KEY_LABEL]));
    DigestKey(keyed(key.as_slice()))
}

/// The digest of `armor` sealed for `namespace/name/key`, as lowercase hex. Every part is
/// length-prefixed, so no two different inputs share the digested bytes.
pub(super) fn sealed_text(
    digest_key: &DigestKey,
    namespace: &str,
    name: &str,
    key: &str,
    armor: &str,
) -> String {
    let hex = sealed_text_hex(digest_key, [namespace, name, key, armor]);
    hex.iter().map(|&b| char::from(b)).collect()
}

/// [`sealed_text`] as bytes on the stack: a re-plan compares one per sealed value.
pub(super) fn sealed_text_hex(digest_key: &DigestKey, parts: [&str; 4]) -> [u8; 64] {
    let mut mac = digest_key.0.clone();
    for part in std::iter::once("rune sealed-text v1").chain(parts) {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    let mut hex = [0u8; 64];
    for (pair, b) in hex.chunks_exact_mut(2).zip(mac.finalize().into_bytes()) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

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
        let digest = sealed_text(&one, "default", "db", "password", armor);
        assert_eq!(digest.len(), 64);
        assert_eq!(
            digest,
            sealed_text(&one, "default", "db", "password", armor)
        );
        assert_ne!(
            digest,
            sealed_text(&two, "default", "db", "password", armor)
        );
        assert_ne!(
            digest,
            sealed_text(&one, "default", "db", "username", armor)
        );
        assert_ne!(
            digest,
            sealed_text(&one, "default", "dbp", "assword", armor)
        );
        let parts = ["default", "db", "password", armor];
        assert_eq!(sealed_text_hex(&one, parts).as_slice(), digest.as_bytes());
        // Not a plain hash of the text.
        assert_ne!(digest, hex(&Sha256::digest(armor.as_bytes())));
    }
}
