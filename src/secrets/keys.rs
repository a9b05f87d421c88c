//! Age identities that open sealed values: the local key file's, or runed's own.

use std::io::Read;
use std::path::Path;

use age::armor::ArmoredReader;
use age::secrecy::ExposeSecret;

use crate::secrets::key_file::KeyFileError;
use crate::secrets::payload::{UnsealError, Unsealed, parse_payload};
use crate::secrets::place::Place;
use crate::secrets::secret::Secret;

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
            Secret::new(
                std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        Self::parse(text.expose(), path)
    }

    /// The identity file's text (for runed to keep under its KEK).
    pub fn to_text(&self) -> Secret<String> {
        let mut text = Secret::new(String::new());
        for identity in &self.0 {
            text.expose_mut()
                .push_str(identity.to_string().expose_secret());
            text.expose_mut().push('\n');
        }
        text
    }

    /// These identities followed by `older`'s: what opens values sealed for any of them, with
    /// the first recipient still this one's (runed's seal identities after a rotation).
    #[must_use]
    pub fn then(mut self, older: Keys) -> Self {
        self.0.extend(older.0);
        self
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
        let mut plaintext = Secret::new(Vec::new());
        reader
            .read_to_end(plaintext.expose_mut())
            .map_err(|error| UnsealError::Malformed(error.to_string()))?;
        parse_payload(plaintext.expose())
    }

    /// Opens a payload that must have been sealed for `expected`.
    pub fn unseal_for(&self, armor: &str, expected: &Place) -> Result<Secret<String>, UnsealError> {
        let unsealed = self.unseal(armor)?;
        if unsealed.place != *expected {
            return Err(UnsealError::wrong_place(expected.clone(), unsealed.place));
        }
        Ok(unsealed.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key file as `age-keygen` writes it parses; a line that is no identity is named.
    #[test]
    fn key_files_round_trip_and_reject_garbage() {
        let keys = Keys::generate();
        let text = format!(
            "# created: today\n# public key: x\n{}",
            keys.to_text().expose().as_str()
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
    }
}
