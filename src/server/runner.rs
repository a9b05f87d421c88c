//! The process runner (SPEC §5, issue #6): runed runs every `process:` service as `scale`
//! supervised child processes.
//!
//! In: the services in the engine, read again after every successful write and at start
//! ([`Runner::reconcile`]). Out: instances, each a child process started through the launcher
//! (`runed __instance`, see [`launch`]) with its environment ([`env`]) and its mounts on a
//! private tmpfs; their output in rotated log files ([`logs`]); their states and events
//! ([`crate::wire::runner`]).
//!
//! Life of an instance: Pending → Running → Exited (code or signal) or Failed (reason), then a
//! restart after a back-off of 1 s doubling to 60 s (reset by a run of 10 s or more). Stopping
//! (scale down, delete, a changed spec, `rune restart`, runed's shutdown) sends SIGTERM to the
//! instance's process group and SIGKILL after a grace period of 10 s. An instance keeps the
//! secret and configmap values it started with; `rune restart` replaces instances one at a
//! time so that they pick up the current versions. A restart after a crash reads them afresh.
//!
//! Must not happen here: a secret value in a status, an event, runed's log or a file on disk.
//! Values travel from the engine to the launcher over a pipe, in memory only.

pub mod env;
pub mod launch;
pub mod logs;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::resource::Kind;
use crate::server::clock;
use crate::server::engine::{Engine, EngineError};
use crate::server::log;
use crate::server::runner::launch::{FAILED_MARKER, Launch, MountData};
use crate::wire::object::{KindName, ObjectKey, ServiceSpec, StoredSpec};
use crate::wire::runner::{
    InstanceStatus, LogChunk, RestartResult, RunnerStatus, ServiceStatus, State,
};

/// SIGTERM, then SIGKILL after this long.
pub const GRACE: Duration = Duration::from_secs(10);
const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A run at least this long resets the back-off.
const BACKOFF_RESET: Duration = Duration::from_secs(10);
/// How long to wait for an exited instance's output to drain.
const DRAIN: Duration = Duration::from_secs(1);

/// The hidden subcommand of `runed` that launches an instance.
pub const LAUNCHER_COMMAND: &str = "__instance";

/// Why a runner call failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot read the log of instance {instance}: {source}")]
    Log {
        instance: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("service `{namespace}/{name}` has no instance {instance} (scale {scale})")]
    NoInstance {
        instance: u32,
        name: String,
        namespace: String,
        scale: u32,
    },
    #[error("service `{namespace}/{name}` is not run by runed: {reason}")]
    NotRunnable {
        name: String,
        namespace: String,
        reason: String,
    },
    #[error("instance {instance} of `{namespace}/{name}` did not start: {reason}")]
    RolloutFailed {
        instance: u32,
        name: String,
        namespace: String,
        reason: String,
    },
    #[error(
        "the rolling restart of `{namespace}/{name}` did not finish within {seconds}s; it goes on in the background"
    )]
    Timeout {
        name: String,
        namespace: String,
        seconds: u64,
    },
}

/// Why `image:` services are not run.
pub const IMAGE_REASON: &str =
    "`image:` services are stored and validated, but runed has no container runtime to run them";

type ServiceKey = (String, String);

/// What a rollout needs of an instance: its control and its status.
type Handles = (
    Arc<watch::Sender<Control>>,
    Arc<watch::Sender<InstanceStatus>>,
);

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

enum Outcome {
    /// The process exited or could not start; restart after the back-off.
    Ended {
        ran: Duration,
    },
    /// `rune restart`: start again now.
    Restart,
    Stopped,
}

impl Runner {
    /// A runner for `engine`, with logs under `data_dir`. Checks once whether instances can get
    /// private mount namespaces, and says so in runed's log when they cannot.
    pub async fn new(engine: Arc<Engine>, data_dir: &Path) -> Arc<Self> {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
        let mounts = probe(&exe).await;
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

    /// Makes the running instances match the stored services: starts new ones, stops removed
    /// ones and the instances beyond `scale`, and replaces the instances of a service whose spec
    /// changed (other than its scale).
    pub async fn reconcile(self: &Arc<Self>) {
        let _guard = self.reconciling.lock().await;
        if self.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let engine = self.engine.clone();
        let listed =
            match tokio::task::spawn_blocking(move || engine.list(Kind::Service, None)).await {
                Ok(Ok(listed)) => listed,
                Ok(Err(error)) => {
                    log::error(&format!("process runner: cannot list services: {error}"));
                    return;
                }
                Err(error) => {
                    log::error(&format!("process runner: cannot list services: {error}"));
                    return;
                }
            };
        let desired: BTreeMap<ServiceKey, ServiceSpec> = listed
            .into_iter()
            .filter_map(|l| match l.object.spec {
                StoredSpec::Service(spec) if spec.process.is_some() => {
                    Some(((l.object.key.namespace, l.object.key.name), spec))
                }
                _ => None,
            })
            .collect();
        let mut services = self.services.lock().expect("runner lock");
        let gone: Vec<ServiceKey> = services
            .keys()
            .filter(|k| !desired.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(service) = services.remove(&key) {
                log::info(&format!(
                    "process runner: stopping service `{}/{}` (deleted)",
                    key.0, key.1
                ));
                self.stop_all(&key, service.instances);
            }
        }
        for (key, spec) in desired {
            let service = services.entry(key.clone()).or_insert_with(|| Service {
                instances: Vec::new(),
                spec: spec.clone(),
            });
            if !same_but_scale(&service.spec, &spec) {
                log::info(&format!(
                    "process runner: service `{}/{}` changed; replacing its instances",
                    key.0, key.1
                ));
                let old = std::mem::take(&mut service.instances);
                self.stop_all(&key, old);
            }
            service.spec = spec;
            while service.instances.len() > service.spec.scale as usize {
                let index = service.instances.len() - 1;
                if let Some(instance) = service.instances.pop() {
                    self.stop_one(&key, index as u32, instance);
                }
            }
            while service.instances.len() < service.spec.scale as usize {
                let index = service.instances.len() as u32;
                let instance = self.spawn_instance(&key, index, &service.spec);
                service.instances.push(instance);
            }
        }
    }

    fn stop_all(&self, key: &ServiceKey, instances: Vec<Instance>) {
        for (index, instance) in instances.into_iter().enumerate() {
            self.stop_one(key, index as u32, instance);
        }
    }

    fn stop_one(&self, key: &ServiceKey, index: u32, instance: Instance) {
        instance.control.send_modify(|c| c.stop = true);
        let mut stopping = self.stopping.lock().expect("runner lock");
        stopping.retain(|(_, _, task)| !task.is_finished());
        stopping.push((key.clone(), index, instance.task));
    }

    fn spawn_instance(
        self: &Arc<Self>,
        key: &ServiceKey,
        index: u32,
        spec: &ServiceSpec,
    ) -> Instance {
        let previous = {
            let mut stopping = self.stopping.lock().expect("runner lock");
            let at = stopping
                .iter()
                .position(|(k, i, _)| k == key && *i == index);
            at.map(|at| stopping.remove(at).2)
        };
        let (control, control_rx) = watch::channel(Control::default());
        let (status, _) = watch::channel(InstanceStatus {
            index,
            ..InstanceStatus::default()
        });
        let status = Arc::new(status);
        let task = tokio::spawn(Arc::clone(self).supervise(
            key.clone(),
            index,
            Arc::new(spec.clone()),
            Arc::clone(&status),
            control_rx,
            previous,
        ));
        Instance {
            control: Arc::new(control),
            status,
            task,
        }
    }

    /// One instance's life: start, watch, restart with back-off, until stopped.
    async fn supervise(
        self: Arc<Self>,
        key: ServiceKey,
        index: u32,
        spec: Arc<ServiceSpec>,
        status: Arc<watch::Sender<InstanceStatus>>,
        mut control: watch::Receiver<Control>,
        previous: Option<JoinHandle<()>>,
    ) {
        if let Some(previous) = previous {
            let _ = previous.await;
        }
        let mut backoff = BACKOFF_START;
        loop {
            if control.borrow_and_update().stop {
                break;
            }
            match self
                .run_once(&key, index, &spec, &status, &mut control)
                .await
            {
                Outcome::Stopped => break,
                Outcome::Restart => backoff = BACKOFF_START,
                Outcome::Ended { ran } => {
                    if ran >= BACKOFF_RESET {
                        backoff = BACKOFF_START;
                    }
                    let message = format!("restarting in {}s", backoff.as_secs());
                    log::info(&format!(
                        "process runner: `{}/{}` instance {index}: {message}",
                        key.0, key.1
                    ));
                    status.send_modify(|s| s.event(clock::now(), message));
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {
                            status.send_modify(|s| s.restarts += 1);
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                        }
                        changed = control.changed() => {
                            if changed.is_err() || control.borrow().stop {
                                break;
                            }
                            backoff = BACKOFF_START;
                        }
                    }
                }
            }
        }
        status.send_modify(|s| {
            s.pid = None;
            s.event(clock::now(), "stopped".to_owned());
        });
    }

    async fn run_once(
        &self,
        key: &ServiceKey,
        index: u32,
        spec: &ServiceSpec,
        status: &watch::Sender<InstanceStatus>,
        control: &mut watch::Receiver<Control>,
    ) -> Outcome {
        status.send_modify(|s| {
            s.generation += 1;
            s.state = State::Pending;
            s.pid = None;
            s.exit_code = None;
            s.signal = None;
            s.reason = None;
        });
        let name = format!("`{}/{}` instance {index}", key.0, key.1);
        let fail = |reason: String| {
            log::warn(&format!("process runner: {name} failed: {reason}"));
            status.send_modify(|s| {
                s.state = State::Failed;
                s.pid = None;
                s.event(clock::now(), format!("failed: {reason}"));
                s.reason = Some(reason);
            });
            Outcome::Ended {
                ran: Duration::ZERO,
            }
        };
        let (launch, versions, skipped) = match self.prepare(key, index, spec).await {
            Ok(prepared) => prepared,
            Err(reason) => return fail(reason),
        };
        for var in skipped {
            status.send_modify(|s| {
                s.event(
                    clock::now(),
                    format!("skipped env key `{var}`: not a valid environment variable name"),
                );
            });
        }
        let log_path = logs::path(&self.data_dir, &key.0, &key.1, index);
        let log_file = match logs::LogFile::open(&log_path) {
            Ok(file) => Arc::new(Mutex::new(file)),
            Err(e) => return fail(format!("cannot open its log `{}`: {e}", log_path.display())),
        };
        let spawned = tokio::process::Command::new(&self.exe)
            .arg(LAUNCHER_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return fail(format!("cannot start the launcher: {e}")),
        };
        let pid = child.id().unwrap_or_default();
        let bytes = Zeroizing::new(serde_json::to_vec(&launch).unwrap_or_default());
        drop(launch);
        if let Some(mut stdin) = child.stdin.take() {
            // A launcher that dies early shows up as a failure below.
            let _ = stdin.write_all(&bytes).await;
        }
        drop(bytes);
        let out = tokio::spawn(pump(child.stdout.take(), Arc::clone(&log_file), true));
        let err = tokio::spawn(pump(child.stderr.take(), log_file, false));
        log::info(&format!("process runner: {name} started (pid {pid})"));
        status.send_modify(|s| {
            s.state = State::Running;
            s.pid = Some(pid);
            s.started_at = Some(clock::now());
            s.versions = versions;
            s.event(clock::now(), format!("started (pid {pid})"));
        });
        let started = Instant::now();
        tokio::select! {
            exit = child.wait() => {
                let failure = tokio::time::timeout(DRAIN, out).await.ok().and_then(Result::ok).flatten();
                let _ = tokio::time::timeout(DRAIN, err).await;
                // Whatever the instance left behind in its process group goes with it.
                let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
                if let Some(reason) = failure {
                    return fail(reason);
                }
                record_exit(&name, status, &exit);
                Outcome::Ended { ran: started.elapsed() }
            }
            changed = control.changed() => {
                let stop = changed.is_err() || control.borrow().stop;
                self.terminate(&mut child, pid).await;
                let _ = tokio::time::timeout(DRAIN, out).await;
                let _ = tokio::time::timeout(DRAIN, err).await;
                let message = if stop { "stopping" } else { "stopping for a restart" };
                log::info(&format!("process runner: {name} {message}"));
                status.send_modify(|s| {
                    s.state = State::Exited;
                    s.pid = None;
                    s.event(clock::now(), message.to_owned());
                });
                if stop { Outcome::Stopped } else { Outcome::Restart }
            }
        }
    }

    /// SIGTERM to the process group, SIGKILL after the grace period.
    async fn terminate(&self, child: &mut tokio::process::Child, pid: u32) {
        let group = Pid::from_raw(pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(self.grace, child.wait())
            .await
            .is_err()
        {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait().await;
        }
        let _ = killpg(group, Signal::SIGKILL);
    }

    /// Resolves what an instance needs: the data of every import and mount (current versions),
    /// the environment, and the launch. `Err` is the reason the instance cannot start.
    async fn prepare(
        &self,
        key: &ServiceKey,
        index: u32,
        spec: &ServiceSpec,
    ) -> Result<(Launch, BTreeMap<String, u64>, Vec<String>), String> {
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
        let loaded = tokio::task::spawn_blocking(move || {
            let mut sources = env::Sources::new();
            let mut versions = BTreeMap::new();
            for (kind, name) in references {
                let object = ObjectKey {
                    kind: KindName(kind),
                    name: name.clone(),
                    namespace: namespace.clone(),
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
        })
        .await
        .map_err(|e| format!("cannot read its data: {e}"))??;
        let (sources, versions) = loaded;
        let built = env::build(spec, &key.0, &key.1, index, &sources);
        let mounts = spec
            .secret_mounts
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
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                mode,
                path: m.mount_path.clone(),
            })
            .collect();
        let launch = Launch {
            args: process.args.clone(),
            command: process.command.clone(),
            env: built.vars.into_iter().collect(),
            mounts,
            parent: std::process::id(),
            probe: false,
            workdir: process.workdir.clone(),
        };
        Ok((launch, versions, built.skipped))
    }

    /// The status of every service (in `namespace`, or all), image services included.
    pub async fn status(&self, namespace: Option<String>) -> Result<RunnerStatus, RunnerError> {
        let engine = self.engine.clone();
        let services = tokio::task::spawn_blocking(move || -> Result<_, EngineError> {
            let listed = engine.list(Kind::Service, namespace.as_deref())?;
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
                            current.insert(
                                format!("{}/{name}", kind.singular()),
                                object.object.version,
                            );
                        }
                        Err(EngineError::NotFound(_)) => {}
                        Err(other) => return Err(other),
                    }
                }
                out.push((l.object.key, spec, current));
            }
            Ok(out)
        })
        .await
        .map_err(|e| EngineError::Store(format!("status task failed: {e}")))??;
        let running = self.services.lock().expect("runner lock");
        let services = services
            .into_iter()
            .map(|(key, spec, current)| {
                let runnable = spec.process.is_some();
                let instances = running
                    .get(&(key.namespace.clone(), key.name.clone()))
                    .map(|s| {
                        s.instances
                            .iter()
                            .map(|i| with_outdated(i.status.borrow().clone(), &current))
                            .collect()
                    })
                    .unwrap_or_default();
                ServiceStatus {
                    current,
                    instances,
                    name: key.name,
                    namespace: key.namespace,
                    reason: (!runnable).then(|| IMAGE_REASON.to_owned()),
                    runnable,
                    scale: spec.scale,
                }
            })
            .collect();
        Ok(RunnerStatus {
            mount_namespaces: self.mounts.is_ok(),
            mount_namespaces_reason: self.mounts.clone().err(),
            services,
        })
    }

    async fn service_status(
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

    /// `rune restart`: replaces the instances one at a time, each new one started with the
    /// current versions and waited for until it runs. With `wait`, returns when all are
    /// replaced (or fails after `timeout`, the rollout going on); without, at once.
    pub async fn restart(
        self: &Arc<Self>,
        namespace: &str,
        name: &str,
        wait: bool,
        timeout: Duration,
    ) -> Result<RestartResult, RunnerError> {
        self.reconcile().await;
        let service = self.service_status(namespace, name).await?;
        if !service.runnable {
            return Err(RunnerError::NotRunnable {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                reason: IMAGE_REASON.to_owned(),
            });
        }
        let instances: Vec<_> = {
            let services = self.services.lock().expect("runner lock");
            services
                .get(&(namespace.to_owned(), name.to_owned()))
                .map(|s| {
                    s.instances
                        .iter()
                        .map(|i| (Arc::clone(&i.control), Arc::clone(&i.status)))
                        .collect()
                })
                .unwrap_or_default()
        };
        log::info(&format!(
            "process runner: rolling restart of `{namespace}/{name}` ({} instances)",
            instances.len()
        ));
        let rollout = tokio::spawn(rollout(instances));
        if !wait {
            return Ok(RestartResult {
                completed: false,
                service,
            });
        }
        match tokio::time::timeout(timeout, rollout).await {
            Ok(Ok(Ok(()))) => Ok(RestartResult {
                completed: true,
                service: self.service_status(namespace, name).await?,
            }),
            Ok(Ok(Err((instance, reason)))) => Err(RunnerError::RolloutFailed {
                instance,
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                reason,
            }),
            Ok(Err(join)) => Err(RunnerError::Engine(EngineError::Store(format!(
                "the rollout task failed: {join}"
            )))),
            Err(_) => Err(RunnerError::Timeout {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                seconds: timeout.as_secs(),
            }),
        }
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

/// Records how an instance's process ended.
fn record_exit(
    name: &str,
    status: &watch::Sender<InstanceStatus>,
    exit: &std::io::Result<std::process::ExitStatus>,
) {
    let (code, signal) = match exit {
        Ok(exit) => (exit.code(), exit.signal()),
        Err(_) => (None, None),
    };
    let message = match (code, signal, exit) {
        (Some(code), _, _) => format!("exited with code {code}"),
        (_, Some(signal), _) => format!("killed by signal {signal}"),
        (_, _, Err(e)) => format!("lost: {e}"),
        _ => "exited".to_owned(),
    };
    log::info(&format!("process runner: {name} {message}"));
    status.send_modify(|s| {
        s.state = State::Exited;
        s.pid = None;
        s.exit_code = code;
        s.signal = signal;
        s.event(clock::now(), message);
    });
}

/// Each instance in turn: ask for a restart, wait until its new start runs.
async fn rollout(instances: Vec<Handles>) -> Result<(), (u32, String)> {
    for (index, (control, status)) in instances.into_iter().enumerate() {
        let index = index as u32;
        let mut watched = status.subscribe();
        let before = watched.borrow_and_update().generation;
        control.send_modify(|c| c.epoch += 1);
        loop {
            {
                let now = watched.borrow_and_update();
                if now.generation > before {
                    match now.state {
                        State::Running | State::Exited => break,
                        State::Failed => {
                            return Err((index, now.reason.clone().unwrap_or_default()));
                        }
                        State::Pending => {}
                    }
                }
            }
            if watched.changed().await.is_err() {
                return Err((index, "the instance was removed".to_owned()));
            }
        }
    }
    Ok(())
}

/// Whether two specs differ at most in `scale` (which needs no replacement of instances).
fn same_but_scale(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    let unscaled = |s: &ServiceSpec| ServiceSpec {
        scale: 0,
        ..s.clone()
    };
    unscaled(a) == unscaled(b)
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

/// Copies a pipe into the log. On stdout, a launcher's failure report (the first line, when it
/// starts with [`FAILED_MARKER`]) is taken out and returned instead of logged.
async fn pump(
    pipe: Option<impl AsyncRead + Unpin>,
    log: Arc<Mutex<logs::LogFile>>,
    launcher_report: bool,
) -> Option<String> {
    let mut pipe = pipe?;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut first = launcher_report;
    let mut failure = None;
    loop {
        let n = match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buffer[..n];
        if std::mem::take(&mut first) && chunk.starts_with(FAILED_MARKER) {
            let line_end = chunk
                .iter()
                .position(|b| *b == b'\n')
                .unwrap_or(chunk.len());
            failure =
                Some(String::from_utf8_lossy(&chunk[FAILED_MARKER.len()..line_end]).into_owned());
            chunk = &chunk[(line_end + 1).min(chunk.len())..];
        }
        if !chunk.is_empty()
            && let Err(e) = log.lock().expect("log lock").write(chunk)
        {
            log::error(&format!(
                "process runner: cannot write an instance log: {e}"
            ));
        }
    }
    failure
}

/// Whether the launcher can make a private mount namespace with a tmpfs (runs it once).
async fn probe(exe: &Path) -> Result<(), String> {
    let unavailable = |detail: String| {
        Err(format!(
            "private mount namespaces are unavailable ({detail}); runed needs root (CAP_SYS_ADMIN) for them"
        ))
    };
    let launch = Launch {
        parent: std::process::id(),
        probe: true,
        ..Launch::default()
    };
    let child = tokio::process::Command::new(exe)
        .arg(LAUNCHER_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return unavailable(format!("cannot start the launcher: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin
            .write_all(&serde_json::to_vec(&launch).unwrap_or_default())
            .await;
    }
    match tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await {
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let text = String::from_utf8_lossy(&output.stdout);
            let reason = text
                .trim_start_matches('\0')
                .trim_start_matches("rune-launch-failed: ")
                .trim()
                .to_owned();
            unavailable(if reason.is_empty() {
                format!("the check exited with {}", output.status)
            } else {
                reason
            })
        }
        Ok(Err(e)) => unavailable(e.to_string()),
        Err(_) => unavailable("the check did not finish".to_owned()),
    }
}
