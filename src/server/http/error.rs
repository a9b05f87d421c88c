//! Failures as HTTP responses: [`ApiError`] wraps a [`WireError`] and answers
//! `{"code", "message", "details"}` with the status of its [`ErrorKind`].
//!
//! In: engine and runner errors, and axum's rejections of a malformed JSON body or query string.
//! Out: responses. Must not happen here: an echo of the request. Serde quotes offending values in
//! its messages, and such a value can be a secret, so every quoted value is cut out
//! (`redact_values`); an internal failure is logged in full and answered in general terms.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::server::engine::EngineError;
use crate::server::http::body::{self, Unread};
use crate::server::runner::RunnerError;
use crate::wire::error::{ErrorKind, WireError};
use crate::wire::path;
use crate::wire::strict::Strict;

/// A JSON error: `{"code", "message", "details"}`, with the status of its [`ErrorKind`].
#[derive(Debug)]
pub struct ApiError(WireError);

impl ApiError {
    pub(crate) fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self(WireError::new(kind, code, message))
    }

    pub(crate) fn with_details(self, details: Value) -> Self {
        Self(self.0.with_details(details))
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(ErrorKind::Auth, "unauthorized", message)
    }

    pub(crate) fn forbidden(message: String) -> Self {
        Self::new(ErrorKind::Permission, "forbidden", message)
    }

    pub(crate) fn not_found(message: String) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    pub(crate) fn bad_request(message: String) -> Self {
        Self::new(ErrorKind::Invalid, "invalid", message)
    }

    /// Internal failures are logged in full and answered in general terms.
    pub(crate) fn internal(detail: &str) -> Self {
        Self(crate::server::engine::internal(detail))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.kind.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0.body())).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        Self(error.into())
    }
}

impl From<RunnerError> for ApiError {
    fn from(error: RunnerError) -> Self {
        let message = error.to_string();
        match error {
            RunnerError::Engine(engine) => engine.into(),
            RunnerError::Log { .. } => Self::internal(&message),
            RunnerError::NoInstance { .. } => Self::not_found(message),
            RunnerError::NotRunnable { .. } => {
                Self::new(ErrorKind::Conflict, "not_runnable", message)
            }
            RunnerError::RolloutFailed { instance, .. } => {
                Self::new(ErrorKind::Internal, "restart_failed", message)
                    .with_details(json!({ "instance": instance }))
            }
            RunnerError::Timeout { .. } => Self::new(ErrorKind::Timeout, "timeout", message),
        }
    }
}

/// A JSON body, read with the path of whatever it got wrong: a malformed, misshapen or
/// oversized body is answered in our error format, 400 with `details.path`
/// (`objects[0].spec.scale`, `options.createNamespace`) or 413. Serde's messages name fields
/// and types; the values they quote are cut out (see [`redact_values`]), so nothing from the
/// body is echoed.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send + 'static> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::bad_request(
                "the request body must be JSON (`Content-Type: application/json`)".to_owned(),
            ));
        }
        let body = body::read(request).await.map_err(|unread| match unread {
            Unread::Timeout => ApiError::new(
                ErrorKind::RequestTimeout,
                "request_timeout",
                "the request body did not arrive within the server's body read timeout",
            ),
            Unread::TooLarge => ApiError::new(
                ErrorKind::Limit,
                "payload_too_large",
                "the request body is larger than the server accepts",
            ),
            Unread::Broken => {
                ApiError::bad_request("the request body could not be read".to_owned())
            }
        })?;
        // On the blocking pool, since decoding a large batch takes long enough to stall an
        // async worker.
        let read = tokio::task::spawn_blocking(move || read_body(body))
            .await
            .map_err(|join| ApiError::internal(&format!("body decoding failed: {join}")))?;
        read.map(JsonBody).map_err(|(path, message)| {
            ApiError::bad_request(format!(
                "the request body is not valid at `{path}`: {}",
                redact_values(&message)
            ))
            .with_details(json!({ "path": path }))
        })
    }
}

/// A body decoded from one buffer when it is small enough to join, else as it is read, each
/// chunk let go once the reader is past it (see [`body`]).
fn read_body<T: DeserializeOwned>(mut body: body::Chunks) -> Result<T, (String, String)> {
    match body.joined() {
        Some(joined) => read_json(serde_json::Deserializer::from_slice(&joined)),
        None => read_streamed(body),
    }
}

/// A body decoded as it is read.
pub(super) fn read_streamed<T: DeserializeOwned>(
    body: body::Chunks,
) -> Result<T, (String, String)> {
    // Not through a `BufReader`: its buffer would keep plaintext that no one wipes.
    read_json(serde_json::Deserializer::from_reader(body))
}

/// The value, or where and why it is not one (trailing characters are at the root).
fn read_json<'de, R: serde_json::de::Read<'de>, T: DeserializeOwned>(
    mut reader: serde_json::Deserializer<R>,
) -> Result<T, (String, String)> {
    let value = serde_path_to_error::deserialize(Strict(&mut reader))
        .map_err(|e| path::join(&e.path().to_string(), &e.inner().to_string()))?;
    reader.end().map_err(|e| (".".to_owned(), e.to_string()))?;
    Ok(value)
}

/// `application/json`, or a `+json` type, as axum's `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|mime| {
            let mime = mime.to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// A query string, a malformed one answered in our error format.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|rejection| {
        ApiError::bad_request(format!(
            "the query string is not valid: {}",
            redact_values(&rejection.body_text())
        ))
    })
}

/// Serde quotes the offending value in some messages (`invalid type: string "…", expected a
/// map`, or an integer between backticks). That value can be a secret — a secret's `data` sent
/// as a string, or a value sent as a number — so every quoted value is cut out of the message.
pub(crate) fn redact_values(message: &str) -> String {
    const QUOTED: [(&str, char); 5] = [
        ("string \"", '"'),
        ("integer `", '`'),
        ("floating point `", '`'),
        ("character `", '`'),
        ("boolean `", '`'),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, prefix, close)) = QUOTED
        .iter()
        .filter_map(|&(prefix, close)| rest.find(prefix).map(|at| (at, prefix, close)))
        .min_by_key(|&(at, ..)| at)
    {
        // Keep the type's name (`string`, `integer`), drop ` "value"`.
        out.push_str(&rest[..at + prefix.len() - 2]);
        let quoted = &rest[at + prefix.len()..];
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == close && !escaped;
                escaped = close == '"' && c == '\\' && !escaped;
                closes
            })
            .map_or(quoted.len(), |(i, c)| i + c.len_utf8());
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_values;

    /// A value serde quotes in a rejection (escaped quotes and an unterminated quote included)
    /// is cut out; names between backticks that are not values stay.
    #[test]
    fn quoted_values_are_cut_out_of_serde_messages() {
        assert_eq!(
            redact_values(r#"invalid type: string "hun\"ter\\2", expected a map at line 1"#),
            "invalid type: string, expected a map at line 1"
        );
        assert_eq!(
            redact_values(
                "invalid type: integer `8675309`, expected a string; floating point `1.5`"
            ),
            "invalid type: integer, expected a string; floating point"
        );
        assert_eq!(
            redact_values("unknown field `extra`"),
            "unknown field `extra`"
        );
        assert_eq!(redact_values("string \"unterminated"), "string");
    }
}
