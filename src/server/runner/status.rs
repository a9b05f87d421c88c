//! What the runner reports (`GET /v1/status`): every stored service — `image:` services too,
//! marked not runnable — with the current version of what it imports or mounts, and per running
//! instance its state, events and the versions it started with (`outdated` when they differ).
//! A standby of a shared store shows the instances the replica that runs them published.
//!
//! In: the services in the engine and the running instances. Out: [`RunnerStatus`]. Must not
//! happen here: a value in a status; it holds names, states, codes and versions only.

use std::collections::BTreeMap;

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::runner::{IMAGE_REASON, Runner, RunnerError, references, service_key};
use crate::wire::object::{KindName, ObjectKey, ServiceSpec, StoredSpec};
use crate::wire::runner::{InstanceStatus, RunnerStatus, ServiceStatus};

/// A stored service with the current data version of every object it references.
type Stored = (ObjectKey, ServiceSpec, BTreeMap<String, u64>);

impl Runner {
    /// The status of every service (in `namespace`, or all), image services included.
    pub async fn status(&self, namespace: Option<String>) -> Result<RunnerStatus, RunnerError> {
        let engine = self.engine.clone();
        let standby = self.standby();
        let (services, published) = tokio::task::spawn_blocking(move || {
            let services = stored(&engine, namespace.as_deref())?;
            // A standby shows the instances as the replica that runs them published them.
            let published = if standby {
                Some(engine.published_instances()?)
            } else {
                None
            };
            Ok::<_, EngineError>((services, published))
        })
        .await
        .map_err(|e| EngineError::Store(format!("status task failed: {e}")))??;
        let running = self.services.lock().expect("runner lock");
        let services = services
            .into_iter()
            .map(|(key, spec, current)| {
                let runnable = spec.process.is_some();
                let instances = match &published {
                    Some(published) => published
                        .iter()
                        .filter(|p| p.namespace == key.namespace && p.service == key.name)
                        .map(|p| with_outdated(p.status.clone(), &current))
                        .collect(),
                    None => running
                        .get(&(key.namespace.clone(), key.name.clone()))
                        .map(|s| {
                            s.instances
                                .iter()
                                .map(|i| with_outdated(i.status.borrow().clone(), &current))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                ServiceStatus {
                    current,
                    instances,
                    name: key.name,
                    namespace: key.namespace,
                    reason: if runnable {
                        self.refusal().or_else(|| self.gated())
                    } else {
                        Some(IMAGE_REASON.to_owned())
                    },
                    runnable,
                    scale: spec.scale,
                }
            })
            .collect();
        Ok(RunnerStatus {
            mount_namespaces: self.refusal().is_none(),
            mount_namespaces_reason: self.refusal(),
            replica: self.replica(),
            services,
        })
    }

    /// The status of one service; not found when it is not stored.
    pub(super) async fn service_status(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceStatus, RunnerError> {
        let all = self.status(Some(namespace.to_owned())).await?;
        all.services
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| RunnerError::Engine(EngineError::NotFound(service_key(namespace, name))))
    }
}

/// The stored services (blocking: the engine reads redb), each with the current versions of
/// what it references; an absent reference is left out.
fn stored(engine: &Engine, namespace: Option<&str>) -> Result<Vec<Stored>, EngineError> {
    let listed = engine.list(Kind::Service, namespace)?;
    let mut out = Vec::new();
    for l in listed {
        let StoredSpec::Service(spec) = l.object.spec else {
            continue;
        };
        let mut current = BTreeMap::new();
        for (kind, name) in references(&spec) {
            let key = ObjectKey {
                kind: KindName(kind),
                name: name.clone(),
                namespace: l.object.key.namespace.clone(),
            };
            match engine.get(&key) {
                Ok(object) => {
                    current.insert(format!("{}/{name}", kind.singular()), object.object.version);
                }
                Err(EngineError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        out.push((l.object.key, spec, current));
    }
    Ok(out)
}

fn with_outdated(mut status: InstanceStatus, current: &BTreeMap<String, u64>) -> InstanceStatus {
    status.outdated = status
        .versions
        .iter()
        .filter_map(|(object, version)| match current.get(object) {
            Some(now) if now != version => Some(format!("{object} v{version} (current v{now})")),
            _ => None,
        })
        .collect();
    status
}
