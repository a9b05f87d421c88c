//! A JSON reader as strict as the description: serde's derived structs also accept a JSON array
//! (their fields by position), which `schemas/openapi.json` does not describe and no client
//! sends; and JSON Schema counts `84.0` as an integer, which serde refuses for a `u32`.
//!
//! In: any serde deserializer of JSON (the body's reader, a buffered `Value`). Out: the same
//! values, with two rules changed all the way down: a struct is read only from a JSON object,
//! and a float with no fractional part is handed on as the integer it equals. Nothing else is
//! touched; paths (`serde_path_to_error`) track through it.

mod keys;

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Wraps a deserializer with the two rules above.
pub struct Strict<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(visitor))
    }

    /// A struct from a map only: serde's derive would also take a sequence.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Wrap(visitor))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_option(Wrap(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// A visitor whose nested values are read strictly too.
struct Wrap<V>(V);

/// The largest float that converts to a `u64` exactly (2^64 itself does not fit).
const U64_LIMIT: f64 = 18_446_744_073_709_551_616.0;

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.0.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        self.0.visit_i128(v)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        self.0.visit_u128(v)
    }

    /// `84.0` is the integer 84 (JSON Schema's `integer` includes it).
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        #[allow(clippy::cast_sign_loss)] // the range is checked: 0 ≤ v < 2^64, v integral
        if v.fract() == 0.0 && (0.0..U64_LIMIT).contains(&v) {
            self.0.visit_u64(v as u64)
        } else if v.fract() == 0.0 && (i64::MIN as f64..0.0).contains(&v) {
            self.0.visit_i64(v as i64)
        } else {
            self.0.visit_f64(v)
        }
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<V::Value, E> {
        self.0.visit_char(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.0.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.0.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Map {
            inner: map,
            seen: HashSet::new(),
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(data)
    }
}

/// A value read strictly.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

struct Seq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// Keys are read as they are (strings), each at most once; values strictly.
struct Map<A> {
    inner: A,
    seen: HashSet<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(keys::KeySeed {
            seed,
            seen: &mut self.seen,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Port {
        port: u16,
        name: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Spec {
        ports: Vec<Port>,
        scale: u32,
    }

    fn read(text: &str) -> Result<Spec, serde_json::Error> {
        Spec::deserialize(Strict(&mut serde_json::Deserializer::from_str(text)))
    }

    #[test]
    fn structs_come_only_from_objects_and_integral_floats_are_integers() {
        let spec = read(r#"{"ports": [{"port": 80.0, "name": null}], "scale": 2.0}"#).unwrap();
        assert_eq!(spec.ports[0].port, 80);
        assert_eq!(spec.scale, 2);
        assert!(read(r#"{"ports": [[80, null]], "scale": 1}"#).is_err());
        assert!(read("[[], 1]").is_err());
        assert!(read(r#"{"ports": [], "scale": 1.5}"#).is_err());
        assert!(read(r#"{"ports": [], "scale": -1.0}"#).is_err());
        let value = serde_json::json!({"ports": [[1, null]], "scale": 1});
        assert!(Spec::deserialize(Strict(value)).is_err());
    }

    /// serde keeps the last of two equal keys; the wire refuses the second, as lint does.
    #[test]
    fn a_key_twice_in_one_object_is_refused_at_its_path() {
        let text = r#"{"data": {"a": "1", "b": "2", "a": "3"}}"#;
        let mut reader = serde_json::Deserializer::from_str(text);
        let error = serde_path_to_error::deserialize::<_, serde_json::Value>(Strict(&mut reader))
            .unwrap_err();
        // The key never became a path segment (it was refused), so the path ends at its map.
        assert!(error.path().to_string().starts_with("data"), "{error}");
        assert!(
            error.inner().to_string().contains("`a` appears twice"),
            "{error}"
        );
        assert!(read(r#"{"ports": [], "scale": 1, "scale": 2}"#).is_err());
        let nested = r#"{"a": {"k": 1}, "b": {"k": 2}}"#;
        let mut reader = serde_json::Deserializer::from_str(nested);
        assert!(serde_json::Value::deserialize(Strict(&mut reader)).is_ok());
    }
}
