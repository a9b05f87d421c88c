//! Applies: revisions guard them, retention trims behind them, single writes check first.

use super::{cast, configmap, each_backend, key, secret};
use crate::resource::Kind;
use crate::server::engine::{EngineError, Settings};
use crate::wire::batch::BatchOptions;

/// Only the newest `versions-kept` versions survive; older ones are deleted with the write.
#[test]
fn retention_keeps_the_newest_versions() {
    each_backend(|backend| {
        let settings = Settings {
            versions_kept: 3,
            ..Settings::default()
        };
        let engine = backend.engine(settings);
        for i in 0..6 {
            cast(
                &engine,
                &[secret("db", &[("password", &format!("pw-{i}"))])],
            )
            .unwrap();
        }
        let db = key(Kind::Secret, "default", "db");
        let listed = engine.get(&db).unwrap();
        let versions: Vec<u64> = listed.versions.iter().map(|v| v.version).collect();
        assert_eq!(versions, [4, 5, 6]);
        let stored: Vec<u64> = engine
            .store
            .read(|tx| {
                let mut stored = Vec::new();
                for version in 1..=6 {
                    if tx.data(&db, version)?.is_some() {
                        stored.push(version);
                    }
                }
                Ok::<_, EngineError>(stored)
            })
            .unwrap();
        assert_eq!(stored, [4, 5, 6]);
    });
}

/// A change between plan and apply aborts the whole batch.
#[test]
fn stale_plans_conflict_and_apply_nothing() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}

/// A single write creates only what is absent and updates only the revision it names.
#[test]
fn puts_check_existence_and_revision() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        let cm = configmap("app", &[("k", "v")]);
        engine.put(&cm, true, None, None).unwrap();
        assert!(matches!(
            engine.put(&cm, true, None, None),
            Err(EngineError::Exists { .. })
        ));
        let changed = configmap("app", &[("k", "w")]);
        let error = engine.put(&changed, false, Some(5), None).unwrap_err();
        assert!(
            matches!(
                error,
                EngineError::PreconditionFailed {
                    current: Some(1),
                    expected: 5,
                    ..
                }
            ),
            "{error}"
        );
        engine
            .put(&changed, false, Some(1), Some("ci".into()))
            .unwrap();
        let listed = engine.get(&cm.key).unwrap();
        assert_eq!((listed.revision, listed.object.version), (2, 2));
        let provenance = listed.object.provenance.unwrap();
        assert_eq!(provenance.cast_by.as_deref(), Some("ci"));
    });
}
