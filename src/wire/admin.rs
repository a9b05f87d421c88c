//! The admin part of the contract (SPEC §4.6): KEK status and rewrap batches, seal identities.
//!
//! `GET /v1/admin/seal-identity` and `POST /v1/admin/seal-identity/rotate` answer
//! [`SealIdentities`] (public recipients only).
//! `GET /v1/admin/kek` answers a [`KekStatus`]; `POST /v1/admin/kek/rewrap` takes a
//! [`RewrapRequest`] and answers a [`RewrapBatch`]. `POST /v1/reseal` takes a [`ResealRequest`]
//! and answers a [`ResealResult`] (new armors only). All need the `admin` permission. None of
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

/// The most values one `POST /v1/reseal` carries (`rune seal --reseal` sends more in several).
pub const MAX_RESEAL_VALUES: usize = 64;

/// The most recipients one `POST /v1/reseal` seals for.
pub const MAX_RESEAL_RECIPIENTS: usize = 32;

/// The longest armor one value of a `POST /v1/reseal` may have, in bytes: a value at the
/// largest `max-value-size` runed allows, armored for the most recipients, fits.
pub const MAX_RESEAL_ARMOR: usize = 1 << 20;

/// `POST /v1/reseal` (`admin`, SPEC §4.6): sealed values for runed to open with its seal
/// identities and seal again for `recipients`, each for the place it names and no other.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResealRequest {
    /// The age recipients (`age1…`) to seal for.
    pub recipients: Vec<String>,
    pub values: Vec<ResealValue>,
}

/// One sealed value and the place it must have been sealed for.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResealValue {
    pub key: String,
    pub name: String,
    pub namespace: String,
    /// The age armor, as a runefile's `sealed:` holds it.
    pub sealed: String,
}

/// The new armors, in the order of the request's values; nothing else (no value ever leaves
/// the server).
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResealResult {
    pub sealed: Vec<String>,
}
