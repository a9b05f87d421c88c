//! Who is calling, and what they may touch.
//!
//! In: the `Authorization: Bearer …` header of every `/v1` request, the client's address, the
//! token file, and whether runed allows open mode (loopback listener, no token created,
//! `auth.required` off). Out: a [`Caller`] in the request's extensions for the handlers, or a 401
//! before any handler runs (429 with `Retry-After` once the address has failed too often, see
//! [`super::throttle`]); then the checks the handlers ask the [`Caller`] for (403 when a
//! namespace-limited token reaches outside its namespaces, or lacks a permission). Whether
//! runed is in open mode at all is [`mode`]'s (fail closed). Must not happen here: the presented
//! token in a response or a log line (messages name the token, never its value).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) mod access;
mod caller;
mod mode;
pub(crate) mod route;

pub use caller::Caller;
pub use mode::AuthMode;

use crate::server::http::ApiState;
use crate::server::http::error::ApiError;
use crate::server::http::throttle::{self, Verdict};
use crate::server::log;
use crate::server::tokens::TokenError;
use crate::wire::error::ErrorKind;

/// The middleware in front of every `/v1` route: finds the [`Caller`] or answers 401 (429 for
/// an address over the limit of failed authentications).
pub(crate) async fn authenticate(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match caller(&state, request.headers()) {
        Ok(caller) => caller,
        Err(Refusal::Internal(error)) => return error.into_response(),
        Err(Refusal::Unauthenticated(message)) => {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0);
            return refuse(&state, peer, &message);
        }
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Why no [`Caller`] was found: the credentials (counted against the address), or the server.
enum Refusal {
    Internal(ApiError),
    Unauthenticated(String),
}

/// A failed authentication: counted against the client's address; 401, or 429 past the limit.
fn refuse(state: &ApiState, peer: Option<SocketAddr>, message: &str) -> Response {
    let verdict = peer.map_or(Verdict::Counted, |peer| {
        state.throttle.fail(peer.ip(), Instant::now())
    });
    let Verdict::Limited { first, retry_after } = verdict else {
        return ApiError::unauthorized(message).into_response();
    };
    // Round up: a client that waits the advertised time finds the window passed.
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    if first && let Some(peer) = peer {
        log::warn(&format!(
            "{} failed authentications from {} within {}s: answering its unauthenticated requests with 429 for {seconds}s",
            throttle::MAX_FAILURES,
            peer.ip(),
            throttle::WINDOW.as_secs(),
        ));
    }
    let error = ApiError::new(
        ErrorKind::RateLimited,
        "rate_limited",
        format!(
            "too many failed authentications from this address: try again in {seconds}s (requests with a valid token are not limited)"
        ),
    );
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn caller(state: &ApiState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let unreadable = |e: TokenError| match e {
        // The database that keeps the tokens is down (postgres backend): unavailable, not a
        // fault of runed, and the client says "server unreachable" (exit 8).
        TokenError::Store(_) => {
            log::warn(&format!("cannot read the tokens: {e}"));
            Refusal::Internal(ApiError::new(
                ErrorKind::Unavailable,
                "store_unavailable",
                "the server's store is unavailable; it recovers by itself once the database is back",
            ))
        }
        e => Refusal::Internal(ApiError::internal(&format!(
            "cannot read the token file: {e}"
        ))),
    };
    // An unreadable token file fails every request (500) before open mode is even considered.
    state.tokens.current().map_err(unreadable)?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(token) => match state.tokens.authenticate(token.trim()) {
            Ok(Some(info)) => Ok(Caller::Token(info)),
            Ok(None) => Err(Refusal::Unauthenticated(
                "the token is not valid (unknown or revoked)".to_owned(),
            )),
            Err(expired @ TokenError::Expired { .. }) => {
                Err(Refusal::Unauthenticated(expired.to_string()))
            }
            Err(e) => Err(unreadable(e)),
        },
        None if state.open_mode() => Ok(Caller::Open),
        None => Err(Refusal::Unauthenticated(
            "this server requires a bearer token (`Authorization: Bearer …`): pass it with `--token`, `RUNE_TOKEN` or `rune login`; an operator creates one with `runed token create`".to_owned(),
        )),
    }
}
