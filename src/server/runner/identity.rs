//! Each service's own uid (SPEC §5): allocated once from `runner.uid-range`, recorded durably,
//! the same across restarts of runed and of the instance; plus the mount points runed created
//! for the service, so that deleting it removes them.
//!
//! In: the engine (the record lives in its store, one write transaction per change, so a uid is
//! the same across restarts of runed and across replicas sharing a store), the configured range,
//! service keys. Out: the uid of a service. A `runner-uids.json` left in the data directory by
//! an earlier runed is moved into the store on first open.
//!
//! Must not happen here: a uid handed out twice. A deleted service's uid is not given to
//! another service (the counter only grows), so files it left behind belong to nobody alive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::server::engine::Engine;
use crate::server_config::UidRange;

/// Where an earlier runed kept the record, in the data directory; moved into the store.
pub const LEGACY_FILE: &str = "runner-uids.json";

/// What one service has: its uid and the mount points runed created for it.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct Identity {
    pub uid: u32,
    /// Directories runed created (parents first), removed when the service is deleted.
    #[serde(default)]
    pub created: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Recorded {
    /// The next uid to try: never goes back, so a uid is never reused.
    next: u32,
    /// By `namespace/name`.
    services: BTreeMap<String, Identity>,
}

/// The recorded identities of every service.
pub struct Identities {
    engine: Arc<Engine>,
    range: UidRange,
    recorded: Recorded,
}

impl Identities {
    /// Reads the record from the store (none yet: empty, or the legacy file of `data_dir`,
    /// moved into the store). A record that does not parse is an error: guessing would risk
    /// giving two services one uid.
    pub fn open(engine: Arc<Engine>, data_dir: &Path, range: UidRange) -> Result<Self, String> {
        let stored = engine
            .runner_identities()
            .map_err(|e| format!("cannot read the service uids from the store: {e}"))?;
        let legacy = data_dir.join(LEGACY_FILE);
        let (recorded, migrate) = match stored {
            Some(bytes) => (parse(&bytes, "the store's record of service uids")?, false),
            None => match std::fs::read(&legacy) {
                Ok(bytes) => (parse(&bytes, &format!("`{}`", legacy.display()))?, true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Recorded::default(), false),
                Err(e) => return Err(format!("cannot read `{}`: {e}", legacy.display())),
            },
        };
        let identities = Self {
            engine,
            range,
            recorded,
        };
        if migrate {
            identities.save()?;
            let _ = std::fs::remove_file(&legacy);
        }
        Ok(identities)
    }

    /// The uid of a service, allocated and recorded on first use. A recorded uid outside the
    /// configured range (the range changed) is replaced by a new one.
    pub fn uid(&mut self, namespace: &str, name: &str) -> Result<u32, String> {
        let key = key(namespace, name);
        if let Some(identity) = self.recorded.services.get(&key)
            && self.range.contains(identity.uid)
        {
            return Ok(identity.uid);
        }
        let uid = self.next_free()?;
        self.recorded.next = uid.saturating_add(1);
        self.recorded.services.entry(key).or_default().uid = uid;
        self.save()?;
        Ok(uid)
    }

    /// Records directories runed created for a service's mounts.
    pub fn record_created(
        &mut self,
        namespace: &str,
        name: &str,
        dirs: Vec<PathBuf>,
    ) -> Result<(), String> {
        if dirs.is_empty() {
            return Ok(());
        }
        let identity = self
            .recorded
            .services
            .entry(key(namespace, name))
            .or_default();
        identity.created.extend(dirs);
        self.save()
    }

    /// Drops a deleted service's record and returns it (its mount points are for the caller to
    /// remove).
    pub fn forget(&mut self, namespace: &str, name: &str) -> Option<Identity> {
        let identity = self.recorded.services.remove(&key(namespace, name))?;
        if let Err(e) = self.save() {
            crate::server::log::error(&format!("process runner: {e}"));
        }
        Some(identity)
    }

    /// Every recorded service as `(namespace, name)`.
    pub fn services(&self) -> Vec<(String, String)> {
        self.recorded
            .services
            .keys()
            .filter_map(|k| k.split_once('/'))
            .map(|(ns, name)| (ns.to_owned(), name.to_owned()))
            .collect()
    }

    /// The lowest uid at or after the counter (or the range's start) that no service holds.
    fn next_free(&self) -> Result<u32, String> {
        let start = self.recorded.next.max(self.range.first);
        (start..=self.range.last)
            .find(|uid| !self.recorded.services.values().any(|s| s.uid == *uid))
            .ok_or_else(|| {
                format!(
                    "the uid range {} is used up: widen `runner.uid-range`",
                    self.range
                )
            })
    }

    fn save(&self) -> Result<(), String> {
        let bytes = serde_json::to_vec(&self.recorded).unwrap_or_default();
        self.engine
            .set_runner_identities(&bytes)
            .map_err(|e| format!("cannot record service uids in the store: {e}"))
    }
}

fn parse(bytes: &[u8], what: &str) -> Result<Recorded, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{what} is damaged: {e}"))
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::{Identities, LEGACY_FILE};
    use crate::server::crypto::Kek;
    use crate::server::engine::{Engine, Settings};
    use crate::server_config::UidRange;

    const RANGE: UidRange = UidRange {
        first: 5000,
        last: 5002,
    };

    fn engine(dir: &Path) -> Arc<Engine> {
        Arc::new(Engine::open(dir, Kek::generate().unwrap(), Settings::default()).unwrap())
    }

    /// Two services get different uids from the range; a reopened record (runed restarted on
    /// the same store) gives the same ones; a deleted service's uid is not reused; a full range
    /// says so.
    #[test]
    fn uids_are_allocated_once_recorded_and_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path());
        let mut ids = Identities::open(engine.clone(), dir.path(), RANGE).unwrap();
        let a = ids.uid("ns", "a").unwrap();
        let b = ids.uid("ns", "b").unwrap();
        assert_eq!((a, b), (5000, 5001));
        assert_eq!(ids.uid("ns", "a").unwrap(), a);

        let mut ids = Identities::open(engine, dir.path(), RANGE).unwrap();
        assert_eq!(ids.uid("ns", "b").unwrap(), b);
        assert!(ids.forget("ns", "a").is_some());
        assert_eq!(
            ids.uid("ns", "a").unwrap(),
            5002,
            "a deleted uid is not reused"
        );
        assert!(ids.uid("ns", "c").unwrap_err().contains("used up"));
        assert_eq!(ids.services().len(), 2);
        assert!(
            !dir.path().join(LEGACY_FILE).exists(),
            "nothing beside the store"
        );
    }

    /// A record an earlier runed wrote to `runner-uids.json` moves into the store, keeping
    /// every uid, and the file goes.
    #[test]
    fn a_legacy_file_moves_into_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path());
        std::fs::write(
            dir.path().join(LEGACY_FILE),
            r#"{"next": 5001, "services": {"ns/a": {"uid": 5000}}}"#,
        )
        .unwrap();
        let mut ids = Identities::open(engine.clone(), dir.path(), RANGE).unwrap();
        assert_eq!(ids.uid("ns", "a").unwrap(), 5000);
        assert!(!dir.path().join(LEGACY_FILE).exists());
        let mut reopened = Identities::open(engine, dir.path(), RANGE).unwrap();
        assert_eq!(reopened.uid("ns", "a").unwrap(), 5000);
        assert_eq!(reopened.uid("ns", "b").unwrap(), 5001);
    }
}
