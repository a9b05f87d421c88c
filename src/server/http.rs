//! runed's HTTP/JSON API (SPEC §4.4), a thin layer over the [`Engine`] and the process
//! [`Runner`].
//!
//! In: HTTP requests — a bearer token, a path, a query string and a JSON body shaped by
//! [`crate::wire`]. Out: JSON shaped by [`crate::wire`] (objects, plans, apply results, runner
//! status, log chunks) or an error `{"code", "message", "details"}` with the status of its
//! [`crate::wire::error::ErrorKind`], and one line per request in runed's log.
//!
//! Must not happen here: a secret value in a response or a log line. The engine returns none,
//! nothing here echoes a request body, and a malformed body or query is answered with the
//! values cut out of the parser's message (`error::redact_values`). (An instance's log holds
//! what the service printed, nothing else.)
//!
//! The parts: [`router`] (routes, body limit, request log), [`auth`] (who is calling and what
//! they may touch), [`throttle`] (the limit on failed authentications), [`error`] (failures as responses), [`handlers`] (one module per resource
//! family), [`daemon`] (starting and stopping runed), [`conn`] (connections, with read timeouts) and
//! [`tls`] (the HTTPS listener). The
//! `OpenAPI` description of the routes is `schemas/openapi.json`.

pub mod audit;
pub mod auth;
mod body;
pub mod conn;
pub mod daemon;
pub mod error;
pub mod handlers;
pub mod router;
pub mod throttle;
pub mod tls;

use std::sync::Arc;

use crate::server::engine::Engine;
use crate::server::runner::Runner;
use crate::server::tokens::Tokens;

/// What every handler shares.
pub struct ApiState {
    /// `auth.required: true`: a token is needed even on loopback with no token created.
    pub auth_required: bool,
    /// Whether a token ever existed for this store (fail closed).
    pub auth_mode: auth::AuthMode,
    pub engine: Arc<Engine>,
    /// Whether the listener is on a loopback address (open mode is allowed only there).
    pub loopback: bool,
    /// Runs `process:` services; told about every successful write.
    pub runner: Arc<Runner>,
    /// Failed authentications per client address (issue #18).
    pub throttle: throttle::Throttle,
    pub tokens: Tokens,
}

impl ApiState {
    /// Open mode: no `auth.required`, a loopback listener, and no token ever created for this
    /// store. The one definition used by authentication and by the process runner's gate.
    pub fn open_mode(&self) -> bool {
        !self.auth_required && self.loopback && !self.auth_mode.closed(&self.tokens, &self.engine)
    }
}
