//! Which replica runs the `process:` services (SPEC §4.5): the one that holds a PostgreSQL
//! session advisory lock. Every replica of a shared database tries to take it; the holder
//! records its name in the database; when it dies its connection closes, the database frees
//! the lock, and another replica takes it within one [`POLL`] and starts the services.
//!
//! In: a dedicated connection (not from the pool: a session lock belongs to its connection).
//! Out: [`Leadership::gate`] — why this replica may not start services (a standby, naming the
//! replica that runs them) — and a callback whenever this replica gains or loses the lock.
//! Must not happen here: two replicas that both believe they hold it — a holder whose
//! connection fails gives the services up at once, before anyone else can take the lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::server::log;
use crate::server::store::postgres::{PgStore, RUNNER_HOLDER as HOLDER};

/// How often a standby tries the lock and a holder checks its connection.
pub const POLL: Duration = Duration::from_secs(2);

/// The advisory lock of the runner.
const RUNNER_LOCK: i64 = 0x7275_6e65_0003;

/// This replica's standing.
#[derive(Debug)]
pub struct Leadership {
    leader: AtomicBool,
    name: String,
    /// The last holder this replica read (for its standby reason).
    holder: Mutex<Option<String>>,
}

impl Leadership {
    /// Starts contending for the lock on a thread of its own; `changed(true)` runs when this
    /// replica takes it, `changed(false)` when it loses it.
    pub fn start(
        store: &PgStore,
        name: String,
        changed: impl Fn(bool) + Send + 'static,
    ) -> Arc<Self> {
        let leadership = Arc::new(Self {
            leader: AtomicBool::new(false),
            name,
            holder: Mutex::new(None),
        });
        let this = Arc::clone(&leadership);
        let store = store.clone();
        let spawned = std::thread::Builder::new()
            .name("runner-lock".to_owned())
            .spawn(move || this.contend(&store, &changed));
        if let Err(error) = spawned {
            log::error(&format!(
                "cannot start the runner lock's thread ({error}): this replica stays a standby"
            ));
        }
        leadership
    }

    /// This replica's name, as other replicas see it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The replica that runs the `process:` services: this one while it holds the lock, else
    /// the holder it last read.
    pub fn holder(&self) -> Option<String> {
        if self.is_leader() {
            return Some(self.name.clone());
        }
        self.holder.lock().ok().and_then(|h| h.clone())
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    /// Why this replica may not start `process:` services now, if it may not.
    pub fn gate(&self) -> Option<String> {
        if self.is_leader() {
            return None;
        }
        let holder = self.holder.lock().ok().and_then(|h| h.clone());
        Some(match holder {
            Some(holder) => format!(
                "standby: replica `{holder}` runs the `process:` services; this replica `{}` takes over when it stops",
                self.name
            ),
            None => format!(
                "standby: another replica runs the `process:` services; this replica `{}` takes over when it stops",
                self.name
            ),
        })
    }

    fn contend(&self, store: &PgStore, changed: &dyn Fn(bool)) {
        let mut client: Option<postgres::Client> = None;
        loop {
            if client.is_none() {
                client = store.connect().ok();
            }
            let leader = self.is_leader();
            let outcome = match client.as_mut() {
                None => Err(()),
                Some(client) if leader => client
                    .simple_query("SELECT 1")
                    .map(|_| true)
                    .map_err(|_| ()),
                Some(client) => self.try_take(client).map_err(|_| ()),
            };
            match outcome {
                Ok(true) if !leader => {
                    self.leader.store(true, Ordering::Release);
                    log::info(&format!(
                        "runner: this replica `{}` holds the runner lock and runs the `process:` services",
                        self.name
                    ));
                    changed(true);
                }
                Ok(_) => {}
                Err(()) => {
                    client = None;
                    if leader {
                        self.leader.store(false, Ordering::Release);
                        log::warn(
                            "runner: lost the database connection that holds the runner lock; stopping the `process:` services",
                        );
                        changed(false);
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    }

    /// Tries the lock; on success records this replica as the holder, else reads the holder.
    fn try_take(&self, client: &mut postgres::Client) -> Result<bool, postgres::Error> {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&RUNNER_LOCK])?
            .get(0);
        if taken {
            client.execute(
                "INSERT INTO rune_meta (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&HOLDER, &self.name.as_bytes()],
            )?;
        } else {
            let holder = client
                .query_opt("SELECT value FROM rune_meta WHERE name = $1", &[&HOLDER])?
                .map(|row| String::from_utf8_lossy(row.get::<_, &[u8]>(0)).into_owned());
            if let Ok(mut slot) = self.holder.lock() {
                *slot = holder;
            }
        }
        Ok(taken)
    }
}
