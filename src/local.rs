//! The embedded target: the server's engine in-process on a local data directory, bound to the
//! same [`Backend`] trait as a remote runed, so that `rune` works with no server configured
//! (SPEC §1).
//!
//! In: the wire types of [`Backend`]. Out: the engine's answers, its failures turned into the
//! [`WireError`] runed would have sent (without HTTP). This is the only module on the client
//! side that imports `crate::server`; `cli/` and `client/` reach the engine through here. The
//! engine has no process runner: `status`, `restart` and `logs` answer
//! [`ClientError::NoRunner`].

use std::path::PathBuf;
use std::time::Duration;

use crate::client::{Backend, ClientError};
use crate::plan::Plan;
use crate::resource::Kind;
use crate::server::embedded;
use crate::server::engine::{Engine, EngineError};
use crate::wire::admin::{
    KekStatus, ResealRequest, ResealResult, RewrapBatch, RewrapRequest, SealIdentities,
};
use crate::wire::audit::AuditEntry;
use crate::wire::batch::{Applied, ApplyBatch, BatchOptions, Listed};
use crate::wire::error::WireError;
use crate::wire::history::{History, RollbackResult};
use crate::wire::object::{Desired, ObjectKey};
use crate::wire::runner::{LogChunk, RestartResult, RunnerStatus};

/// No place for the local data: neither `RUNE_DATA_DIR` nor `HOME` is set.
#[derive(Debug, thiserror::Error)]
#[error("no data directory: set `RUNE_DATA_DIR` or `HOME`")]
pub struct NoDataDir;

/// `RUNE_DATA_DIR`, else `~/.rune/local`.
pub fn default_data_dir() -> Result<PathBuf, NoDataDir> {
    if let Some(dir) = std::env::var_os("RUNE_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".rune").join("local"))
        .ok_or(NoDataDir)
}

/// The engine embedded in `rune`, on one data directory (whose lock it holds while it lives).
pub struct Local {
    data_dir: PathBuf,
    engine: Engine,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "embedded engine in {}", self.data_dir.display())
    }
}

impl Local {
    /// Opens the engine in `data_dir`, creating the store and its KEK on first use.
    pub fn open(data_dir: PathBuf) -> Result<Self, ClientError> {
        let engine = embedded::open(&data_dir).map_err(|e| ClientError::Local(e.to_string()))?;
        Ok(Self { data_dir, engine })
    }

    /// Opens the engine in `data_dir` for a command that only reads: with no store there yet,
    /// an empty state in memory, and nothing created on disk.
    pub fn open_read_only(data_dir: PathBuf) -> Result<Self, ClientError> {
        let engine =
            embedded::open_read_only(&data_dir).map_err(|e| ClientError::Local(e.to_string()))?;
        Ok(Self { data_dir, engine })
    }
}

/// The engine's failure as runed would have reported it.
fn wire(error: EngineError) -> ClientError {
    ClientError::Api(WireError::from(error))
}

impl Backend for Local {
    fn plan(&self, objects: &[Desired], options: &BatchOptions) -> Result<Plan, ClientError> {
        self.engine.plan(objects, options).map_err(wire)
    }

    fn apply_batch(&self, batch: &ApplyBatch<'_>) -> Result<Applied, ClientError> {
        let expected: Vec<_> = batch
            .expected
            .iter()
            .map(|e| (e.key.clone(), e.revision))
            .collect();
        let delete: Vec<ObjectKey> = batch.delete.iter().map(|&key| key.clone()).collect();
        let options = BatchOptions {
            cast_by: caller(),
            ..batch.options.clone()
        };
        self.engine
            .apply(batch.objects, &delete, &expected, &options)
            .map_err(wire)
    }

    fn get(&self, key: &ObjectKey) -> Result<Listed, ClientError> {
        self.engine.get(key).map_err(wire)
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Listed>, ClientError> {
        self.engine.list(kind, namespace).map_err(wire)
    }

    fn put(&self, desired: &Desired, create: bool) -> Result<Listed, ClientError> {
        self.engine
            .put(desired, create, None, caller())
            .map_err(wire)?;
        self.get(&desired.key)
    }

    fn delete(&self, key: &ObjectKey, force: bool) -> Result<(), ClientError> {
        self.engine.delete(key, force).map_err(wire)
    }

    fn seal_recipient(&self) -> Result<String, ClientError> {
        Ok(self.engine.seal_recipient())
    }

    fn status(&self, _namespace: Option<&str>) -> Result<RunnerStatus, ClientError> {
        Err(ClientError::NoRunner)
    }

    fn restart(
        &self,
        _key: &ObjectKey,
        _wait: bool,
        _timeout: Duration,
    ) -> Result<RestartResult, ClientError> {
        Err(ClientError::NoRunner)
    }

    fn logs(
        &self,
        _key: &ObjectKey,
        _instance: u32,
        _offset: Option<u64>,
    ) -> Result<LogChunk, ClientError> {
        Err(ClientError::NoRunner)
    }

    fn runs_services(&self) -> bool {
        false
    }

    fn history(&self, key: &ObjectKey) -> Result<History, ClientError> {
        self.engine.history(key).map_err(wire)
    }

    fn rollback(&self, key: &ObjectKey, to_version: u64) -> Result<RollbackResult, ClientError> {
        self.engine
            .rollback(key, to_version, caller().as_ref())
            .map_err(wire)
    }

    fn audit(
        &self,
        since: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ClientError> {
        let since = crate::server::audit::since(since).map_err(ClientError::Local)?;
        self.engine.audit(&since, namespace, 10_000).map_err(wire)
    }

    fn seal_identities(&self) -> Result<SealIdentities, ClientError> {
        let recipients = self.engine.seal_identities();
        Ok(SealIdentities {
            current: recipients.first().cloned().unwrap_or_default(),
            recipients,
        })
    }

    fn rotate_seal_identity(&self) -> Result<SealIdentities, ClientError> {
        self.engine.rotate_seal_identity().map_err(wire)?;
        self.seal_identities()
    }

    fn reseal(&self, request: &ResealRequest) -> Result<ResealResult, ClientError> {
        let sealed = self.engine.reseal(request).map_err(wire)?;
        Ok(ResealResult { sealed })
    }

    fn kek_status(&self) -> Result<KekStatus, ClientError> {
        self.engine.kek_status().map_err(wire)
    }

    fn kek_rewrap(&self, request: &RewrapRequest) -> Result<RewrapBatch, ClientError> {
        self.engine.kek_rewrap(request).map_err(wire)
    }
}

/// Who casts on the embedded engine, recorded as `castBy`: the OS user, as `user:NAME`.
fn caller() -> Option<String> {
    os_user().map(|user| format!("user:{user}"))
}

fn os_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map(|user| user.name)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
}
