//! What a deleted service leaves behind, removed (SPEC §5): its logs (so that a new service of
//! the same name starts with none), the mount points runed created for it (only those, and only
//! while empty), and its uid record.
//!
//! In: the key of a service that is no longer stored, or at start the stored services (to catch
//! deletions made while runed was down). Out: files and directories removed, a line in runed's
//! log. Must not happen here: removing anything runed did not create for that service.

use std::collections::BTreeMap;
use std::path::Path;

use crate::server::log;
use crate::server::runner::{Runner, ServiceKey, logs};
use crate::wire::object::ServiceSpec;

impl Runner {
    /// Removes the logs, created mount points and uid record of a deleted service.
    pub(super) fn forget(&self, key: &ServiceKey) {
        let dir = logs::service_dir(&self.data_dir, &key.0, &key.1);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn(&format!(
                "process runner: cannot remove the logs of `{}/{}` in `{}`: {e}",
                key.0,
                key.1,
                dir.display()
            )),
        }
        let Ok(identities) = &self.identities else {
            return;
        };
        let forgotten = identities
            .lock()
            .expect("identities lock")
            .forget(&key.0, &key.1);
        for created in forgotten.iter().flat_map(|i| i.created.iter().rev()) {
            remove_empty_dir(created);
        }
        log::info(&format!(
            "process runner: removed the logs and mount points of deleted service `{}/{}`",
            key.0, key.1
        ));
    }

    /// At start: forgets every service with logs or a uid record that is no longer stored.
    pub(super) fn sweep(&self, desired: &BTreeMap<ServiceKey, ServiceSpec>) {
        let mut known: Vec<ServiceKey> = self
            .identities
            .as_ref()
            .map(|ids| ids.lock().expect("identities lock").services())
            .unwrap_or_default();
        known.extend(logged_services(&self.data_dir.join("logs")));
        known.sort();
        known.dedup();
        for key in known.iter().filter(|k| !desired.contains_key(*k)) {
            self.forget(key);
        }
    }
}

/// Every `<namespace>/<service>` directory under the logs directory.
fn logged_services(logs: &Path) -> Vec<ServiceKey> {
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    names(logs)
        .into_iter()
        .flat_map(|ns| {
            names(&logs.join(&ns))
                .into_iter()
                .map(move |name| (ns.clone(), name))
        })
        .collect()
}

/// Removes a directory runed created, unless something else has been put in it since.
fn remove_empty_dir(dir: &Path) {
    match std::fs::remove_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::warn(&format!(
            "process runner: kept the mount point `{}` runed created: {e}",
            dir.display()
        )),
    }
}
