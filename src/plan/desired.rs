//! Validated resources → desired objects: the step where `file:` entries are read (at cast
//! time, at the path validation resolved and confined to the file root) and provenance is
//! attached.

use std::collections::BTreeMap;
use std::path::Path;

use zeroize::Zeroizing;

use crate::parse::Loaded;
use crate::resource::{Data, DataKind, DataSource, Protocol, Resource, Runtime, Spec};
use crate::secrets::Secret;
use crate::wire::object::{
    Desired, DesiredSpec, EnvFromSpec, KindName, MountSpec, NamespaceSpec, ObjectKey, PortSpec,
    ProcessSpec, Provenance, SecretValues, ServiceSpec, StorageClassSpec, VolumeSpec,
};

/// A resource that cannot become a desired object.
#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error("{resource}: cannot read `{path}` for key `{key}`: {source}")]
    File {
        key: String,
        path: String,
        resource: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{resource}: `{path}` (key `{key}`) is not UTF-8 text; values are strings")]
    NotText {
        key: String,
        path: String,
        resource: String,
    },
}

/// Where the cast comes from: recorded on every object.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub commit: Option<String>,
    /// `None` when git could not tell (see `git_error`).
    pub dirty: Option<bool>,
    /// Why git could not be read: the commit and `dirty` are then unknown.
    pub git_error: Option<String>,
    pub source_set: Option<String>,
    /// Turns a source file's name into the path recorded (relative to the repository root).
    pub relative_to: Option<std::path::PathBuf>,
}

/// Converts every resource; the first unreadable `file:` entry stops the conversion.
pub fn to_desired(
    resources: &[Resource],
    loaded: &Loaded,
    origin: &Origin,
) -> Result<Vec<Desired>, DesiredError> {
    resources
        .iter()
        .map(|r| convert(r, loaded, origin))
        .collect()
}

fn convert(resource: &Resource, loaded: &Loaded, origin: &Origin) -> Result<Desired, DesiredError> {
    let file = loaded
        .files
        .iter()
        .find(|f| f.source == resource.origin.source);
    let base_dir = file.and_then(|f| f.base_dir());
    let spec = match &resource.spec {
        Spec::Secret(data) => DesiredSpec::Secret {
            data: SecretValues(values(resource, data, base_dir)?),
            sealed: sealed(data),
        },
        Spec::ConfigMap(data) => DesiredSpec::ConfigMap {
            data: values(resource, data, base_dir)?
                .into_iter()
                .map(|(k, v)| (k, v.expose().clone()))
                .collect(),
        },
        Spec::Namespace(ns) => DesiredSpec::Namespace(NamespaceSpec {
            description: ns.description.clone(),
        }),
        Spec::Service(service) => DesiredSpec::Service(service_spec(service)),
        Spec::StorageClass(class) => DesiredSpec::StorageClass(StorageClassSpec {
            parameters: parameters(&class.parameters),
            provisioner: class.provisioner.clone(),
        }),
        Spec::Volume(volume) => DesiredSpec::Volume(VolumeSpec {
            parameters: parameters(&volume.parameters),
            size: volume.size.clone(),
            storage_class_name: volume.storage_class_name.value.clone(),
        }),
    };
    let path = loaded.sources.get(resource.origin.source).name();
    let path = origin
        .relative_to
        .as_ref()
        .and_then(|root| {
            std::fs::canonicalize(path)
                .ok()?
                .strip_prefix(root)
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| path.to_owned());
    Ok(Desired {
        key: ObjectKey {
            kind: KindName(resource.kind()),
            name: resource.name.value.clone(),
            namespace: resource.namespace_name().to_owned(),
        },
        labels: resource.labels.clone(),
        provenance: Some(Provenance {
            cast_at: None,
            cast_by: None,
            commit: origin.commit.clone(),
            dirty: origin.dirty,
            git_error: origin.git_error.clone(),
            document: Some(resource.origin.document),
            path: Some(path),
            source_set: origin.source_set.clone(),
        }),
        spec,
    })
}

/// Plaintext and `file:` values; sealed ones travel apart, for the server to open.
fn values(
    resource: &Resource,
    data: &Data,
    base_dir: Option<&Path>,
) -> Result<BTreeMap<String, Secret<String>>, DesiredError> {
    let mut out = BTreeMap::new();
    for entry in &data.entries {
        let key = entry.key.value.clone();
        let value = match &entry.source {
            DataSource::Value(value) => Secret::new(value.expose().to_owned()),
            DataSource::File(path) => read_text(resource, &key, path, base_dir)?,
            DataSource::Sealed(_) => continue,
        };
        out.insert(key, value);
    }
    Ok(out)
}

fn sealed(data: &Data) -> BTreeMap<String, String> {
    data.entries
        .iter()
        .filter_map(|entry| match &entry.source {
            DataSource::Sealed(armor) => Some((entry.key.value.clone(), armor.clone())),
            _ => None,
        })
        .collect()
}

fn read_text(
    resource: &Resource,
    key: &str,
    path: &Path,
    base_dir: Option<&Path>,
) -> Result<Secret<String>, DesiredError> {
    let full = base_dir.map_or_else(|| path.to_path_buf(), |dir| dir.join(path));
    let bytes = read_resolved(&full).map_err(|source| DesiredError::File {
        key: key.to_owned(),
        path: full.display().to_string(),
        resource: resource.display_name(),
        source,
    })?;
    String::from_utf8(bytes).map(Secret::new).map_err(|error| {
        drop(Zeroizing::new(error.into_bytes()));
        DesiredError::NotText {
            key: key.to_owned(),
            path: full.display().to_string(),
            resource: resource.display_name(),
        }
    })
}

/// Reads a path validation resolved and confined (SPEC §2.3). Should a symbolic link have
/// appeared on it since (the path held none then), it is refused rather than followed.
fn read_resolved(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    if crate::fs::confine::resolve(path).path != path {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the path changed since it was checked (a symbolic link appeared on it)",
        ));
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn service_spec(service: &crate::resource::ServiceSpec) -> ServiceSpec {
    let (image, process) = match &service.runtime {
        Runtime::Image(image) => (Some(image.clone()), None),
        Runtime::Process(p) => (
            None,
            Some(ProcessSpec {
                args: p.args.clone(),
                command: p.command.clone(),
                workdir: p.workdir.clone(),
            }),
        ),
    };
    let mount = |m: &crate::resource::Mount| MountSpec {
        mount_path: m.mount_path.value.clone(),
        name: m.name.value.clone(),
        source: m.source.value.clone(),
    };
    ServiceSpec {
        config_mounts: service.config_mounts.iter().map(mount).collect(),
        env: service
            .env
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect(),
        env_from: service
            .env_from
            .iter()
            .map(|e| EnvFromSpec {
                config_ref: (e.kind == DataKind::ConfigMap).then(|| e.name.value.clone()),
                prefix: e.prefix.as_ref().map(|p| p.value.clone()),
                secret_ref: (e.kind == DataKind::Secret).then(|| e.name.value.clone()),
            })
            .collect(),
        image,
        ports: service
            .ports
            .iter()
            .map(|p| PortSpec {
                name: p.name.clone(),
                port: p.port,
                protocol: match p.protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                }
                .to_owned(),
                target_port: p.target_port,
            })
            .collect(),
        process,
        scale: service.scale,
        secret_mounts: service.secret_mounts.iter().map(mount).collect(),
    }
}

fn parameters(parameters: &[crate::resource::Parameter]) -> BTreeMap<String, String> {
    parameters
        .iter()
        .map(|p| (p.key.value.clone(), p.value.value.clone()))
        .collect()
}
