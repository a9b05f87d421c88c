//! Objects as they travel between `rune` and the engine, and as the engine stores them.
//!
//! A validated [`Resource`](crate::resource::Resource) carries spans and origins; an [`Object`]
//! is the same declaration without them, ready to be planned, applied and stored. Secret values
//! travel in a [`Desired`] object only (client → engine) and never come back: a stored or listed
//! secret carries its key names and version, nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::resource::Kind;
use crate::secrets::Values;

/// Which object: kind, namespace (`""` for cluster-scoped kinds) and name.
#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectKey {
    pub kind: KindName,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} `{}`", self.kind.0, self.name)
        } else {
            write!(f, "{} `{}/{}`", self.kind.0, self.namespace, self.name)
        }
    }
}

/// A [`Kind`] as its singular key (`secret`, `storageClass`) on the wire.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct KindName(pub Kind);

impl Serialize for KindName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.singular())
    }
}

impl<'de> Deserialize<'de> for KindName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Kind::ALL
            .into_iter()
            .find(|k| {
                k.singular().eq_ignore_ascii_case(&text) || k.plural().eq_ignore_ascii_case(&text)
            })
            .map(KindName)
            // The value is not quoted back: whatever a client sent stays out of the answer.
            .ok_or_else(|| {
                serde::de::Error::custom(
                    "unknown kind, expected one of `namespace`, `secret`, `configmap`, `service`, `storageClass`, `volume`",
                )
            })
    }
}

/// Where an applied object came from (SPEC §3, provenance).
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provenance {
    /// When the engine wrote the object (RFC 3339, UTC); set by the engine, never by a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast_at: Option<String>,
    /// Who cast it: `token:NAME` on runed, `user:NAME` (the OS user) on the embedded engine;
    /// absent on a runed that is open (no tokens). Set by the engine, never by a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Whether the work tree had changes git had not committed; absent when that is unknown
    /// (an imperative write, or git could not be read: see `git_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    /// Why git could not be read at cast time (another user owns the repository, say), so that
    /// the commit and `dirty` are unknown rather than claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_set: Option<String>,
}

/// What a client asks the engine to make true for one object. On the wire:
/// `{"kind", "namespace", "name", "labels", "provenance", "spec": {…kind-specific…}}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "wire::Desired")]
pub struct Desired {
    pub key: ObjectKey,
    pub labels: BTreeMap<String, String>,
    pub provenance: Option<Provenance>,
    pub spec: DesiredSpec,
}

/// Written from a borrowed view of the object: a batch of thousands is serialised without
/// copying it first (plans and applies send every object once).
impl Serialize for Desired {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        wire::DesiredRef::from(self).serialize(serializer)
    }
}

/// The kind-specific content of a desired object.
#[derive(Clone, Debug, PartialEq)]
pub enum DesiredSpec {
    ConfigMap {
        data: BTreeMap<String, String>,
    },
    Namespace(NamespaceSpec),
    /// Plaintext values, sent to the engine to be encrypted; never echoed back. `sealed`
    /// holds age payloads (SPEC §6) by key, which only the engine can open: it unseals them
    /// into `data` before anything else looks at the object.
    Secret {
        data: SecretValues,
        sealed: BTreeMap<String, String>,
    },
    Service(ServiceSpec),
    StorageClass(StorageClassSpec),
    Volume(VolumeSpec),
}

/// Secret plaintext on its way in: not shown by `Debug`, wiped on drop. The one wire type that
/// serializes a value (client → server, in a plan or apply request), so it opts in explicitly.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct SecretValues(pub Values);

impl Serialize for SecretValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value.expose())?;
        }
        map.end()
    }
}

impl PartialEq for SecretValues {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((k1, v1), (k2, v2))| k1 == k2 && v1.same_as(v2))
    }
}

impl Eq for SecretValues {}

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_mounts: Vec<MountSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessSpec>,
    pub scale: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_mounts: Vec<MountSpec>,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

/// A mount; `source` is the secret or configmap name (`secretName`/`configName` in runefiles).
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MountSpec {
    pub mount_path: String,
    pub name: String,
    pub source: String,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFromSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: u16,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageClassSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    pub provisioner: String,
}

#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    pub size: String,
    pub storage_class_name: String,
}

/// An object as the engine stores and returns it: no secret value, ever. On the wire the spec's
/// fields sit beside the metadata (SPEC §3.2): a secret is `{"kind": "secret", "name",
/// "namespace", "version", "keys", "labels", "createdAt", "updatedAt", "provenance"}`, a
/// configmap carries its `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "wire::Stored", into = "wire::Stored")]
pub struct Stored {
    pub created_at: String,
    pub key: ObjectKey,
    pub labels: BTreeMap<String, String>,
    pub provenance: Option<Provenance>,
    pub spec: StoredSpec,
    pub updated_at: String,
    pub version: u64,
}

/// What is stored of each kind: a secret keeps only its key names here (its data is sealed in a
/// separate record per version).
#[derive(Clone, Debug, PartialEq)]
pub enum StoredSpec {
    ConfigMap { data: BTreeMap<String, String> },
    Namespace(NamespaceSpec),
    Secret { keys: Vec<String> },
    Service(ServiceSpec),
    StorageClass(StorageClassSpec),
    Volume(VolumeSpec),
}

impl Desired {
    /// The kind its spec describes (which must match its key's kind).
    pub fn spec_kind(&self) -> Kind {
        match self.spec {
            DesiredSpec::ConfigMap { .. } => Kind::ConfigMap,
            DesiredSpec::Namespace(_) => Kind::Namespace,
            DesiredSpec::Secret { .. } => Kind::Secret,
            DesiredSpec::Service(_) => Kind::Service,
            DesiredSpec::StorageClass(_) => Kind::StorageClass,
            DesiredSpec::Volume(_) => Kind::Volume,
        }
    }
}

/// The wire forms: the spec's shape is decided by `kind`, so it is (de)serialised by hand.
mod wire {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize, Serializer};
    use serde_json::{Map, Value};

    use super::{DesiredSpec, KindName, ObjectKey, Provenance, SecretValues, StoredSpec};
    use crate::resource::Kind;
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
                DesiredSpec::Secret { data, sealed } => {
                    Secret { data, sealed }.serialize(serializer)
                }
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
}

/// `secret/default/db`: how results name an object.
pub fn path_of(key: &ObjectKey) -> String {
    if key.namespace.is_empty() {
        format!("{}/{}", key.kind.0.singular(), key.name)
    } else {
        format!("{}/{}/{}", key.kind.0.singular(), key.namespace, key.name)
    }
}

/// The key of the namespace `name`.
pub fn namespace_key(name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(Kind::Namespace),
        name: name.to_owned(),
        namespace: String::new(),
    }
}
