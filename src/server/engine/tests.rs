//! The engine's behaviour, run on every store backend through the [`Store`] trait.
//!
//! Each test takes a [`Backend`]: a fresh store from one factory of [`BACKENDS`]. Adding a
//! backend is adding its factory there; every test then runs on it too. Tests of the redb
//! files themselves (modes, bytes on disk) are in [`disk`].

mod apply;
mod busy;
mod delete;
mod disk;
mod history;
mod keks;
mod open;
#[path = "../../../tests/support/pg_cluster.rs"]
mod pg_cluster;
mod plan;
mod reseal;
mod sealed;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::resource::Kind;
use crate::secrets::Secret;
use crate::server::crypto::Kek;
use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::store::postgres::{PgOptions, PgStore};
use crate::server::store::redb::RedbStore;
use crate::server::store::{Store, StoreError};
use crate::wire::batch::{Applied, BatchOptions};
use crate::wire::object::{
    Desired, DesiredSpec, KindName, MountSpec, ObjectKey, SecretValues, ServiceSpec,
};

/// Opens the store kept under a directory: a fresh one the first time, the same one again
/// after the previous handle was dropped (a restart).
type OpenStore = fn(&Path) -> Result<Box<dyn Store>, StoreError>;

/// Every backend the engine's tests run on.
const BACKENDS: &[(&str, OpenStore)] = &[("redb", open_redb), ("postgres", open_postgres)];

fn open_redb(dir: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(RedbStore::open(dir)?))
}

/// A database of the tests' shared cluster, made on first open; its URL is kept in `dir` so
/// that a second open (a restart) finds the same one.
fn open_postgres(dir: &Path) -> Result<Box<dyn Store>, StoreError> {
    let file = dir.join("postgres-url");
    let url = match std::fs::read_to_string(&file) {
        Ok(url) => url,
        Err(_) => {
            let url = pg_cluster::database().map_err(StoreError::Backend)?;
            std::fs::write(&file, &url).unwrap();
            url
        }
    };
    let options = PgOptions {
        url: Secret::new(url),
        pool_size: 4,
        ca_file: None,
        write_lock_wait: crate::server::store::postgres::WRITE_LOCK_WAIT,
    };
    Ok(Box::new(PgStore::open(&options)?))
}

/// PostgreSQL must start: the engine's suite runs on every backend, never on fewer.
fn require(name: &str) {
    if name == "postgres" {
        pg_cluster::required(pg_cluster::shared());
    }
}

/// One backend's store for one test.
struct Backend {
    dir: tempfile::TempDir,
    open: OpenStore,
}

impl Backend {
    /// The engine on this store, with the tests' KEK.
    fn engine(&self, settings: Settings) -> Engine {
        self.engine_with(7, settings).unwrap()
    }

    /// The engine on this store with a KEK of 32 `kek` bytes.
    fn engine_with(&self, kek: u8, settings: Settings) -> Result<Engine, EngineError> {
        let store = (self.open)(self.dir.path())?;
        Engine::with_store(store, Kek::from_bytes(&[kek; 32]).unwrap(), settings)
    }
}

/// Runs `test` on a fresh store of every backend, naming the backend when it fails.
#[track_caller]
fn each_backend(mut test: impl FnMut(&Backend)) {
    for (name, open) in BACKENDS {
        require(name);
        let backend = Backend {
            dir: tempfile::tempdir().unwrap(),
            open: *open,
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| test(&backend))) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            panic!("on the {name} backend: {message}");
        }
    }
}

fn key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: if kind.is_namespaced() {
            namespace.to_owned()
        } else {
            String::new()
        },
    }
}

fn secret(name: &str, pairs: &[(&str, &str)]) -> Desired {
    Desired {
        key: key(Kind::Secret, "default", name),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::Secret {
            data: SecretValues(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Secret::new((*v).to_owned())))
                    .collect(),
            ),
            sealed: BTreeMap::new(),
        },
    }
}

fn configmap(name: &str, pairs: &[(&str, &str)]) -> Desired {
    Desired {
        key: key(Kind::ConfigMap, "default", name),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::ConfigMap {
            data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        },
    }
}

fn service_mounting(secret: &str) -> Desired {
    Desired {
        key: key(Kind::Service, "default", "api"),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::Service(ServiceSpec {
            image: Some("example/api:1".into()),
            scale: 1,
            secret_mounts: vec![MountSpec {
                mount_path: "/etc/db".into(),
                name: "db".into(),
                source: secret.into(),
            }],
            ..ServiceSpec::default()
        }),
    }
}

/// Plans with the revisions it saw, then applies guarded by them: what `rune cast` does.
fn cast(engine: &Engine, desired: &[Desired]) -> Result<Applied, EngineError> {
    let options = BatchOptions::default();
    let plan = engine.plan(desired, &options)?;
    let expected: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.key.clone(), c.revision))
        .collect();
    engine.apply(desired, &[], &expected, &options)
}
