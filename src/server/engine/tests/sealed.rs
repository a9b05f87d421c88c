//! Sealed values (SPEC §6): opened with the server's identity, only at their place.

use super::{cast, each_backend, key, secret};
use crate::resource::Kind;
use crate::secrets::Place;
use crate::server::engine::{Engine, EngineError, Settings};
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
