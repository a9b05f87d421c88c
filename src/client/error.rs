//! How talking to the state fails, whichever [`crate::client::Backend`] answers. Every failure
//! carries the exit code it maps to (SPEC §3.1).

use crate::wire::error::{ExitCode, Violation, WireError};

/// A failure talking to the state, with what the server said.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server (or the embedded engine) answered with an error.
    #[error(transparent)]
    Api(WireError),
    #[error("cannot reach the server at {url}: {detail}")]
    Unreachable { detail: String, url: String },
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
    /// The exit code of SPEC §3.1 for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ClientError::Api(error) => error.kind.exit_code(),
            ClientError::Timeout { .. } => ExitCode::Timeout,
            ClientError::Unreachable { .. } | ClientError::Local(_) => ExitCode::Unreachable,
            ClientError::NoRunner | ClientError::Protocol { .. } => ExitCode::Other,
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
