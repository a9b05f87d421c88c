//! The process runner (SPEC §5, issue #6): runed runs every `process:` service as `scale`
//! supervised child processes. [`Runner`] is what the HTTP layer and the daemon see.
//!
//! In: the services in the engine, read again after every successful write and at start
//! ([`Runner::reconcile`]). Out: instances, each a child process started through the launcher
//! (`runed __instance`, see [`launch`]) with its environment ([`env`](mod@env)) and its mounts
//! on a private tmpfs; their output in rotated log files ([`logs`]); their states and events
//! ([`crate::wire::runner`]).
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
//! starts with), `probe` (can instances get private mount namespaces), `rollout` (rolling
//! restarts), `status` (what `GET /v1/status` shows), [`launch`] (the launcher process itself),
//! [`env`](mod@env) and [`logs`].
//!
//! Must not happen here: a secret value in a status, an event, runed's log or a file on disk.
//! Values travel from the engine to the launcher over a pipe, in memory only.

pub mod env;
mod error;
mod instance;
pub mod launch;
pub mod logs;
mod prepare;
mod probe;
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

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::log;
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
    grace: Duration,
    /// `Err(reason)` when instances cannot have private mount namespaces.
    mounts: Result<(), String>,
    reconciling: tokio::sync::Mutex<()>,
    services: Mutex<BTreeMap<ServiceKey, Service>>,
    shutting_down: AtomicBool,
    /// Instances being stopped, so that a new instance of the same index waits for the old one.
    stopping: Mutex<Vec<(ServiceKey, u32, JoinHandle<()>)>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("data_dir", &self.data_dir)
            .field("mounts", &self.mounts)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for `engine`, with logs under `data_dir`. Checks once whether instances can get
    /// private mount namespaces, and says so in runed's log when they cannot.
    pub async fn new(engine: Arc<Engine>, data_dir: &Path) -> Arc<Self> {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
        let mounts = probe::probe(&exe).await;
        match &mounts {
            Ok(()) => log::info("process runner: private mount namespaces are available"),
            Err(reason) => log::warn(&format!(
                "process runner: {reason}; services with secret or config mounts will fail with this reason (their files are never written to disk instead)"
            )),
        }
        Arc::new(Self {
            data_dir: data_dir.to_path_buf(),
            engine,
            exe,
            grace: GRACE,
            mounts,
            reconciling: tokio::sync::Mutex::new(()),
            services: Mutex::new(BTreeMap::new()),
            shutting_down: AtomicBool::new(false),
            stopping: Mutex::new(Vec::new()),
        })
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
