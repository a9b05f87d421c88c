//! History and rollback (SPEC §3, issue #15) on every backend.

use super::{cast, each_backend, key, secret};
use crate::resource::Kind;
use crate::server::engine::{EngineError, Settings};
use crate::wire::batch::BatchOptions;

/// History lists retained versions newest first with key names only; a rollback makes a new
/// version with the old keys, which the next cast of the newer data plans to change back; a
/// version beyond retention is not found.
#[test]
fn history_and_rollback() {
    each_backend(|backend| {
        let settings = Settings {
            versions_kept: 3,
            ..Settings::default()
        };
        let engine = backend.engine(settings);
        let db = key(Kind::Secret, "default", "db");
        cast(
            &engine,
            &[secret("db", &[("user", "u"), ("pw", "SENTINEL-1")])],
        )
        .unwrap();
        cast(
            &engine,
            &[secret("db", &[("user", "u"), ("pw", "SENTINEL-2")])],
        )
        .unwrap();
        cast(&engine, &[secret("db", &[("user", "u"), ("token", "t")])]).unwrap();
        let history = engine.history(&db).unwrap();
        let versions: Vec<u64> = history.versions.iter().map(|v| v.version).collect();
        assert_eq!(versions, [3, 2, 1]);
        let newest = history.versions[0].changes.as_ref().unwrap();
        assert_eq!(
            (&newest.added, &newest.removed),
            (&vec!["token".to_owned()], &vec!["pw".to_owned()])
        );
        assert_eq!(
            history.versions[1].changes.as_ref().unwrap().changed,
            ["pw"]
        );
        assert_eq!(
            history.versions[2].changes.as_ref().unwrap().added,
            ["pw", "user"]
        );
        let text = serde_json::to_string(&history).unwrap();
        assert!(!text.contains("SENTINEL"), "{text}");

        let rolled = engine
            .rollback(&db, 2, Some(&"token:ops".to_owned()))
            .unwrap();
        assert_eq!((rolled.from_version, rolled.version), (2, 4));
        let listed = engine.get(&db).unwrap();
        assert_eq!(listed.object.version, 4);
        let history = engine.history(&db).unwrap();
        assert_eq!(history.versions[0].rollback_of, Some(2));
        assert_eq!(history.versions[0].cast_by.as_deref(), Some("token:ops"));
        // Version 1 went with the retention of three.
        assert!(history.versions.iter().all(|v| v.version != 1));
        assert!(history.versions.last().unwrap().changes.is_none());
        let plan = engine
            .plan(
                &[secret("db", &[("user", "u"), ("token", "t")])],
                &BatchOptions::default(),
            )
            .unwrap();
        let keys = plan.changes[0].keys.as_ref().unwrap();
        assert_eq!(
            (&keys.added, &keys.removed),
            (&vec!["token".to_owned()], &vec!["pw".to_owned()])
        );

        let gone = engine.rollback(&db, 1, None).unwrap_err();
        assert!(
            matches!(gone, EngineError::VersionGone { version: 1, .. }),
            "{gone:?}"
        );
        assert!(
            gone.to_string().contains("versions 2-4 are retained"),
            "{gone}"
        );
        let missing = engine
            .history(&key(Kind::Secret, "default", "nope"))
            .unwrap_err();
        assert!(matches!(missing, EngineError::NotFound(_)));
    });
}
