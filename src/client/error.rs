//! How talking to the state fails, whichever [`crate::client::Backend`] answers. A failure
//! exposes its [`ErrorKind`]; which exit code that becomes is decided by the command line, not
//! here.

use crate::wire::error::{ErrorKind, Violation, WireError};

/// A failure talking to the state, with what the server said.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server (or the embedded engine) answered with an error.
    #[error(transparent)]
    Api(WireError),
    #[error("cannot reach the server at {url}: {detail}")]
    Unreachable { detail: String, url: String },
    /// The server refused the TLS handshake over the client certificate (mTLS, issue #18).
    #[error("the server at {url} refused the connection: {detail}")]
    Refused { detail: String, url: String },
    #[error("the server at {url} did not answer in time")]
    Timeout { url: String },
    #[error("the server at {url} sent an answer rune cannot read: {detail}")]
    Protocol { detail: String, url: String },
    /// The request could not be made here: a body that does not encode, an embedded store that
    /// does not open.
    #[error("{0}")]
    Local(String),
    /// `rune logs`, `restart` and `status` on the embedded engine, which runs no services.
    #[error(
        "no process runner is active: without runed, `rune` stores services but does not run them; start runed and point `--server` (or a context) at it"
    )]
    NoRunner,
}

impl ClientError {
    /// What kind of failure this is, as the wire names kinds.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Api(error) => error.kind,
            ClientError::Timeout { .. } => ErrorKind::Timeout,
            ClientError::Refused { .. } => ErrorKind::Auth,
            ClientError::Unreachable { .. } | ClientError::Local(_) => ErrorKind::Unavailable,
            // No kind fits a missing runner or an unreadable answer: "any other error".
            ClientError::NoRunner | ClientError::Protocol { .. } => ErrorKind::Internal,
        }
    }

    /// The violations a server reported for rejected input, if any.
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            ClientError::Api(error) => error.violations(),
            _ => Vec::new(),
        }
    }
}

impl From<WireError> for ClientError {
    fn from(error: WireError) -> Self {
        ClientError::Api(error)
    }
}
