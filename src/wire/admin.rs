//! The admin part of the contract (SPEC §4.6): KEK status and rewrap batches, seal identities.
//!
//! `GET /v1/admin/seal-identity` and `POST /v1/admin/seal-identity/rotate` answer
//! [`SealIdentities`] (public recipients only).
//! `GET /v1/admin/kek` answers a [`KekStatus`]; `POST /v1/admin/kek/rewrap` takes a
//! [`RewrapRequest`] and answers a [`RewrapBatch`]. Both need the `admin` permission. None of
//! them carries key material or anything derived from a secret value: KEKs are named by their
//! public id, records by namespace, name and version.

use serde::{Deserialize, Serialize};

/// What every KEK the store knows still wraps.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KekStatus {
    /// The id of the KEK that wraps every new version.
    pub current: String,
    /// Every KEK the store has a check value for, or that records name; current first.
    pub keks: Vec<KekUse>,
}

impl KekStatus {
    /// Records that a rewrap would move: those under any KEK but the current one.
    pub fn to_rewrap(&self) -> u64 {
        self.keks
            .iter()
            .filter(|k| !k.current)
            .map(|k| k.secret_versions + k.seal_identities)
            .sum()
    }
}

/// One KEK and the records it wraps.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KekUse {
    pub id: String,
    pub current: bool,
    /// Loaded by this runed (the current KEK, or one of `crypto.previous-keks`).
    pub loaded: bool,
    /// A previous KEK that wraps nothing: it may go from the configuration.
    pub removable: bool,
    pub seal_identities: u64,
    pub secret_versions: u64,
}

/// Where a rewrap walk resumes: after this secret's version.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionCursor {
    pub name: String,
    pub namespace: String,
    pub version: u64,
}

/// One batch of a rewrap: the secret versions after `after` (from the first without it), at
/// most `limit` of them looked at.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewrapRequest {
    #[serde(default)]
    pub after: Option<VersionCursor>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What one batch did; it was one store transaction.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewrapBatch {
    /// Where the next batch starts; `None` when this batch reached the last version.
    pub next: Option<VersionCursor>,
    /// Records re-wrapped under the current KEK by this batch.
    pub rewrapped: u64,
    /// Records looked at by this batch.
    pub scanned: u64,
}

/// runed's seal identities by their public recipients: the current one (what
/// `GET /v1/seal-recipient` returns and `rune seal` encrypts for) and every one that still opens
/// what was sealed for it, current first.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealIdentities {
    pub current: String,
    pub recipients: Vec<String>,
}
