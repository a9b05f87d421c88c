//! A PostgreSQL store whose write lock another replica holds too long: the write fails as a
//! busy store (503 `store_unavailable`, exit 8: try again), not as an internal error, and the
//! next write once the lock is free succeeds.

use std::time::{Duration, Instant};

use super::{cast, configmap, pg_cluster};
use crate::secrets::Secret;
use crate::server::crypto::Kek;
use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::store::postgres::{PgOptions, PgStore, WRITE_LOCK};
use crate::wire::error::WireError;

#[test]
fn a_write_that_waits_too_long_for_the_lock_is_busy_not_internal() {
    let url = pg_cluster::required(pg_cluster::database());
    let store = PgStore::open(&PgOptions {
        url: Secret::new(url),
        pool_size: 2,
        ca_file: None,
        write_lock_wait: Duration::from_secs(1),
    })
    .unwrap();
    // Another replica, in the middle of a long apply.
    let mut other = store.connect().unwrap();
    let engine = Engine::with_store(
        Box::new(store),
        Kek::from_bytes(&[7; 32]).unwrap(),
        Settings::default(),
    )
    .unwrap();
    other
        .execute("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK])
        .unwrap();

    let start = Instant::now();
    let refused = cast(&engine, &[configmap("app", &[("mode", "fast")])]).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let EngineError::StoreIo(failure) = &refused else {
        panic!("not a store failure: {refused:?}");
    };
    assert!(!failure.full, "{failure:?}");
    assert!(failure.cause.contains("write lock"), "{}", failure.cause);
    let wire = WireError::from(refused);
    assert_eq!(wire.code, "store_unavailable", "{wire:?}");

    other
        .execute("SELECT pg_advisory_unlock($1)", &[&WRITE_LOCK])
        .unwrap();
    cast(&engine, &[configmap("app", &[("mode", "fast")])]).unwrap();
}
