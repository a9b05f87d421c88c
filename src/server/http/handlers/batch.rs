//! `POST /v1/plan` and `POST /v1/apply`: a whole batch of desired objects at once.
//!
//! In: a [`PlanRequest`] or an [`ApplyRequest`]; the caller must be allowed to write every
//! object and deletion in it. Out: the plan, or what the apply wrote; after an apply the runner
//! reconciles. The `castBy` of an apply comes from the caller, never from the body.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::{Extension, Json};

use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::JsonBody;
use crate::server::http::handlers::{Api, blocking, state};
use crate::wire::batch::{ApplyRequest, PlanRequest};

pub(crate) async fn plan(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    JsonBody(payload): JsonBody<PlanRequest>,
) -> Api {
    let request = payload;
    for object in &request.objects {
        c.check_key(&object.key)?;
    }
    state::check(
        &s.engine,
        &request.objects,
        request.options.create_namespaces,
    )
    .await?;
    let engine = s.engine.clone();
    let plan = blocking(move || engine.plan(&request.objects, &request.options)).await?;
    Ok(Json(plan).into_response())
}

pub(crate) async fn apply(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    JsonBody(payload): JsonBody<ApplyRequest>,
) -> Api {
    let mut request: ApplyRequest = payload;
    request.options.cast_by = c.identity();
    for key in request
        .objects
        .iter()
        .map(|o| &o.key)
        .chain(&request.delete)
    {
        c.check_key(key)?;
    }
    state::check(
        &s.engine,
        &request.objects,
        request.options.create_namespaces,
    )
    .await?;
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
