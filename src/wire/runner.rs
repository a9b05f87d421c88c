//! What the runner reports (`GET /v1/status`, restart results): per service, per instance, with
//! the versions each instance started with. Names, states, codes and versions only — never a
//! value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /v1/status`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunnerStatus {
    /// Whether instances can be isolated (SPEC §5: own uid, mount and PID namespaces, no
    /// capabilities); `process:` services are refused when they cannot.
    pub mount_namespaces: bool,
    /// Why not, when they cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_namespaces_reason: Option<String>,
    /// The replica that runs the `process:` services (SPEC §4.5), as `HOST:PORT (pid N)`: the
    /// holder of the runner lock on a shared database, or the one runed of a redb store. Absent
    /// while a standby does not know it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    pub services: Vec<ServiceStatus>,
}

/// One service as the runner sees it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// The current data version of every object the service imports or mounts
    /// (`secret/NAME`, `configmap/NAME`); absent objects are left out.
    #[serde(default)]
    pub current: BTreeMap<String, u64>,
    pub instances: Vec<InstanceStatus>,
    pub name: String,
    pub namespace: String,
    /// Why runed does not run it (an `image:` service), when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub runnable: bool,
    pub scale: u32,
}

/// An instance's state.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub enum State {
    /// Exited (code or signal); restarts after its back-off unless stopped.
    Exited,
    /// Could not start (reason given); retried after its back-off.
    Failed,
    #[default]
    Pending,
    Running,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Exited => "Exited",
            State::Failed => "Failed",
            State::Pending => "Pending",
            State::Running => "Running",
        })
    }
}

/// One event of an instance's life (started, exited, restarting, skipped key, failed).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Event {
    pub at: String,
    pub message: String,
}

/// One instance.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    /// The newest events, oldest first (at most [`EVENTS_KEPT`]).
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Counts the starts of this instance (1 for the first).
    pub generation: u64,
    pub index: u32,
    /// `secret/NAME v3 (current v4)` for each import or mount that changed since the start.
    #[serde(default)]
    pub outdated: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Automatic restarts after an exit or a failure.
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub state: State,
    /// The data version of every import and mount when this instance started.
    #[serde(default)]
    pub versions: BTreeMap<String, u64>,
}

/// Events kept per instance.
pub const EVENTS_KEPT: usize = 20;

impl InstanceStatus {
    /// Records an event at `at` (the caller's clock: the wire types read no clock), dropping the
    /// oldest beyond [`EVENTS_KEPT`].
    pub fn event(&mut self, at: String, message: String) {
        if self.events.len() == EVENTS_KEPT {
            self.events.remove(0);
        }
        self.events.push(Event { at, message });
    }
}

/// `POST …/restart`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartResult {
    /// Every instance was replaced and is running (false with `wait=false`: still rolling).
    pub completed: bool,
    pub service: ServiceStatus,
}

/// `GET …/logs`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogChunk {
    pub instance: u32,
    /// Pass back as `offset` to read what comes next.
    pub offset: u64,
    /// The bytes read (invalid UTF-8 replaced).
    pub text: String,
}
