//! Who is calling, and what they may touch.
//!
//! In: the `Authorization: Bearer …` header of every `/v1` request, the token file, and whether
//! runed allows open mode (loopback listener, no token created, `auth.required` off). Out: a
//! [`Caller`] in the request's extensions for the handlers, or a 401 before any handler runs;
//! then the per-object checks the handlers ask for (403 when a namespace-limited token reaches
//! outside its namespaces). Must not happen here: the presented token in a response or a log
//! line (messages name the token, never its value).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::resource::Kind;
use crate::server::http::ApiState;
use crate::server::http::error::ApiError;
use crate::server::tokens::TokenInfo;
use crate::wire::object::ObjectKey;

/// Who is calling: nobody (open mode) or the holder of a token.
#[derive(Clone)]
pub enum Caller {
    Open,
    Token(TokenInfo),
}

/// Names the token only: its stored hash is an unkeyed hash of a credential.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Open => f.write_str("Open"),
            Caller::Token(token) => f.debug_tuple("Token").field(&token.name).finish(),
        }
    }
}

impl Caller {
    /// Whether this caller may see and act in `namespace` (an open server allows everything).
    pub(crate) fn allows(&self, namespace: &str) -> bool {
        match self {
            Caller::Open => true,
            Caller::Token(token) => token.allows(namespace),
        }
    }

    pub(crate) fn check_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if !token.allows(namespace) => Err(ApiError::forbidden(format!(
                "token `{}` may not act in namespace `{namespace}`",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// The `castBy` of what this caller applies; an open server knows nobody.
    pub(crate) fn identity(&self) -> Option<String> {
        match self {
            Caller::Open => None,
            Caller::Token(token) => Some(format!("token:{}", token.name)),
        }
    }

    fn check_cluster(&self) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if token.is_scoped() => Err(ApiError::forbidden(format!(
                "token `{}` is limited to namespaces and may not change cluster-scoped objects",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// Whether a listing shows `key` to this caller: the same rule as [`Caller::check_read`].
    pub(crate) fn sees(&self, key: &ObjectKey) -> bool {
        match key.kind.0 {
            Kind::Namespace => self.allows(&key.name),
            kind if kind.is_namespaced() => self.allows(&key.namespace),
            _ => true,
        }
    }

    /// Reading is wider than writing: a namespace-limited token reads its namespaces, what is in
    /// them, and cluster-scoped objects (as listing them already allows).
    pub(crate) fn check_read(&self, key: &ObjectKey) -> Result<(), ApiError> {
        match key.kind.0 {
            Kind::Namespace => self.check_namespace(&key.name),
            kind if kind.is_namespaced() => self.check_namespace(&key.namespace),
            _ => Ok(()),
        }
    }

    /// Writing: a namespace-limited token writes only inside its namespaces; creating or
    /// deleting a namespace, or a cluster-scoped object, needs an unlimited one.
    pub(crate) fn check_key(&self, key: &ObjectKey) -> Result<(), ApiError> {
        if key.kind.0 == Kind::Namespace {
            return self
                .check_namespace(&key.name)
                .and_then(|()| self.check_cluster());
        }
        if key.kind.0.is_namespaced() {
            self.check_namespace(&key.namespace)
        } else {
            self.check_cluster()
        }
    }
}

/// The middleware in front of every `/v1` route: finds the [`Caller`] or answers 401.
pub(crate) async fn authenticate(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match caller(&state, request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn caller(state: &ApiState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let tokens = state
        .tokens
        .current()
        .map_err(|e| ApiError::internal(&format!("cannot read the token file: {e}")))?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(token) => match state.tokens.authenticate(token.trim()) {
            Ok(Some(info)) => Ok(Caller::Token(info)),
            Ok(None) => Err(ApiError::unauthorized(
                "the token is not valid (unknown or revoked)",
            )),
            Err(e) => Err(ApiError::internal(&format!(
                "cannot read the token file: {e}"
            ))),
        },
        None if tokens.is_empty() && state.loopback && !state.auth_required => Ok(Caller::Open),
        None => Err(ApiError::unauthorized(
            "this server requires a bearer token (`Authorization: Bearer …`): pass it with `--token`, `RUNE_TOKEN` or `rune login`; an operator creates one with `runed token create`",
        )),
    }
}
