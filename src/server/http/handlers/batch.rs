//! `POST /v1/plan` and `POST /v1/apply`: a whole batch of desired objects at once.
//!
//! In: a [`PlanRequest`] or an [`ApplyRequest`]; the caller must be allowed to read every
//! object of a plan (whose prune candidates are only those it sees), and to write every object
//! and deletion of an apply and read its `expected` keys ([`access`]); the permission of the
//! route itself ([`Planner`], [`Applier`]) is checked before the body is read. Out: the plan,
//! or what the apply wrote; after an apply the runner reconciles. The `castBy` of an apply comes from the caller, never from the body.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;

use crate::server::http::ApiState;
use crate::server::http::auth::access;
use crate::server::http::auth::route::{Applier, Planner};
use crate::server::http::error::JsonBody;
use crate::server::http::handlers::{Api, admissible, blocking};
use crate::server::log;
use crate::wire::batch::{Applied, ApplyRequest, PlanRequest};

pub(crate) async fn plan(
    State(s): State<Arc<ApiState>>,
    Planner(c): Planner,
    JsonBody(request): JsonBody<PlanRequest>,
) -> Api {
    // Permissions first: what a caller may not see, it must not learn about from the checks
    // of state below either.
    access::check_plan(&c, &request)?;
    admissible(&s, &request.objects, request.options.create_namespaces).await?;
    let engine = s.engine.clone();
    let plan = blocking(move || {
        engine.plan_within(&request.objects, &request.options, &|key| c.sees(key))
    })
    .await?;
    Ok(Json(plan).into_response())
}

pub(crate) async fn apply(
    State(s): State<Arc<ApiState>>,
    Applier(c): Applier,
    JsonBody(mut request): JsonBody<ApplyRequest>,
) -> Api {
    // Read element by element, the batch grew by doubling: up to a third of it is room no
    // object uses (15 MB at 100,000 objects), held through the whole apply.
    request.objects.shrink_to_fit();
    request.options.cast_by = c.identity();
    access::check_apply(&s, &c, &request).await?;
    admissible(&s, &request.objects, request.options.create_namespaces).await?;
    let engine = s.engine.clone();
    let applied = blocking(move || {
        let mut request = request;
        log::info(&format!(
            "apply by {}: {} objects, {} deletions: begins",
            caller_name(&request),
            request.objects.len(),
            request.delete.len()
        ));
        let expected: Vec<_> = std::mem::take(&mut request.expected)
            .into_iter()
            .map(|e| (e.key, e.revision))
            .collect();
        let applied = engine.apply(
            &request.objects,
            &request.delete,
            &expected,
            &request.options,
        )?;
        // Here, where the apply commits, not after the `.await`: a client that has gone drops
        // the handler, never this task, and its apply must still be in the log (issue #13).
        log::info(&committed(&request, &applied));
        Ok(applied)
    })
    .await?;
    s.runner.reconcile().await;
    Ok(Json(applied).into_response())
}

/// The log line of a committed apply: who, how many objects and deletions, and the versions
/// written (the first few; a large cast writes thousands). Names and versions only.
fn committed(request: &ApplyRequest, applied: &Applied) -> String {
    const SHOWN: usize = 10;
    let mut versions: Vec<String> = applied
        .versions
        .iter()
        .take(SHOWN)
        .map(|(key, version)| format!("{key} v{version}"))
        .collect();
    if applied.versions.len() > SHOWN {
        versions.push(format!("and {} more", applied.versions.len() - SHOWN));
    }
    format!(
        "apply committed by {}: {} objects, {} deletions, {} changed; versions: {}",
        caller_name(request),
        request.objects.len(),
        request.delete.len(),
        applied.applied,
        if versions.is_empty() {
            "none".to_owned()
        } else {
            versions.join(", ")
        }
    )
}

fn caller_name(request: &ApplyRequest) -> &str {
    request
        .options
        .cast_by
        .as_deref()
        .unwrap_or("an anonymous caller (open mode)")
}
