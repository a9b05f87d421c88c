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
//!
//! # A hung connection (fail closed)
//!
//! A check on a connection that neither answers nor fails (a partition, a stalled database)
//! would keep a holder running while the database may already have given the lock to another
//! replica. So the holder must confirm its lock at least once per [`LEASE`]: a watchdog thread
//! that never touches the database demotes a holder whose last confirmation is older, and
//! its services stop — better no instance than two. The database frees a dead session's lock
//! only once it notices the session is gone (its own TCP keepalives, minutes by default), so
//! by then the old holder has long stopped. The lock connection itself has TCP keepalives,
//! a TCP user timeout and a statement timeout, so that a hung check ends in an error and the
//! replica reconnects and contends again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::log;
use crate::server::store::postgres::{PgStore, RUNNER_HOLDER as HOLDER};

/// How often a standby tries the lock and a holder checks its connection.
pub const POLL: Duration = Duration::from_secs(2);

/// A holder that has not confirmed its lock for this long stops its services: the bound on
/// how long a replica with a hung database connection runs them.
pub const LEASE: Duration = Duration::from_secs(6);

/// How long one statement on the lock connection may run on the server.
const LOCK_STATEMENT_TIMEOUT: Duration = Duration::from_secs(4);

/// A callback on gaining (`true`) or losing (`false`) the lock.
type Changed = Arc<dyn Fn(bool) + Send + Sync>;

/// The advisory lock of the runner.
const RUNNER_LOCK: i64 = 0x7275_6e65_0003;

/// This replica's standing.
#[derive(Debug)]
pub struct Leadership {
    leader: AtomicBool,
    name: String,
    /// The last holder this replica read (for its standby reason).
    holder: Mutex<Option<String>>,
    /// When this replica last confirmed that it holds the lock.
    confirmed: Mutex<Instant>,
}

impl Leadership {
    /// Starts contending for the lock on a thread of its own; `changed(true)` runs when this
    /// replica takes it, `changed(false)` when it loses it.
    pub fn start(
        store: &PgStore,
        name: String,
        changed: impl Fn(bool) + Send + Sync + 'static,
    ) -> Arc<Self> {
        let leadership = Arc::new(Self {
            leader: AtomicBool::new(false),
            name,
            holder: Mutex::new(None),
            confirmed: Mutex::new(Instant::now()),
        });
        let changed: Changed = Arc::new(changed);
        let (this, on_change) = (Arc::clone(&leadership), Arc::clone(&changed));
        let watchdog = std::thread::Builder::new()
            .name("runner-lease".to_owned())
            .spawn(move || this.watch(&*on_change));
        if let Err(error) = watchdog {
            log::error(&format!(
                "cannot start the runner lease's thread ({error}): this replica stays a standby"
            ));
            return leadership;
        }
        let this = Arc::clone(&leadership);
        let store = store.clone();
        let spawned = std::thread::Builder::new()
            .name("runner-lock".to_owned())
            .spawn(move || this.contend(&store, &*changed));
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
                client = store.connect_for_lock(LEASE).ok().and_then(|mut c| {
                    let timeout = format!(
                        "SET statement_timeout = {}",
                        LOCK_STATEMENT_TIMEOUT.as_millis()
                    );
                    c.simple_query(&timeout).ok().map(|_| c)
                });
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
                Ok(true) => {
                    self.confirm(Instant::now());
                    if !leader && !self.leader.swap(true, Ordering::AcqRel) {
                        log::info(&format!(
                            "runner: this replica `{}` holds the runner lock and runs the `process:` services",
                            self.name
                        ));
                        changed(true);
                    }
                }
                Ok(false) => {}
                Err(()) => {
                    client = None;
                    if self.demote() {
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

    /// Demotes a holder whose lock was not confirmed for [`LEASE`] (the check hangs).
    fn watch(&self, changed: &dyn Fn(bool)) {
        loop {
            std::thread::sleep(POLL / 4);
            let confirmed = *self
                .confirmed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if lease_expired(confirmed, Instant::now()) && self.demote() {
                log::warn(&format!(
                    "runner: could not confirm the runner lock for {} s (the database does not answer); stopping the `process:` services",
                    LEASE.as_secs()
                ));
                changed(false);
            }
        }
    }

    fn confirm(&self, at: Instant) {
        *self
            .confirmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// Marks this replica a standby; `true` when it was the holder (exactly one caller wins).
    fn demote(&self) -> bool {
        self.leader
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
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

/// Whether a lock last confirmed at `confirmed` must be given up at `now`.
fn lease_expired(confirmed: Instant, now: Instant) -> bool {
    now.saturating_duration_since(confirmed) > LEASE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_after_a_few_missed_checks_only() {
        let start = Instant::now();
        assert!(!lease_expired(start, start + POLL));
        assert!(!lease_expired(start, start + LEASE));
        assert!(lease_expired(
            start,
            start + LEASE + Duration::from_millis(1)
        ));
        // A few polls fit in a lease: one slow check does not stop the services.
        assert!(LEASE >= POLL * 3);
    }

    #[test]
    fn only_one_demotion_wins() {
        let leadership = Leadership {
            leader: AtomicBool::new(true),
            name: "a".to_owned(),
            holder: Mutex::new(None),
            confirmed: Mutex::new(Instant::now()),
        };
        assert!(leadership.demote());
        assert!(!leadership.demote());
        assert!(leadership.gate().is_some());
    }
}
