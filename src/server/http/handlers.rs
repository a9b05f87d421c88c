//! The handlers, one module per resource family: [`objects`] (namespaces and the per-kind
//! CRUD), [`batch`] (plan and apply) and [`runner`] (status, restart, logs, the seal recipient).
//!
//! In: the [`Caller`](crate::server::http::auth::Caller) that authentication found, the path,
//! the query and the body. Out: a JSON response or an [`ApiError`]. Each handler checks what
//! the caller may touch before it asks the engine or the runner for anything.

pub mod admin;
pub mod batch;
pub mod history;
pub mod objects;
pub mod runner;
pub mod state;

use axum::response::Response;

use crate::server::engine::EngineError;
use crate::server::http::error::ApiError;

/// What a handler answers.
pub(crate) type Api = Result<Response, ApiError>;

/// Runs blocking engine work (redb, encryption) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    // The request's actor goes along, for the audit record of what the work changes.
    let actor = crate::server::audit::of_request();
    match tokio::task::spawn_blocking(move || crate::server::audit::run_as(actor, work)).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join) => Err(ApiError::internal(&format!("engine task failed: {join}"))),
    }
}
