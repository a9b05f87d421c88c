//! The PostgreSQL store (SPEC §4.5, issue #16): every object, data version, token hash, KEK
//! check value and seal identity in one database that any number of runed replicas share.
//!
//! In: a connection URL (a [`Secret`]: it holds the password) and a pool size. Out: a
//! [`Store`] and a [`TokenStore`] over the tables of [`schema`], created or migrated on open.
//! Must not happen here: the URL in an error or a log line; a plaintext secret (the engine
//! hands over ciphertext, as to redb).
//!
//! # Why the synchronous `postgres` client and an r2d2 pool
//!
//! The [`Store`] seam is synchronous (scoped closures), and runed already calls the engine on
//! tokio's blocking pool (`spawn_blocking`). The sync client fits the seam without a second
//! bridge; it drives its connection on a runtime of its own, which must not be entered from an
//! async worker thread — [`off_runtime`] moves such a caller (the authentication middleware
//! reading tokens) out of the worker with `block_in_place`. r2d2 checks a connection before it
//! hands it out, so a replica recovers by itself once the database is back.
//!
//! # Why one advisory lock per write transaction
//!
//! The engine compares revisions inside a write transaction, then writes; it also counts a
//! namespace's objects before deleting it. Every write transaction therefore first takes one
//! transaction-scoped advisory lock ([`WRITE_LOCK`]): writes through all replicas are
//! serialised exactly as redb serialises them in one process, and each statement (READ
//! COMMITTED) sees every commit before the lock was granted plus its own writes. Two replicas
//! can never both pass a revision check, without per-row `FOR UPDATE` (which cannot lock a row
//! that does not exist yet) or SERIALIZABLE retries (the engine's closures run once). Reads run
//! on a REPEATABLE READ snapshot and never wait for the lock.

mod instances;
mod schema;
mod tokens;
mod tx;

use std::sync::Arc;
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::secrets::Secret;
use crate::server::store::{
    Health, IoFailure, PublishedInstance, ReadTx, Store, StoreError, WriteTx,
};

pub use instances::RUNNER_HOLDER;
pub use tokens::PgTokenStore;

/// The key of the advisory lock every write transaction holds until it ends.
pub(crate) const WRITE_LOCK: i64 = 0x7275_6e65_0001;

/// How long a statement may take before it fails.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a write waits for the write lock by default. A replica holds it for a whole apply
/// (tens of seconds for 10,000 objects), so a cast queued behind others waits longer than one
/// statement may take; and less than `rune`'s 120 s per request, so that the answer is a 503
/// to retry, not a client timeout.
pub const WRITE_LOCK_WAIT: Duration = Duration::from_secs(90);

/// How long connecting, or waiting for a free pooled connection, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/db?sslmode=…`; never logged.
    pub url: Secret<String>,
    pub pool_size: u32,
    /// PEM certificates to trust instead of the web PKI roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// How long a write waits for the write lock ([`WRITE_LOCK_WAIT`]) before it fails as busy.
    pub write_lock_wait: Duration,
}

/// A database shared by replicas.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// For connections of their own (the runner's session lock); holds the password.
    config: postgres::Config,
    tls: MakeRustlsConnect,
    /// `SET LOCAL statement_timeout` for the wait, the lock, then the usual timeout again: one
    /// round trip, whatever else the transaction does.
    take_write_lock: String,
    write_lock_wait: Duration,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects, then creates or migrates the schema; a schema newer than this runed knows is
    /// refused.
    pub fn open(options: &PgOptions) -> Result<Self, StoreError> {
        let mut config: postgres::Config = options.url.expose().parse().map_err(|_| {
            // The parser's message may quote the URL, password included.
            StoreError::Backend("the PostgreSQL URL does not parse".to_owned())
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.options(&format!(
            "-c statement_timeout={}",
            STATEMENT_TIMEOUT.as_millis()
        ));
        config.application_name("runed");
        let tls = tls(options.ca_file.as_deref())?;
        let manager = PostgresConnectionManager::new(config.clone(), tls.clone());
        let pool = off_runtime(|| {
            r2d2::Pool::builder()
                .max_size(options.pool_size.max(1))
                .min_idle(Some(0))
                .connection_timeout(CONNECT_TIMEOUT)
                .error_handler(Box::new(r2d2::NopErrorHandler))
                .build(manager)
        })
        .map_err(|error| unavailable(&error))?;
        let store = Self {
            pool,
            config,
            tls,
            take_write_lock: format!(
                "SET LOCAL statement_timeout = {}; SELECT pg_advisory_xact_lock({WRITE_LOCK}); \
                 SET LOCAL statement_timeout = {}",
                options.write_lock_wait.as_millis(),
                STATEMENT_TIMEOUT.as_millis()
            ),
            write_lock_wait: options.write_lock_wait,
        };
        store.with_client(schema::migrate)?;
        Ok(store)
    }

    /// What a write says when it did not get the write lock: in time, or at all.
    fn lock_refused(&self, error: postgres::Error) -> StoreError {
        if error.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
            return StoreError::Io(IoFailure {
                full: false,
                cause: format!(
                    "PostgreSQL is busy: other writes held the store's write lock for {} s; try again",
                    self.write_lock_wait.as_secs()
                ),
            });
        }
        db(error)
    }

    /// A connection outside the pool, for a session-level advisory lock. Call it off any
    /// async worker thread.
    pub fn connect(&self) -> Result<postgres::Client, StoreError> {
        self.config
            .connect(self.tls.clone())
            .map_err(|error| unavailable(&error))
    }

    /// A connection of its own for the runner's session lock, which must notice a dead or
    /// silent peer: TCP keepalives, and a TCP user timeout of `silent` (unacknowledged data
    /// fails the connection after that long). Call it off any async worker thread.
    pub fn connect_for_lock(&self, silent: Duration) -> Result<postgres::Client, StoreError> {
        let mut config = self.config.clone();
        config
            .connect_timeout(CONNECT_TIMEOUT.min(silent))
            .keepalives(true)
            .keepalives_idle(silent / 2)
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3)
            .tcp_user_timeout(silent);
        config
            .connect(self.tls.clone())
            .map_err(|error| unavailable(&error))
    }

    /// The tokens kept in the same database.
    pub fn tokens(&self) -> PgTokenStore {
        PgTokenStore::new(self.clone())
    }

    /// Runs `work` on a pooled connection, off any async worker thread.
    fn with_client<R>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        off_runtime(|| {
            let mut client = self.pool.get().map_err(|error| unavailable(&error))?;
            work(&mut client)
        })
    }
}

impl Store for PgStore {
    fn read_tx(&self, work: &mut dyn FnMut(&dyn ReadTx)) -> Result<(), StoreError> {
        self.with_client(|client| {
            let tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            let tx = tx::Tx::new(tx);
            work(&tx);
            tx.finish(false)
        })
    }

    fn write_tx(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> bool) -> Result<(), StoreError> {
        self.with_client(|client| {
            let mut tx = client.transaction().map_err(db)?;
            tx.batch_execute(&self.take_write_lock)
                .map_err(|error| self.lock_refused(error))?;
            let mut tx = tx::Tx::new(tx);
            let commit = work(&mut tx);
            tx.finish(commit)
        })
    }

    /// Whether the database answers now (`/healthz` of every replica says so).
    fn health(&self) -> Health {
        match self.with_client(|client| client.simple_query("SELECT 1").map_err(db)) {
            Ok(_) => Health::Ok,
            Err(StoreError::Io(failure)) => Health::Degraded(failure),
            Err(other) => Health::Degraded(IoFailure {
                full: false,
                cause: other.to_string(),
            }),
        }
    }

    fn publish_instances(
        &self,
        replica: &str,
        instances: &[PublishedInstance],
    ) -> Result<bool, StoreError> {
        self.with_client(|client| instances::publish(client, replica, instances))
    }

    fn published_instances(&self) -> Result<Vec<PublishedInstance>, StoreError> {
        self.with_client(instances::published)
    }
}

/// TLS for managed databases: rustls with the web PKI roots, or the certificates of `ca_file`.
/// The URL's `sslmode` decides whether TLS is used: `require` fails rather than talk in
/// plaintext; `disable` never tries TLS. The server's name is always verified.
fn tls(ca_file: Option<&std::path::Path>) -> Result<MakeRustlsConnect, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let roots = match ca_file {
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        Some(path) => {
            let unusable = |why: String| {
                StoreError::Backend(format!(
                    "storage.postgres.ca-file `{}`: {why}",
                    path.display()
                ))
            };
            let text = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&text) {
                let cert = cert.map_err(|e| unusable(e.to_string()))?;
                roots.add(cert).map_err(|e| unusable(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(unusable("it holds no PEM certificate".to_owned()));
            }
            roots
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Runs blocking database work; on an async worker thread of runed's runtime it first leaves
/// the worker (the sync client would otherwise start a runtime inside a runtime).
fn off_runtime<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// The database could not be reached (or a pooled connection not had in time): an I/O
/// failure of the store, so runed answers 503 and `rune` exits 8, as for a failing disk.
fn unavailable(error: &dyn std::fmt::Display) -> StoreError {
    StoreError::Io(IoFailure {
        full: false,
        cause: format!("the PostgreSQL database is unavailable: {error}"),
    })
}

/// A statement failed. The server's message names tables and constraints, never a bound
/// value; a connection that broke underneath says so.
#[allow(clippy::needless_pass_by_value)] // used as `map_err(db)`
pub(super) fn db(error: postgres::Error) -> StoreError {
    if error.is_closed() || error.as_db_error().is_none() {
        return unavailable(&error);
    }
    // A statement that ran out of time, or a lock not granted in time, is a database too busy
    // now: 503, to retry — not an internal error.
    if error.code() == Some(&postgres::error::SqlState::QUERY_CANCELED)
        || error.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
    {
        return StoreError::Io(IoFailure {
            full: false,
            cause: format!("PostgreSQL is busy: {error}"),
        });
    }
    // The database's own disk is full: 507, as for redb's.
    if error.code() == Some(&postgres::error::SqlState::DISK_FULL) {
        return StoreError::Io(IoFailure {
            full: true,
            cause: format!("PostgreSQL: {error}"),
        });
    }
    StoreError::Backend(format!("PostgreSQL: {error}"))
}
