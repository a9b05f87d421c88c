//! The process runner's routes — `GET /v1/status`, `POST …/services/{name}/restart`,
//! `GET …/services/{name}/logs` — and `GET /v1/seal-recipient`.
//!
//! In: a namespace and service from the path, options from the query. Out: runner status, a
//! restart result, a log chunk, or runed's public age recipient. A namespace-limited token sees
//! and restarts only the services of its namespaces; restart and logs need `run`. Must not happen here: a value in a status;
//! a log chunk holds only what the service printed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::query;
use crate::server::http::handlers::Api;
use crate::server::tokens::Permission;

/// The longest a client may ask a restart to wait.
const MAX_RESTART_WAIT: u64 = 3600;

/// `GET /v1/seal-recipient`: the public half of runed's age identity, for `rune seal`.
pub(crate) async fn seal_recipient(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
) -> Api {
    c.require(Permission::Read, "reading the seal recipient")?;
    Ok(Json(json!({"recipient": s.engine.seal_recipient()})).into_response())
}

#[derive(Deserialize)]
pub(crate) struct StatusQuery {
    namespace: Option<String>,
}

/// `GET /v1/status[?namespace=NS]`: every service's instances (a token sees its namespaces).
pub(crate) async fn runner_status(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    q: Result<Query<StatusQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.require(Permission::Read, "reading the status")?;
    if let Some(ns) = &q.namespace {
        c.check_namespace(ns)?;
    }
    let mut status = s.runner.status(q.namespace).await?;
    status.services.retain(|svc| c.allows(&svc.namespace));
    Ok(Json(status).into_response())
}

#[derive(Deserialize)]
pub(crate) struct RestartQuery {
    #[serde(default = "yes")]
    wait: bool,
    /// Seconds (default 60).
    timeout: Option<u64>,
}

fn yes() -> bool {
    true
}

/// `POST …/services/{name}/restart[?wait=false][&timeout=SECS]`: a rolling restart.
pub(crate) async fn restart_service(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    q: Result<Query<RestartQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.check_namespace(&ns)?;
    c.require(Permission::Run, "restarting a service")?;
    let timeout = Duration::from_secs(q.timeout.unwrap_or(60).min(MAX_RESTART_WAIT));
    let result = s.runner.restart(&ns, &name, q.wait, timeout).await?;
    let status = if result.completed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(result)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LogsQuery {
    #[serde(default)]
    instance: u32,
    offset: Option<u64>,
}

/// `GET …/services/{name}/logs[?instance=N][&offset=BYTES]`: an instance's output. Clients
/// follow a log by asking again with the returned `offset` (no endless response, so a
/// graceful shutdown is never held up).
pub(crate) async fn service_logs(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    q: Result<Query<LogsQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.check_namespace(&ns)?;
    c.require(Permission::Run, "reading a service's logs")?;
    let chunk = s.runner.logs(&ns, &name, q.instance, q.offset).await?;
    Ok(Json(chunk).into_response())
}
