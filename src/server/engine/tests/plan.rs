//! Plans: what a batch would change, and what it must not be allowed to.

use super::{cast, configmap, each_backend, key, secret, service_mounting};
use crate::plan::Action;
use crate::resource::Kind;
use crate::server::engine::{EngineError, Settings};
use crate::wire::batch::BatchOptions;
use crate::wire::object::{Provenance, StoredSpec, namespace_key};

/// A new secret is created, cast again it is unchanged, and one changed value is one changed
/// key at the next version.
#[test]
fn create_then_noop_then_one_key_changes() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}

/// Labels change the object but not its data version; `force` bumps the version anyway.
#[test]
fn labels_do_not_bump_and_force_does() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}

/// Limits name the key and the limit; a secret's size is not reported; nothing is stored.
#[test]
fn limits_reject_and_store_nothing() {
    each_backend(|backend| {
        let mut settings = Settings::default();
        settings.limits.secret.max_value_size = 8;
        settings.limits.configmap.max_keys = 1;
        let engine = backend.engine(settings);
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
    });
}

/// A service's references resolve against the batch and the store.
#[test]
fn unresolved_references_are_rejected() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        assert!(matches!(
            cast(&engine, &[service_mounting("db")]),
            Err(EngineError::Invalid(_))
        ));
        cast(&engine, &[secret("db", &[("k", "v")])]).unwrap();
        cast(&engine, &[service_mounting("db")]).unwrap();
    });
}

/// An undeclared namespace is an error, unless the batch may create it: then it is planned
/// first and created with the batch.
#[test]
fn missing_namespaces_need_create_namespaces() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}

/// Objects cast from a source set and now absent are delete candidates; others are not.
#[test]
fn prune_candidates_come_from_the_same_source_set() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        let mut a = configmap("a", &[("k", "v")]);
        let mut b = configmap("b", &[("k", "v")]);
        a.provenance = Some(Provenance {
            source_set: Some("repo:deploy".into()),
            ..Default::default()
        });
        b.provenance = Some(Provenance {
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
    });
}
