//! Batches on the wire: `POST /v1/plan` and `POST /v1/apply` requests, their options, and what
//! an apply and a read answer. The plan itself is [`crate::plan::Plan`].
//!
//! Secret values travel only inside the [`Desired`] objects of a request (client → server); no
//! type here that flows back to a client can hold one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::object::{Desired, KindName, ObjectKey, Stored};

/// Options of a plan or apply. A misspelt option is refused, not ignored.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchOptions {
    /// Create namespaces that desired objects use and nobody declared.
    #[serde(default)]
    pub create_namespaces: bool,
    /// Bump secret and configmap versions even when the data did not change.
    #[serde(default)]
    pub force: bool,
    /// Plan deletion of objects cast earlier from this source set and now absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_source_set: Option<String>,
    /// Who applies the batch, recorded as `castBy`. Not on the wire: runed takes it from the
    /// caller's token, the embedded engine from the OS user.
    #[serde(skip)]
    pub cast_by: Option<String>,
}

/// `POST /v1/plan`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub objects: Vec<Desired>,
    #[serde(default)]
    pub options: BatchOptions,
}

/// `POST /v1/apply`: the objects, the deletions, and the revisions seen at plan time.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    #[serde(default)]
    pub delete: Vec<ObjectKey>,
    #[serde(default)]
    pub expected: Vec<Expectation>,
    pub objects: Vec<Desired>,
    #[serde(default)]
    pub options: BatchOptions,
}

/// An [`ApplyRequest`] as a client sends it, borrowing the objects, deletions and revisions
/// it was made from: the same JSON, without copying a batch of 100,000 objects to send it
/// (issue #14).
#[derive(Debug, Serialize)]
pub struct ApplyBatch<'a> {
    pub delete: Vec<&'a ObjectKey>,
    pub expected: Vec<ExpectedRef<'a>>,
    pub objects: &'a [Desired],
    pub options: &'a BatchOptions,
}

/// An [`Expectation`], borrowing its key.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ExpectedRef<'a> {
    #[serde(flatten)]
    pub key: &'a ObjectKey,
    pub revision: Option<u64>,
}

impl<'a> From<&'a ApplyRequest> for ApplyBatch<'a> {
    fn from(request: &'a ApplyRequest) -> Self {
        Self {
            delete: request.delete.iter().collect(),
            expected: request
                .expected
                .iter()
                .map(|e| ExpectedRef {
                    key: &e.key,
                    revision: e.revision,
                })
                .collect(),
            objects: &request.objects,
            options: &request.options,
        }
    }
}

/// An object's revision at plan time (`null`: it did not exist). Read through a closed form
/// ([`ExpectationFields`]): a flattened key could not refuse unknown fields.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(from = "ExpectationFields")]
pub struct Expectation {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub revision: Option<u64>,
}

/// The wire form of an [`Expectation`]: `revision` must be given, `null` included.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationFields {
    kind: KindName,
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(deserialize_with = "Option::deserialize")]
    revision: Option<u64>,
}

impl From<ExpectationFields> for Expectation {
    fn from(fields: ExpectationFields) -> Self {
        Self {
            key: ObjectKey {
                kind: fields.kind,
                name: fields.name,
                namespace: fields.namespace,
            },
            revision: fields.revision,
        }
    }
}

/// The result of an apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// How many objects were created, updated or deleted.
    pub applied: usize,
    /// The data version of every written object, by `kind/namespace/name`.
    pub versions: BTreeMap<String, u64>,
}

/// A retained data version (metadata only).
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub created_at: String,
    pub version: u64,
}

/// A stored object with its retained versions and revision, as `get` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    #[serde(flatten)]
    pub object: Stored,
    pub revision: u64,
    pub versions: Vec<VersionInfo>,
}
