//! Failures on the wire, and the one mapping from a failure to an HTTP status (runed) and to an
//! exit code (`rune`, SPEC §3.1).
//!
//! The server turns each of its errors into a [`WireError`] — a kind, a stable code, a message
//! and JSON details — and answers `{code, message, details}` with [`ErrorKind::http_status`].
//! The client reads the kind back from the status ([`ErrorKind::from_http_status`]); the
//! embedded engine hands the same [`WireError`] over without HTTP. Messages and details never
//! carry a secret value.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::object::ObjectKey;

/// The exit codes of SPEC §3.1.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    ChangesPending = 1,
    Usage = 2,
    Auth = 3,
    NotFound = 4,
    Conflict = 5,
    Validation = 6,
    Timeout = 7,
    Unreachable = 8,
    Other = 9,
    /// Ended by Ctrl-C (SIGINT) or SIGTERM: the shell's 128 + SIGINT, whichever came.
    Interrupted = 130,
}

/// What kind of failure a request met, whoever answered it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No credentials, or credentials the server does not accept.
    Auth,
    /// The object exists already, is in use, or changed since the plan.
    Conflict,
    /// A failure of the server itself; its log has the detail.
    Internal,
    /// The server's storage is full (HTTP 507): an I/O failure for the client, like
    /// [`ErrorKind::Unavailable`], but one that freeing space on the server fixes.
    InsufficientStorage,
    /// The input breaks a rule (a name, a key, a reference).
    Invalid,
    /// The input is over one of the server's limits.
    Limit,
    /// No such object or endpoint.
    NotFound,
    /// The caller is known but may not do this.
    Permission,
    /// An `If-Match` revision does not match.
    Precondition,
    /// The client did not send its request in time (HTTP 408): a body that trickled past the
    /// server's read timeout (issue #12). For `rune`, a timeout like [`ErrorKind::Timeout`].
    RequestTimeout,
    /// Too many failed authentications from the caller's address (issue #18): an
    /// authentication failure, so exit 3, like [`ErrorKind::Auth`].
    RateLimited,
    /// The work did not finish in time.
    Timeout,
    /// The server, or its storage, cannot serve now.
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status runed answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 400,
            ErrorKind::Auth => 401,
            ErrorKind::Permission => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Precondition => 412,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::Limit => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::InsufficientStorage => 507,
        }
    }

    /// The kind of an HTTP error status, as a client reads it back.
    pub fn from_http_status(status: u16) -> Self {
        match status {
            401 => ErrorKind::Auth,
            403 => ErrorKind::Permission,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            412 => ErrorKind::Precondition,
            413 => ErrorKind::Limit,
            429 => ErrorKind::RateLimited,
            400 | 422 => ErrorKind::Invalid,
            502 | 503 => ErrorKind::Unavailable,
            507 => ErrorKind::InsufficientStorage,
            408 => ErrorKind::RequestTimeout,
            504 => ErrorKind::Timeout,
            _ => ErrorKind::Internal,
        }
    }

    /// The exit code of SPEC §3.1.
    pub fn exit_code(self) -> ExitCode {
        match self {
            ErrorKind::Auth | ErrorKind::Permission | ErrorKind::RateLimited => ExitCode::Auth,
            ErrorKind::NotFound => ExitCode::NotFound,
            ErrorKind::Conflict | ErrorKind::Precondition => ExitCode::Conflict,
            ErrorKind::Invalid | ErrorKind::Limit => ExitCode::Validation,
            ErrorKind::Timeout | ErrorKind::RequestTimeout => ExitCode::Timeout,
            ErrorKind::Unavailable | ErrorKind::InsufficientStorage => ExitCode::Unreachable,
            ErrorKind::Internal => ExitCode::Other,
        }
    }
}

/// The code of runed's 409 for a well-formed write that needs objects the store does not hold
/// (a namespace, a service's secret): a conflict with the server's state on the wire, but for
/// `rune` the same validation failure (exit code 6) the embedded engine reports.
pub const UNRESOLVED: &str = "unresolved";

/// A failure as the server reports it: `{code, message, details}` plus its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct WireError {
    /// A stable, machine-readable code (`conflict`, `in_use`, `limit_exceeded`, …).
    pub code: String,
    /// Structured context: the objects concerned, `violations`, revisions.
    pub details: serde_json::Value,
    pub kind: ErrorKind,
    pub message: String,
}

impl WireError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            details: serde_json::Value::Null,
            kind,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// The body runed sends.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.clone(),
            details: self.details.clone(),
            message: self.message.clone(),
        }
    }

    /// Rebuilds the error from an HTTP status and the body the server sent.
    pub fn from_body(status: u16, body: ErrorBody) -> Self {
        let kind = if body.code == UNRESOLVED {
            ErrorKind::Invalid
        } else {
            ErrorKind::from_http_status(status)
        };
        Self {
            code: body.code,
            details: body.details,
            kind,
            message: body.message,
        }
    }

    /// The violations a server reported for rejected input, if any.
    pub fn violations(&self) -> Vec<Violation> {
        self.details
            .get("violations")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}

/// The JSON body of an error response.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub details: serde_json::Value,
    pub message: String,
}

/// One rejected detail of one object: what, which key, and for limits the limit and (for
/// configmaps only — a secret's size says something about the secret) the observed size.
/// `code` is the diagnostic code `rune lint` gives the same fault (one rule set on both sides) and
/// `field` the path inside the object (`spec.scale`, `data.KEY`, `labels.KEY`), so that the CLI
/// can point at the runefile's line.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    #[serde(flatten)]
    pub object: ObjectKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<u64>,
}

impl Violation {
    pub fn new(object: &ObjectKey, message: impl Into<String>) -> Self {
        Self {
            code: None,
            field: None,
            key: None,
            limit: None,
            message: message.into(),
            object: object.clone(),
            observed: None,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorKind, ExitCode};

    const ALL: [ErrorKind; 13] = [
        ErrorKind::Auth,
        ErrorKind::Conflict,
        ErrorKind::InsufficientStorage,
        ErrorKind::Internal,
        ErrorKind::Invalid,
        ErrorKind::Limit,
        ErrorKind::NotFound,
        ErrorKind::Permission,
        ErrorKind::Precondition,
        ErrorKind::RateLimited,
        ErrorKind::RequestTimeout,
        ErrorKind::Timeout,
        ErrorKind::Unavailable,
    ];

    /// What runed answers, a client reads back as the same kind: one mapping, both ways.
    #[test]
    fn statuses_round_trip() {
        // No wildcard: a new kind does not compile until it is in `ALL` as well.
        let listed = |kind: ErrorKind| match kind {
            ErrorKind::Auth
            | ErrorKind::Conflict
            | ErrorKind::InsufficientStorage
            | ErrorKind::Internal
            | ErrorKind::Invalid
            | ErrorKind::Limit
            | ErrorKind::NotFound
            | ErrorKind::Permission
            | ErrorKind::Precondition
            | ErrorKind::RateLimited
            | ErrorKind::RequestTimeout
            | ErrorKind::Timeout
            | ErrorKind::Unavailable => ALL.contains(&kind),
        };
        assert!(ALL.into_iter().all(listed));
        for kind in ALL {
            assert_eq!(ErrorKind::from_http_status(kind.http_status()), kind);
        }
    }

    /// runed's 409 `unresolved` (a missing namespace or reference) is, for `rune`, the same
    /// validation failure the embedded engine reports.
    #[test]
    fn unresolved_is_a_validation_failure() {
        let body = super::ErrorBody {
            code: super::UNRESOLVED.to_owned(),
            details: serde_json::Value::Null,
            message: String::new(),
        };
        let error = super::WireError::from_body(409, body);
        assert_eq!(error.kind.exit_code(), ExitCode::Validation);
    }

    /// The exit codes of SPEC §3.1 for the failures a server reports.
    #[test]
    fn exit_codes_follow_the_spec() {
        let code = |status| ErrorKind::from_http_status(status).exit_code();
        assert_eq!(code(401), ExitCode::Auth);
        assert_eq!(code(403), ExitCode::Auth);
        assert_eq!(code(429), ExitCode::Auth);
        assert_eq!(code(404), ExitCode::NotFound);
        assert_eq!(code(409), ExitCode::Conflict);
        assert_eq!(code(412), ExitCode::Conflict);
        assert_eq!(code(400), ExitCode::Validation);
        assert_eq!(code(413), ExitCode::Validation);
        assert_eq!(code(422), ExitCode::Validation);
        assert_eq!(code(504), ExitCode::Timeout);
        assert_eq!(code(408), ExitCode::Timeout);
        assert_eq!(code(503), ExitCode::Unreachable);
        assert_eq!(code(507), ExitCode::Unreachable);
        assert_eq!(code(500), ExitCode::Other);
        assert_eq!(code(418), ExitCode::Other);
    }
}
