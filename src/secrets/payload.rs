//! The payload format and the sealing of one value.
//!
//! The age plaintext is not the bare value: it starts with a header naming the place the value
//! was sealed for, so that a payload copied into another secret, or under another key, is
//! caught (offline with the local key file, and always by the server) instead of silently
//! becoming that secret's value:
//!
//! ```text
//! rune-sealed/v1
//! place: <namespace>/<name>/<key>
//!
//! <value>
//! ```

use std::io::Write;

use age::armor::{ArmoredWriter, Format};

use crate::secrets::place::Place;
use crate::secrets::secret::Secret;

/// The first line of every payload this build writes and reads.
const PAYLOAD_HEADER: &str = "rune-sealed/v1";

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no recipient to seal for: give --recipient/--recipients-file, or a server")]
    NoRecipients,
    #[error("age refused to encrypt: {0}")]
    Encrypt(String),
    #[error("refusing to seal an empty value for {0}")]
    Empty(Place),
}

/// Why a sealed value could not be opened. No variant carries the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnsealError {
    #[error("not a valid age payload ({0})")]
    Malformed(String),
    #[error("it was not sealed for any of the keys at hand")]
    NotRecipient,
    #[error("it is an age payload, but not one written by `rune seal` (it names no place)")]
    NoPlace,
    #[error("it was sealed for {}, not for {}", .0.1, .0.0)]
    WrongPlace(Box<(Place, Place)>),
    #[error("the sealed value is not UTF-8 text")]
    NotText,
}

impl UnsealError {
    pub fn wrong_place(expected: Place, sealed: Place) -> Self {
        Self::WrongPlace(Box::new((expected, sealed)))
    }

    /// For [`UnsealError::WrongPlace`]: the place the value was really sealed for.
    pub fn sealed_for(&self) -> Option<&Place> {
        match self {
            Self::WrongPlace(places) => Some(&places.1),
            _ => None,
        }
    }
}

/// A value opened from its payload, with the place it was sealed for.
pub struct Unsealed {
    pub place: Place,
    pub value: Secret<String>,
}

/// Encrypts `value` for `place` to every recipient, as ASCII armor.
pub fn seal(
    value: &str,
    place: &Place,
    recipients: &[age::x25519::Recipient],
) -> Result<String, SealError> {
    if value.is_empty() {
        return Err(SealError::Empty(place.clone()));
    }
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|error| SealError::Encrypt(error.to_string()))?;
    let payload = payload(value, place);
    let mut armored = Vec::new();
    let encrypt = || -> std::io::Result<()> {
        let mut writer = encryptor.wrap_output(ArmoredWriter::wrap_output(
            &mut armored,
            Format::AsciiArmor,
        )?)?;
        writer.write_all(payload.expose())?;
        writer.finish()?.finish()?;
        Ok(())
    };
    encrypt().map_err(|error| SealError::Encrypt(error.to_string()))?;
    String::from_utf8(armored).map_err(|_| SealError::Encrypt("armor is not text".to_owned()))
}

fn payload(value: &str, place: &Place) -> Secret<Vec<u8>> {
    let header = format!("{PAYLOAD_HEADER}\nplace: {}\n\n", place.to_header());
    let mut payload = Secret::new(Vec::with_capacity(header.len() + value.len()));
    payload.expose_mut().extend_from_slice(header.as_bytes());
    payload.expose_mut().extend_from_slice(value.as_bytes());
    payload
}

/// The place and value of a decrypted payload.
pub(super) fn parse_payload(plaintext: &[u8]) -> Result<Unsealed, UnsealError> {
    let header_end = plaintext
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or(UnsealError::NoPlace)?;
    let header = std::str::from_utf8(&plaintext[..header_end]).map_err(|_| UnsealError::NoPlace)?;
    let mut lines = header.lines();
    if lines.next() != Some(PAYLOAD_HEADER) {
        return Err(UnsealError::NoPlace);
    }
    let place = lines
        .next()
        .and_then(|line| line.strip_prefix("place: "))
        .and_then(Place::parse)
        .ok_or(UnsealError::NoPlace)?;
    if lines.next().is_some() {
        return Err(UnsealError::NoPlace);
    }
    let value = std::str::from_utf8(&plaintext[header_end + 2..])
        .map_err(|_| UnsealError::NotText)?
        .to_owned();
    Ok(Unsealed {
        place,
        value: Secret::new(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Keys;

    fn place() -> Place {
        Place::new("prod", "db", "password")
    }

    /// A sealed value opens to its value and the place it was sealed for, and to nothing else.
    #[test]
    fn round_trip_binds_the_place() {
        let keys = Keys::generate();
        let armor = seal("hunter2", &place(), &keys.recipients()).expect("seals");
        assert!(armor.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!armor.contains("hunter2"));
        let unsealed = keys.unseal(&armor).expect("opens");
        assert_eq!(unsealed.place, place());
        assert_eq!(unsealed.value.expose(), "hunter2");
        let other = Place::new("prod", "api", "password");
        assert_eq!(
            keys.unseal_for(&armor, &other).err(),
            Some(UnsealError::wrong_place(other, place()))
        );
    }

    /// The value after the header is kept byte for byte.
    #[test]
    fn values_keep_blank_lines_and_trailing_newlines() {
        let keys = Keys::generate();
        let value = "line one\n\nline three\n";
        let armor = seal(value, &place(), &keys.recipients()).expect("seals");
        assert_eq!(
            keys.unseal(&armor).expect("opens").value.expose().as_str(),
            value
        );
    }

    /// Keys that are not among the recipients cannot open a value.
    #[test]
    fn another_key_is_not_a_recipient() {
        let armor = seal("v", &place(), &Keys::generate().recipients()).expect("seals");
        assert_eq!(
            Keys::generate().unseal(&armor).err(),
            Some(UnsealError::NotRecipient)
        );
    }

    /// An age payload without the header is refused: it is bound to no place.
    #[test]
    fn a_plain_age_payload_names_no_place() {
        let keys = Keys::generate();
        let armor = age::encrypt_and_armor(&keys.recipients()[0], b"bare value").expect("age");
        assert_eq!(keys.unseal(&armor).err(), Some(UnsealError::NoPlace));
    }

    /// An empty value is refused before anything is encrypted.
    #[test]
    fn empty_values_are_not_sealed() {
        let keys = Keys::generate();
        assert!(matches!(
            seal("", &place(), &keys.recipients()),
            Err(SealError::Empty(_))
        ));
    }
}
