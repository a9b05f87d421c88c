//! KEK rewrap throughput (SPEC §4.6, issue #15): how many secret versions per second
//! `rune admin kek rewrap` moves to a new KEK, on the embedded engine and its redb store.
//!
//! Run with `cargo bench --bench rewrap`. It writes `RUNE_BENCH_VERSIONS` (default 100,000)
//! secret versions under one KEK (10,000 secrets a transaction, two keys each), reopens the
//! store with a new current KEK and the old one as previous, and times the rewrap in batches
//! of `RUNE_BENCH_BATCH` (default 500, the CLI's default), each batch one transaction: the
//! whole run, versions per second, and the slowest batch (how long a concurrent cast may wait
//! for the store's write lock). Then it checks that nothing is left under the old KEK.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rune::resource::Kind;
use rune::secrets::Secret;
use rune::server::crypto::Kek;
use rune::server::engine::{Engine, Settings};
use rune::server::keyring::Keyring;
use rune::wire::admin::RewrapRequest;
use rune::wire::batch::BatchOptions;
use rune::wire::object::{Desired, DesiredSpec, KindName, ObjectKey, SecretValues};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(format!("RUNE_BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn secret(i: usize) -> Desired {
    let data = [
        ("password".to_owned(), Secret::new(format!("pw-{i:08}-x"))),
        ("username".to_owned(), Secret::new(format!("user-{i}"))),
    ];
    Desired {
        key: ObjectKey {
            kind: KindName(Kind::Secret),
            name: format!("s{i:07}"),
            namespace: "default".to_owned(),
        },
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::Secret {
            data: SecretValues(data.into_iter().collect()),
            sealed: BTreeMap::new(),
        },
    }
}

fn main() {
    let versions = setting("VERSIONS", 100_000);
    let batch = u32::try_from(setting("BATCH", 500)).unwrap_or(500);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (old, new) = (
        Kek::generate().expect("a KEK"),
        Kek::generate().expect("a KEK"),
    );
    let old_bytes = old.expose_bytes().to_vec();
    let started = Instant::now();
    {
        let engine = Engine::open(dir.path(), old, Settings::default()).expect("the engine");
        let all: Vec<usize> = (0..versions).collect();
        for chunk in all.chunks(10_000) {
            let desired: Vec<Desired> = chunk.iter().map(|i| secret(*i)).collect();
            let expected: Vec<_> = desired.iter().map(|d| (d.key.clone(), None)).collect();
            engine
                .apply(&desired, &[], &expected, &BatchOptions::default())
                .expect("the setup apply");
        }
    }
    println!(
        "rewrap benchmark: {versions} secret versions written in {:.1}s; batches of {batch}",
        started.elapsed().as_secs_f64()
    );
    let old = Kek::from_bytes(&old_bytes).expect("the old KEK");
    let keys = Keyring::new(new, vec![old]);
    let engine =
        Engine::open_with_keys(dir.path(), keys, Settings::default()).expect("the rotated engine");
    let mut request = RewrapRequest {
        after: None,
        limit: Some(batch),
    };
    let (mut moved, mut slowest) = (0, Duration::ZERO);
    let started = Instant::now();
    loop {
        let one = Instant::now();
        let result = engine.kek_rewrap(&request).expect("a rewrap batch");
        slowest = slowest.max(one.elapsed());
        moved += result.rewrapped;
        match result.next {
            Some(next) => request.after = Some(next),
            None => break,
        }
    }
    let took = started.elapsed();
    let left = engine.kek_status().expect("the status").to_rewrap();
    println!(
        "rewrapped {moved} records in {:.2}s: {:.0} versions/s; slowest batch {:.1}ms; {left} left under the old KEK",
        took.as_secs_f64(),
        moved as f64 / took.as_secs_f64(),
        slowest.as_secs_f64() * 1e3
    );
    assert_eq!(left, 0, "records left under the old KEK");
}
