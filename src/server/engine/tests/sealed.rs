//! Sealed values (SPEC §6): opened with the server's identity, only at their place.

use super::{cast, each_backend, key, secret};
use crate::plan::Action;
use crate::resource::Kind;
use crate::secrets::{Keys, Place};
use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::store::{Record, SealedDigests};
use crate::wire::batch::BatchOptions;
use crate::wire::object::{Desired, DesiredSpec, SecretValues};

/// A secret `name` whose values are sealed for the secret `place_name`'s keys.
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

/// Sealed values plan and store exactly as the same values in plaintext.
#[test]
fn sealed_values_store_what_plaintext_stores() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
        assert_eq!((data["password"].expose().as_str(), version), ("new", 2));
    });
}

/// A value sealed for another secret's key does not open here; the error names both places
/// and not the value.
#[test]
fn sealed_values_refuse_another_place() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
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
    });
}

/// A plan against a store whose seal identity is gone opens nothing: what it still plans, it
/// planned from digests alone.
fn forget_identity(engine: &mut Engine) -> std::sync::RwLock<std::sync::Arc<Keys>> {
    std::mem::replace(
        &mut engine.sealing,
        std::sync::RwLock::new(std::sync::Arc::new(Keys::generate())),
    )
}

fn unchanged(engine: &Engine, desired: &Desired) -> bool {
    let plan = engine
        .plan(std::slice::from_ref(desired), &BatchOptions::default())
        .unwrap();
    !plan.has_changes()
}

fn not_recipient(engine: &Engine, desired: &Desired) -> bool {
    let error = engine
        .plan(std::slice::from_ref(desired), &BatchOptions::default())
        .unwrap_err();
    error
        .to_string()
        .contains("not sealed for any of the keys at hand")
}

/// The same sealed text re-plans as unchanged without being opened; another text of the same
/// value is opened and compared, and once applied its digest stands in for it too.
#[test]
fn the_same_sealed_text_is_not_opened_again() {
    each_backend(|backend| {
        let mut engine = backend.engine(Settings::default());
        let pairs = [("username", "admin"), ("password", "hunter2")];
        let sealed = sealed_secret(&engine, "db", "db", &pairs);
        cast(&engine, std::slice::from_ref(&sealed)).unwrap();
        let identity = forget_identity(&mut engine);
        assert!(unchanged(&engine, &sealed));
        assert_eq!(
            cast(&engine, std::slice::from_ref(&sealed))
                .unwrap()
                .applied,
            0
        );

        engine.sealing = identity;
        let resealed = sealed_secret(&engine, "db", "db", &pairs);
        let identity = forget_identity(&mut engine);
        assert!(not_recipient(&engine, &resealed), "new text is opened");
        engine.sealing = identity;
        assert!(unchanged(&engine, &resealed));
        // Unchanged, so nothing is applied, but the new text's digests are recorded.
        let revision = engine
            .get(&key(Kind::Secret, "default", "db"))
            .unwrap()
            .revision;
        assert_eq!(
            cast(&engine, std::slice::from_ref(&resealed))
                .unwrap()
                .applied,
            0
        );
        assert_eq!(
            engine
                .get(&key(Kind::Secret, "default", "db"))
                .unwrap()
                .revision,
            revision
        );
        forget_identity(&mut engine);
        assert!(unchanged(&engine, &resealed));
        assert!(
            not_recipient(&engine, &sealed),
            "the older text is no longer known"
        );
    });
}

/// A changed value under the same key is noticed: its text differs, so it is opened.
#[test]
fn a_changed_sealed_value_is_opened_and_planned() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        cast(
            &engine,
            &[sealed_secret(&engine, "db", "db", &[("password", "a")])],
        )
        .unwrap();
        let changed = sealed_secret(&engine, "db", "db", &[("password", "b")]);
        let plan = engine
            .plan(std::slice::from_ref(&changed), &BatchOptions::default())
            .unwrap();
        assert_eq!(plan.changes[0].keys.as_ref().unwrap().changed, ["password"]);
    });
}

/// In a batch large enough to be opened on several threads, values taken from the store by
/// their text and values opened anew each land in their own secret.
#[test]
fn a_large_batch_keeps_each_secret_with_its_own_values() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        let sealed = |i: usize, value: &str| {
            let name = format!("s{i}");
            sealed_secret(&engine, &name, &name, &[("v", value)])
        };
        let batch: Vec<Desired> = (0..520).map(|i| sealed(i, &format!("value-{i}"))).collect();
        cast(&engine, &batch).unwrap();
        let mut next = batch.clone();
        next[7] = sealed(7, "changed");
        next[300] = sealed(300, "value-300");
        let plan = engine.plan(&next, &BatchOptions::default()).unwrap();
        let changed: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
            .map(|c| c.key.name.as_str())
            .collect();
        assert_eq!(changed, ["s7"]);
        cast(&engine, &next).unwrap();
        for (i, value) in [
            (7, "changed"),
            (8, "value-8"),
            (300, "value-300"),
            (519, "value-519"),
        ] {
            let (data, _) = engine
                .materialise(&key(Kind::Secret, "default", &format!("s{i}")))
                .unwrap();
            assert_eq!(data["v"].expose().as_str(), value);
        }
    });
}

/// Records without digests (written before they existed), or with digests under another KEK,
/// fall back to opening the value.
#[test]
fn records_without_valid_digests_are_opened() {
    each_backend(|backend| {
        let mut engine = backend.engine(Settings::default());
        let sealed = sealed_secret(&engine, "db", "db", &[("password", "hunter2")]);
        cast(&engine, std::slice::from_ref(&sealed)).unwrap();
        let db = key(Kind::Secret, "default", "db");
        let edit = |engine: &Engine, change: &dyn Fn(&mut Record)| {
            engine
                .store
                .write(|tx| {
                    let mut record = tx.object(&db)?.unwrap();
                    change(&mut record);
                    tx.put_object(&record).map_err(EngineError::from)
                })
                .unwrap();
        };
        let stored = engine.store.read(|tx| tx.object(&db)).unwrap().unwrap();
        let digests = stored.sealed.clone().expect("digests are recorded");
        assert_eq!(
            (digests.version, digests.kek.as_str()),
            (1, engine.keys.current().id())
        );
        // Not exposed: nothing a client reads names them.
        let listed = serde_json::to_string(&engine.get(&db).unwrap()).unwrap();
        assert!(!listed.contains(&digests.keys["password"]), "{listed}");

        let identity = forget_identity(&mut engine);
        edit(&engine, &|r| r.sealed = None);
        assert!(not_recipient(&engine, &sealed));
        edit(&engine, &|r| {
            r.sealed = Some(SealedDigests {
                kek: "0".repeat(16),
                ..digests.clone()
            });
        });
        assert!(not_recipient(&engine, &sealed));
        edit(&engine, &|r| {
            r.sealed = Some(SealedDigests {
                version: 2,
                ..digests.clone()
            });
        });
        assert!(not_recipient(&engine, &sealed));
        edit(&engine, &|r| r.sealed = Some(digests.clone()));
        assert!(unchanged(&engine, &sealed));
        // An apply of the unchanged secret records them again.
        engine.sealing = identity;
        edit(&engine, &|r| r.sealed = None);
        cast(&engine, std::slice::from_ref(&sealed)).unwrap();
        forget_identity(&mut engine);
        assert!(unchanged(&engine, &sealed));
    });
}
