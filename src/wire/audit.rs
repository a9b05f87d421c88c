//! Audit records (SPEC §4.6, issue #15): `GET /v1/audit` answers `{"items": [AuditEntry…]}`.
//!
//! A record says who did what to which objects, when, from where, and how it ended. It never
//! holds a value, a length or a hash of a value: objects are named by kind, namespace and name,
//! with their version transition.

use serde::{Deserialize, Serialize};

/// One audit record.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditEntry {
    /// `apply`, `create`, `replace`, `delete`, `rollback`, `kek-rewrap`, or `request` (a denied
    /// request, described by `request`).
    pub action: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `token:NAME`, `user:NAME`; null for a caller without a token (open mode, or a request
    /// refused before authentication).
    pub caller: Option<String>,
    pub objects: Vec<AuditObject>,
    /// `ok` (the change committed with this record) or `denied` (401/403).
    pub outcome: String,
    /// The client's address, when known.
    pub remote: Option<String>,
    /// For a denied request: `METHOD PATH` (never the query or the body).
    pub request: Option<String>,
    /// For a denied request: the HTTP status it got.
    pub status: Option<u16>,
}

/// An object a change touched, with its data version before and after.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditObject {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub from_version: Option<u64>,
    pub to_version: Option<u64>,
}

/// `GET /v1/audit`.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
}
