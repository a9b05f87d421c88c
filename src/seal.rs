//! Sealed values (SPEC §6): a secret value encrypted with age, bound to its place.
//!
//! The age plaintext is not the bare value: it starts with a header naming the place the value
//! was sealed for — `(namespace, name, key)` — so that a payload copied into another secret, or
//! under another key, is caught (offline with the local key file, and always by the server)
//! instead of silently becoming that secret's value:
//!
//! ```text
//! rune-sealed/v1
//! place: <namespace>/<name>/<key>
//!
//! <value>
//! ```
//!
//! Names are DNS-1123 labels and keys `[-._a-zA-Z0-9]+`, so `/` and newlines cannot occur in a
//! place and the header parses unambiguously. Only X25519 recipients (`age1…`) and identities
//! (`AGE-SECRET-KEY-1…`) are supported: they are what `age-keygen` and runed produce.
//!
//! Must not happen here: a value, its length or a digest of it in an error.

pub mod recipients;
pub mod rewrite;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

/// The first line of every payload this build writes and reads.
const PAYLOAD_HEADER: &str = "rune-sealed/v1";

/// Where a sealed value belongs: a secret's namespace and name, and the key inside it.
#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Place {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl Place {
    pub fn new(namespace: &str, name: &str, key: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            key: key.to_owned(),
        }
    }

    /// The place of `key` in a validated secret, in its resolved namespace.
    pub fn of(resource: &crate::resource::Resource, key: &str) -> Self {
        Self::new(resource.namespace_name(), &resource.name.value, key)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let (Some(namespace), Some(name), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let place = Self::new(namespace, name, key);
        (!place.namespace.is_empty() && !place.name.is_empty() && !place.key.is_empty())
            .then_some(place)
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "secret `{}/{}` key `{}`",
            self.namespace, self.name, self.key
        )
    }
}

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

/// Why a key or recipients file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` line {line}: not an age identity (`AGE-SECRET-KEY-1…`)")]
    BadIdentity { path: PathBuf, line: usize },
    #[error("`{path}` line {line}: `{text}` is not an age recipient (`age1…`)")]
    BadRecipient {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("`{0}` holds no age identity")]
    NoIdentity(PathBuf),
}

/// A value opened from its payload, with the place it was sealed for.
pub struct Unsealed {
    pub place: Place,
    pub value: Zeroizing<String>,
}

/// Age identities that can open sealed values: the local key file, or runed's own identity.
#[derive(Clone)]
pub struct Keys(Vec<age::x25519::Identity>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({} identities)", self.0.len())
    }
}

impl Keys {
    /// A fresh identity (runed's, on its first start).
    pub fn generate() -> Self {
        Self(vec![age::x25519::Identity::generate()])
    }

    /// Parses an identity file: `AGE-SECRET-KEY-1…` lines; blank lines and `#` comments are
    /// skipped (the format `age-keygen` writes).
    pub fn parse(text: &str, path: &Path) -> Result<Self, KeyFileError> {
        let mut identities = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity =
                line.parse::<age::x25519::Identity>()
                    .map_err(|_| KeyFileError::BadIdentity {
                        path: path.to_path_buf(),
                        line: index + 1,
                    })?;
            identities.push(identity);
        }
        if identities.is_empty() {
            return Err(KeyFileError::NoIdentity(path.to_path_buf()));
        }
        Ok(Self(identities))
    }

    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        Self::parse(&text, path)
    }

    /// The identity file's text (for runed to keep under its KEK).
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::new());
        for identity in &self.0 {
            text.push_str(identity.to_string().expose_secret());
            text.push('\n');
        }
        text
    }

    /// The recipients these identities open values for.
    pub fn recipients(&self) -> Vec<age::x25519::Recipient> {
        self.0
            .iter()
            .map(age::x25519::Identity::to_public)
            .collect()
    }

    /// Opens a payload and returns the value with the place it was sealed for.
    pub fn unseal(&self, armor: &str) -> Result<Unsealed, UnsealError> {
        let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(armor.trim().as_bytes()))
            .map_err(|error| UnsealError::Malformed(error.to_string()))?;
        let mut reader = decryptor
            .decrypt(self.0.iter().map(|i| i as &dyn age::Identity))
            .map_err(|error| match error {
                age::DecryptError::NoMatchingKeys => UnsealError::NotRecipient,
                other => UnsealError::Malformed(other.to_string()),
            })?;
        let mut plaintext = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut plaintext)
            .map_err(|error| UnsealError::Malformed(error.to_string()))?;
        parse_payload(&plaintext)
    }

    /// Opens a payload that must have been sealed for `expected`.
    pub fn unseal_for(
        &self,
        armor: &str,
        expected: &Place,
    ) -> Result<Zeroizing<String>, UnsealError> {
        let unsealed = self.unseal(armor)?;
        if unsealed.place != *expected {
            return Err(UnsealError::wrong_place(expected.clone(), unsealed.place));
        }
        Ok(unsealed.value)
    }
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
        writer.write_all(&payload)?;
        writer.finish()?.finish()?;
        Ok(())
    };
    encrypt().map_err(|error| SealError::Encrypt(error.to_string()))?;
    String::from_utf8(armored).map_err(|_| SealError::Encrypt("armor is not text".to_owned()))
}

fn payload(value: &str, place: &Place) -> Zeroizing<Vec<u8>> {
    let header = format!(
        "{PAYLOAD_HEADER}\nplace: {}/{}/{}\n\n",
        place.namespace, place.name, place.key
    );
    let mut payload = Zeroizing::new(Vec::with_capacity(header.len() + value.len()));
    payload.extend_from_slice(header.as_bytes());
    payload.extend_from_slice(value.as_bytes());
    payload
}

fn parse_payload(plaintext: &[u8]) -> Result<Unsealed, UnsealError> {
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
        value: Zeroizing::new(value),
    })
}

/// Parses a recipients file (`.rune/recipients`, `--recipients-file`): one `age1…` per line;
/// blank lines and `#` comments are skipped.
pub fn parse_recipients(
    text: &str,
    path: &Path,
) -> Result<Vec<age::x25519::Recipient>, KeyFileError> {
    let mut recipients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        recipients.push(
            parse_recipient(line).ok_or_else(|| KeyFileError::BadRecipient {
                path: path.to_path_buf(),
                line: index + 1,
                text: line.to_owned(),
            })?,
        );
    }
    Ok(recipients)
}

pub fn load_recipients(path: &Path) -> Result<Vec<age::x25519::Recipient>, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_recipients(&text, path)
}

pub fn parse_recipient(text: &str) -> Option<age::x25519::Recipient> {
    text.trim().parse().ok()
}

/// Where the local key file is: `--key-file`, else `RUNE_KEY_FILE`, else
/// `~/.config/rune/key.txt`. The flag and the variable are explicit (a missing file is an error
/// for the caller to report); the default is not (a missing file means "no key file").
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum KeyFileLocation {
    Explicit(PathBuf),
    Default(PathBuf),
}

impl KeyFileLocation {
    pub fn resolve(flag: Option<&Path>) -> Option<Self> {
        if let Some(path) = flag {
            return Some(Self::Explicit(path.to_path_buf()));
        }
        if let Some(path) = std::env::var_os("RUNE_KEY_FILE").filter(|v| !v.is_empty()) {
            return Some(Self::Explicit(PathBuf::from(path)));
        }
        std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| Self::Default(PathBuf::from(home).join(".config/rune/key.txt")))
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Explicit(path) | Self::Default(path) => path,
        }
    }

    /// The identities of the key file `flag`, `RUNE_KEY_FILE` or the default names; `None`
    /// when there is none.
    pub fn load_resolved(flag: Option<&Path>) -> Result<Option<Keys>, KeyFileError> {
        Self::resolve(flag).map_or(Ok(None), |location| location.load())
    }

    /// The identities, `None` when the default location holds no file.
    pub fn load(&self) -> Result<Option<Keys>, KeyFileError> {
        match self {
            Self::Default(path) if !path.exists() => Ok(None),
            Self::Explicit(path) | Self::Default(path) => Keys::load(path).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place::new("prod", "db", "password")
    }

    #[test]
    fn round_trip_binds_the_place() {
        let keys = Keys::generate();
        let armor = seal("hunter2", &place(), &keys.recipients()).expect("seals");
        assert!(armor.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!armor.contains("hunter2"));
        let unsealed = keys.unseal(&armor).expect("opens");
        assert_eq!(unsealed.place, place());
        assert_eq!(unsealed.value.as_str(), "hunter2");
        let other = Place::new("prod", "api", "password");
        assert_eq!(
            keys.unseal_for(&armor, &other).err(),
            Some(UnsealError::wrong_place(other, place()))
        );
    }

    #[test]
    fn values_keep_blank_lines_and_trailing_newlines() {
        let keys = Keys::generate();
        let value = "line one\n\nline three\n";
        let armor = seal(value, &place(), &keys.recipients()).expect("seals");
        assert_eq!(keys.unseal(&armor).expect("opens").value.as_str(), value);
    }

    #[test]
    fn another_key_is_not_a_recipient() {
        let armor = seal("v", &place(), &Keys::generate().recipients()).expect("seals");
        assert_eq!(
            Keys::generate().unseal(&armor).err(),
            Some(UnsealError::NotRecipient)
        );
    }

    #[test]
    fn a_plain_age_payload_names_no_place() {
        let keys = Keys::generate();
        let armor = age::encrypt_and_armor(&keys.recipients()[0], b"bare value").expect("age");
        assert_eq!(keys.unseal(&armor).err(), Some(UnsealError::NoPlace));
    }

    #[test]
    fn empty_values_are_not_sealed() {
        let keys = Keys::generate();
        assert!(matches!(
            seal("", &place(), &keys.recipients()),
            Err(SealError::Empty(_))
        ));
    }

    #[test]
    fn key_files_round_trip_and_reject_garbage() {
        let keys = Keys::generate();
        let text = format!(
            "# created: today\n# public key: x\n{}",
            keys.to_text().as_str()
        );
        let parsed = Keys::parse(&text, Path::new("key.txt")).expect("parses");
        assert_eq!(
            parsed.recipients()[0].to_string(),
            keys.recipients()[0].to_string()
        );
        assert!(matches!(
            Keys::parse("not a key\n", Path::new("k")),
            Err(KeyFileError::BadIdentity { line: 1, .. })
        ));
        assert!(matches!(
            parse_recipients("# team\n\nage1nope\n", Path::new("r")),
            Err(KeyFileError::BadRecipient { line: 3, .. })
        ));
    }
}
