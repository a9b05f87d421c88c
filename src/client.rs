//! Where `rune` sends its plans, behind one trait: [`Backend`], spoken in the wire types only.
//!
//! In: desired objects, batch options, object keys. Out: plans, apply results, stored objects,
//! runner status and logs — or a [`ClientError`]. Two implementations answer: [`Remote`] (runed
//! over HTTP) and `crate::local::Local` (the engine embedded in-process), so commands never care
//! which one they hold. Nothing here imports the server module: binding the engine is `local`'s
//! job alone, which keeps the HTTP server out of the paths `rune` links.

pub mod error;
pub mod remote;
mod stream;
pub mod tls;

use std::fmt;
use std::time::Duration;

use crate::plan::Plan;
use crate::resource::Kind;
use crate::wire::admin::{
    KekStatus, ResealRequest, ResealResult, RewrapBatch, RewrapRequest, SealIdentities,
};
use crate::wire::audit::AuditEntry;
use crate::wire::batch::{
    Applied, ApplyBatch, ApplyRequest, BatchOptions, Expectation, ExpectedRef, Listed,
};
use crate::wire::history::{History, RollbackResult};
use crate::wire::object::{Desired, ObjectKey};
use crate::wire::runner::{LogChunk, RestartResult, RunnerStatus};

pub use error::ClientError;
pub use remote::Remote;

/// The state `rune` talks to: the same operations with the same errors, wherever it lives.
/// `Debug` says which state it is (never a token).
pub trait Backend: fmt::Debug {
    /// Compares desired objects with the stored ones: one round trip for the whole batch.
    fn plan(&self, objects: &[Desired], options: &BatchOptions) -> Result<Plan, ClientError>;

    /// Writes a batch atomically, provided every object's revision is still the expected one.
    fn apply(&self, request: &ApplyRequest) -> Result<Applied, ClientError> {
        self.apply_batch(&ApplyBatch::from(request))
    }

    /// [`Backend::apply`] of a borrowed batch: what `rune cast` sends, without a copy of its
    /// objects.
    fn apply_batch(&self, batch: &ApplyBatch<'_>) -> Result<Applied, ClientError>;

    fn get(&self, key: &ObjectKey) -> Result<Listed, ClientError>;

    /// Every object of `kind`, in `namespace` or (for `None`) in all of them.
    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, ClientError>;

    /// Writes one object: `create` refuses an existing one (exit 5).
    fn put(&self, desired: &Desired, create: bool) -> Result<Listed, ClientError>;

    /// Deletes one object; without `force`, one still in use is refused.
    fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), ClientError>;

    /// The age recipient that sealed values must be encrypted for (SPEC §6).
    fn seal_recipient(&self) -> Result<String, ClientError>;

    /// The process runner's status: every service in `namespace` (or all) with its instances.
    fn status(&self, namespace: Option<&str>) -> Result<RunnerStatus, ClientError>;

    /// A rolling restart of a service; with `wait`, returns once every instance runs again.
    fn restart(
        &self,
        key: &ObjectKey,
        wait: bool,
        timeout: Duration,
    ) -> Result<RestartResult, ClientError>;

    /// An instance's log: everything kept, or (with `offset`) what came after it.
    fn logs(
        &self,
        key: &ObjectKey,
        instance: u32,
        offset: Option<u64>,
    ) -> Result<LogChunk, ClientError>;

    /// Whether services written here are run; the embedded engine only stores them.
    fn runs_services(&self) -> bool;

    /// Every retained version of a secret or configmap, newest first (key names only).
    fn history(&self, key: &ObjectKey) -> Result<History, ClientError>;

    /// A new version with `to_version`'s data, made by the server (values never travel).
    fn rollback(&self, key: &ObjectKey, to_version: u64) -> Result<RollbackResult, ClientError>;

    /// Audit records since `since` (a duration back from now, or an RFC 3339 time), oldest
    /// first; with `namespace`, those that touched it (`admin`).
    fn audit(
        &self,
        since: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ClientError>;

    /// The recipients of every seal identity, current first (`admin`).
    fn seal_identities(&self) -> Result<SealIdentities, ClientError>;

    /// Makes a new seal identity current (`admin`).
    fn rotate_seal_identity(&self) -> Result<SealIdentities, ClientError>;

    /// Sealed values opened and sealed again for new recipients by the server, each for the
    /// place it names; only the new armors come back (`admin`).
    fn reseal(&self, request: &ResealRequest) -> Result<ResealResult, ClientError>;

    /// What every KEK of the store still wraps (SPEC §4.6; `admin`).
    fn kek_status(&self) -> Result<KekStatus, ClientError>;

    /// One rewrap batch, one transaction on the server (`admin`).
    fn kek_rewrap(&self, request: &RewrapRequest) -> Result<RewrapBatch, ClientError>;
}

/// The expectations that guard an apply: every planned object's revision.
pub fn expectations(plan: &Plan) -> Vec<Expectation> {
    expected(plan)
        .into_iter()
        .map(|e| Expectation {
            key: e.key.clone(),
            revision: e.revision,
        })
        .collect()
}

/// [`expectations`], borrowing the plan's keys.
pub fn expected(plan: &Plan) -> Vec<ExpectedRef<'_>> {
    plan.changes
        .iter()
        .map(|c| ExpectedRef {
            key: &c.key,
            revision: c.revision,
        })
        .collect()
}
