//! The database schema and its migrations: `rune_schema` holds the version this database was
//! last migrated to; each runed applies the migrations it knows past it, in one transaction,
//! under an advisory lock so that replicas starting together migrate once.
//!
//! In: a connection. Out: the tables of [`MIGRATIONS`], or a refusal when the database is newer
//! than this runed. Must not happen here: a migration that rewrites stored bytes (ciphertext
//! stays as the engine wrote it).

use crate::server::store::StoreError;
use crate::server::store::postgres::db;

/// The key of the advisory lock held while migrating.
const MIGRATE_LOCK: i64 = 0x7275_6e65_0002;

/// Migration `n` (1-based) takes a database from version `n - 1` to `n`. Text columns compare
/// bytewise (`COLLATE "C"`), so listings come in the order redb keeps its keys.
pub const MIGRATIONS: &[&str] = &[
    // 1: objects (the record JSON), data versions (ciphertext or configmap JSON), metadata
    //    (KEK check value, seal identity, auth latch, runner identities), tokens (hashes).
    r#"
    CREATE TABLE rune_objects (
        kind text COLLATE "C" NOT NULL,
        namespace text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        source_set text COLLATE "C",
        record text NOT NULL,
        PRIMARY KEY (kind, namespace, name)
    );
    CREATE INDEX rune_objects_source_set ON rune_objects (source_set)
        WHERE source_set IS NOT NULL;
    CREATE INDEX rune_objects_namespace ON rune_objects (namespace);
    CREATE TABLE rune_versions (
        kind text COLLATE "C" NOT NULL,
        namespace text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (kind, namespace, name, version)
    );
    CREATE TABLE rune_meta (
        name text COLLATE "C" PRIMARY KEY,
        value bytea NOT NULL
    );
    CREATE TABLE rune_tokens (
        name text COLLATE "C" PRIMARY KEY,
        info text NOT NULL
    );
    "#,
    // 2: check values by KEK id (KEK rotation) and audit records in time order (issue #15).
    r#"
    CREATE TABLE rune_keks (
        id text COLLATE "C" PRIMARY KEY,
        check_value bytea NOT NULL
    );
    CREATE TABLE rune_audit (
        seq bigserial PRIMARY KEY,
        at text COLLATE "C" NOT NULL,
        entry text NOT NULL
    );
    CREATE INDEX rune_audit_at ON rune_audit (at, seq);
    "#,
    // 3: seal identities after the first (the first stays in rune_meta), by number (#15).
    "
    CREATE TABLE rune_seal_identities (
        number bigint PRIMARY KEY,
        sealed bytea NOT NULL
    );
    ",
    // 4: the instance states the replica that runs the `process:` services publishes (#16).
    r#"
    CREATE TABLE rune_instances (
        namespace text COLLATE "C" NOT NULL,
        service text COLLATE "C" NOT NULL,
        instance integer NOT NULL,
        replica text NOT NULL,
        status text NOT NULL,
        PRIMARY KEY (namespace, service, instance)
    );
    "#,
];

/// The newest schema this runed knows.
pub fn known() -> i32 {
    MIGRATIONS.len() as i32
}

/// Brings the database to [`known`]; refuses one that is already past it.
pub fn migrate(client: &mut postgres::Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS rune_schema (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            version integer NOT NULL
        );
        INSERT INTO rune_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )
    .map_err(db)?;
    let found: i32 = tx
        .query_one("SELECT version FROM rune_schema", &[])
        .map_err(db)?
        .get(0);
    if found > known() {
        return Err(StoreError::Backend(format!(
            "the database schema is version {found}, newer than this runed knows ({}): run a runed at least as new as the one that migrated it",
            known()
        )));
    }
    for (done, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(migration).map_err(db)?;
        let version = done as i32 + 1;
        tx.execute("UPDATE rune_schema SET version = $1", &[&version])
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}
