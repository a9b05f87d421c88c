//! [`Remote`]: the [`Backend`] of a running runed, over HTTP (ureq, blocking; rustls).
//!
//! In: wire types, serialized as the JSON runed reads. Out: the JSON runed answers, read back
//! into wire types; an error status becomes a [`ClientError::Api`] with the kind the status
//! names. A bearer token goes into the `Authorization` header only, never into a message or
//! `Debug`; an authentication error says where the token came from (never what it is). TLS
//! (a private CA, a client certificate) is set up by [`crate::client::tls`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::tls::{self, Handshake, TlsFileError, TlsFiles};
use crate::client::{Backend, ClientError, stream};
use crate::plan::Plan;
use crate::resource::Kind;
use crate::secrets::Secret;
use crate::wire::admin::{
    KekStatus, ResealRequest, ResealResult, RewrapBatch, RewrapRequest, SealIdentities,
};
use crate::wire::audit::{AuditEntry, AuditList};
use crate::wire::batch::{Applied, ApplyBatch, BatchOptions, Listed};
use crate::wire::error::{ErrorBody, ErrorKind, WireError};
use crate::wire::history::{History, RollbackRequest, RollbackResult};
use crate::wire::object::{Desired, ObjectKey};
use crate::wire::runner::{LogChunk, RestartResult, RunnerStatus};

/// The largest answer read from runed: far above any plan of a realistic repository, still a
/// bound against a misbehaving server.
const MAX_RESPONSE_BYTES: u64 = 1 << 30;

/// Bodies above this size are announced with `Expect: 100-continue` (RFC 9110 §10.1.1): runed
/// answers a bad token (401) or a missing permission (403) from the headers, and the client
/// then reads that answer instead of failing to write a body nobody reads ("Broken pipe",
/// which reads as "unreachable", exit 8). Below it, the body fits the socket buffers and the
/// extra round trip would only cost time.
const EXPECT_CONTINUE_ABOVE: usize = 64 * 1024;

/// A running runed.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
    timeout: Duration,
    tls: TlsFiles,
    tls_config: Option<ureq::tls::TlsConfig>,
    token: Option<Secret<String>>,
    /// Where the token came from (`--token`, `RUNE_TOKEN`, context `prod`), for auth errors.
    token_source: Option<String>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "runed at {}", self.base)
    }
}

fn agent(timeout: Duration, tls: Option<&ureq::tls::TlsConfig>) -> ureq::Agent {
    let builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout));
    match tls {
        Some(tls) => builder.tls_config(tls.clone()).build().into(),
        None => builder.build().into(),
    }
}

impl Remote {
    /// runed at `url` (`http://…` or `https://…`), with an optional bearer token; each request
    /// may take up to `timeout`.
    pub fn new(url: &str, token: Option<Secret<String>>, timeout: Duration) -> Self {
        Self {
            agent: agent(timeout, None),
            base: url.trim_end_matches('/').to_owned(),
            timeout,
            tls: TlsFiles::default(),
            tls_config: None,
            token,
            token_source: None,
        }
    }

    /// Trusts a private CA and/or presents a client certificate (issue #18).
    pub fn with_tls(mut self, files: TlsFiles) -> Result<Self, TlsFileError> {
        let config = tls::config(&files)?;
        self.agent = agent(self.timeout, Some(&config));
        self.tls = files;
        self.tls_config = Some(config);
        Ok(self)
    }

    /// Names where the token came from, so that an authentication error can say it.
    #[must_use]
    pub fn with_token_source(mut self, source: impl Into<String>) -> Self {
        self.token_source = Some(source.into());
        self
    }

    fn list_all_namespaces(&self, kind: Kind) -> Result<Vec<Listed>, ClientError> {
        let mut all = Vec::new();
        for ns in self.list(Kind::Namespace, None)? {
            all.extend(self.list(kind, Some(&ns.object.key.name))?);
        }
        Ok(all)
    }

    fn send<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let builder = ureq::http::Request::builder().method(method).uri(&url);
        let builder = match &self.token {
            Some(token) => builder.header("Authorization", format!("Bearer {}", token.expose())),
            None => builder,
        };
        let result = match body {
            Some(body) => self.send_body(builder, body),
            None => {
                let request = builder
                    .body(())
                    .map_err(|e| ClientError::Local(e.to_string()))?;
                self.agent.run(request).map_err(Failure::Transport)
            }
        };
        let result = result.map_err(|failure| match failure {
            Failure::Local(detail) => ClientError::Local(detail),
            Failure::Transport(e) => self.transport(&url, e),
        });
        let mut response = result?;
        let status = response.status().as_u16();
        // ureq caps bodies at 10 MB by default; a plan of ~30,000 objects is larger than that.
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(|e| self.transport(&url, e))?;
        answer(status, &text, url).map_err(|e| self.name_token_source(e))
    }

    /// Runs a request with a JSON body. A small one is written into a buffer of its exact size
    /// first; a large one (a batch of thousands of objects) is written as ureq sends it, so
    /// that the client never holds its JSON beside the objects (issue #14). Either way it is
    /// counted first: the `Content-Length` runed checks against its body limit before reading.
    fn send_body<B: Serialize + Sync + ?Sized>(
        &self,
        builder: ureq::http::request::Builder,
        body: &B,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let local = |e: &dyn std::fmt::Display| Failure::Local(e.to_string());
        let len = stream::json_len(body).map_err(|e| local(&e))?;
        let builder = builder.header("Content-Type", "application/json");
        if len <= EXPECT_CONTINUE_ABOVE {
            // Secret values on their way to the server: wiped once sent.
            let bytes = crate::secrets::wipe::to_json(body).map_err(|e| local(&e))?;
            let request = builder.body(bytes.as_slice()).map_err(|e| local(&e))?;
            return self.agent.run(request).map_err(Failure::Transport);
        }
        stream::with_json_reader(body, |reader| {
            let request = builder
                .header("Expect", "100-continue")
                .header("Content-Length", len)
                .body(ureq::SendBody::from_reader(reader))
                .map_err(|e| local(&e))?;
            self.agent.run(request).map_err(Failure::Transport)
        })
    }

    /// A 401 says where the token came from (SPEC §3): a flag, a variable or a context; or
    /// that none was sent.
    fn name_token_source(&self, error: ClientError) -> ClientError {
        match (error, &self.token_source) {
            (ClientError::Api(mut wire), Some(source)) if wire.kind == ErrorKind::Auth => {
                wire.message = format!("{} (the token came from {source})", wire.message);
                ClientError::Api(wire)
            }
            (ClientError::Api(mut wire), None)
                if wire.kind == ErrorKind::Auth && self.token.is_none() =>
            {
                wire.message = format!(
                    "{} (no token was sent: give one with `--token`, `--token-file`, `RUNE_TOKEN` or `rune login`)",
                    wire.message
                );
                ClientError::Api(wire)
            }
            (error, _) => error,
        }
    }

    fn transport(&self, url: &str, error: ureq::Error) -> ClientError {
        match tls::explain(&error, &self.tls) {
            Some(Handshake::Untrusted(detail)) => ClientError::Unreachable {
                detail,
                url: url.to_owned(),
            },
            Some(Handshake::Refused(detail)) => ClientError::Refused {
                detail,
                url: url.to_owned(),
            },
            None => transport(url, error),
        }
    }
}

/// Why a request got no answer: it could not be made, or not sent.
enum Failure {
    Local(String),
    Transport(ureq::Error),
}

/// What runed answered: the value of a success, else the error its body describes.
fn answer<T: DeserializeOwned>(status: u16, text: &str, url: String) -> Result<T, ClientError> {
    if (200..300).contains(&status) {
        let text = if text.is_empty() { "null" } else { text };
        return serde_json::from_str(text).map_err(|e| ClientError::Protocol {
            detail: e.to_string(),
            url,
        });
    }
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => Err(ClientError::Api(WireError::from_body(status, body))),
        Err(_) => Err(ClientError::Protocol {
            detail: format!("HTTP {status} without a JSON error body"),
            url,
        }),
    }
}

impl Backend for Remote {
    fn plan(&self, objects: &[Desired], options: &BatchOptions) -> Result<Plan, ClientError> {
        /// [`crate::wire::batch::PlanRequest`], borrowing the batch instead of copying it.
        #[derive(Serialize)]
        struct Body<'a> {
            objects: &'a [Desired],
            options: &'a BatchOptions,
        }
        self.send("POST", "/v1/plan", Some(&Body { objects, options }))
    }

    fn apply_batch(&self, batch: &ApplyBatch<'_>) -> Result<Applied, ClientError> {
        self.send("POST", "/v1/apply", Some(batch))
    }

    fn get(&self, key: &ObjectKey) -> Result<Listed, ClientError> {
        self.send::<(), _>("GET", &object_path(key), None)
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, ClientError> {
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
        Ok(self.send::<(), Items>("GET", &path, None)?.items)
    }

    fn put(&self, desired: &Desired, create: bool) -> Result<Listed, ClientError> {
        if create {
            let mut parent = object_path(&desired.key);
            parent.truncate(parent.rfind('/').unwrap_or(parent.len()));
            self.send("POST", &parent, Some(desired))
        } else {
            self.send("PUT", &object_path(&desired.key), Some(desired))
        }
    }

    fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), ClientError> {
        let path = format!(
            "{}{}",
            object_path(key),
            if force { "?force=true" } else { "" }
        );
        self.send::<(), serde_json::Value>("DELETE", &path, None)
            .map(|_| ())
    }

    fn seal_recipient(&self) -> Result<String, ClientError> {
        #[derive(serde::Deserialize)]
        struct Recipient {
            recipient: String,
        }
        Ok(self
            .send::<(), Recipient>("GET", "/v1/seal-recipient", None)?
            .recipient)
    }

    fn status(&self, namespace: Option<&str>) -> Result<RunnerStatus, ClientError> {
        let path = match namespace {
            Some(ns) => format!("/v1/status?namespace={}", query_value(ns)),
            None => "/v1/status".to_owned(),
        };
        self.send::<(), _>("GET", &path, None)
    }

    fn restart(
        &self,
        key: &ObjectKey,
        wait: bool,
        timeout: Duration,
    ) -> Result<RestartResult, ClientError> {
        let path = format!(
            "{}/restart?wait={wait}&timeout={}",
            object_path(key),
            timeout.as_secs()
        );
        // The server answers within `timeout`; give the request room beyond it.
        let patient = Remote {
            agent: agent(
                self.timeout.max(timeout + Duration::from_secs(30)),
                self.tls_config.as_ref(),
            ),
            base: self.base.clone(),
            timeout: self.timeout,
            tls: self.tls.clone(),
            tls_config: self.tls_config.clone(),
            token: self.token.clone(),
            token_source: self.token_source.clone(),
        };
        patient.send::<(), _>("POST", &path, None)
    }

    fn logs(
        &self,
        key: &ObjectKey,
        instance: u32,
        offset: Option<u64>,
    ) -> Result<LogChunk, ClientError> {
        let mut path = format!("{}/logs?instance={instance}", object_path(key));
        if let Some(offset) = offset {
            path = format!("{path}&offset={offset}");
        }
        self.send::<(), _>("GET", &path, None)
    }

    fn history(&self, key: &ObjectKey) -> Result<History, ClientError> {
        let path = format!(
            "/v1/history/{}/{}/{}",
            key.namespace,
            segment(key.kind.0),
            key.name
        );
        self.send::<(), _>("GET", &path, None)
    }

    fn rollback(&self, key: &ObjectKey, to_version: u64) -> Result<RollbackResult, ClientError> {
        let path = format!(
            "/v1/rollback/{}/{}/{}",
            key.namespace,
            segment(key.kind.0),
            key.name
        );
        self.send("POST", &path, Some(&RollbackRequest { to_version }))
    }

    fn audit(
        &self,
        since: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ClientError> {
        let mut query = Vec::new();
        if let Some(since) = since {
            query.push(format!("since={}", query_value(since)));
        }
        if let Some(ns) = namespace {
            query.push(format!("namespace={}", query_value(ns)));
        }
        let path = if query.is_empty() {
            "/v1/audit".to_owned()
        } else {
            format!("/v1/audit?{}", query.join("&"))
        };
        let list: AuditList = self.send::<(), _>("GET", &path, None)?;
        Ok(list.items)
    }

    fn seal_identities(&self) -> Result<SealIdentities, ClientError> {
        self.send::<(), _>("GET", "/v1/admin/seal-identity", None)
    }

    fn rotate_seal_identity(&self) -> Result<SealIdentities, ClientError> {
        self.send::<(), _>("POST", "/v1/admin/seal-identity/rotate", None)
    }

    fn reseal(&self, request: &ResealRequest) -> Result<ResealResult, ClientError> {
        self.send("POST", "/v1/reseal", Some(request))
    }

    fn kek_status(&self) -> Result<KekStatus, ClientError> {
        self.send::<(), _>("GET", "/v1/admin/kek", None)
    }

    fn kek_rewrap(&self, request: &RewrapRequest) -> Result<RewrapBatch, ClientError> {
        self.send("POST", "/v1/admin/kek/rewrap", Some(request))
    }

    fn runs_services(&self) -> bool {
        true
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
