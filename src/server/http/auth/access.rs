//! Whole requests against a [`Caller`]: every object and deletion of a write or a batch, and
//! every `expected` revision, before the engine is asked anything on the caller's behalf.
//!
//! In: the caller and what a request would write, delete or compare. Out: `Ok`, or the first
//! 403 (namespace, or the permission missing). Must not happen here: a look at an object the
//! caller may not reach — stored `process:` services are looked up only after every key passed
//! the namespace checks, so neither the answer nor its timing depends on other namespaces.

use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::ApiError;
use crate::server::http::handlers::blocking;
use crate::server::tokens::Permission;
use crate::wire::batch::{ApplyRequest, PlanRequest};
use crate::wire::object::{Desired, DesiredSpec, ObjectKey};

/// Whether a desired object is a service with `process:`.
fn runs_process(desired: &Desired) -> bool {
    matches!(&desired.spec, DesiredSpec::Service(spec) if spec.process.is_some())
}

/// Writes of `desired` and deletions of `delete`: reach and `cast` (`admin` for cluster
/// kinds) for each; `run` when one of them is, or replaces, a `process:` service.
pub(crate) async fn check_writes(
    state: &ApiState,
    caller: &Caller,
    desired: &[&Desired],
    delete: &[ObjectKey],
) -> Result<(), ApiError> {
    for key in desired.iter().map(|d| &d.key).chain(delete) {
        caller.check_write(key)?;
    }
    if caller.may(Permission::Run) {
        return Ok(());
    }
    if let Some(d) = desired.iter().find(|d| runs_process(d)) {
        return caller.check_run_service(&d.key);
    }
    // Turning a `process:` service into another, or deleting it, stops what runs: `run` too.
    let keys: Vec<ObjectKey> = desired
        .iter()
        .map(|d| d.key.clone())
        .chain(delete.iter().cloned())
        .collect();
    let engine = state.engine.clone();
    match blocking(move || engine.first_process_service(&keys)).await? {
        Some(key) => caller.check_run_service(&key),
        None => Ok(()),
    }
}

/// `POST /v1/plan`: `read`, and every object within the caller's reach (prune candidates are
/// filtered by the engine with [`Caller::sees`]).
pub(crate) fn check_plan(caller: &Caller, request: &PlanRequest) -> Result<(), ApiError> {
    caller.require(Permission::Read, "planning")?;
    for object in &request.objects {
        caller.check_read(&object.key)?;
    }
    Ok(())
}

/// `POST /v1/apply`: every object and deletion as [`check_writes`], and every `expected`
/// revision within reach, so that a conflict never tells whether an object exists elsewhere.
pub(crate) async fn check_apply(
    state: &ApiState,
    caller: &Caller,
    request: &ApplyRequest,
) -> Result<(), ApiError> {
    caller.require(Permission::Cast, "applying")?;
    for expected in &request.expected {
        caller.check_read(&expected.key)?;
    }
    let desired: Vec<&Desired> = request.objects.iter().collect();
    check_writes(state, caller, &desired, &request.delete).await
}
