//! KEK rotation (SPEC §4.6, issue #15): previous KEKs open what they wrap, a rewrap moves only
//! the wrapped DEKs, and a store from before rotation is migrated in place.

use super::{Backend, cast, each_backend, secret};
use crate::server::crypto::{self, Kek};
use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::keyring::Keyring;
use crate::server::store::Store;
use crate::wire::admin::RewrapRequest;
use crate::wire::batch::BatchOptions;

fn kek(byte: u8) -> Kek {
    Kek::from_bytes(&[byte; 32]).unwrap()
}

fn engine_keys(backend: &Backend, current: u8, previous: &[u8]) -> Result<Engine, EngineError> {
    let store = (backend.open)(backend.dir.path())?;
    let keys = Keyring::new(kek(current), previous.iter().map(|b| kek(*b)).collect());
    Engine::with_store_keys(store, keys, Settings::default())
}

/// Every stored secret version: (name, version, bytes), read through the Store trait.
fn stored(backend: &Backend) -> Vec<(String, u64, Vec<u8>)> {
    let store: Box<dyn Store> = (backend.open)(backend.dir.path()).unwrap();
    store
        .read(|tx| Ok::<_, EngineError>(tx.secret_versions(None, 1000)?))
        .unwrap()
        .into_iter()
        .map(|v| (v.key.name, v.version, v.bytes))
        .collect()
}

fn unchanged(engine: &Engine, names: &[(&str, &str)]) -> bool {
    let desired: Vec<_> = names.iter().map(|(n, v)| secret(n, &[("k", v)])).collect();
    let plan = engine.plan(&desired, &BatchOptions::default()).unwrap();
    plan.changes
        .iter()
        .all(|c| c.action == crate::plan::Action::Unchanged)
}

/// Rotation end to end on the engine: the old KEK keeps opening its versions next to the new
/// one, new versions go under the new KEK at once, a rewrap in batches of two moves every
/// record with its data ciphertext byte for byte the same, and then the old KEK can go.
#[test]
fn rotation_rewraps_only_the_deks() {
    each_backend(|backend| {
        let secrets = [
            ("a", "one"),
            ("b", "two"),
            ("c", "three"),
            ("d", "four"),
            ("e", "five"),
        ];
        {
            let engine = engine_keys(backend, 7, &[]).unwrap();
            let desired: Vec<_> = secrets
                .iter()
                .map(|(n, v)| secret(n, &[("k", v)]))
                .collect();
            cast(&engine, &desired).unwrap();
        }
        let before = stored(backend);
        let engine = engine_keys(backend, 8, &[7]).unwrap();
        assert!(
            unchanged(&engine, &secrets),
            "the previous KEK opens its versions"
        );
        cast(&engine, &[secret("f", &[("k", "six")])]).unwrap();
        let status = engine.kek_status().unwrap();
        assert_eq!(status.current, kek(8).id());
        let old = status.keks.iter().find(|k| k.id == kek(7).id()).unwrap();
        assert_eq!((old.secret_versions, old.seal_identities), (5, 1));
        assert!(!old.removable);
        assert_eq!(status.to_rewrap(), 6);
        let mut request = RewrapRequest {
            after: None,
            limit: Some(2),
        };
        let mut moved = 0;
        loop {
            let batch = engine.kek_rewrap(&request).unwrap();
            moved += batch.rewrapped;
            match batch.next {
                Some(next) => request.after = Some(next),
                None => break,
            }
        }
        assert_eq!(moved, 6);
        let status = engine.kek_status().unwrap();
        assert_eq!(status.to_rewrap(), 0);
        assert!(
            status
                .keks
                .iter()
                .any(|k| k.id == kek(7).id() && k.removable)
        );
        drop(engine);
        let after = stored(backend);
        for (name, version, bytes) in &before {
            let (_, _, now) = after
                .iter()
                .find(|(n, v, _)| n == name && v == version)
                .unwrap();
            assert_eq!(crypto::kek_id_of(now).unwrap(), kek(8).id());
            assert_eq!(
                crypto::data_part(now).unwrap(),
                crypto::data_part(bytes).unwrap(),
                "{name} v{version}: the data ciphertext is untouched"
            );
            assert_ne!(now, bytes, "{name} v{version}: the wrapped DEK moved");
        }
        let engine = engine_keys(backend, 8, &[]).unwrap();
        assert!(
            unchanged(&engine, &secrets),
            "every version opens without the old KEK"
        );
    });
}

/// A previous KEK that records still need cannot go: the start names it and the count.
#[test]
fn a_needed_previous_kek_refuses_the_start() {
    each_backend(|backend| {
        let engine = engine_keys(backend, 7, &[]).unwrap();
        cast(
            &engine,
            &[secret("a", &[("k", "v")]), secret("b", &[("k", "w")])],
        )
        .unwrap();
        drop(engine);
        drop(engine_keys(backend, 8, &[7]).unwrap());
        let error = engine_keys(backend, 8, &[]).unwrap_err();
        assert!(
            matches!(&error, EngineError::MissingKek { id, count: 3 } if *id == kek(7).id()),
            "{error:?}"
        );
        assert!(error.to_string().contains(kek(7).id()), "{error}");
    });
}

/// A store from before rotation has one check value without an id: it opens with its KEK (and
/// the check value moves under that KEK's id), and refuses another KEK as before.
#[test]
fn a_store_from_before_rotation_is_migrated() {
    each_backend(|backend| {
        let old = kek(7);
        {
            // What the engine before #15 wrote: the single check value and the identity.
            let store = (backend.open)(backend.dir.path()).unwrap();
            store
                .write(|tx| {
                    tx.set_kek_check(&old.check_value()?)?;
                    let mut data = crypto::SecretData::new();
                    data.insert(
                        "identity".into(),
                        crate::secrets::Keys::generate().to_text(),
                    );
                    let id = crate::server::engine::identity::seal_identity_id();
                    tx.set_seal_identity(&crypto::seal(&old, id, &data)?)?;
                    Ok::<_, EngineError>(())
                })
                .unwrap();
        }
        let error = engine_keys(backend, 9, &[]).unwrap_err();
        assert!(matches!(error, EngineError::MissingKek { .. }), "{error:?}");
        drop(engine_keys(backend, 7, &[]).unwrap());
        let store = (backend.open)(backend.dir.path()).unwrap();
        let known = store
            .read(|tx| Ok::<_, EngineError>(tx.kek_checks()?))
            .unwrap();
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].0, old.id());
        assert!(old.verify_check_value(&known[0].1));
    });
}

/// Every seal identity is under a KEK: a rewrap after a seal-identity rotation moves both, and
/// both open again without the old KEK, the newer one still current.
#[test]
fn a_rewrap_moves_every_seal_identity() {
    each_backend(|backend| {
        let engine = engine_keys(backend, 7, &[]).unwrap();
        let first = engine.seal_recipient();
        let second = engine.rotate_seal_identity().unwrap();
        assert_eq!(engine.seal_identities(), [second.clone(), first.clone()]);
        drop(engine);
        let engine = engine_keys(backend, 8, &[7]).unwrap();
        assert_eq!(engine.kek_status().unwrap().to_rewrap(), 2);
        let batch = engine.kek_rewrap(&RewrapRequest::default()).unwrap();
        assert_eq!(batch.rewrapped, 2);
        drop(engine);
        let engine = engine_keys(backend, 8, &[]).unwrap();
        assert_eq!(engine.seal_recipient(), second);
        assert_eq!(engine.seal_identities(), [second, first]);
    });
}
