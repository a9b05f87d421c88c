//! One database transaction seen through [`ReadTx`] and [`WriteTx`].
//!
//! In: an open `postgres::Transaction` (a REPEATABLE READ snapshot for reads; for writes, one
//! that holds the write lock). Out: records, data versions and metadata, as redb's tables give
//! them. Must not happen here: deciding to commit — the closure's result does, in
//! [`Tx::finish`].

use std::cell::RefCell;

use crate::resource::Kind;
use crate::server::store::postgres::db;
use crate::server::store::{ReadTx, Record, SealedVersion, StoreError, WriteTx};
use crate::wire::audit::AuditEntry;
use crate::wire::object::{KindName, ObjectKey};

const KEK_CHECK: &str = "kek-check";
const SEAL_IDENTITY: &str = "seal-identity";
pub(super) const AUTH_REQUIRED: &str = "auth-required";
const RUNNER_IDENTITIES: &str = "runner-identities";

/// A transaction; the trait's reads take `&self`, the client's queries `&mut`.
pub(super) struct Tx<'c> {
    tx: RefCell<postgres::Transaction<'c>>,
}

impl<'c> Tx<'c> {
    pub(super) fn new(tx: postgres::Transaction<'c>) -> Self {
        Self {
            tx: RefCell::new(tx),
        }
    }

    /// Commits, or rolls back everything the transaction did.
    pub(super) fn finish(self, commit: bool) -> Result<(), StoreError> {
        let tx = self.tx.into_inner();
        if commit {
            tx.commit().map_err(db)
        } else {
            tx.rollback().map_err(db)
        }
    }

    fn query(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        self.tx.borrow_mut().query(sql, params).map_err(db)
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        self.tx.get_mut().execute(sql, params).map_err(db)?;
        Ok(())
    }

    fn records(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Record>, StoreError> {
        self.query(sql, params)?
            .iter()
            .map(|row| Ok(serde_json::from_str(row.get::<_, &str>(0))?))
            .collect()
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .query("SELECT value FROM rune_meta WHERE name = $1", &[&name])?
            .first()
            .map(|row| row.get(0)))
    }

    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO rune_meta (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&name, &value],
        )
    }
}

/// The key columns of an object: kind, namespace (empty for cluster kinds), name.
fn columns(key: &ObjectKey) -> (&'static str, &str, &str) {
    (key.kind.0.singular(), &key.namespace, &key.name)
}

fn version_number(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::Backend("a version number overflows".into()))
}

impl ReadTx for Tx<'_> {
    fn object(&self, key: &ObjectKey) -> Result<Option<Record>, StoreError> {
        let (kind, namespace, name) = columns(key);
        Ok(self
            .records(
                "SELECT record FROM rune_objects WHERE kind = $1 AND namespace = $2 AND name = $3",
                &[&kind, &namespace, &name],
            )?
            .pop())
    }

    fn data(&self, key: &ObjectKey, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let (kind, namespace, name) = columns(key);
        let version = version_number(version)?;
        Ok(self
            .query(
                "SELECT bytes FROM rune_versions
                 WHERE kind = $1 AND namespace = $2 AND name = $3 AND version = $4",
                &[&kind, &namespace, &name, &version],
            )?
            .first()
            .map(|row| row.get(0)))
    }

    fn list(&self, kind: Kind, namespace: Option<&str>) -> Result<Vec<Record>, StoreError> {
        let singular = kind.singular();
        match namespace {
            Some(namespace) if kind.is_namespaced() => self.records(
                "SELECT record FROM rune_objects WHERE kind = $1 AND namespace = $2 ORDER BY name",
                &[&singular, &namespace],
            ),
            _ => self.records(
                "SELECT record FROM rune_objects WHERE kind = $1 ORDER BY namespace, name",
                &[&singular],
            ),
        }
    }

    fn count_in_namespace(&self, namespace: &str) -> Result<usize, StoreError> {
        let namespaced: Vec<&str> = Kind::ALL
            .into_iter()
            .filter(|k| k.is_namespaced())
            .map(Kind::singular)
            .collect();
        let rows = self.query(
            "SELECT count(*) FROM rune_objects WHERE namespace = $1 AND kind = ANY($2)",
            &[&namespace, &namespaced],
        )?;
        let count: i64 = rows.first().map_or(0, |row| row.get(0));
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    fn in_source_set(&self, source_set: &str) -> Result<Vec<Record>, StoreError> {
        self.records(
            "SELECT record FROM rune_objects WHERE source_set = $1 ORDER BY kind, namespace, name",
            &[&source_set],
        )
    }

    fn kek_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.meta(KEK_CHECK)
    }

    fn kek_checks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .query("SELECT id, check_value FROM rune_keks ORDER BY id", &[])?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn secret_versions(
        &self,
        after: Option<(&ObjectKey, u64)>,
        limit: usize,
    ) -> Result<Vec<SealedVersion>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let secret = Kind::Secret.singular();
        let rows = match after {
            Some((key, version)) => {
                let version = version_number(version)?;
                self.query(
                    "SELECT namespace, name, version, bytes FROM rune_versions
                     WHERE kind = $1 AND (namespace, name, version) > ($2, $3, $4)
                     ORDER BY namespace, name, version LIMIT $5",
                    &[&secret, &key.namespace, &key.name, &version, &limit],
                )?
            }
            None => self.query(
                "SELECT namespace, name, version, bytes FROM rune_versions
                 WHERE kind = $1 ORDER BY namespace, name, version LIMIT $2",
                &[&secret, &limit],
            )?,
        };
        rows.iter()
            .map(|row| {
                Ok(SealedVersion {
                    key: ObjectKey {
                        kind: KindName(Kind::Secret),
                        name: row.get(1),
                        namespace: row.get(0),
                    },
                    version: u64::try_from(row.get::<_, i64>(2))
                        .map_err(|_| StoreError::Backend("a negative version number".into()))?,
                    bytes: row.get(3),
                })
            })
            .collect()
    }

    fn seal_identity(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.meta(SEAL_IDENTITY)
    }

    fn seal_identities(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut out: Vec<(u64, Vec<u8>)> =
            self.seal_identity()?.into_iter().map(|f| (1, f)).collect();
        for row in self.query(
            "SELECT number, sealed FROM rune_seal_identities ORDER BY number",
            &[],
        )? {
            let number = u64::try_from(row.get::<_, i64>(0))
                .map_err(|_| StoreError::Backend("a negative seal identity number".into()))?;
            out.push((number, row.get(1)));
        }
        Ok(out)
    }

    fn audit(&self, since: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "SELECT entry FROM rune_audit WHERE at >= $1 ORDER BY at, seq LIMIT $2",
            &[&since, &limit],
        )?
        .iter()
        .map(|row| Ok(serde_json::from_str(row.get::<_, &str>(0))?))
        .collect()
    }

    fn auth_required(&self) -> Result<bool, StoreError> {
        Ok(self.meta(AUTH_REQUIRED)?.is_some())
    }

    fn runner_identities(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.meta(RUNNER_IDENTITIES)
    }
}

impl WriteTx for Tx<'_> {
    fn put_object(&mut self, record: &Record) -> Result<(), StoreError> {
        let (kind, namespace, name) = columns(&record.object.key);
        let source_set = record
            .object
            .provenance
            .as_ref()
            .and_then(|p| p.source_set.as_deref());
        let json = serde_json::to_string(record)?;
        self.execute(
            "INSERT INTO rune_objects (kind, namespace, name, source_set, record)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, namespace, name)
             DO UPDATE SET source_set = EXCLUDED.source_set, record = EXCLUDED.record",
            &[&kind, &namespace, &name, &source_set, &json],
        )
    }

    fn remove_object(&mut self, key: &ObjectKey) -> Result<(), StoreError> {
        let (kind, namespace, name) = columns(key);
        self.execute(
            "DELETE FROM rune_objects WHERE kind = $1 AND namespace = $2 AND name = $3",
            &[&kind, &namespace, &name],
        )
    }

    fn put_data(&mut self, key: &ObjectKey, version: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let (kind, namespace, name) = columns(key);
        let version = version_number(version)?;
        self.execute(
            "INSERT INTO rune_versions (kind, namespace, name, version, bytes)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, namespace, name, version) DO UPDATE SET bytes = EXCLUDED.bytes",
            &[&kind, &namespace, &name, &version, &bytes],
        )
    }

    fn remove_data(&mut self, key: &ObjectKey, version: u64) -> Result<(), StoreError> {
        let (kind, namespace, name) = columns(key);
        let version = version_number(version)?;
        self.execute(
            "DELETE FROM rune_versions
             WHERE kind = $1 AND namespace = $2 AND name = $3 AND version = $4",
            &[&kind, &namespace, &name, &version],
        )
    }

    fn set_kek_check(&mut self, check: &[u8]) -> Result<(), StoreError> {
        self.set_meta(KEK_CHECK, check)
    }

    fn set_kek_check_for(&mut self, kek_id: &str, check: &[u8]) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO rune_keks (id, check_value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET check_value = EXCLUDED.check_value",
            &[&kek_id, &check],
        )
    }

    fn set_seal_identity(&mut self, sealed: &[u8]) -> Result<(), StoreError> {
        self.set_meta(SEAL_IDENTITY, sealed)
    }

    fn put_seal_identity(&mut self, number: u64, sealed: &[u8]) -> Result<(), StoreError> {
        if number <= 1 {
            return self.set_seal_identity(sealed);
        }
        let number = version_number(number)?;
        self.execute(
            "INSERT INTO rune_seal_identities (number, sealed) VALUES ($1, $2)
             ON CONFLICT (number) DO UPDATE SET sealed = EXCLUDED.sealed",
            &[&number, &sealed],
        )
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry)?;
        self.execute(
            "INSERT INTO rune_audit (at, entry) VALUES ($1, $2)",
            &[&entry.at, &json],
        )
    }

    fn prune_audit(&mut self, before: &str) -> Result<u64, StoreError> {
        self.tx
            .get_mut()
            .execute("DELETE FROM rune_audit WHERE at < $1", &[&before])
            .map_err(db)
    }

    fn set_auth_required(&mut self) -> Result<(), StoreError> {
        let at = crate::server::clock::now();
        self.set_meta(AUTH_REQUIRED, at.as_bytes())
    }

    fn set_runner_identities(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.set_meta(RUNNER_IDENTITIES, bytes)
    }
}
