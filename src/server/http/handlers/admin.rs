//! The admin routes of KEK rotation (SPEC §4.6): `GET /v1/admin/kek` (what each KEK wraps) and
//! `POST /v1/admin/kek/rewrap` (one batch, one transaction). Both need the `admin` permission.
//!
//! In: the caller and, for a rewrap, where the batch starts and how large it is. Out: a
//! [`KekStatus`](crate::wire::admin::KekStatus) or a
//! [`RewrapBatch`](crate::wire::admin::RewrapBatch). Must not happen here: key material in an
//! answer or a log line (KEKs are named by their public id).

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::{Extension, Json};

use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::JsonBody;
use crate::server::http::handlers::{Api, blocking};
use crate::server::log;
use crate::server::tokens::Permission;
use crate::wire::admin::RewrapRequest;

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
