//! Deletions: what keeps an object, alone or within a batch.

use super::{cast, configmap, each_backend, key, secret, service_mounting};
use crate::resource::Kind;
use crate::server::engine::{EngineError, Settings};
use crate::wire::batch::BatchOptions;
use crate::wire::object::namespace_key;

/// A secret a service mounts is deleted only with `force`; a namespace with objects never.
#[test]
fn deleting_what_a_service_uses_needs_force() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
        assert!(matches!(
            engine.delete(&db, false),
            Err(EngineError::NotFound(_))
        ));
        let default = namespace_key("default");
        assert!(matches!(
            engine.delete(&default, false),
            Err(EngineError::NamespaceNotEmpty { count: 1, .. })
        ));
    });
}

/// Pruning a namespace that still holds objects, or a secret a remaining service mounts, is
/// refused and the whole batch is left unapplied.
#[test]
fn deletions_keep_namespaces_and_consumers_whole() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}
