//! What an instance starts with: the current data of every secret and configmap it imports or
//! mounts, its environment ([`env`]) and its mounts, as one [`Launch`].
//!
//! In: the service and the engine. Out: a [`Prepared`] launch with the versions it holds, or
//! the reason the instance cannot start. Must not happen here: a value in the reason, the
//! versions or the skipped names; values stay in memory and go to the launcher over a pipe.

use std::collections::{BTreeMap, BTreeSet};

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
        let has_mounts = !spec.secret_mounts.is_empty() || !spec.config_mounts.is_empty();
        if has_mounts && let Err(reason) = &self.mounts {
            return Err(format!("the service has mounts, but {reason}"));
        }
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
            workdir: process.workdir.clone(),
        };
        Ok(Prepared {
            launch,
            skipped: built.skipped,
            versions,
        })
    }
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
