//! runed's HTTP/JSON API (SPEC §4.4), a thin layer over the [`Engine`].
//!
//! Routes: `GET /healthz`; `GET|POST /v1/namespaces`, `GET|DELETE /v1/namespaces/{ns}`;
//! `GET|POST /v1/namespaces/{ns}/{kind}`, `GET|PUT|DELETE /v1/namespaces/{ns}/{kind}/{name}`
//! (`secrets`, `configmaps`, `services`, `volumes`); cluster kinds under `/v1/{kind}`
//! (`storageclasses`); `POST /v1/plan` and `POST /v1/apply`; the process runner's
//! `GET /v1/status`, `POST /v1/namespaces/{ns}/services/{name}/restart` and
//! `GET /v1/namespaces/{ns}/services/{name}/logs`. Errors are
//! `{"code", "message", "details"}` with 400/401/403/404/409/412/413/500 (and 504 when a waited-for
//! restart times out). No response carries a secret value: the engine returns none, and nothing
//! here echoes a request body. (An instance's log holds what the service printed, nothing else.)
//! The `OpenAPI` description is `schemas/openapi.json`.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::log;
use crate::server::runner::{Runner, RunnerError};
use crate::server::tokens::{TokenInfo, Tokens};
use crate::wire::batch::{ApplyRequest, PlanRequest};
use crate::wire::error::{ErrorKind, WireError};
use crate::wire::object::{Desired, KindName, ObjectKey, namespace_key};

/// What every handler shares.
pub struct ApiState {
    /// `auth.required: true`: a token is needed even on loopback with no token created.
    pub auth_required: bool,
    pub engine: Arc<Engine>,
    /// Whether the listener is on a loopback address (open mode is allowed only there).
    pub loopback: bool,
    /// Runs `process:` services; told about every successful write.
    pub runner: Arc<Runner>,
    pub tokens: Tokens,
}

/// Who is calling: nobody (open mode) or the holder of a token.
#[derive(Clone, Debug)]
enum Caller {
    Open,
    Token(TokenInfo),
}

impl Caller {
    fn check_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if !token.allows(namespace) => Err(ApiError::forbidden(format!(
                "token `{}` may not act in namespace `{namespace}`",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// The `castBy` of what this caller applies; an open server knows nobody.
    fn identity(&self) -> Option<String> {
        match self {
            Caller::Open => None,
            Caller::Token(token) => Some(format!("token:{}", token.name)),
        }
    }

    fn check_cluster(&self) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if token.is_scoped() => Err(ApiError::forbidden(format!(
                "token `{}` is limited to namespaces and may not change cluster-scoped objects",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// Reading is wider than writing: a namespace-limited token reads its namespaces, what is in
    /// them, and cluster-scoped objects (as listing them already allows).
    fn check_read(&self, key: &ObjectKey) -> Result<(), ApiError> {
        match key.kind.0 {
            Kind::Namespace => self.check_namespace(&key.name),
            kind if kind.is_namespaced() => self.check_namespace(&key.namespace),
            _ => Ok(()),
        }
    }

    fn check_key(&self, key: &ObjectKey) -> Result<(), ApiError> {
        if key.kind.0 == Kind::Namespace {
            return self
                .check_namespace(&key.name)
                .and_then(|()| self.check_cluster());
        }
        if key.kind.0.is_namespaced() {
            self.check_namespace(&key.namespace)
        } else {
            self.check_cluster()
        }
    }
}

/// The router with authentication, request logging and a body limit.
pub fn router(state: Arc<ApiState>, body_limit: usize) -> Router {
    let v1 = Router::new()
        .route(
            "/v1/namespaces",
            get(list_namespaces).post(create_namespace),
        )
        .route(
            "/v1/namespaces/{ns}",
            get(get_namespace).delete(delete_namespace),
        )
        .route(
            "/v1/namespaces/{ns}/{kind}",
            get(list_namespaced).post(create_namespaced),
        )
        .route(
            "/v1/namespaces/{ns}/{kind}/{name}",
            get(get_namespaced)
                .put(put_namespaced)
                .delete(delete_namespaced),
        )
        .route(
            "/v1/namespaces/{ns}/services/{name}/logs",
            get(service_logs),
        )
        .route(
            "/v1/namespaces/{ns}/services/{name}/restart",
            post(restart_service),
        )
        .route("/v1/status", get(runner_status))
        .route("/v1/seal-recipient", get(seal_recipient))
        .route("/v1/plan", post(plan))
        .route("/v1/apply", post(apply))
        .route("/v1/{kind}", get(list_cluster).post(create_cluster))
        .route(
            "/v1/{kind}/{name}",
            get(get_cluster).put(put_cluster).delete(delete_cluster),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .merge(v1)
        .fallback(|| async { ApiError::new(ErrorKind::NotFound, "not_found", "no such endpoint") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    log::info(&format!(
        "{method} {path} {} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    ));
    response
}

async fn authenticate(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match caller(&state, request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn caller(state: &ApiState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let tokens = state
        .tokens
        .current()
        .map_err(|e| ApiError::internal(&format!("cannot read the token file: {e}")))?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(token) => match state.tokens.authenticate(token.trim()) {
            Ok(Some(info)) => Ok(Caller::Token(info)),
            Ok(None) => Err(ApiError::unauthorized(
                "the token is not valid (unknown or revoked)",
            )),
            Err(e) => Err(ApiError::internal(&format!(
                "cannot read the token file: {e}"
            ))),
        },
        None if tokens.is_empty() && state.loopback && !state.auth_required => Ok(Caller::Open),
        None => Err(ApiError::unauthorized(
            "this server requires a bearer token (`Authorization: Bearer …`): pass it with `--token`, `RUNE_TOKEN` or `rune login`; an operator creates one with `runed token create`",
        )),
    }
}

/// A JSON error: `{"code", "message", "details"}`, with the status of its [`ErrorKind`].
#[derive(Debug)]
pub struct ApiError(WireError);

impl ApiError {
    fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self(WireError::new(kind, code, message))
    }

    fn with_details(self, details: Value) -> Self {
        Self(self.0.with_details(details))
    }

    fn unauthorized(message: &str) -> Self {
        Self::new(ErrorKind::Auth, "unauthorized", message)
    }

    fn forbidden(message: String) -> Self {
        Self::new(ErrorKind::Permission, "forbidden", message)
    }

    fn not_found(message: String) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    fn bad_request(message: String) -> Self {
        Self::new(ErrorKind::Invalid, "invalid", message)
    }

    /// Internal failures are logged in full and answered in general terms.
    fn internal(detail: &str) -> Self {
        Self(crate::server::engine::internal(detail))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.kind.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0.body())).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        Self(error.into())
    }
}

impl From<RunnerError> for ApiError {
    fn from(error: RunnerError) -> Self {
        let message = error.to_string();
        match error {
            RunnerError::Engine(engine) => engine.into(),
            RunnerError::Log { .. } => Self::internal(&message),
            RunnerError::NoInstance { .. } => Self::not_found(message),
            RunnerError::NotRunnable { .. } => {
                Self::new(ErrorKind::Conflict, "not_runnable", message)
            }
            RunnerError::RolloutFailed { instance, .. } => {
                Self::new(ErrorKind::Internal, "restart_failed", message)
                    .with_details(json!({ "instance": instance }))
            }
            RunnerError::Timeout { .. } => Self::new(ErrorKind::Timeout, "timeout", message),
        }
    }
}

/// Reads a JSON body, answering a malformed or oversized one in our error format. Serde's
/// messages name fields and types, and the values they quote are cut out (see
/// [`redact_values`]), so nothing from the body is echoed.
fn body<T>(result: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match result {
        Ok(Json(value)) => Ok(value),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::new(
                ErrorKind::Limit,
                "payload_too_large",
                "the request body is larger than the server accepts",
            ))
        }
        Err(rejection) => Err(ApiError::bad_request(format!(
            "the request body is not valid: {}",
            redact_values(&rejection.body_text())
        ))),
    }
}

/// Serde quotes the offending value in some messages (`invalid type: string "…", expected a
/// map`, or an integer between backticks). That value can be a secret — a secret's `data` sent
/// as a string, or a value sent as a number — so every quoted value is cut out of the message.
fn redact_values(message: &str) -> String {
    const QUOTED: [(&str, char); 5] = [
        ("string \"", '"'),
        ("integer `", '`'),
        ("floating point `", '`'),
        ("character `", '`'),
        ("boolean `", '`'),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, prefix, close)) = QUOTED
        .iter()
        .filter_map(|&(prefix, close)| rest.find(prefix).map(|at| (at, prefix, close)))
        .min_by_key(|&(at, ..)| at)
    {
        // Keep the type's name (`string`, `integer`), drop ` "value"`.
        out.push_str(&rest[..at + prefix.len() - 2]);
        let quoted = &rest[at + prefix.len()..];
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == close && !escaped;
                escaped = close == '"' && c == '\\' && !escaped;
                closes
            })
            .map_or(quoted.len(), |(i, c)| i + c.len_utf8());
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

/// `?force=…` of a DELETE, a malformed one answered in our error format.
fn force(query: Result<Query<DeleteQuery>, QueryRejection>) -> Result<bool, ApiError> {
    query.map(|Query(q)| q.force).map_err(|rejection| {
        ApiError::bad_request(format!(
            "the query string is not valid: {}",
            redact_values(&rejection.body_text())
        ))
    })
}

/// Runs blocking engine work (redb, encryption) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join) => Err(ApiError::internal(&format!("engine task failed: {join}"))),
    }
}

/// `secrets`, `configmaps` (or `configs`), `services`, `volumes`, `storageclasses`.
fn kind_segment(segment: &str) -> Option<Kind> {
    match segment.to_ascii_lowercase().as_str() {
        "secrets" | "secret" => Some(Kind::Secret),
        "configmaps" | "configmap" | "configs" | "config" => Some(Kind::ConfigMap),
        "services" | "service" => Some(Kind::Service),
        "volumes" | "volume" => Some(Kind::Volume),
        "storageclasses" | "storageclass" => Some(Kind::StorageClass),
        "namespaces" | "namespace" => Some(Kind::Namespace),
        _ => None,
    }
}

fn namespaced_kind(segment: &str) -> Result<Kind, ApiError> {
    kind_segment(segment)
        .filter(|k| k.is_namespaced())
        .ok_or_else(|| ApiError::not_found(format!("`{segment}` is not a namespaced kind")))
}

fn cluster_kind(segment: &str) -> Result<Kind, ApiError> {
    kind_segment(segment)
        .filter(|k| !k.is_namespaced() && *k != Kind::Namespace)
        .ok_or_else(|| ApiError::not_found(format!("`{segment}` is not a cluster-scoped kind")))
}

fn object_key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

/// A body for a single-object write: the path decides kind, namespace and (for PUT) name.
fn place(mut desired: Desired, key: ObjectKey, name_from_path: bool) -> Result<Desired, ApiError> {
    if desired.key.kind != key.kind {
        return Err(ApiError::bad_request(format!(
            "the body describes a {}, but the path names {}",
            desired.key.kind.0, key.kind.0
        )));
    }
    if !desired.key.namespace.is_empty() && desired.key.namespace != key.namespace {
        return Err(ApiError::bad_request(format!(
            "the body names namespace `{}`, but the path names `{}`",
            desired.key.namespace, key.namespace
        )));
    }
    if name_from_path && desired.key.name != key.name {
        return Err(ApiError::bad_request(format!(
            "the body names `{}`, but the path names `{}`",
            desired.key.name, key.name
        )));
    }
    desired.key.namespace = key.namespace;
    Ok(desired)
}

#[derive(Deserialize)]
struct DeleteQuery {
    #[serde(default)]
    force: bool,
}

/// `If-Match: <revision>` (quotes allowed) for optimistic concurrency on PUT.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().trim_matches('"').parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("`If-Match` must be an object revision number".to_owned())
        })
}

async fn list(
    state: &ApiState,
    caller: &Caller,
    kind: Kind,
    namespace: Option<String>,
) -> Result<Response, ApiError> {
    if let Some(ns) = &namespace {
        caller.check_namespace(ns)?;
    }
    let engine = state.engine.clone();
    let mut items = blocking(move || engine.list(kind, namespace.as_deref())).await?;
    if let Caller::Token(token) = caller {
        items.retain(|item| {
            let key = &item.object.key;
            match key.kind.0 {
                Kind::Namespace => token.allows(&key.name),
                k if k.is_namespaced() => token.allows(&key.namespace),
                _ => true,
            }
        });
    }
    Ok(Json(json!({ "items": items })).into_response())
}

async fn read(state: &ApiState, caller: &Caller, key: ObjectKey) -> Result<Response, ApiError> {
    caller.check_read(&key)?;
    let engine = state.engine.clone();
    Ok(Json(blocking(move || engine.get(&key)).await?).into_response())
}

async fn write(
    state: &ApiState,
    caller: &Caller,
    desired: Desired,
    create: bool,
    revision: Option<u64>,
) -> Result<Response, ApiError> {
    caller.check_key(&desired.key)?;
    let engine = state.engine.clone();
    let key = desired.key.clone();
    let cast_by = caller.identity();
    let result = blocking(move || {
        engine.put(&desired, create, revision, cast_by)?;
        engine.get(&key)
    })
    .await?;
    state.runner.reconcile().await;
    let status = if create {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)).into_response())
}

async fn remove(
    state: &ApiState,
    caller: &Caller,
    key: ObjectKey,
    force: bool,
) -> Result<Response, ApiError> {
    caller.check_key(&key)?;
    let engine = state.engine.clone();
    blocking(move || engine.delete(&key, force)).await?;
    state.runner.reconcile().await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

type Api = Result<Response, ApiError>;

async fn list_namespaces(State(s): State<Arc<ApiState>>, Extension(c): Extension<Caller>) -> Api {
    list(&s, &c, Kind::Namespace, None).await
}

async fn create_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    payload: Result<Json<Desired>, JsonRejection>,
) -> Api {
    let desired = body(payload)?;
    let key = namespace_key(&desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

async fn get_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(ns): Path<String>,
) -> Api {
    read(&s, &c, namespace_key(&ns)).await
}

async fn delete_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(ns): Path<String>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    remove(&s, &c, namespace_key(&ns), force(query)?).await
}

async fn list_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind)): Path<(String, String)>,
) -> Api {
    list(&s, &c, namespaced_kind(&kind)?, Some(ns)).await
}

async fn create_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind)): Path<(String, String)>,
    payload: Result<Json<Desired>, JsonRejection>,
) -> Api {
    let kind = namespaced_kind(&kind)?;
    let desired = body(payload)?;
    let key = object_key(kind, &ns, &desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

async fn get_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Api {
    read(&s, &c, object_key(namespaced_kind(&kind)?, &ns, &name)).await
}

async fn put_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    payload: Result<Json<Desired>, JsonRejection>,
) -> Api {
    let key = object_key(namespaced_kind(&kind)?, &ns, &name);
    let desired = place(body(payload)?, key, true)?;
    write(&s, &c, desired, false, if_match(&headers)?).await
}

async fn delete_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    remove(
        &s,
        &c,
        object_key(namespaced_kind(&kind)?, &ns, &name),
        force(query)?,
    )
    .await
}

async fn list_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(kind): Path<String>,
) -> Api {
    list(&s, &c, cluster_kind(&kind)?, None).await
}

async fn create_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(kind): Path<String>,
    payload: Result<Json<Desired>, JsonRejection>,
) -> Api {
    let kind = cluster_kind(&kind)?;
    let desired = body(payload)?;
    let key = object_key(kind, "", &desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

async fn get_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
) -> Api {
    read(&s, &c, object_key(cluster_kind(&kind)?, "", &name)).await
}

async fn put_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
    headers: HeaderMap,
    payload: Result<Json<Desired>, JsonRejection>,
) -> Api {
    let key = object_key(cluster_kind(&kind)?, "", &name);
    let desired = place(body(payload)?, key, true)?;
    write(&s, &c, desired, false, if_match(&headers)?).await
}

async fn delete_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    remove(
        &s,
        &c,
        object_key(cluster_kind(&kind)?, "", &name),
        force(query)?,
    )
    .await
}

/// A query string, a malformed one answered in our error format.
fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|rejection| {
        ApiError::bad_request(format!(
            "the query string is not valid: {}",
            redact_values(&rejection.body_text())
        ))
    })
}

/// `GET /v1/seal-recipient`: the public half of runed's age identity, for `rune seal`.
async fn seal_recipient(State(s): State<Arc<ApiState>>) -> Api {
    Ok(Json(json!({"recipient": s.engine.seal_recipient()})).into_response())
}

#[derive(Deserialize)]
struct StatusQuery {
    namespace: Option<String>,
}

/// `GET /v1/status[?namespace=NS]`: every service's instances (a token sees its namespaces).
async fn runner_status(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    q: Result<Query<StatusQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    if let Some(ns) = &q.namespace {
        c.check_namespace(ns)?;
    }
    let mut status = s.runner.status(q.namespace).await?;
    if let Caller::Token(token) = &c {
        status.services.retain(|svc| token.allows(&svc.namespace));
    }
    Ok(Json(status).into_response())
}

/// The longest a client may ask a restart to wait.
const MAX_RESTART_WAIT: u64 = 3600;

#[derive(Deserialize)]
struct RestartQuery {
    #[serde(default = "yes")]
    wait: bool,
    /// Seconds (default 60).
    timeout: Option<u64>,
}

fn yes() -> bool {
    true
}

/// `POST …/services/{name}/restart[?wait=false][&timeout=SECS]`: a rolling restart.
async fn restart_service(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    q: Result<Query<RestartQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.check_namespace(&ns)?;
    let timeout = std::time::Duration::from_secs(q.timeout.unwrap_or(60).min(MAX_RESTART_WAIT));
    let result = s.runner.restart(&ns, &name, q.wait, timeout).await?;
    let status = if result.completed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(result)).into_response())
}

#[derive(Deserialize)]
struct LogsQuery {
    #[serde(default)]
    instance: u32,
    offset: Option<u64>,
}

/// `GET …/services/{name}/logs[?instance=N][&offset=BYTES]`: an instance's output. Clients
/// follow a log by asking again with the returned `offset` (no endless response, so a
/// graceful shutdown is never held up).
async fn service_logs(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    q: Result<Query<LogsQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.check_namespace(&ns)?;
    let chunk = s.runner.logs(&ns, &name, q.instance, q.offset).await?;
    Ok(Json(chunk).into_response())
}

async fn plan(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    payload: Result<Json<PlanRequest>, JsonRejection>,
) -> Api {
    let request = body(payload)?;
    for object in &request.objects {
        c.check_key(&object.key)?;
    }
    let engine = s.engine.clone();
    let plan = blocking(move || engine.plan(&request.objects, &request.options)).await?;
    Ok(Json(plan).into_response())
}

async fn apply(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    payload: Result<Json<ApplyRequest>, JsonRejection>,
) -> Api {
    let mut request: ApplyRequest = body(payload)?;
    request.options.cast_by = c.identity();
    for key in request
        .objects
        .iter()
        .map(|o| &o.key)
        .chain(&request.delete)
    {
        c.check_key(key)?;
    }
    let engine = s.engine.clone();
    let applied = blocking(move || {
        let expected: Vec<_> = request
            .expected
            .into_iter()
            .map(|e| (e.key, e.revision))
            .collect();
        engine.apply(
            &request.objects,
            &request.delete,
            &expected,
            &request.options,
        )
    })
    .await?;
    s.runner.reconcile().await;
    Ok(Json(applied).into_response())
}

#[cfg(test)]
mod tests {
    use super::redact_values;

    #[test]
    fn quoted_values_are_cut_out_of_serde_messages() {
        assert_eq!(
            redact_values(r#"invalid type: string "hun\"ter\\2", expected a map at line 1"#),
            "invalid type: string, expected a map at line 1"
        );
        assert_eq!(
            redact_values(
                "invalid type: integer `8675309`, expected a string; floating point `1.5`"
            ),
            "invalid type: integer, expected a string; floating point"
        );
        assert_eq!(
            redact_values("unknown field `extra`"),
            "unknown field `extra`"
        );
        assert_eq!(redact_values("string \"unterminated"), "string");
    }
}
