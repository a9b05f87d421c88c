//! History and rollback of secrets and configmaps (SPEC §3, issue #15).
//!
//! `GET /v1/history/{ns}/secrets/{name}` (and `configmaps`) answers a [`History`]: every
//! retained version, newest first, with who made it, from where, and which keys changed from
//! the version before (names only: values are compared on the server and never leave it).
//! `POST /v1/rollback/{ns}/secrets/{name}` takes a [`RollbackRequest`] and answers a
//! [`RollbackResult`]: a new version holding version N's data, made on the server.

use serde::{Deserialize, Serialize};

/// The retained versions of one object, newest first.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct History {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub versions: Vec<HistoryEntry>,
}

/// One retained version.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryEntry {
    pub version: u64,
    /// When the version was made (RFC 3339, UTC).
    pub cast_at: Option<String>,
    /// Who made it (`token:NAME`, `user:NAME`); null when unknown (open mode, or a version
    /// written before runed kept per-version provenance).
    pub cast_by: Option<String>,
    pub commit: Option<String>,
    pub path: Option<String>,
    /// The version whose data a rollback copied into this one.
    pub rollback_of: Option<u64>,
    /// Key names changed from the version before; null for the oldest retained version when
    /// the one before it is no longer retained.
    pub changes: Option<KeyNames>,
}

/// Key names only: never a value, a length or a hash of one.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyNames {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// Which version's data the new version takes.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackRequest {
    pub to_version: u64,
}

/// The version a rollback made.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackResult {
    /// The version whose data was copied.
    pub from_version: u64,
    /// The new version.
    pub version: u64,
}
