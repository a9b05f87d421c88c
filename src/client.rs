//! Where `rune` sends its plans: a remote `runed` over HTTP, or the engine embedded in-process.
//!
//! Both speak the same operations with the same errors, so commands never care which one they
//! have. Every failure carries the exit code it maps to (SPEC §3.1).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::plan::Plan;
use crate::resource::Kind;
use crate::server::engine::Engine;
use crate::wire::batch::{Applied, ApplyRequest, BatchOptions, Expectation, Listed};
use crate::wire::error::{ErrorBody, ExitCode, WireError};
use crate::wire::object::{Desired, ObjectKey};
use crate::wire::runner::{LogChunk, RestartResult, RunnerStatus};

/// A failure talking to the state, with what the server said.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server (or the embedded engine) answered with an error.
    #[error(transparent)]
    Api(WireError),
    #[error("cannot reach the server at {url}: {detail}")]
    Unreachable { detail: String, url: String },
    #[error("the server at {url} did not answer in time")]
    Timeout { url: String },
    #[error("the server at {url} sent an answer rune cannot read: {detail}")]
    Protocol { detail: String, url: String },
    #[error("{0}")]
    Local(String),
    /// `rune logs`, `restart` and `status` on the embedded engine, which runs no services.
    #[error(
        "no process runner is active: without runed, `rune` stores services but does not run them; start runed and point `--server` (or a context) at it"
    )]
    NoRunner,
}

impl ClientError {
    /// The exit code of SPEC §3.1 for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ClientError::Api(error) => error.kind.exit_code(),
            ClientError::Timeout { .. } => ExitCode::Timeout,
            ClientError::Unreachable { .. } | ClientError::Local(_) => ExitCode::Unreachable,
            ClientError::NoRunner | ClientError::Protocol { .. } => ExitCode::Other,
        }
    }

    /// The violations a server reported for rejected input, if any.
    pub fn violations(&self) -> Vec<crate::wire::error::Violation> {
        match self {
            ClientError::Api(error) => error.violations(),
            _ => Vec::new(),
        }
    }
}

impl From<WireError> for ClientError {
    fn from(error: WireError) -> Self {
        ClientError::Api(error)
    }
}

/// The largest answer read from runed: far above any plan of a realistic repository, still a
/// bound against a misbehaving server.
const MAX_RESPONSE_BYTES: u64 = 1 << 30;

/// A running runed.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
    timeout: Duration,
    token: Option<String>,
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// The state `rune` talks to.
pub enum Backend {
    Embedded { data_dir: PathBuf, engine: Engine },
    Remote(Remote),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Embedded { data_dir, .. } => {
                write!(f, "embedded engine in {}", data_dir.display())
            }
            Backend::Remote(remote) => write!(f, "runed at {}", remote.base),
        }
    }
}

impl Backend {
    /// A remote runed at `url` (`http://…` or `https://…`), with an optional bearer token.
    pub fn remote(url: &str, token: Option<String>, timeout: Duration) -> Self {
        Backend::Remote(Remote {
            agent: agent(timeout),
            base: url.trim_end_matches('/').to_owned(),
            timeout,
            token,
        })
    }

    /// The process runner's status: every service in `namespace` (or all) with its instances.
    pub fn status(&self, namespace: Option<&str>) -> Result<RunnerStatus, ClientError> {
        match self {
            Backend::Embedded { .. } => Err(ClientError::NoRunner),
            Backend::Remote(remote) => {
                let path = match namespace {
                    Some(ns) => format!("/v1/status?namespace={}", query_value(ns)),
                    None => "/v1/status".to_owned(),
                };
                remote.send::<(), _>("GET", &path, None)
            }
        }
    }

    /// A rolling restart of a service; with `wait`, returns once every instance runs again.
    pub fn restart(
        &self,
        key: &ObjectKey,
        wait: bool,
        timeout: Duration,
    ) -> Result<RestartResult, ClientError> {
        match self {
            Backend::Embedded { .. } => Err(ClientError::NoRunner),
            Backend::Remote(remote) => {
                let path = format!(
                    "{}/restart?wait={wait}&timeout={}",
                    object_path(key),
                    timeout.as_secs()
                );
                // The server answers within `timeout`; give the request room beyond it.
                let remote = Remote {
                    agent: agent(remote.timeout.max(timeout + Duration::from_secs(30))),
                    base: remote.base.clone(),
                    timeout: remote.timeout,
                    token: remote.token.clone(),
                };
                remote.send::<(), _>("POST", &path, None)
            }
        }
    }

    /// An instance's log: everything kept, or (with `offset`) what came after it.
    pub fn logs(
        &self,
        key: &ObjectKey,
        instance: u32,
        offset: Option<u64>,
    ) -> Result<LogChunk, ClientError> {
        match self {
            Backend::Embedded { .. } => Err(ClientError::NoRunner),
            Backend::Remote(remote) => {
                let mut path = format!("{}/logs?instance={instance}", object_path(key));
                if let Some(offset) = offset {
                    path = format!("{path}&offset={offset}");
                }
                remote.send::<(), _>("GET", &path, None)
            }
        }
    }

    /// The embedded engine on a local data directory.
    pub fn embedded(data_dir: PathBuf) -> Result<Self, ClientError> {
        let engine = crate::server::embedded::open(&data_dir)
            .map_err(|e| ClientError::Local(e.to_string()))?;
        Ok(Backend::Embedded { data_dir, engine })
    }

    pub fn plan(&self, objects: &[Desired], options: &BatchOptions) -> Result<Plan, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => {
                Ok(engine.plan(objects, options).map_err(WireError::from)?)
            }
            Backend::Remote(remote) => {
                /// [`crate::wire::batch::PlanRequest`], borrowing the batch instead of copying it.
                #[derive(Serialize)]
                struct Body<'a> {
                    objects: &'a [Desired],
                    options: &'a BatchOptions,
                }
                remote.send("POST", "/v1/plan", Some(&Body { objects, options }))
            }
        }
    }

    pub fn apply(&self, request: &ApplyRequest) -> Result<Applied, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => {
                let expected: Vec<_> = request
                    .expected
                    .iter()
                    .map(|e| (e.key.clone(), e.revision))
                    .collect();
                let options = BatchOptions {
                    cast_by: embedded_caller(),
                    ..request.options.clone()
                };
                Ok(engine
                    .apply(&request.objects, &request.delete, &expected, &options)
                    .map_err(WireError::from)?)
            }
            Backend::Remote(remote) => remote.send("POST", "/v1/apply", Some(request)),
        }
    }

    pub fn get(&self, key: &ObjectKey) -> Result<Listed, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => Ok(engine.get(key).map_err(WireError::from)?),
            Backend::Remote(remote) => remote.send::<(), _>("GET", &object_path(key), None),
        }
    }

    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => {
                Ok(engine.list(kind, namespace).map_err(WireError::from)?)
            }
            Backend::Remote(remote) => {
                #[derive(serde::Deserialize)]
                struct Items {
                    items: Vec<Listed>,
                }
                let path = match (kind, namespace) {
                    (Kind::Namespace, _) => "/v1/namespaces".to_owned(),
                    (k, Some(ns)) if k.is_namespaced() => {
                        format!("/v1/namespaces/{ns}/{}", segment(k))
                    }
                    (k, _) if k.is_namespaced() => return self.list_all_namespaces(k),
                    (k, _) => format!("/v1/{}", segment(k)),
                };
                Ok(remote.send::<(), Items>("GET", &path, None)?.items)
            }
        }
    }

    fn list_all_namespaces(&self, kind: Kind) -> Result<Vec<Listed>, ClientError> {
        let mut all = Vec::new();
        for ns in self.list(Kind::Namespace, None)? {
            all.extend(self.list(kind, Some(&ns.object.key.name))?);
        }
        Ok(all)
    }

    /// The age recipient that sealed values must be encrypted for (SPEC §6).
    pub fn seal_recipient(&self) -> Result<String, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => Ok(engine.seal_recipient()),
            Backend::Remote(remote) => {
                #[derive(serde::Deserialize)]
                struct Recipient {
                    recipient: String,
                }
                Ok(remote
                    .send::<(), Recipient>("GET", "/v1/seal-recipient", None)?
                    .recipient)
            }
        }
    }

    /// Writes one object: `create` refuses an existing one (exit 5).
    pub fn put(&self, desired: &Desired, create: bool) -> Result<Listed, ClientError> {
        match self {
            Backend::Embedded { engine, .. } => {
                engine
                    .put(desired, create, None, embedded_caller())
                    .map_err(WireError::from)?;
                Ok(engine.get(&desired.key).map_err(WireError::from)?)
            }
            Backend::Remote(remote) => {
                if create {
                    let mut parent = object_path(&desired.key);
                    parent.truncate(parent.rfind('/').unwrap_or(parent.len()));
                    remote.send("POST", &parent, Some(desired))
                } else {
                    remote.send("PUT", &object_path(&desired.key), Some(desired))
                }
            }
        }
    }

    pub fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), ClientError> {
        match self {
            Backend::Embedded { engine, .. } => {
                Ok(engine.delete(key, force).map_err(WireError::from)?)
            }
            Backend::Remote(remote) => {
                let path = format!(
                    "{}{}",
                    object_path(key),
                    if force { "?force=true" } else { "" }
                );
                remote
                    .send::<(), serde_json::Value>("DELETE", &path, None)
                    .map(|_| ())
            }
        }
    }

    /// The expectations that guard an apply: every planned object's revision.
    pub fn expectations(plan: &Plan) -> Vec<Expectation> {
        plan.changes
            .iter()
            .map(|c| Expectation {
                key: c.key.clone(),
                revision: c.revision,
            })
            .collect()
    }
}

impl Remote {
    fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let builder = ureq::http::Request::builder().method(method).uri(&url);
        let builder = match &self.token {
            Some(token) => builder.header("Authorization", format!("Bearer {token}")),
            None => builder,
        };
        let result = match body {
            Some(body) => {
                let bytes =
                    serde_json::to_vec(body).map_err(|e| ClientError::Local(e.to_string()))?;
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(bytes)
                    .map_err(|e| ClientError::Local(e.to_string()))?;
                self.agent.run(request)
            }
            None => {
                let request = builder
                    .body(())
                    .map_err(|e| ClientError::Local(e.to_string()))?;
                self.agent.run(request)
            }
        };
        let mut response = result.map_err(|e| transport(&url, e))?;
        let status = response.status().as_u16();
        // ureq caps bodies at 10 MB by default; a plan of ~30,000 objects is larger than that.
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(|e| transport(&url, e))?;
        if (200..300).contains(&status) {
            let text = if text.is_empty() {
                "null"
            } else {
                text.as_str()
            };
            return serde_json::from_str(text).map_err(|e| ClientError::Protocol {
                detail: e.to_string(),
                url: url.clone(),
            });
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ClientError::Api(WireError::from_body(status, body))),
            Err(_) => Err(ClientError::Protocol {
                detail: format!("HTTP {status} without a JSON error body"),
                url,
            }),
        }
    }
}

fn transport(url: &str, error: ureq::Error) -> ClientError {
    match error {
        ureq::Error::Timeout(_) => ClientError::Timeout {
            url: url.to_owned(),
        },
        other => ClientError::Unreachable {
            detail: other.to_string(),
            url: url.to_owned(),
        },
    }
}

/// A query-string value: names are DNS-1123 labels, anything else is percent-encoded.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn segment(kind: Kind) -> &'static str {
    match kind {
        Kind::ConfigMap => "configmaps",
        Kind::Namespace => "namespaces",
        Kind::Secret => "secrets",
        Kind::Service => "services",
        Kind::StorageClass => "storageclasses",
        Kind::Volume => "volumes",
    }
}

fn object_path(key: &ObjectKey) -> String {
    let kind = key.kind.0;
    match kind {
        Kind::Namespace => format!("/v1/namespaces/{}", key.name),
        k if k.is_namespaced() => format!(
            "/v1/namespaces/{}/{}/{}",
            key.namespace,
            segment(k),
            key.name
        ),
        k => format!("/v1/{}/{}", segment(k), key.name),
    }
}

/// The user running `rune`, recorded as `castBy` by the embedded engine.
/// Who casts on the embedded engine: the OS user, as `user:NAME`.
fn embedded_caller() -> Option<String> {
    os_user().map(|user| format!("user:{user}"))
}

fn os_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map(|user| user.name)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
}
