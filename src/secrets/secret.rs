//! [`Secret<T>`]: a value that must never reach an output by accident — a plaintext secret
//! value, a token, a key or a key file's text.
//!
//! In: the value, moved in. Out: the value by reference through [`Secret::expose`] only.
//! Must not happen here: the value, its length or any digest of it in `Debug` or `Display`
//! output, and the value left in memory after the wrapper is dropped.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// A value that prints as `Secret(<redacted>)` and is wiped (zeroized) when dropped.
///
/// `Debug` and `Display` both print the redaction, so a `Secret` field of a struct that derives
/// `Debug`, or a `Secret` in a `format!`, shows nothing of the value, not even its length.
///
/// Serde, decided deliberately:
/// - **Deserialize** is implemented: reading a value *into* a `Secret` cannot leak it, and it
///   lets a config or token file deserialize straight into wrapped fields. The deserializer's
///   own buffers (the input text) are the caller's to wipe.
/// - **Serialize** is not: a `#[derive(Serialize)]` over a `Secret` field fails to compile, so a
///   secret cannot end up in JSON, a log or an API response by accident. A file that must hold
///   the value (a token file, the config file of contexts) opts in per field with
///   `#[serde(serialize_with = "Secret::serialize_exposed")]`, which a reviewer can find by
///   grepping for `serialize_exposed`.
///
/// There is no `PartialEq`: comparing secrets (tokens, above all) needs a constant-time
/// comparison on the exposed bytes, chosen where it happens.
pub struct Secret<T: Zeroize>(T);

/// Plaintext data of a secret — key → value — as every stage holds it: keys print, values do
/// not.
pub type Values = std::collections::BTreeMap<String, Secret<String>>;

impl Secret<String> {
    /// Whether two values are the same, in time that depends on their lengths only, not on
    /// where they differ.
    pub fn same_as(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Call this rarely and as late as possible — at the one place that must
    /// use the value (encrypt it, compare it, write it where it belongs): every call is a place
    /// where it could leak into a message or be copied into memory that is not wiped, and
    /// grepping for `expose` is how those places are audited.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, to fill or change in place (a line read from a terminal), so that it never
    /// sits in an unwrapped buffer. The same care as [`Secret::expose`] applies.
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// [`Secret::serialize_exposed`] for an optional field (`None` writes nothing only together
    /// with `skip_serializing_if = "Option::is_none"`).
    pub fn serialize_exposed_option<S: Serializer>(
        value: &Option<Self>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
    {
        match value {
            Some(secret) => serializer.serialize_some(&secret.0),
            None => serializer.serialize_none(),
        }
    }

    /// Writes the value itself: the explicit opt-in for `#[serde(serialize_with = …)]` on the
    /// few fields whose file must hold it (see the type's documentation).
    pub fn serialize_exposed<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
    {
        self.0.serialize(serializer)
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize + Default> Default for Secret<T> {
    fn default() -> Self {
        Self(T::default())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use zeroize::Zeroize;

    use super::Secret;

    const VALUE: &str = "hunter2-correct-horse";

    /// What a printout must not contain: the value, any piece of it, or its length.
    #[track_caller]
    fn assert_redacted(printed: &str) {
        assert!(!printed.contains("hunter"), "{printed}");
        assert!(!printed.contains("horse"), "{printed}");
        assert!(
            !printed.contains(&VALUE.len().to_string()),
            "the length shows: {printed}"
        );
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login {
        user: String,
        token: Secret<String>,
        key: Secret<Vec<u8>>,
    }

    /// `{:?}`, `{:#?}` and `{}` print the redaction only, also for bytes.
    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new(VALUE.to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret}"), "Secret(<redacted>)");
        assert_redacted(&format!("{secret:#?}"));
        assert_redacted(&format!("{:?}", Secret::new(VALUE.as_bytes().to_vec())));
    }

    /// A `Secret` field of a struct that derives `Debug` shows nothing of the value.
    #[test]
    fn derived_debug_of_a_struct_redacts_its_secrets() {
        let login = Login {
            user: "ops".to_owned(),
            token: Secret::new(VALUE.to_owned()),
            key: Secret::new(VALUE.as_bytes().to_vec()),
        };
        let printed = format!("{login:?}");
        assert_redacted(&printed);
        assert!(printed.contains("ops"), "{printed}");
        assert_redacted(&format!("{login:#?}"));
    }

    /// The value is reachable only through `expose`, and `expose_mut` changes it in place.
    #[test]
    fn expose_gives_the_value() {
        let mut secret = Secret::new(String::from("a"));
        secret.expose_mut().push('b');
        assert_eq!(secret.expose(), "ab");
        assert_eq!(secret.clone().expose(), "ab");
    }

    /// Dropping a `Secret` zeroizes its value.
    #[test]
    fn dropping_zeroizes() {
        struct Probe(Rc<Cell<bool>>);
        impl Zeroize for Probe {
            fn zeroize(&mut self) {
                self.0.set(true);
            }
        }
        let wiped = Rc::new(Cell::new(false));
        let secret = Secret::new(Probe(Rc::clone(&wiped)));
        assert!(!wiped.get());
        drop(secret);
        assert!(wiped.get());
    }

    /// Deserializing into a `Secret` works; serializing needs the explicit opt-in.
    #[test]
    fn serde_reads_freely_and_writes_only_on_request() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct File {
            #[serde(serialize_with = "Secret::serialize_exposed")]
            token: Secret<String>,
        }
        let file: File = serde_json::from_str(&format!(r#"{{"token":"{VALUE}"}}"#)).unwrap();
        assert_eq!(file.token.expose(), VALUE);
        assert_eq!(
            serde_json::to_string(&file).unwrap(),
            format!(r#"{{"token":"{VALUE}"}}"#)
        );
    }

    /// A map of plaintext values, as every stage holds secret data, prints its keys only.
    #[test]
    fn values_print_keys_only() {
        let mut values = super::Values::new();
        values.insert("password".to_owned(), Secret::new(VALUE.to_owned()));
        let printed = format!("{values:?}");
        assert!(printed.contains("password"), "{printed}");
        assert_redacted(&printed);
    }

    /// Equal values compare equal, different ones (of the same length too) do not.
    #[test]
    fn same_as_compares_values() {
        let a = Secret::new(VALUE.to_owned());
        assert!(a.same_as(&Secret::new(VALUE.to_owned())));
        assert!(!a.same_as(&Secret::new(VALUE.replace('h', "j"))));
        assert!(!a.same_as(&Secret::new(String::new())));
    }
}
