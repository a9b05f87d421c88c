//! The wire forms of objects: the spec's shape is decided by `kind`, so it is (de)serialised
//! by hand here, and checked against the key's kind on the way in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::resource::Kind;
use crate::wire::object::{DesiredSpec, KindName, ObjectKey, Provenance, SecretValues, StoredSpec};
use crate::wire::path::read_spec;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Desired {
    kind: KindName,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// Absent: `""`, which only a PUT accepts (its path names the object); everywhere else
    /// the name check refuses it.
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    provenance: Option<Provenance>,
    #[serde(default)]
    spec: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSpec<T> {
    #[serde(default)]
    data: T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSpec {
    #[serde(default)]
    data: SecretValues,
    #[serde(default)]
    sealed: BTreeMap<String, String>,
}

impl TryFrom<Desired> for super::Desired {
    type Error = String;

    fn try_from(wire: Desired) -> Result<Self, Self::Error> {
        let spec = if wire.spec.is_null() {
            Value::Object(Map::new())
        } else {
            wire.spec
        };
        let spec = match wire.kind.0 {
            Kind::ConfigMap => DesiredSpec::ConfigMap {
                data: read_spec::<DataSpec<_>>(spec)?.data,
            },
            Kind::Namespace => DesiredSpec::Namespace(read_spec(spec)?),
            Kind::Secret => {
                let spec = read_spec::<SecretSpec>(spec)?;
                DesiredSpec::Secret {
                    data: spec.data,
                    sealed: spec.sealed,
                }
            }
            Kind::Service => DesiredSpec::Service(read_spec(spec)?),
            Kind::StorageClass => DesiredSpec::StorageClass(read_spec(spec)?),
            Kind::Volume => DesiredSpec::Volume(read_spec(spec)?),
        };
        Ok(Self {
            key: ObjectKey {
                kind: wire.kind,
                name: wire.name,
                namespace: wire.namespace,
            },
            labels: wire.labels,
            provenance: wire.provenance,
            spec,
        })
    }
}

/// The wire form of a desired object, borrowed: the same fields in the same order as
/// [`Desired`], so the same JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DesiredRef<'a> {
    kind: KindName,
    labels: &'a BTreeMap<String, String>,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<&'a Provenance>,
    spec: SpecRef<'a>,
}

impl<'a> From<&'a super::Desired> for DesiredRef<'a> {
    fn from(desired: &'a super::Desired) -> Self {
        Self {
            kind: desired.key.kind,
            labels: &desired.labels,
            name: &desired.key.name,
            namespace: &desired.key.namespace,
            provenance: desired.provenance.as_ref(),
            spec: SpecRef(&desired.spec),
        }
    }
}

/// A secret's or configmap's spec is `{"data": {…}}` (a secret's also `"sealed": {…}`), written straight from its map; the
/// other kinds go through a JSON value, as they always have.
pub(super) struct SpecRef<'a>(&'a DesiredSpec);

impl Serialize for SpecRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Data<'a, T> {
            data: &'a T,
        }
        #[derive(Serialize)]
        struct Secret<'a> {
            data: &'a SecretValues,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            sealed: &'a BTreeMap<String, String>,
        }
        match self.0 {
            DesiredSpec::ConfigMap { data } => Data { data }.serialize(serializer),
            DesiredSpec::Secret { data, sealed } => Secret { data, sealed }.serialize(serializer),
            DesiredSpec::Namespace(s) => to_value(s).serialize(serializer),
            DesiredSpec::Service(s) => to_value(s).serialize(serializer),
            DesiredSpec::StorageClass(s) => to_value(s).serialize(serializer),
            DesiredSpec::Volume(s) => to_value(s).serialize(serializer),
        }
    }
}

fn to_value(spec: &impl Serialize) -> Value {
    serde_json::to_value(spec).unwrap_or_default()
}

/// A stored object: metadata plus the spec's own fields, side by side.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Stored {
    created_at: String,
    kind: KindName,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    namespace: String,
    #[serde(default)]
    provenance: Option<Provenance>,
    updated_at: String,
    version: u64,
    #[serde(flatten)]
    spec: Map<String, Value>,
}

impl TryFrom<Stored> for super::Stored {
    type Error = serde_json::Error;

    fn try_from(wire: Stored) -> Result<Self, Self::Error> {
        let fields = Value::Object(wire.spec);
        let spec = match wire.kind.0 {
            Kind::ConfigMap => StoredSpec::ConfigMap {
                data: serde_json::from_value::<DataSpec<_>>(fields)?.data,
            },
            Kind::Namespace => StoredSpec::Namespace(serde_json::from_value(fields)?),
            Kind::Secret => {
                #[derive(Deserialize)]
                struct Keys {
                    #[serde(default)]
                    keys: Vec<String>,
                }
                StoredSpec::Secret {
                    keys: serde_json::from_value::<Keys>(fields)?.keys,
                }
            }
            Kind::Service => StoredSpec::Service(serde_json::from_value(fields)?),
            Kind::StorageClass => StoredSpec::StorageClass(serde_json::from_value(fields)?),
            Kind::Volume => StoredSpec::Volume(serde_json::from_value(fields)?),
        };
        Ok(Self {
            created_at: wire.created_at,
            key: ObjectKey {
                kind: wire.kind,
                name: wire.name,
                namespace: wire.namespace,
            },
            labels: wire.labels,
            provenance: wire.provenance,
            spec,
            updated_at: wire.updated_at,
            version: wire.version,
        })
    }
}

impl From<super::Stored> for Stored {
    fn from(stored: super::Stored) -> Self {
        let fields = match &stored.spec {
            StoredSpec::ConfigMap { data } => serde_json::json!({ "data": data }),
            StoredSpec::Secret { keys } => serde_json::json!({ "keys": keys }),
            StoredSpec::Namespace(s) => serde_json::to_value(s).unwrap_or_default(),
            StoredSpec::Service(s) => serde_json::to_value(s).unwrap_or_default(),
            StoredSpec::StorageClass(s) => serde_json::to_value(s).unwrap_or_default(),
            StoredSpec::Volume(s) => serde_json::to_value(s).unwrap_or_default(),
        };
        let Value::Object(spec) = fields else {
            unreachable!("specs serialise to objects")
        };
        Self {
            created_at: stored.created_at,
            kind: stored.key.kind,
            labels: stored.labels,
            name: stored.key.name,
            namespace: stored.key.namespace,
            provenance: stored.provenance,
            updated_at: stored.updated_at,
            version: stored.version,
            spec,
        }
    }
}
