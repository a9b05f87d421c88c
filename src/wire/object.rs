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
#[serde(try_from = "form::Desired")]
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
        form::DesiredRef::from(self).serialize(serializer)
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
#[serde(try_from = "form::Stored", into = "form::Stored")]
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
mod form;

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
