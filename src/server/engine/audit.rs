//! Audit records inside the engine's write transactions (SPEC §4.6, issue #15).
//!
//! In: the write transaction of a change, what it did to which objects, and the actor of the
//! request (see [`crate::server::audit`]). Out: one appended record, committed with the change
//! or not at all; records older than the retention go in the same transaction. Must not happen
//! here: a value, a length or a hash of a value in a record (objects are named by kind,
//! namespace and name, with their versions).

use crate::server::audit::{self, Actor};
use crate::server::clock;
use crate::server::engine::{EngineError, Settings};
use crate::server::store::WriteTx;
use crate::wire::audit::{AuditEntry, AuditObject};
use crate::wire::object::ObjectKey;

/// An object of a change, with its version transition.
pub(super) fn object(key: &ObjectKey, from: Option<u64>, to: Option<u64>) -> AuditObject {
    AuditObject {
        kind: key.kind.0.singular().to_owned(),
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        from_version: from,
        to_version: to,
    }
}

/// Appends the record of a change in its transaction; `fallback` names the caller when no
/// request set an actor (the embedded engine's `user:NAME`).
pub(super) fn record(
    tx: &mut dyn WriteTx,
    settings: &Settings,
    action: &str,
    objects: Vec<AuditObject>,
    fallback: Option<&String>,
) -> Result<(), EngineError> {
    let actor = audit::current().unwrap_or_else(|| Actor {
        caller: fallback.cloned(),
        remote: None,
    });
    append(
        tx,
        settings,
        &AuditEntry {
            action: action.to_owned(),
            at: clock::now(),
            caller: actor.caller,
            objects,
            outcome: "ok".to_owned(),
            remote: actor.remote,
            request: None,
            status: None,
        },
    )
}

/// Appends `entry` after pruning what the retention lets go.
pub(super) fn append(
    tx: &mut dyn WriteTx,
    settings: &Settings,
    entry: &AuditEntry,
) -> Result<(), EngineError> {
    let keep = settings.audit_retention.as_secs();
    if keep > 0 {
        let before = clock::format_unix(clock::now_unix().saturating_sub(keep));
        tx.prune_audit(&before)?;
    }
    tx.append_audit(entry)?;
    Ok(())
}
