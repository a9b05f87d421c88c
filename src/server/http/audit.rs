//! The HTTP side of the audit (SPEC §4.6, issue #15): who each request acts as, and a record of
//! every denied request.
//!
//! In: each `/v1` request with its [`Caller`] (once authenticated) and the client's address.
//! Out: the request handled with its [`Actor`] in scope (so that the engine's write
//! transactions record it with the change), and for a 401 or a 403 an audit record of the
//! denial: caller, address, `METHOD PATH`, status. Must not happen here: the query string, a
//! header or the body in a record (they may carry a token or a value).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::audit::{self, Actor};
use crate::server::clock;
use crate::server::http::ApiState;
use crate::server::http::auth::Caller;
use crate::server::log;
use crate::wire::audit::AuditEntry;

fn remote(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

/// Inside authentication: runs the request with its actor in scope, and leaves the actor on
/// the response for [`record_denials`].
pub(crate) async fn with_actor(request: Request, next: Next) -> Response {
    let actor = Actor {
        caller: request
            .extensions()
            .get::<Caller>()
            .and_then(Caller::identity),
        remote: remote(&request),
    };
    let mut response = audit::scope(actor.clone(), next.run(request)).await;
    response.extensions_mut().insert(actor);
    response
}

/// Outside authentication: a 401 or 403 becomes an audit record. A failure to write it is
/// logged; the answer to the client stays what it was.
pub(crate) async fn record_denials(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let described = format!("{} {}", request.method(), request.uri().path());
    let address = remote(&request);
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if status != 401 && status != 403 {
        return response;
    }
    let caller = response
        .extensions()
        .get::<Actor>()
        .and_then(|a| a.caller.clone());
    let entry = AuditEntry {
        action: "request".to_owned(),
        at: clock::now(),
        caller,
        objects: Vec::new(),
        outcome: "denied".to_owned(),
        remote: address,
        request: Some(described),
        status: Some(status),
    };
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || engine.audit_denied(&entry)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => log::error(&format!(
            "cannot write the audit record of a denial: {error}"
        )),
        Err(error) => log::error(&format!(
            "cannot write the audit record of a denial: {error}"
        )),
    }
    response
}
