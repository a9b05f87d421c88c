//! Engine behaviour on a real store in a temporary directory.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use redb::ReadableTableMetadata;

use super::*;
use crate::wire::object::{MountSpec, SecretValues, ServiceSpec};

fn engine_in(dir: &Path, settings: Settings) -> Engine {
    Engine::open(dir, Kek::from_bytes(&[7; 32]).unwrap(), settings).unwrap()
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
                    .map(|(k, v)| ((*k).to_owned(), Zeroizing::new((*v).to_owned())))
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

#[test]
fn create_then_noop_then_one_key_changes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let v1 = [secret(
        "db",
        &[("username", "admin"), ("password", "hunter2")],
    )];
    let plan = engine.plan(&v1, &BatchOptions::default()).unwrap();
    assert_eq!(plan.summary.create, 1);
    assert_eq!(cast(&engine, &v1).unwrap().versions["secret/default/db"], 1);

    let again = engine.plan(&v1, &BatchOptions::default()).unwrap();
    assert!(!again.has_changes());
    assert_eq!(cast(&engine, &v1).unwrap().applied, 0);

    let v2 = [secret(
        "db",
        &[("username", "admin"), ("password", "correct-horse")],
    )];
    let plan = engine.plan(&v2, &BatchOptions::default()).unwrap();
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!((change.from_version, change.to_version), (Some(1), Some(2)));
    let keys = change.keys.as_ref().unwrap();
    assert_eq!(
        (
            keys.added.len(),
            keys.changed.as_slice(),
            keys.removed.len()
        ),
        (0, ["password".to_owned()].as_slice(), 0)
    );
    cast(&engine, &v2).unwrap();
    let listed = engine.get(&key(Kind::Secret, "default", "db")).unwrap();
    assert_eq!(listed.object.version, 2);
    assert_eq!(
        listed.object.spec,
        StoredSpec::Secret {
            keys: vec!["password".into(), "username".into()]
        }
    );
}

/// Labels change the object but not its data version; `force` bumps the version anyway.
#[test]
fn labels_do_not_bump_and_force_does() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let mut cm = configmap("app", &[("log-level", "info")]);
    cast(&engine, std::slice::from_ref(&cm)).unwrap();
    cm.labels.insert("team".into(), "core".into());
    let change = &engine
        .plan(std::slice::from_ref(&cm), &BatchOptions::default())
        .unwrap()
        .changes[0];
    assert_eq!(
        (change.action, change.to_version),
        (Action::Update, Some(1))
    );
    cast(&engine, std::slice::from_ref(&cm)).unwrap();
    let forced = BatchOptions {
        force: true,
        ..BatchOptions::default()
    };
    let change = &engine
        .plan(std::slice::from_ref(&cm), &forced)
        .unwrap()
        .changes[0];
    assert_eq!(
        (change.action, change.to_version),
        (Action::Update, Some(2))
    );
}

/// Only the newest `versions-kept` versions survive; older ones are deleted with the write.
#[test]
fn retention_keeps_the_newest_versions() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        versions_kept: 3,
        ..Settings::default()
    };
    let engine = engine_in(dir.path(), settings);
    for i in 0..6 {
        cast(
            &engine,
            &[secret("db", &[("password", &format!("pw-{i}"))])],
        )
        .unwrap();
    }
    let listed = engine.get(&key(Kind::Secret, "default", "db")).unwrap();
    let versions: Vec<u64> = listed.versions.iter().map(|v| v.version).collect();
    assert_eq!(versions, [4, 5, 6]);
    let tx = engine.db.begin_read().unwrap();
    assert_eq!(tx.open_table(VERSIONS).unwrap().len().unwrap(), 3);
}

/// Limits name the key and the limit; a secret's size is not reported; nothing is stored.
#[test]
fn limits_reject_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.limits.secret.max_value_size = 8;
    settings.limits.configmap.max_keys = 1;
    let engine = engine_in(dir.path(), settings);
    let batch = [
        secret("db", &[("password", "much-too-long")]),
        configmap("app", &[("a", "1"), ("b", "2")]),
    ];
    let Err(EngineError::Invalid(violations)) = cast(&engine, &batch) else {
        panic!("expected a violation")
    };
    assert_eq!(violations.len(), 2);
    let size = violations
        .iter()
        .find(|v| v.key.as_deref() == Some("password"))
        .unwrap();
    assert_eq!((size.limit, size.observed), (Some(8), None));
    assert!(!size.message.contains("much-too-long"));
    assert!(engine.list(Kind::Secret, None).unwrap().is_empty());
    assert!(engine.list(Kind::ConfigMap, None).unwrap().is_empty());
}

/// A change between plan and apply aborts the whole batch.
#[test]
fn stale_plans_conflict_and_apply_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    cast(&engine, &[secret("db", &[("password", "a")])]).unwrap();
    let batch = [
        secret("db", &[("password", "b")]),
        configmap("app", &[("k", "v")]),
    ];
    let plan = engine.plan(&batch, &BatchOptions::default()).unwrap();
    cast(&engine, &[secret("db", &[("password", "c")])]).unwrap();
    let expected: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.key.clone(), c.revision))
        .collect();
    let result = engine.apply(&batch, &[], &expected, &BatchOptions::default());
    assert!(matches!(result, Err(EngineError::Conflict(keys)) if keys.len() == 1));
    assert!(engine.list(Kind::ConfigMap, None).unwrap().is_empty());
}

#[test]
fn another_kek_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(engine_in(dir.path(), Settings::default()));
    let other = Engine::open(
        dir.path(),
        Kek::from_bytes(&[8; 32]).unwrap(),
        Settings::default(),
    );
    assert!(matches!(other, Err(EngineError::WrongKek)));
}

/// No file of the data directory holds a secret value: after writes, updates, deletes and a
/// compaction.
#[test]
fn no_plaintext_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let markers = ["MARKER-one-4f1c", "MARKER-two-77aa", "MARKER-three-9b0e"];
    {
        let engine = engine_in(dir.path(), Settings::default());
        cast(
            &engine,
            &[
                secret("a", &[("k", markers[0])]),
                secret("b", &[("k", markers[1])]),
            ],
        )
        .unwrap();
        cast(&engine, &[secret("a", &[("k", markers[2])])]).unwrap();
        engine
            .delete(&key(Kind::Secret, "default", "b"), false)
            .unwrap();
    }
    let mut db = Database::create(store_path(dir.path())).unwrap();
    db.compact().unwrap();
    drop(db);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for marker in markers {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found on disk"
            );
        }
    }
}

#[test]
fn deleting_what_a_service_uses_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    cast(
        &engine,
        &[secret("db", &[("k", "v")]), service_mounting("db")],
    )
    .unwrap();
    let db = key(Kind::Secret, "default", "db");
    assert!(
        matches!(engine.delete(&db, false), Err(EngineError::InUse { users, .. }) if users.len() == 1)
    );
    engine.delete(&db, true).unwrap();
    assert!(matches!(engine.get(&db), Err(EngineError::NotFound(_))));
    let default = namespace_key("default");
    assert!(matches!(
        engine.delete(&default, false),
        Err(EngineError::NamespaceNotEmpty { count: 1, .. })
    ));
}

/// A service's references resolve against the batch and the store.
#[test]
fn unresolved_references_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    assert!(matches!(
        cast(&engine, &[service_mounting("db")]),
        Err(EngineError::Invalid(_))
    ));
    cast(&engine, &[secret("db", &[("k", "v")])]).unwrap();
    cast(&engine, &[service_mounting("db")]).unwrap();
}

#[test]
fn missing_namespaces_need_create_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let mut cm = configmap("app", &[("k", "v")]);
    cm.key.namespace = "team".into();
    let Err(EngineError::Invalid(v)) =
        engine.plan(std::slice::from_ref(&cm), &BatchOptions::default())
    else {
        panic!("expected a missing namespace")
    };
    assert!(v[0].message.contains("--create-namespace"));
    let options = BatchOptions {
        create_namespaces: true,
        ..BatchOptions::default()
    };
    let plan = engine.plan(std::slice::from_ref(&cm), &options).unwrap();
    assert_eq!(plan.summary.create, 2);
    assert_eq!(plan.changes[0].key, namespace_key("team"));
    engine.apply(&[cm], &[], &[], &options).unwrap();
    assert_eq!(engine.list(Kind::ConfigMap, Some("team")).unwrap().len(), 1);
}

/// Objects cast from a source set and now absent are delete candidates; others are not.
#[test]
fn prune_candidates_come_from_the_same_source_set() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let mut a = configmap("a", &[("k", "v")]);
    let mut b = configmap("b", &[("k", "v")]);
    a.provenance = Some(crate::wire::object::Provenance {
        source_set: Some("repo:deploy".into()),
        ..Default::default()
    });
    b.provenance = Some(crate::wire::object::Provenance {
        source_set: Some("other".into()),
        ..Default::default()
    });
    cast(&engine, &[a, b]).unwrap();
    let options = BatchOptions {
        prune_source_set: Some("repo:deploy".into()),
        ..BatchOptions::default()
    };
    let plan = engine.plan(&[], &options).unwrap();
    assert_eq!(plan.summary.delete, 1);
    assert_eq!(plan.changes[0].key.name, "a");
}

#[test]
fn built_in_namespaces_exist_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let names: Vec<String> = engine
        .list(Kind::Namespace, None)
        .unwrap()
        .into_iter()
        .map(|l| l.object.key.name)
        .collect();
    assert_eq!(names, ["default", "system"]);
}

#[cfg(unix)]
#[test]
fn data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(engine_in(&data, Settings::default()));
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

/// Pruning a namespace that still holds objects, or a secret a remaining service mounts, is
/// refused and the whole batch is left unapplied.
#[test]
fn deletions_keep_namespaces_and_consumers_whole() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let mut team = configmap("app", &[("k", "v")]);
    team.key.namespace = "team".into();
    let options = BatchOptions {
        create_namespaces: true,
        ..BatchOptions::default()
    };
    engine.apply(&[team], &[], &[], &options).unwrap();
    cast(
        &engine,
        &[secret("db", &[("k", "v")]), service_mounting("db")],
    )
    .unwrap();

    let result = engine.apply(
        &[configmap("other", &[("k", "v")])],
        &[namespace_key("team")],
        &[],
        &BatchOptions::default(),
    );
    assert!(
        matches!(result, Err(EngineError::NamespaceNotEmpty { count: 1, .. })),
        "{result:?}"
    );
    let db = key(Kind::Secret, "default", "db");
    let result = engine.apply(
        &[],
        std::slice::from_ref(&db),
        &[],
        &BatchOptions::default(),
    );
    assert!(
        matches!(result, Err(EngineError::InUse { .. })),
        "{result:?}"
    );
    assert!(
        engine
            .list(Kind::ConfigMap, Some("default"))
            .unwrap()
            .is_empty()
    );

    // Deleting the consumer in the same batch, or forcing, is fine.
    let api = key(Kind::Service, "default", "api");
    engine
        .apply(&[], &[db.clone(), api], &[], &BatchOptions::default())
        .unwrap();
    assert!(matches!(engine.get(&db), Err(EngineError::NotFound(_))));
}

fn sealed_secret(engine: &Engine, name: &str, place_name: &str, pairs: &[(&str, &str)]) -> Desired {
    let recipient: age::x25519::Recipient = engine.seal_recipient().parse().unwrap();
    let sealed = pairs
        .iter()
        .map(|(k, v)| {
            let place = Place::new("default", place_name, k);
            let armor = crate::secrets::seal(v, &place, std::slice::from_ref(&recipient)).unwrap();
            ((*k).to_owned(), armor)
        })
        .collect();
    let mut desired = secret(name, &[]);
    desired.spec = DesiredSpec::Secret {
        data: SecretValues::default(),
        sealed,
    };
    desired
}

#[test]
fn sealed_values_store_what_plaintext_stores() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let pairs = [("username", "admin"), ("password", "hunter2")];
    cast(&engine, &[secret("db", &pairs)]).unwrap();
    // Sealed for the same place with the same values: nothing to do, however often re-sealed.
    for _ in 0..2 {
        let sealed = sealed_secret(&engine, "db", "db", &pairs);
        let plan = engine
            .plan(std::slice::from_ref(&sealed), &BatchOptions::default())
            .unwrap();
        assert!(!plan.has_changes(), "{plan:?}");
        assert_eq!(cast(&engine, &[sealed]).unwrap().applied, 0);
    }
    let changed = sealed_secret(
        &engine,
        "db",
        "db",
        &[("username", "admin"), ("password", "new")],
    );
    let plan = engine
        .plan(std::slice::from_ref(&changed), &BatchOptions::default())
        .unwrap();
    let keys = plan.changes[0].keys.as_ref().unwrap();
    assert_eq!(keys.changed, ["password".to_owned()]);
    assert_eq!(
        cast(&engine, &[changed]).unwrap().versions["secret/default/db"],
        2
    );
    let (data, version) = engine
        .materialise(&key(Kind::Secret, "default", "db"))
        .unwrap();
    assert_eq!((data["password"].as_str(), version), ("new", 2));
}

#[test]
fn sealed_values_refuse_another_place() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), Settings::default());
    let moved = sealed_secret(&engine, "api", "db", &[("password", "hunter2")]);
    let error = engine.plan(&[moved], &BatchOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, EngineError::Invalid(_)), "{message}");
    assert!(
        message.contains("secret `default/db` key `password`")
            && message.contains("secret `default/api` key `password`"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
}

#[test]
fn the_seal_identity_survives_a_restart_and_needs_the_kek() {
    let dir = tempfile::tempdir().unwrap();
    let first = engine_in(dir.path(), Settings::default()).seal_recipient();
    assert!(first.starts_with("age1"), "{first}");
    assert_eq!(
        engine_in(dir.path(), Settings::default()).seal_recipient(),
        first
    );
    let other = tempfile::tempdir().unwrap();
    assert_ne!(
        engine_in(other.path(), Settings::default()).seal_recipient(),
        first
    );
}
