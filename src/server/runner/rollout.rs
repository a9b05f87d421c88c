//! `rune restart`: the rolling restart of a service. Instances are replaced one at a time, each
//! new start reading the current versions, and the next waits until the previous one runs.
//!
//! In: a service and whether (and how long) to wait. Out: a [`RestartResult`], or why the
//! rollout failed or did not finish in time (it then goes on in the background). Must not
//! happen here: a value in the result; it holds states and versions only.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::server::engine::EngineError;
use crate::server::log;
use crate::server::runner::{Control, IMAGE_REASON, Runner, RunnerError};
use crate::wire::runner::{InstanceStatus, RestartResult, State};

/// What a rollout needs of an instance: its control and its status.
type Handles = (
    Arc<watch::Sender<Control>>,
    Arc<watch::Sender<InstanceStatus>>,
);

impl Runner {
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
        let instances = self.handles(namespace, name);
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

    /// The handles of a service's current instances, in index order.
    fn handles(&self, namespace: &str, name: &str) -> Vec<Handles> {
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
    }
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
