//! What an instance starts with: the current data of every secret and configmap it imports or
//! mounts, its environment ([`env`]), its mounts and its service's uid, as one [`Launch`]; and
//! its mount points, created on the host (recorded, so that deleting the service removes them).
//!
//! In: the service and the engine. Out: a [`Prepared`] launch with the versions it holds, or
//! the reason the instance cannot start. Must not happen here: a value in the reason, the
//! versions or the skipped names; values stay in memory and go to the launcher over a pipe.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::runner::launch::{Launch, MountData};
use crate::server::runner::{IMAGE_REASON, Runner, ServiceKey, env, references};
use crate::wire::object::{KindName, ObjectKey, ServiceSpec};

/// An instance ready to launch. No `Debug`: the launch holds values.
pub(super) struct Prepared {
    pub(super) launch: Launch,
    /// Names skipped for not being valid environment variable names.
    pub(super) skipped: Vec<String>,
    /// The data version of every import and mount, by `secret/NAME` or `configmap/NAME`.
    pub(super) versions: BTreeMap<String, u64>,
}

impl Runner {
    /// Resolves what an instance needs: the data of every import and mount (current versions),
    /// the environment, and the launch. `Err` is the reason the instance cannot start.
    pub(super) async fn prepare(
        &self,
        key: &ServiceKey,
        index: u32,
        spec: &ServiceSpec,
    ) -> Result<Prepared, String> {
        let Some(process) = &spec.process else {
            return Err(IMAGE_REASON.to_owned());
        };
        let uid = self.mount_points_and_uid(key, spec)?;
        let references: BTreeSet<(Kind, String)> = references(spec).collect();
        let engine = self.engine.clone();
        let namespace = key.0.clone();
        let (sources, versions) =
            tokio::task::spawn_blocking(move || load(&engine, &namespace, references))
                .await
                .map_err(|e| format!("cannot read its data: {e}"))??;
        let built = env::build(spec, &key.0, &key.1, index, &sources);
        let launch = Launch {
            args: process.args.clone(),
            command: process.command.clone(),
            // The launcher's pipe format keeps plain zeroized strings (it has no `Debug`).
            env: built
                .vars
                .into_iter()
                .map(|(var, value)| (var, Zeroizing::new(value.expose().clone())))
                .collect(),
            mounts: mounts(spec, &sources),
            parent: std::process::id(),
            probe: false,
            stage: crate::server::runner::launch::Stage::Outer,
            uid,
            workdir: process.workdir.clone(),
        };
        Ok(Prepared {
            launch,
            skipped: built.skipped,
            versions,
        })
    }
}

impl Runner {
    /// The service's uid (allocated on its first start), after creating its missing mount
    /// points and recording the ones created.
    fn mount_points_and_uid(&self, key: &ServiceKey, spec: &ServiceSpec) -> Result<u32, String> {
        let identities = self.identities.as_ref().map_err(std::clone::Clone::clone)?;
        let mut identities = identities.lock().expect("identities lock");
        let uid = identities.uid(&key.0, &key.1)?;
        let mut created = Vec::new();
        let paths = spec.secret_mounts.iter().map(|m| &m.mount_path);
        for path in paths.chain(spec.config_mounts.iter().map(|m| &m.mount_path)) {
            let made = create_mount_point(Path::new(path));
            created.extend(made.created);
            if let Some(error) = made.error {
                identities.record_created(&key.0, &key.1, created)?;
                return Err(format!("cannot create the mount point `{path}`: {error}"));
            }
        }
        identities.record_created(&key.0, &key.1, created)?;
        Ok(uid)
    }
}

/// What [`create_mount_point`] did.
struct MadeDirs {
    /// Every directory it created, parents first.
    created: Vec<PathBuf>,
    error: Option<std::io::Error>,
}

/// Creates `path` and its missing parents (mode 0755: the service's uid must pass through
/// them to reach its tmpfs), reporting each directory it created.
fn create_mount_point(path: &Path) -> MadeDirs {
    let mut missing: Vec<&Path> = path.ancestors().take_while(|p| !p.exists()).collect();
    missing.reverse();
    let mut made = MadeDirs {
        created: Vec::new(),
        error: None,
    };
    for dir in missing {
        match std::fs::DirBuilder::new().mode(0o755).create(dir) {
            Ok(()) => made.created.push(dir.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                made.error = Some(e);
                break;
            }
        }
    }
    made
}

/// The current data and version of every referenced object (blocking: the engine reads redb
/// and decrypts). A missing object is a reason not to start.
fn load(
    engine: &Engine,
    namespace: &str,
    references: BTreeSet<(Kind, String)>,
) -> Result<(env::Sources, BTreeMap<String, u64>), String> {
    let mut sources = env::Sources::new();
    let mut versions = BTreeMap::new();
    for (kind, name) in references {
        let object = ObjectKey {
            kind: KindName(kind),
            name: name.clone(),
            namespace: namespace.to_owned(),
        };
        match engine.materialise(&object) {
            Ok((data, version)) => {
                versions.insert(format!("{}/{name}", kind.singular()), version);
                sources.insert((kind, name), data);
            }
            Err(EngineError::NotFound(_)) => {
                return Err(format!("{} `{name}` not found", kind.singular()));
            }
            Err(other) => return Err(format!("cannot read {object}: {other}")),
        }
    }
    Ok((sources, versions))
}

/// One directory per mount, one file per key: secrets 0400, configmaps 0444.
fn mounts(spec: &ServiceSpec, sources: &env::Sources) -> Vec<MountData> {
    spec.secret_mounts
        .iter()
        .map(|m| (m, Kind::Secret, 0o400))
        .chain(
            spec.config_mounts
                .iter()
                .map(|m| (m, Kind::ConfigMap, 0o444)),
        )
        .map(|(m, kind, mode)| MountData {
            files: sources
                .get(&(kind, m.source.clone()))
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Zeroizing::new(v.expose().clone())))
                .collect(),
            mode,
            path: m.mount_path.clone(),
        })
        .collect()
}
