//! Opening a store: the KEK it was made with, the seal identity it keeps, what it starts with.

use super::each_backend;
use crate::resource::Kind;
use crate::server::crypto::Kek;
use crate::server::engine::{EngineError, Settings};

/// A store made with one KEK refuses another, naming the KEK its records need.
#[test]
fn another_kek_refuses_to_open() {
    each_backend(|backend| {
        drop(backend.engine(Settings::default()));
        let other = backend.engine_with(8, Settings::default());
        let old = Kek::from_bytes(&[7; 32]).unwrap();
        assert!(
            matches!(&other, Err(EngineError::MissingKek { id, count: 1 }) if id == old.id()),
            "{other:?}"
        );
    });
}

/// The `default` and `system` namespaces exist in a new store.
#[test]
fn built_in_namespaces_exist_from_the_start() {
    each_backend(|backend| {
        let engine = backend.engine(Settings::default());
        let names: Vec<String> = engine
            .list(Kind::Namespace, None)
            .unwrap()
            .into_iter()
            .map(|l| l.object.key.name)
            .collect();
        assert_eq!(names, ["default", "system"]);
    });
}

/// The seal recipient is the same after a restart, and another store has its own.
#[test]
fn the_seal_identity_survives_a_restart_and_needs_the_kek() {
    let mut recipients = Vec::new();
    each_backend(|backend| {
        let first = backend.engine(Settings::default()).seal_recipient();
        assert!(first.starts_with("age1"), "{first}");
        assert_eq!(backend.engine(Settings::default()).seal_recipient(), first);
        recipients.push(first);
    });
    each_backend(|other| {
        let recipient = other.engine(Settings::default()).seal_recipient();
        assert!(!recipients.contains(&recipient));
    });
}
