//! Namespaces and the per-kind CRUD: `/v1/namespaces[/{ns}]`,
//! `/v1/namespaces/{ns}/{kind}[/{name}]` for namespaced kinds and `/v1/{kind}[/{name}]` for
//! cluster-scoped ones.
//!
//! In: the path (it decides kind, namespace and, for PUT, name), a [`Desired`] body for writes,
//! `If-Match` for optimistic concurrency, `?force=` for deletes. Out: [`crate::wire`] objects
//! (metadata, never a secret value: the engine returns none), 201/200/204; after every write the
//! runner reconciles. A listing shows a namespace-limited token only what it may read; reads
//! need `read`, writes `cast` (`admin` for cluster kinds, `run` for `process:` services).
//!
//! Order of refusals, permissions first (a caller must not learn what it may not see from the
//! refusals after them),, then so that a client can tell a broken request from a missing
//! prerequisite:
//! a path name that is not a DNS-1123 label is a 404 for reads, lists and deletes; a write's own
//! problems (names, keys, limits) are a 400/413 before `If-Match` is compared; what the store
//! lacks (namespace, a service's secret) is a 409 `unresolved` ([`super::state`]).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::resource::Kind;
use crate::server::http::ApiState;
use crate::server::http::auth::{Caller, access};
use crate::server::http::error::{ApiError, JsonBody, query};
use crate::server::http::handlers::{Api, admissible, blocking};
use crate::server::tokens::Permission;
use crate::validate::names::dns1123_problem;
use crate::wire::object::{Desired, KindName, ObjectKey, namespace_key};

/// `secrets`, `configmaps` (or `configs`), `services`, `volumes`, `storageclasses`.
fn kind_segment(segment: &str) -> Option<Kind> {
    match segment.to_ascii_lowercase().as_str() {
        "secrets" | "secret" => Some(Kind::Secret),
        "configmaps" | "configmap" | "configs" | "config" => Some(Kind::ConfigMap),
        "services" | "service" => Some(Kind::Service),
        "volumes" | "volume" => Some(Kind::Volume),
        "storageclasses" | "storageclass" => Some(Kind::StorageClass),
        "namespaces" | "namespace" => Some(Kind::Namespace),
        _ => None,
    }
}

fn namespaced_kind(segment: &str) -> Result<Kind, ApiError> {
    kind_segment(segment)
        .filter(|k| k.is_namespaced())
        .ok_or_else(|| ApiError::not_found(format!("`{segment}` is not a namespaced kind")))
}

fn cluster_kind(segment: &str) -> Result<Kind, ApiError> {
    kind_segment(segment)
        .filter(|k| !k.is_namespaced() && *k != Kind::Namespace)
        .ok_or_else(|| ApiError::not_found(format!("`{segment}` is not a cluster-scoped kind")))
}

/// A path that names an object for reading or deleting: a name that is not a DNS-1123 label
/// names nothing that can exist.
fn existing(key: ObjectKey) -> Result<ObjectKey, ApiError> {
    if names_are_valid(&key) {
        Ok(key)
    } else {
        Err(ApiError::not_found(format!("no such {}", key.kind.0)))
    }
}

fn names_are_valid(key: &ObjectKey) -> bool {
    dns1123_problem(&key.name).is_none()
        && (key.namespace.is_empty() || dns1123_problem(&key.namespace).is_none())
}

fn object_key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

/// A body for a single-object write: the path decides kind, namespace and (for PUT) name. The
/// body may repeat namespace and name (`rune` does), but only as the path has them.
fn place(mut desired: Desired, key: ObjectKey, name_from_path: bool) -> Result<Desired, ApiError> {
    if desired.key.kind != key.kind {
        return Err(ApiError::bad_request(format!(
            "the body describes a {}, but the path names {}",
            desired.key.kind.0, key.kind.0
        )));
    }
    if !desired.key.namespace.is_empty() && desired.key.namespace != key.namespace {
        return Err(ApiError::bad_request(format!(
            "the body names namespace `{}`, but the path names `{}`",
            desired.key.namespace, key.namespace
        )));
    }
    if name_from_path && !desired.key.name.is_empty() && desired.key.name != key.name {
        return Err(ApiError::bad_request(format!(
            "the body names `{}`, but the path names `{}`",
            desired.key.name, key.name
        )));
    }
    if name_from_path {
        desired.key.name = key.name;
    }
    desired.key.namespace = key.namespace;
    Ok(desired)
}

#[derive(Deserialize)]
pub(crate) struct DeleteQuery {
    #[serde(default)]
    force: bool,
}

/// `If-Match: <revision>` (quotes allowed) for optimistic concurrency on PUT.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().trim_matches('"').parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("`If-Match` must be an object revision number".to_owned())
        })
}

async fn list(
    state: &ApiState,
    caller: &Caller,
    kind: Kind,
    namespace: Option<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "listing")?;
    if let Some(ns) = &namespace {
        caller.check_namespace(ns)?;
        existing(namespace_key(ns))?;
    }
    let engine = state.engine.clone();
    let mut items = blocking(move || engine.list(kind, namespace.as_deref())).await?;
    items.retain(|item| caller.sees(&item.object.key));
    Ok(Json(json!({ "items": items })).into_response())
}

async fn read(state: &ApiState, caller: &Caller, key: ObjectKey) -> Result<Response, ApiError> {
    caller.check_read(&key)?;
    caller.require(Permission::Read, "reading")?;
    let key = existing(key)?;
    let engine = state.engine.clone();
    Ok(Json(blocking(move || engine.get(&key)).await?).into_response())
}

async fn write(
    state: &ApiState,
    caller: &Caller,
    desired: Desired,
    create: bool,
    revision: Option<u64>,
) -> Result<Response, ApiError> {
    access::check_writes(state, caller, &[&desired], &[]).await?;
    // A malformed write is a 400 (or 413) whatever `If-Match` says.
    admissible(state, std::slice::from_ref(&desired), false).await?;
    let engine = state.engine.clone();
    let key = desired.key.clone();
    let cast_by = caller.identity();
    let result = blocking(move || {
        engine.put(&desired, create, revision, cast_by)?;
        engine.get(&key)
    })
    .await?;
    state.runner.reconcile().await;
    let status = if create {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)).into_response())
}

async fn remove(
    state: &ApiState,
    caller: &Caller,
    key: ObjectKey,
    force: bool,
) -> Result<Response, ApiError> {
    access::check_writes(state, caller, &[], std::slice::from_ref(&key)).await?;
    let key = existing(key)?;
    let engine = state.engine.clone();
    blocking(move || engine.delete(&key, force)).await?;
    state.runner.reconcile().await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn list_namespaces(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
) -> Api {
    list(&s, &c, Kind::Namespace, None).await
}

pub(crate) async fn create_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    JsonBody(payload): JsonBody<Desired>,
) -> Api {
    let desired = payload;
    let key = namespace_key(&desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

pub(crate) async fn get_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(ns): Path<String>,
) -> Api {
    read(&s, &c, namespace_key(&ns)).await
}

pub(crate) async fn delete_namespace(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(ns): Path<String>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    remove(&s, &c, namespace_key(&ns), query(q)?.force).await
}

pub(crate) async fn list_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind)): Path<(String, String)>,
) -> Api {
    list(&s, &c, namespaced_kind(&kind)?, Some(ns)).await
}

pub(crate) async fn create_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind)): Path<(String, String)>,
    JsonBody(payload): JsonBody<Desired>,
) -> Api {
    let kind = namespaced_kind(&kind)?;
    let desired = payload;
    let key = object_key(kind, &ns, &desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

pub(crate) async fn get_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Api {
    read(&s, &c, object_key(namespaced_kind(&kind)?, &ns, &name)).await
}

pub(crate) async fn put_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(payload): JsonBody<Desired>,
) -> Api {
    let key = object_key(namespaced_kind(&kind)?, &ns, &name);
    let desired = place(payload, key, true)?;
    write(&s, &c, desired, false, if_match(&headers)?).await
}

pub(crate) async fn delete_namespaced(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((ns, kind, name)): Path<(String, String, String)>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    let key = object_key(namespaced_kind(&kind)?, &ns, &name);
    remove(&s, &c, key, query(q)?.force).await
}

pub(crate) async fn list_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(kind): Path<String>,
) -> Api {
    list(&s, &c, cluster_kind(&kind)?, None).await
}

pub(crate) async fn create_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path(kind): Path<String>,
    JsonBody(payload): JsonBody<Desired>,
) -> Api {
    let kind = cluster_kind(&kind)?;
    let desired = payload;
    let key = object_key(kind, "", &desired.key.name);
    write(&s, &c, place(desired, key, false)?, true, None).await
}

pub(crate) async fn get_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
) -> Api {
    read(&s, &c, object_key(cluster_kind(&kind)?, "", &name)).await
}

pub(crate) async fn put_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(payload): JsonBody<Desired>,
) -> Api {
    let key = object_key(cluster_kind(&kind)?, "", &name);
    let desired = place(payload, key, true)?;
    write(&s, &c, desired, false, if_match(&headers)?).await
}

pub(crate) async fn delete_cluster(
    State(s): State<Arc<ApiState>>,
    Extension(c): Extension<Caller>,
    Path((kind, name)): Path<(String, String)>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Api {
    let key = object_key(cluster_kind(&kind)?, "", &name);
    remove(&s, &c, key, query(q)?.force).await
}
