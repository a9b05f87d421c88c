//! The handlers, one module per resource family: [`objects`] (namespaces and the per-kind
//! CRUD), [`batch`] (plan and apply) and [`runner`] (status, restart, logs, the seal recipient).
//!
//! In: the [`Caller`](crate::server::http::auth::Caller) that authentication found, the path,
//! the query and the body. Out: a JSON response or an [`ApiError`]. Each handler checks what
//! the caller may touch before it asks the engine or the runner for anything.

pub mod admin;
pub mod batch;
pub mod health;
pub mod history;
pub mod objects;
pub mod runner;
pub mod state;

use axum::response::Response;

use crate::server::engine::EngineError;
use crate::server::http::ApiState;
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

/// Every check of a request's objects before the engine sees them: their own problems
/// ([`well_formed`]), then what they need of the state (`state::check`).
pub(crate) async fn admissible(
    api: &ApiState,
    objects: &[crate::wire::object::Desired],
    create_namespaces: bool,
) -> Result<(), ApiError> {
    well_formed(&api.engine.settings().limits, objects)?;
    state::check(&api.engine, objects, create_namespaces).await
}

/// The objects' own problems and duplicates inside the request — the rules `rune lint` applies
/// (SPEC §4.4) — as a 400 (or 413) with `violations`, before anything about the store is
/// looked up or compared: a malformed request is told so, whatever the store holds.
fn well_formed(
    limits: &crate::limits::Limits,
    objects: &[crate::wire::object::Desired],
) -> Result<(), ApiError> {
    let mut violations = crate::server::violation::check_batch(objects);
    for desired in objects {
        violations.extend(crate::server::violation::check_desired(desired, limits));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Invalid(violations).into())
    }
}
