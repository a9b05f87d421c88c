//! History and rollback routes (SPEC §3, issue #15): `GET /v1/history/{ns}/secrets/{name}`,
//! `GET /v1/history/{ns}/configmaps/{name}` (`read`), and `POST /v1/rollback/{ns}/secrets/{name}`,
//! `POST /v1/rollback/{ns}/configmaps/{name}` (`cast`).
//!
//! In: the caller, the object from the path, for a rollback the version to copy. Out: a
//! [`History`](crate::wire::history::History) (key names only) or a
//! [`RollbackResult`](crate::wire::history::RollbackResult). The caller's reach is checked on
//! the key before the engine is asked anything, so a refusal never tells whether the object
//! exists. Must not happen here: a value in an answer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};

use crate::resource::Kind;
use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::http::error::JsonBody;
use crate::server::http::handlers::{Api, blocking};
use crate::server::tokens::Permission;
use crate::wire::history::RollbackRequest;
use crate::wire::object::{KindName, ObjectKey};

fn key(kind: Kind, namespace: String, name: String) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name,
        namespace,
    }
}

async fn history(s: &ApiState, c: &Caller, key: ObjectKey) -> Api {
    c.require(Permission::Read, "reading a history")?;
    c.check_read(&key)?;
    let engine = s.engine.clone();
    let history = blocking(move || engine.history(&key)).await?;
    Ok(Json(history).into_response())
}

async fn rollback(s: &ApiState, c: &Caller, key: ObjectKey, request: RollbackRequest) -> Api {
    c.check_write(&key)?;
    let engine = s.engine.clone();
    let cast_by = c.identity();
    let result =
        blocking(move || engine.rollback(&key, request.to_version, cast_by.as_ref())).await?;
    Ok(Json(result).into_response())
}

/// `GET /v1/history/{ns}/secrets/{name}`.
pub(crate) async fn secret_history(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
) -> Api {
    history(&s, &c, key(Kind::Secret, ns, name)).await
}

/// `GET /v1/history/{ns}/configmaps/{name}`.
pub(crate) async fn configmap_history(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
) -> Api {
    history(&s, &c, key(Kind::ConfigMap, ns, name)).await
}

/// `POST /v1/rollback/{ns}/secrets/{name}`.
pub(crate) async fn secret_rollback(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    JsonBody(request): JsonBody<RollbackRequest>,
) -> Api {
    rollback(&s, &c, key(Kind::Secret, ns, name), request).await
}

/// `POST /v1/rollback/{ns}/configmaps/{name}`.
pub(crate) async fn configmap_rollback(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, name)): Path<(String, String)>,
    JsonBody(request): JsonBody<RollbackRequest>,
) -> Api {
    rollback(&s, &c, key(Kind::ConfigMap, ns, name), request).await
}
