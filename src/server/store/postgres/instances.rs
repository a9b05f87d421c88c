//! The instance states the replica that runs the `process:` services publishes (SPEC §4.5),
//! one row per instance in `rune_instances`, so that a standby's `rune status` shows what the
//! holder sees.
//!
//! In: the holder's name and its instances. Out: the rows, replaced in one transaction.
//! Must not happen here: a replica that is no longer the recorded holder overwriting its
//! successor's rows — the write checks `rune_meta`'s holder under a row lock first.

use crate::server::store::postgres::db;
use crate::server::store::{PublishedInstance, StoreError};

/// Where the holder of the runner lock writes its name (in `rune_meta`).
pub const RUNNER_HOLDER: &str = "runner-replica";

/// Replaces every row with `instances`; `Ok(false)` when `replica` is not the recorded holder.
pub(super) fn publish(
    client: &mut postgres::Client,
    replica: &str,
    instances: &[PublishedInstance],
) -> Result<bool, StoreError> {
    let mut tx = client.transaction().map_err(db)?;
    // The row lock orders this against a takeover, which updates the same row.
    let holder = tx
        .query_opt(
            "SELECT value FROM rune_meta WHERE name = $1 FOR UPDATE",
            &[&RUNNER_HOLDER],
        )
        .map_err(db)?
        .map(|row| row.get::<_, Vec<u8>>(0));
    if holder.as_deref() != Some(replica.as_bytes()) {
        return Ok(false);
    }
    tx.execute("DELETE FROM rune_instances", &[]).map_err(db)?;
    for instance in instances {
        let index = i32::try_from(instance.status.index)
            .map_err(|_| StoreError::Backend("instance index out of range".to_owned()))?;
        let status = serde_json::to_string(&instance.status)?;
        tx.execute(
            "INSERT INTO rune_instances (namespace, service, instance, replica, status)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &instance.namespace,
                &instance.service,
                &index,
                &instance.replica,
                &status,
            ],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    Ok(true)
}

/// Every published row, in service and index order.
pub(super) fn published(
    client: &mut postgres::Client,
) -> Result<Vec<PublishedInstance>, StoreError> {
    let rows = client
        .query(
            "SELECT namespace, service, replica, status FROM rune_instances
             ORDER BY namespace, service, instance",
            &[],
        )
        .map_err(db)?;
    rows.iter()
        .map(|row| {
            Ok(PublishedInstance {
                namespace: row.get(0),
                service: row.get(1),
                replica: row.get(2),
                status: serde_json::from_str(row.get::<_, &str>(3))?,
            })
        })
        .collect()
}
