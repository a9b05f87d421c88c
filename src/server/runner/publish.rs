//! Which replica runs the `process:` services (SPEC §4.5), and the instance states it
//! publishes through the store so that every replica's `rune status` shows them.
//!
//! In: the [`Placement`] the daemon sets (this replica's name; who holds the runner lock) and
//! the running instances. Out: published rows while this replica runs the services; on a
//! standby, the rows the holder published instead of its own idle instances. Must not happen
//! here: a value in a published row — an [`InstanceStatus`](crate::wire::runner::InstanceStatus)
//! holds names, states, codes and versions only.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::server::log;
use crate::server::runner::Runner;
use crate::server::store::PublishedInstance;

/// How often the holder compares its instances with what it last published.
const PUBLISH: Duration = Duration::from_secs(1);

/// Where this replica stands: its name, and who runs the `process:` services.
pub struct Placement {
    /// This replica's name as `HOST:PORT (pid N)`: the host name, the listener's port and the
    /// process id, unique among replicas on one host and across restarts.
    pub name: String,
    /// The replica that runs the services as far as this one knows (itself, with one runed on
    /// redb; the holder of the runner lock on a shared database).
    pub holder: Box<dyn Fn() -> Option<String> + Send + Sync>,
}

impl Placement {
    fn runs_here(&self) -> bool {
        (self.holder)().as_deref() == Some(self.name.as_str())
    }
}

impl Runner {
    /// The replica that runs the `process:` services, if known.
    pub(super) fn replica(&self) -> Option<String> {
        self.placement.get().and_then(|p| (p.holder)())
    }

    /// Whether another replica runs the services: `rune status` then shows what it published.
    pub(super) fn standby(&self) -> bool {
        self.placement.get().is_some_and(|p| !p.runs_here())
    }

    /// This replica's instances, as rows to publish.
    fn snapshot(&self, replica: &str) -> Vec<PublishedInstance> {
        let services = self.services.lock().expect("runner lock");
        services
            .iter()
            .flat_map(|((namespace, service), s)| {
                s.instances.iter().map(|i| PublishedInstance {
                    namespace: namespace.clone(),
                    service: service.clone(),
                    replica: replica.to_owned(),
                    status: i.status.borrow().clone(),
                })
            })
            .collect()
    }

    /// While this replica runs the services, publishes its instances whenever they changed
    /// (checked every [`PUBLISH`]); ends at shutdown.
    pub async fn publish_loop(self: Arc<Self>) {
        let mut last: Option<String> = None;
        let mut failing = false;
        loop {
            tokio::time::sleep(PUBLISH).await;
            if self.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            let Some(placement) = self.placement.get() else {
                continue;
            };
            if !placement.runs_here() {
                // A later takeover publishes afresh.
                last = None;
                continue;
            }
            let instances = self.snapshot(&placement.name);
            let json = serde_json::to_string(&instances).unwrap_or_default();
            if last.as_deref() == Some(json.as_str()) {
                continue;
            }
            let engine = Arc::clone(&self.engine);
            let name = placement.name.clone();
            let published =
                tokio::task::spawn_blocking(move || engine.publish_instances(&name, &instances))
                    .await;
            match published {
                Ok(Ok(true)) => {
                    last = Some(json);
                    failing = false;
                }
                Ok(Err(error)) if !failing => {
                    failing = true;
                    log::warn(&format!(
                        "runner: cannot publish the instance states ({error}); standbys show older ones until it works"
                    ));
                }
                // `false`: another replica is recorded as the holder, and its rows stay.
                Ok(Ok(false) | Err(_)) | Err(_) => {}
            }
        }
    }
}
