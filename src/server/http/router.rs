//! The routes of runed's API, with authentication, a request log and a body limit.
//!
//! Routes: `GET /healthz`; `GET|POST /v1/namespaces`, `GET|DELETE /v1/namespaces/{ns}`;
//! `GET|POST /v1/namespaces/{ns}/{kind}`, `GET|PUT|DELETE /v1/namespaces/{ns}/{kind}/{name}`
//! (`secrets`, `configmaps`, `services`, `volumes`); cluster kinds under `/v1/{kind}`
//! (`storageclasses`); `POST /v1/plan` and `POST /v1/apply`; the process runner's
//! `GET /v1/status`, `POST /v1/namespaces/{ns}/services/{name}/restart` and
//! `GET /v1/namespaces/{ns}/services/{name}/logs`; `GET /v1/seal-recipient`; the admin routes
//! `GET /v1/admin/kek`, `POST /v1/admin/kek/rewrap` and `POST /v1/reseal` (SPEC §4.6); history and rollback of
//! secrets and configmaps, `GET /v1/history/{ns}/{secrets|configmaps}/{name}` and
//! `POST /v1/rollback/{ns}/{secrets|configmaps}/{name}` (SPEC §3). Errors are
//! `{"code", "message", "details"}` with 400/401/403/404/409/412/413/500, 503/507 when the
//! store cannot read or write (a full disk), and 504 when a waited-for restart times out.
//!
//! Every `/v1` route passes authentication ([`super::auth`]) first. The request log line is
//! `METHOD PATH STATUS MSms`: the path and never the query string or the body. A test
//! (`tests/runed.rs`) reads the `.route(…)` calls of this file and compares them with
//! `schemas/openapi.json`, so the routes stay written out here.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::server::http::ApiState;
use crate::server::http::audit;
use crate::server::http::auth::authenticate;
use crate::server::http::error::ApiError;
use crate::server::http::handlers::{admin, batch, health, history, objects, runner};
use crate::server::log;
use crate::wire::error::ErrorKind;

/// The router with authentication, request logging and a body limit.
pub fn router(state: Arc<ApiState>, body_limit: usize) -> Router {
    let v1 = Router::new()
        .route(
            "/v1/namespaces",
            get(objects::list_namespaces).post(objects::create_namespace),
        )
        .route(
            "/v1/namespaces/{ns}",
            get(objects::get_namespace).delete(objects::delete_namespace),
        )
        .route(
            "/v1/namespaces/{ns}/{kind}",
            get(objects::list_namespaced).post(objects::create_namespaced),
        )
        .route(
            "/v1/namespaces/{ns}/{kind}/{name}",
            get(objects::get_namespaced)
                .put(objects::put_namespaced)
                .delete(objects::delete_namespaced),
        )
        .route(
            "/v1/namespaces/{ns}/services/{name}/logs",
            get(runner::service_logs),
        )
        .route(
            "/v1/namespaces/{ns}/services/{name}/restart",
            post(runner::restart_service),
        )
        .route("/v1/status", get(runner::runner_status))
        .route("/v1/seal-recipient", get(runner::seal_recipient))
        .route("/v1/admin/kek", get(admin::kek_status))
        .route("/v1/admin/kek/rewrap", post(admin::kek_rewrap))
        .route(
            "/v1/history/{ns}/secrets/{name}",
            get(history::secret_history),
        )
        .route(
            "/v1/history/{ns}/configmaps/{name}",
            get(history::configmap_history),
        )
        .route(
            "/v1/rollback/{ns}/secrets/{name}",
            post(history::secret_rollback),
        )
        .route(
            "/v1/rollback/{ns}/configmaps/{name}",
            post(history::configmap_rollback),
        )
        .route("/v1/admin/seal-identity", get(admin::seal_identities))
        .route(
            "/v1/admin/seal-identity/rotate",
            post(admin::rotate_seal_identity),
        )
        .route("/v1/audit", get(admin::audit))
        .route("/v1/reseal", post(admin::reseal))
        .route("/v1/plan", post(batch::plan))
        .route("/v1/apply", post(batch::apply))
        .route(
            "/v1/{kind}",
            get(objects::list_cluster).post(objects::create_cluster),
        )
        .route(
            "/v1/{kind}/{name}",
            get(objects::get_cluster)
                .put(objects::put_cluster)
                .delete(objects::delete_cluster),
        )
        // Innermost first: the actor of each request (for the audit records its changes
        // write), then authentication, then the audit record of every 401 and 403.
        .route_layer(middleware::from_fn(audit::with_actor))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            audit::record_denials,
        ));
    Router::new()
        .route("/healthz", get(health::health))
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
