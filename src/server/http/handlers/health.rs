//! `GET /healthz`: liveness and the store's state, without authentication (issue #12).
//!
//! In: nothing. Out: 200 `{"status": "ok", "store": "ok"}`, or 503 `{"status": "degraded",
//! "store": "full" | "unavailable", "cause"}` while the store cannot write — so that a
//! supervisor or a load balancer sees a full disk instead of a healthy server answering 500s.
//! Asking is also what heals the store once the cause is gone (see the redb store's recovery).
//! Must not happen here: a path or any stored byte in the answer; the cause is the operating
//! system's words.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::http::ApiState;
use crate::server::store::Health;

pub(crate) async fn health(State(state): State<Arc<ApiState>>) -> Response {
    let engine = Arc::clone(&state.engine);
    let health = tokio::task::spawn_blocking(move || engine.store_health())
        .await
        .unwrap_or_else(|join| {
            Health::Degraded(crate::server::store::IoFailure {
                full: false,
                cause: format!("the health check failed: {join}"),
            })
        });
    match health {
        Health::Ok => Json(json!({ "status": "ok", "store": "ok" })).into_response(),
        Health::Degraded(failure) => {
            let store = if failure.full { "full" } else { "unavailable" };
            let body = json!({ "status": "degraded", "store": store, "cause": failure.cause });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}
