//! Each service's own uid (SPEC §5): allocated once from `runner.uid-range`, recorded durably,
//! the same across restarts of runed and of the instance; plus the mount points runed created
//! for the service, so that deleting it removes them.
//!
//! In: the data directory, the configured range, service keys. Out: `runner-uids.json` in the
//! data directory (mode 0600, replaced atomically through [`crate::fs`]) and the uid of a
//! service. The interface ([`Identities::uid`], [`Identities::record_created`],
//! [`Identities::forget`]) is all the runner uses, so that the record can move into the store.
//!
//! Must not happen here: a uid handed out twice. A deleted service's uid is not given to
//! another service (the counter only grows), so files it left behind belong to nobody alive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::server_config::UidRange;

/// The file in the data directory.
pub const FILE: &str = "runner-uids.json";

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
#[derive(Debug)]
pub struct Identities {
    path: PathBuf,
    range: UidRange,
    recorded: Recorded,
}

impl Identities {
    /// Reads `runner-uids.json` from `data_dir` (none yet: empty). A file that does not parse
    /// is an error: guessing would risk giving two services one uid.
    pub fn open(data_dir: &Path, range: UidRange) -> Result<Self, String> {
        let path = data_dir.join(FILE);
        let recorded = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("`{}` is damaged: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Recorded::default(),
            Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
        };
        Ok(Self {
            path,
            range,
            recorded,
        })
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
        let bytes = serde_json::to_vec_pretty(&self.recorded).unwrap_or_default();
        crate::fs::replace_private(&self.path, &bytes).map_err(|e| {
            format!(
                "cannot record service uids in `{}`: {e}",
                self.path.display()
            )
        })
    }
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::{FILE, Identities};
    use crate::server_config::UidRange;

    const RANGE: UidRange = UidRange {
        first: 5000,
        last: 5002,
    };

    /// Two services get different uids from the range; a reopened record gives the same ones;
    /// the file is private; a deleted service's uid is not reused; a full range says so.
    #[test]
    fn uids_are_allocated_once_recorded_and_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ids = Identities::open(dir.path(), RANGE).unwrap();
        let a = ids.uid("ns", "a").unwrap();
        let b = ids.uid("ns", "b").unwrap();
        assert_eq!((a, b), (5000, 5001));
        assert_eq!(ids.uid("ns", "a").unwrap(), a);
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let mut ids = Identities::open(dir.path(), RANGE).unwrap();
        assert_eq!(ids.uid("ns", "b").unwrap(), b);
        assert!(ids.forget("ns", "a").is_some());
        assert_eq!(
            ids.uid("ns", "a").unwrap(),
            5002,
            "a deleted uid is not reused"
        );
        assert!(ids.uid("ns", "c").unwrap_err().contains("used up"));
        assert_eq!(ids.services().len(), 2);
    }
}
