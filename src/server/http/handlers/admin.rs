//! The admin routes (SPEC §4.6): `GET /v1/admin/kek` (what each KEK wraps),
//! `POST /v1/admin/kek/rewrap` (one batch, one transaction) and `GET /v1/audit` (the audit
//! records), the seal-identity routes and `POST /v1/reseal` (sealed values opened and sealed
//! again for new recipients, only the new armors answered). All need the `admin` permission.
//!
//! In: the caller and, for a rewrap, where the batch starts and how large it is. Out: a
//! [`KekStatus`](crate::wire::admin::KekStatus) or a
//! [`RewrapBatch`](crate::wire::admin::RewrapBatch). Must not happen here: key material in an
//! answer or a log line (KEKs are named by their public id).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};

use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::{ApiError, JsonBody, query};
use crate::server::http::handlers::{Api, blocking};
use crate::server::log;
use crate::server::tokens::Permission;
use crate::wire::admin::{ResealRequest, ResealResult, RewrapRequest, SealIdentities};
use crate::wire::audit::AuditList;

/// The most records one `GET /v1/audit` returns.
const AUDIT_LIMIT: usize = 10_000;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    namespace: Option<String>,
    /// A duration back from now (`1h`, `7d`) or an RFC 3339 time (`2026-11-30T12:00:00Z`).
    since: Option<String>,
}

/// `GET /v1/audit[?since=…&namespace=NS]`: audit records, oldest first (`admin`).
pub(crate) async fn audit(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Api {
    let q = query(q)?;
    c.require(Permission::Admin, "reading the audit records")?;
    let since = crate::server::audit::since(q.since.as_deref()).map_err(ApiError::bad_request)?;
    let engine = s.engine.clone();
    let items = blocking(move || engine.audit(&since, q.namespace.as_deref(), AUDIT_LIMIT)).await?;
    Ok(Json(AuditList { items }).into_response())
}

/// `GET /v1/admin/kek`: every KEK the store knows, with the records it wraps.
pub(crate) async fn kek_status(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
) -> Api {
    c.require(Permission::Admin, "reading the KEK status")?;
    let engine = s.engine.clone();
    let status = blocking(move || engine.kek_status()).await?;
    Ok(Json(status).into_response())
}

/// `POST /v1/admin/kek/rewrap`: one batch of a rewrap; the last one (no `next`) says in the
/// log which previous KEKs can now be removed.
pub(crate) async fn kek_rewrap(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    JsonBody(request): JsonBody<RewrapRequest>,
) -> Api {
    c.require(Permission::Admin, "re-wrapping the stored keys")?;
    let engine = s.engine.clone();
    let (batch, status) = blocking(move || {
        let batch = engine.kek_rewrap(&request)?;
        let status = match batch.next {
            None => Some(engine.kek_status()?),
            Some(_) => None,
        };
        Ok((batch, status))
    })
    .await?;
    if batch.rewrapped > 0 {
        log::info(&format!(
            "rewrap: {} records moved to KEK {}",
            batch.rewrapped,
            s.engine.current_kek_id()
        ));
    }
    if let Some(status) = status {
        crate::server::keyring::announce_removable(&status);
    }
    Ok(Json(batch).into_response())
}

/// `GET /v1/admin/seal-identity`: the recipients of every seal identity, current first.
pub(crate) async fn seal_identities(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
) -> Api {
    c.require(Permission::Admin, "reading the seal identities")?;
    let recipients = s.engine.seal_identities();
    Ok(Json(SealIdentities {
        current: recipients.first().cloned().unwrap_or_default(),
        recipients,
    })
    .into_response())
}

/// `POST /v1/admin/seal-identity/rotate`: a new current seal identity.
pub(crate) async fn rotate_seal_identity(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
) -> Api {
    c.require(Permission::Admin, "rotating the seal identity")?;
    let engine = s.engine.clone();
    let current = blocking(move || engine.rotate_seal_identity()).await?;
    log::info(&format!(
        "seal identity rotated: the current recipient is {current}"
    ));
    Ok(Json(SealIdentities {
        current,
        recipients: s.engine.seal_identities(),
    })
    .into_response())
}

/// `POST /v1/reseal`: the values opened with every seal identity and sealed again for the
/// request's recipients, each for its own place; a value sealed for another place, or one no
/// identity opens, refuses the whole request (400 with a violation per value). A token limited
/// to namespaces reseals only in them.
pub(crate) async fn reseal(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    JsonBody(request): JsonBody<ResealRequest>,
) -> Api {
    c.require(Permission::Admin, "re-sealing sealed values")?;
    for value in &request.values {
        c.check_namespace(&value.namespace)?;
    }
    let engine = s.engine.clone();
    let count = request.values.len();
    let sealed = blocking(move || engine.reseal(&request)).await?;
    log::info(&format!("reseal: {count} sealed values re-sealed"));
    Ok(Json(ResealResult { sealed }).into_response())
}
