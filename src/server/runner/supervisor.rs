//! Supervision: the running instances follow the stored services ([`Runner::reconcile`]), and
//! each instance lives in a loop of its own — start, watch, restart after a back-off of 1 s
//! doubling to 60 s (reset by a run of 10 s or more, or by `rune restart`) — until it is stopped.
//!
//! In: the `process:` services in the engine, read after every successful write and at start.
//! Out: instance tasks started and stopped, lines in runed's log. A stopped instance's task is
//! kept until it has finished, so that a new instance of the same index never overlaps it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::resource::Kind;
use crate::server::clock;
use crate::server::log;
use crate::server::runner::instance::Outcome;
use crate::server::runner::{Control, Instance, Runner, Service, ServiceKey};
use crate::wire::object::{ServiceSpec, StoredSpec};
use crate::wire::runner::InstanceStatus;

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A run at least this long resets the back-off.
const BACKOFF_RESET: Duration = Duration::from_secs(10);

impl Runner {
    /// Makes the running instances match the stored services: starts new ones, stops removed
    /// ones and the instances beyond `scale`, and replaces the instances of a service whose spec
    /// changed (other than its scale).
    pub async fn reconcile(self: &Arc<Self>) {
        let _guard = self.reconciling.lock().await;
        if self.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let Some(desired) = self.desired().await else {
            return;
        };
        if !self.swept.swap(true, Ordering::SeqCst) {
            self.sweep(&desired);
        }
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
                self.forget(&key);
            }
        }
        for (key, spec) in desired {
            let service = services.entry(key.clone()).or_insert_with(|| Service {
                instances: Vec::new(),
                spec: spec.clone(),
            });
            self.converge(&key, service, spec);
        }
    }

    /// The stored `process:` services, or `None` (logged) when the engine cannot list them.
    async fn desired(&self) -> Option<BTreeMap<ServiceKey, ServiceSpec>> {
        let engine = self.engine.clone();
        let listed =
            match tokio::task::spawn_blocking(move || engine.list(Kind::Service, None)).await {
                Ok(Ok(listed)) => listed,
                Ok(Err(error)) => {
                    log::error(&format!("process runner: cannot list services: {error}"));
                    return None;
                }
                Err(error) => {
                    log::error(&format!("process runner: cannot list services: {error}"));
                    return None;
                }
            };
        Some(
            listed
                .into_iter()
                .filter_map(|l| match l.object.spec {
                    StoredSpec::Service(spec) if spec.process.is_some() => {
                        Some(((l.object.key.namespace, l.object.key.name), spec))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    /// One service towards `spec`: replace every instance when the spec changed beyond its
    /// scale, then stop or start instances at the end until there are `scale` of them.
    fn converge(self: &Arc<Self>, key: &ServiceKey, service: &mut Service, spec: ServiceSpec) {
        if !same_but_scale(&service.spec, &spec) {
            log::info(&format!(
                "process runner: service `{}/{}` changed; replacing its instances",
                key.0, key.1
            ));
            let old = std::mem::take(&mut service.instances);
            self.stop_all(key, old);
        }
        service.spec = spec;
        while service.instances.len() > service.spec.scale as usize {
            let index = service.instances.len() - 1;
            if let Some(instance) = service.instances.pop() {
                self.stop_one(key, index as u32, instance);
            }
        }
        while service.instances.len() < service.spec.scale as usize {
            let index = service.instances.len() as u32;
            let instance = self.spawn_instance(key, index, &service.spec);
            service.instances.push(instance);
        }
    }

    pub(super) fn stop_all(&self, key: &ServiceKey, instances: Vec<Instance>) {
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
                Outcome::Refused => {
                    // Refused for good: wait for the stop (a `rune restart` tries again).
                    if control.changed().await.is_err() || control.borrow().stop {
                        break;
                    }
                }
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
}

/// Whether two specs differ at most in `scale` (which needs no replacement of instances).
fn same_but_scale(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    let unscaled = |s: &ServiceSpec| ServiceSpec {
        scale: 0,
        ..s.clone()
    };
    unscaled(a) == unscaled(b)
}
