//! The process runner (SPEC §5, issue #6): runed runs every `process:` service as `scale`
//! supervised child processes. [`Runner`] is what the HTTP layer and the daemon see.
//!
//! In: the services in the engine, read again after every successful write and at start
//! ([`Runner::reconcile`]). Out: instances, each a child process started through the launcher
//! (`runed __instance`, see [`launch`]) with its environment ([`env`](mod@env)) and its mounts
//! on a private tmpfs; their output in rotated log files ([`logs`]); their states and events
//! ([`crate::wire::runner`]).
//!
//! Isolation (SPEC §5): every instance runs as its service's own uid and gid
//! ([`identity`]), without capabilities, in its own mount and PID namespaces with its own
//! `/proc`. runed checks once at start that it can set all of that up (`probe`); when it cannot
//! (not root, no namespaces), every `process:` service is refused with the reason — in runed's
//! log, as each instance's failure and event, in `GET /v1/status` — and nothing runs as runed's
//! user instead. Deleting a service removes its logs, the mount points runed created for it and
//! its uid record (`cleanup`).
//!
//! Life of an instance: Pending → Running → Exited (code or signal) or Failed (reason), then a
//! restart after a back-off of 1 s doubling to 60 s (reset by a run of 10 s or more). Stopping
//! (scale down, delete, a changed spec, `rune restart`, runed's shutdown) sends SIGTERM to the
//! instance's process group and SIGKILL after a grace period of 10 s. An instance keeps the
//! secret and configmap values it started with; `rune restart` replaces instances one at a
//! time so that they pick up the current versions. A restart after a crash reads them afresh.
//!
//! The parts: `supervisor` (reconcile, the instance loops and their back-off), `instance` (one
//! start of an instance: launcher, pipes, exit, termination), `prepare` (what an instance
//! starts with, its mount points), `probe` (can instances be isolated), [`identity`] (each
//! service's uid), `cleanup` (what a deleted service leaves), `rollout` (rolling
//! restarts), `status` (what `GET /v1/status` shows), `publish` (the instance states the
//! replica that runs them writes to the store, for the others), [`launch`] (the launcher process itself),
//! [`env`](mod@env) and [`logs`].
//!
//! Must not happen here: a secret value in a status, an event, runed's log or a file on disk.
//! Values travel from the engine to the launcher over a pipe, in memory only.

mod cleanup;
pub mod env;
mod error;
pub mod identity;
mod instance;
pub mod launch;
pub mod logs;
mod prepare;
mod probe;
mod publish;
mod rollout;
mod status;
mod supervisor;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::RunnerError;
pub use publish::Placement;

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::log;
use crate::server_config::UidRange;
use crate::wire::object::{KindName, ObjectKey, ServiceSpec, StoredSpec};
use crate::wire::runner::{InstanceStatus, LogChunk};

/// SIGTERM, then SIGKILL after this long.
pub const GRACE: Duration = Duration::from_secs(10);
/// How long to wait for an exited instance's output to drain.
const DRAIN: Duration = Duration::from_secs(1);

/// The hidden subcommand of `runed` that launches an instance.
pub const LAUNCHER_COMMAND: &str = "__instance";

/// Why `image:` services are not run.
pub const IMAGE_REASON: &str =
    "`image:` services are stored and validated, but runed has no container runtime to run them";

/// Why `process:` services may not start right now, if they may not: asked before every start
/// (runed's open mode, SPEC §4.4, which the daemon knows and the runner does not).
pub type Gate = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// A service by namespace and name.
type ServiceKey = (String, String);

#[derive(Clone, Copy, Debug, Default)]
struct Control {
    /// Bumped by `rune restart`: stop the process and start it again at once.
    epoch: u64,
    /// Stop for good (scale down, delete, spec change, shutdown).
    stop: bool,
}

struct Instance {
    control: Arc<watch::Sender<Control>>,
    status: Arc<watch::Sender<InstanceStatus>>,
    task: JoinHandle<()>,
}

struct Service {
    instances: Vec<Instance>,
    spec: ServiceSpec,
}

/// The supervisor of every instance.
pub struct Runner {
    data_dir: PathBuf,
    engine: Arc<Engine>,
    exe: PathBuf,
    gate: std::sync::OnceLock<Gate>,
    grace: Duration,
    /// Which replica this is and which one runs the services (set once by the daemon).
    placement: std::sync::OnceLock<Placement>,
    /// Each service's uid; `Err` when the record cannot be read.
    identities: Result<Mutex<identity::Identities>, String>,
    /// `Err(reason)` when instances cannot be isolated: `process:` services are then refused.
    isolation: Result<(), String>,
    reconciling: tokio::sync::Mutex<()>,
    services: Mutex<BTreeMap<ServiceKey, Service>>,
    shutting_down: AtomicBool,
    /// Whether the first reconcile has removed what services deleted while runed was down left.
    swept: AtomicBool,
    /// Instances being stopped, so that a new instance of the same index waits for the old one.
    stopping: Mutex<Vec<(ServiceKey, u32, JoinHandle<()>)>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("data_dir", &self.data_dir)
            .field("isolation", &self.isolation)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for `engine`, with logs and the uid record under `data_dir`, giving services
    /// uids from `uid_range`. Checks once whether instances can be isolated, and says in
    /// runed's log what it found.
    pub async fn new(engine: Arc<Engine>, data_dir: &Path, uid_range: UidRange) -> Arc<Self> {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
        let isolation = probe::probe(&exe, uid_range.first).await;
        match &isolation {
            Ok(()) => log::info(&format!(
                "process runner: instances run isolated (own uid from {uid_range}, no capabilities, own mount and PID namespaces)"
            )),
            Err(reason) => log::warn(&format!(
                "process runner: {reason}; `process:` services are REFUSED (nothing runs as runed's user instead)"
            )),
        }
        let identities =
            identity::Identities::open(engine.clone(), data_dir, uid_range).map(Mutex::new);
        if let Err(reason) = &identities {
            log::error(&format!(
                "process runner: {reason}; `process:` services are refused until it is repaired"
            ));
        }
        Arc::new(Self {
            data_dir: data_dir.to_path_buf(),
            engine,
            exe,
            gate: std::sync::OnceLock::new(),
            grace: GRACE,
            placement: std::sync::OnceLock::new(),
            identities,
            isolation,
            reconciling: tokio::sync::Mutex::new(()),
            services: Mutex::new(BTreeMap::new()),
            shutting_down: AtomicBool::new(false),
            swept: AtomicBool::new(false),
            stopping: Mutex::new(Vec::new()),
        })
    }

    /// Sets the [`Gate`] (once; later calls are ignored).
    pub fn set_gate(&self, gate: Gate) {
        let _ = self.gate.set(gate);
    }

    /// Sets the [`Placement`] (once; later calls are ignored).
    pub fn set_placement(&self, placement: Placement) {
        let _ = self.placement.set(placement);
    }

    /// Wakes every instance at once, as `rune restart` does for one service: a running one is
    /// stopped and started again, one waiting out its back-off tries now. For a gate that
    /// changed (a replica that took or lost the runner lock), so that failover does not wait
    /// for a back-off of up to a minute.
    pub fn kick(&self) {
        let services = self.services.lock().expect("runner lock");
        for service in services.values() {
            for instance in &service.instances {
                instance.control.send_modify(|c| c.epoch += 1);
            }
        }
    }

    /// Why `process:` services may not start now (the gate), if they may not. Unlike
    /// [`Self::refusal`] this can change: instances retry with their back-off.
    fn gated(&self) -> Option<String> {
        self.gate.get().and_then(|gate| gate())
    }

    /// Why `process:` services cannot run at all, if they cannot.
    fn refusal(&self) -> Option<String> {
        let ((Err(reason), _) | (_, Err(reason))) = (&self.isolation, &self.identities) else {
            return None;
        };
        Some(format!("`process:` services are refused: {reason}"))
    }

    /// Reads an instance's log (see [`logs::read`]).
    pub async fn logs(
        &self,
        namespace: &str,
        name: &str,
        instance: u32,
        offset: Option<u64>,
    ) -> Result<LogChunk, RunnerError> {
        let engine = self.engine.clone();
        let key = service_key(namespace, name);
        let listed = tokio::task::spawn_blocking(move || engine.get(&key))
            .await
            .map_err(|e| EngineError::Store(format!("log task failed: {e}")))??;
        let StoredSpec::Service(spec) = listed.object.spec else {
            return Err(EngineError::NotFound(service_key(namespace, name)).into());
        };
        let path = logs::path(&self.data_dir, namespace, name, instance);
        if instance >= spec.scale && !path.exists() {
            return Err(RunnerError::NoInstance {
                instance,
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                scale: spec.scale,
            });
        }
        let (bytes, offset) = tokio::task::spawn_blocking(move || logs::read(&path, offset))
            .await
            .map_err(|e| EngineError::Store(format!("log task failed: {e}")))?
            .map_err(|source| RunnerError::Log { instance, source })?;
        Ok(LogChunk {
            instance,
            offset,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// Stops every instance (runed's graceful shutdown) and waits for them.
    pub async fn shutdown(&self) {
        let _guard = self.reconciling.lock().await;
        self.shutting_down.store(true, Ordering::SeqCst);
        let services = std::mem::take(&mut *self.services.lock().expect("runner lock"));
        let count: usize = services.values().map(|s| s.instances.len()).sum();
        if count > 0 {
            log::info(&format!("process runner: stopping {count} instances"));
        }
        for (key, service) in services {
            self.stop_all(&key, service.instances);
        }
        let tasks = std::mem::take(&mut *self.stopping.lock().expect("runner lock"));
        for (_, _, task) in tasks {
            let _ = tokio::time::timeout(self.grace + DRAIN * 3, task).await;
        }
    }
}

/// Every secret and configmap a service imports or mounts.
fn references(spec: &ServiceSpec) -> impl Iterator<Item = (Kind, String)> + '_ {
    crate::server::violation::service_references(spec).map(|(kind, name)| (kind, name.to_owned()))
}

fn service_key(namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(Kind::Service),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}
