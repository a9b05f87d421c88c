//! Why an engine call failed, and the one mapping of those failures to what clients see.
//!
//! In: engine, store and crypto failures. Out: [`EngineError`] for the server's callers and a
//! [`WireError`] for clients, over HTTP or embedded alike.
//! Must not happen here: a secret value, a path or a store detail in a client-facing message
//! (internal failures are logged in full and reported in general terms).

use std::path::PathBuf;

use serde_json::json;

use crate::server::crypto::CryptoError;
use crate::server::store::{IoFailure, StoreError};
use crate::wire::error::{ErrorKind, Violation, WireError};
use crate::wire::object::ObjectKey;

/// Why an engine call failed; each variant maps to one HTTP status and one exit code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{} changed since the plan; plan again", list(.0))]
    Conflict(Vec<ObjectKey>),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{key} already exists")]
    Exists { key: ObjectKey },
    #[error("{key} is in use by {}", list(.users))]
    InUse {
        key: ObjectKey,
        users: Vec<ObjectKey>,
    },
    #[error("the input was rejected: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Violation>),
    #[error(
        "the KEK does not match this data directory: the store still needs KEK `{id}` for {count} records (secret versions and seal identities), and it is not loaded; start with that KEK, or list it under `crypto.previous-keks` until `rune admin kek rewrap` has moved them to the current KEK"
    )]
    MissingKek { count: u64, id: String },
    #[error("namespace `{namespace}` is not empty ({count} objects)")]
    NamespaceNotEmpty { count: usize, namespace: String },
    #[error("{0} not found")]
    NotFound(ObjectKey),
    #[error("version {version} of {key} is no longer retained ({retained})")]
    VersionGone {
        key: ObjectKey,
        retained: String,
        version: u64,
    },
    #[error("{key} is at revision {}, not {expected}", current.map_or_else(|| "none (absent)".to_owned(), |r| r.to_string()))]
    PreconditionFailed {
        current: Option<u64>,
        expected: u64,
        key: ObjectKey,
    },
    #[error("cannot create the data directory `{path}`: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the data directory `{0}` is in use by another process (a running runed, or another rune)"
    )]
    Locked(PathBuf),
    /// A request the engine refuses as a whole (a count over the bound its schema states, a
    /// malformed field): 400. The message quotes nothing the caller sent.
    #[error("{0}")]
    Request(String),
    #[error("store error: {0}")]
    Store(String),
    /// The store could not read or write its storage (a full or failing disk): named to the
    /// client, which can do something about it, unlike other store failures.
    #[error("{0}")]
    StoreIo(IoFailure),
    #[error(
        "the KEK does not match this data directory: it was set up with another key encryption key; start with the KEK it was created with"
    )]
    WrongKek,
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Backend(detail) => EngineError::Store(detail),
            StoreError::DataDir { path, source } => EngineError::DataDir { path, source },
            StoreError::Io(failure) => EngineError::StoreIo(failure),
            StoreError::Locked(path) => EngineError::Locked(path),
        }
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(error: serde_json::Error) -> Self {
        EngineError::Store(error.to_string())
    }
}

/// Internal failures are logged in full and reported in general terms: their detail (a path,
/// a store error) is for the operator, not for every client.
pub fn internal(detail: &str) -> WireError {
    crate::server::log::error(detail);
    WireError::new(
        ErrorKind::Internal,
        "internal",
        "internal server error; see the server log",
    )
}

impl From<EngineError> for WireError {
    /// The one mapping of engine failures to what clients see, over HTTP or embedded alike.
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        match error {
            EngineError::Conflict(keys) => WireError::new(ErrorKind::Conflict, "conflict", message)
                .with_details(json!({ "objects": keys })),
            EngineError::Exists { key } => {
                WireError::new(ErrorKind::Conflict, "already_exists", message)
                    .with_details(json!({ "object": key }))
            }
            EngineError::InUse { key, users } => {
                WireError::new(ErrorKind::Conflict, "in_use", message)
                    .with_details(json!({ "object": key, "users": users }))
            }
            EngineError::NamespaceNotEmpty { .. } => {
                WireError::new(ErrorKind::Conflict, "namespace_not_empty", message)
            }
            EngineError::Invalid(violations) => {
                let (kind, code) = if violations.iter().any(|v| v.limit.is_some()) {
                    (ErrorKind::Limit, "limit_exceeded")
                } else {
                    (ErrorKind::Invalid, "invalid")
                };
                WireError::new(kind, code, message)
                    .with_details(json!({ "violations": violations }))
            }
            EngineError::NotFound(key) => WireError::new(ErrorKind::NotFound, "not_found", message)
                .with_details(json!({ "object": key })),
            EngineError::VersionGone { key, version, .. } => {
                WireError::new(ErrorKind::NotFound, "version_not_retained", message)
                    .with_details(json!({ "object": key, "version": version }))
            }
            EngineError::PreconditionFailed { current, key, .. } => {
                WireError::new(ErrorKind::Precondition, "precondition_failed", message)
                    .with_details(json!({ "object": key, "revision": current }))
            }
            EngineError::Request(_) => WireError::new(ErrorKind::Invalid, "invalid", message),
            EngineError::StoreIo(failure) => store_io(&failure),
            EngineError::Crypto(_)
            | EngineError::DataDir { .. }
            | EngineError::Locked(_)
            | EngineError::MissingKek { .. }
            | EngineError::Store(_)
            | EngineError::WrongKek => internal(&message),
        }
    }
}

/// A store I/O failure: 507 when the storage is full, 503 otherwise (exit 8 either way), with the
/// system's words for the cause, which carry no path and no data. (The store logged it, for the
/// operator who frees the space.)
fn store_io(failure: &IoFailure) -> WireError {
    let (kind, code, hint) = if failure.full {
        (
            ErrorKind::InsufficientStorage,
            "insufficient_storage",
            "free space where the data directory is; the store recovers by itself",
        )
    } else {
        (
            ErrorKind::Unavailable,
            "store_unavailable",
            "the store recovers by itself once its storage works again",
        )
    };
    WireError::new(
        kind,
        code,
        format!("{failure}; nothing was changed by this request — {hint}"),
    )
    .with_details(json!({ "cause": failure.cause, "full": failure.full }))
}

fn list(keys: &[ObjectKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::EngineError;
    use crate::server::store::IoFailure;
    use crate::wire::error::{ErrorKind, ExitCode, WireError};

    /// A full disk is 507 `insufficient_storage`, another store I/O failure 503
    /// `store_unavailable`; both exit 8 and name the cause, which carries no path.
    #[test]
    fn store_io_failures_name_their_cause_and_exit_8() {
        for (full, status, code) in [
            (true, 507, "insufficient_storage"),
            (false, 503, "store_unavailable"),
        ] {
            let cause = "the system's words (os error 5)".to_owned();
            let wire = WireError::from(EngineError::StoreIo(IoFailure {
                full,
                cause: cause.clone(),
            }));
            assert_eq!(wire.kind.http_status(), status);
            assert_eq!(wire.code, code);
            assert_eq!(wire.kind.exit_code(), ExitCode::Unreachable);
            assert_eq!(wire.details["cause"], cause.as_str());
            assert!(wire.message.contains(&cause), "{}", wire.message);
            assert_eq!(
                wire.kind == ErrorKind::InsufficientStorage,
                full,
                "{wire:?}"
            );
        }
    }
}
