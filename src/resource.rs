//! Validated resources: what a runefile declares once every field has been checked.
//!
//! In: built only by [`crate::validate`]. Out: read by later stages (plan, apply, the server).
//! Every value a set-level check (references, uniqueness) may blame keeps its [`Span`], so that
//! even a finding about two files points at the exact places.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::secrets::Secret;
use crate::source::{SourceId, Span};

/// A value and where it was written.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Spanned<T> {
    pub span: Span,
    pub value: T,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { span, value }
    }
}

/// The resource kinds of SPEC §2.2, in apply order.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum Kind {
    Namespace,
    Secret,
    ConfigMap,
    StorageClass,
    Volume,
    Service,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Namespace,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::StorageClass,
        Kind::Volume,
        Kind::Service,
    ];

    /// The top-level key for one resource of this kind.
    #[must_use]
    pub fn singular(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configmap",
            Kind::Namespace => "namespace",
            Kind::Secret => "secret",
            Kind::Service => "service",
            Kind::StorageClass => "storageClass",
            Kind::Volume => "volume",
        }
    }

    /// The top-level key for a list of resources of this kind.
    #[must_use]
    pub fn plural(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configmaps",
            Kind::Namespace => "namespaces",
            Kind::Secret => "secrets",
            Kind::Service => "services",
            Kind::StorageClass => "storageClasses",
            Kind::Volume => "volumes",
        }
    }

    /// Namespaces and storage classes belong to no namespace.
    #[must_use]
    pub fn is_namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::StorageClass)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.singular())
    }
}

/// Where a resource was declared: its file, its document (0-based) and its mapping.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Origin {
    pub document: usize,
    pub source: SourceId,
    /// The span of the resource's kind key or list item, for findings about the whole resource.
    pub span: Span,
}

/// One validated resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub labels: BTreeMap<String, String>,
    pub name: Spanned<String>,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<Spanned<String>>,
    pub origin: Origin,
    pub spec: Spec,
}

impl Resource {
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.spec.kind()
    }

    /// The namespace name, or `""` for cluster-scoped kinds.
    #[must_use]
    pub fn namespace_name(&self) -> &str {
        self.namespace.as_ref().map_or("", |ns| ns.value.as_str())
    }

    /// Where the value of `key` in this secret is sealed for: its resolved namespace, its name
    /// and the key.
    #[must_use]
    pub fn place(&self, key: &str) -> crate::secrets::Place {
        crate::secrets::Place::new(self.namespace_name(), &self.name.value, key)
    }

    /// `secret default/db`: how messages name a resource.
    #[must_use]
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} `{}/{}`", self.kind(), ns.value, self.name.value),
            None => format!("{} `{}`", self.kind(), self.name.value),
        }
    }
}

/// The kind-specific part of a resource.
///
/// The larger, rarer kinds are boxed: every resource is held until the checks across documents
/// have run, and inline they would make each configmap and secret 2× its size (#14).
#[derive(Clone, Debug, PartialEq)]
pub enum Spec {
    ConfigMap(Data),
    Namespace(NamespaceSpec),
    Secret(Data),
    Service(Box<ServiceSpec>),
    StorageClass(Box<StorageClassSpec>),
    Volume(Box<VolumeSpec>),
}

impl Spec {
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Spec::ConfigMap(_) => Kind::ConfigMap,
            Spec::Namespace(_) => Kind::Namespace,
            Spec::Secret(_) => Kind::Secret,
            Spec::Service(_) => Kind::Service,
            Spec::StorageClass(_) => Kind::StorageClass,
            Spec::Volume(_) => Kind::Volume,
        }
    }
}

#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct NamespaceSpec {
    pub description: Option<String>,
}

/// The entries of a secret or configmap, in declaration order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Data {
    /// Secrets only: the resource opted out of the plaintext-in-git guard.
    pub allow_plaintext: bool,
    pub entries: Vec<DataEntry>,
}

impl Data {
    #[must_use]
    pub fn has_key(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key.value == key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.value.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataEntry {
    pub key: Spanned<String>,
    pub source: DataSource,
    /// The span of the value (or of the `file:`/`sealed:` scalar).
    pub value_span: Span,
}

/// Where an entry's value comes from.
#[derive(Clone, PartialEq)]
pub enum DataSource {
    /// The path a `file:` entry names, resolved (absolute, symbolic links followed) and checked
    /// to lie inside a file root (SPEC §2.3); read at cast time.
    File(PathBuf),
    /// An age-armored payload (SPEC §6).
    Sealed(String),
    /// A plaintext value.
    Value(Plaintext),
}

impl fmt::Debug for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::File(path) => f.debug_tuple("File").field(path).finish(),
            DataSource::Sealed(_) => f.write_str("Sealed(..)"),
            DataSource::Value(value) => f.debug_tuple("Value").field(value).finish(),
        }
    }
}

/// A plaintext value that may be a secret: never shown by `Debug`, wiped when dropped.
#[derive(Clone, Default)]
pub struct Plaintext(Secret<String>);

impl Plaintext {
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(Secret::new(value))
    }

    /// The value itself; callers must not print it for a secret.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl PartialEq for Plaintext {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_as(&other.0)
    }
}

impl Eq for Plaintext {}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Plaintext(<redacted>)")
    }
}

/// How a service runs.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Runtime {
    /// A container image: stored and validated, not run by runed here.
    Image(String),
    Process(Process),
}

#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Process {
    pub args: Vec<String>,
    pub command: String,
    pub workdir: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    /// Explicit variables, in declaration order; they win over `envFrom`.
    pub env: Vec<(Spanned<String>, String)>,
    pub env_from: Vec<EnvFrom>,
    pub config_mounts: Vec<Mount>,
    pub ports: Vec<Port>,
    pub runtime: Runtime,
    pub scale: u32,
    pub secret_mounts: Vec<Mount>,
}

/// Which kind of data resource a reference points at.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum DataKind {
    ConfigMap,
    Secret,
}

impl DataKind {
    #[must_use]
    pub fn kind(self) -> Kind {
        match self {
            DataKind::ConfigMap => Kind::ConfigMap,
            DataKind::Secret => Kind::Secret,
        }
    }
}

#[derive(Clone, Debug, Eq, PartialEq)]
pub struct EnvFrom {
    pub kind: DataKind,
    pub name: Spanned<String>,
    pub prefix: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Mount {
    pub kind: DataKind,
    pub mount_path: Spanned<String>,
    pub name: Spanned<String>,
    /// The secret or configmap mounted.
    pub source: Spanned<String>,
}

#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Port {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
    pub target_port: Option<u16>,
}

#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct StorageClassSpec {
    pub parameters: Vec<Parameter>,
    pub provisioner: String,
}

#[derive(Clone, Debug, Eq, PartialEq)]
pub struct VolumeSpec {
    pub parameters: Vec<Parameter>,
    pub size: String,
    pub storage_class_name: Spanned<String>,
}

/// A parameter of a storage class or volume; `secret:` values are references.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Parameter {
    pub key: Spanned<String>,
    pub value: Spanned<String>,
    pub secret_ref: Option<SecretRef>,
}

/// A string secret reference: `secret:<name>/<key>` or `secret:<name>.<namespace>.rune/<key>`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SecretRef {
    pub key: Spanned<String>,
    pub name: Spanned<String>,
    /// `None` for the shorthand form.
    pub namespace: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    /// Every resource of a run is held until the checks across documents: a million of them
    /// must fit the memory goal of #14 (the larger kinds are boxed).
    #[test]
    fn a_resource_stays_small() {
        assert!(
            std::mem::size_of::<super::Resource>() <= 168,
            "{}",
            std::mem::size_of::<super::Resource>()
        );
    }
}
