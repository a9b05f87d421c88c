//! The permission a whole route needs, checked from the headers alone: the extractors
//! [`Planner`] and [`Applier`] run before the body extractor, so that a caller without `read`
//! (plan) or `cast` (apply) gets its 403 before runed reads a large body (issue #13). The
//! 401 of a missing or wrong token comes earlier still, from [`super::authenticate`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::server::http::auth::Caller;
use crate::server::http::error::ApiError;
use crate::server::tokens::Permission;

/// The caller of `POST /v1/plan`, which holds `read`.
pub(crate) struct Planner(pub Caller);

/// The caller of `POST /v1/apply`, which holds `cast`.
pub(crate) struct Applier(pub Caller);

/// The [`Caller`] that authentication put into the request, once it holds `permission`.
fn permitted(parts: &Parts, permission: Permission, action: &str) -> Result<Caller, ApiError> {
    let caller = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| ApiError::internal("a route behind authentication found no caller"))?;
    caller.require(permission, action)?;
    Ok(caller)
}

impl<S: Send + Sync> FromRequestParts<S> for Planner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        permitted(parts, Permission::Read, "planning").map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Applier {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        permitted(parts, Permission::Cast, "applying").map(Self)
    }
}
