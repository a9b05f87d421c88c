//! Engine and runed throughput: big batches and single secret writes, over HTTP and embedded.
//!
//! Run with `cargo bench --bench engine` (a release build; cargo also builds the release
//! `runed` it starts). For each backend — the release `runed` on `127.0.0.1:<free port>` with a
//! fresh data directory, driven through `rune::client::Remote`, then the embedded
//! engine (`rune::local::Local`) on another fresh directory — it times
//!
//! - (a) the plan of 10,000 new objects (5,000 secrets with 2–3 keys, 5,000 configmaps), several
//!   times;
//! - (b) the apply of that batch, guarded by the plan's expectations (one transaction, 5,000
//!   secrets sealed), once;
//! - (c) the re-plan of the applied batch (all unchanged: 5,000 secrets opened and compared),
//!   several times; and
//! - (d) single-secret writes: 1,000 `PUT`s of new secrets, one request (one commit) each; and
//! - (e) the re-plan of 1,000 of the applied secrets in plaintext, the baseline of
//! - (f) the re-plan of the same secrets with their values sealed (`sealed:`, SPEC §6), cast in
//!   plaintext before: every value opened with the server's age identity, checked for its place
//!   and compared; and
//! - (g) the same re-plan once the sealed secrets have been cast (an apply that changes nothing
//!   but records the digests of their sealed text): the same text is not opened again. The goal
//!   is (g) within 2× of (e).
//!
//! The same runs against a `runed` on PostgreSQL (issue #16) when the benchmark can start a
//! throwaway cluster as the tests do (`tests/support/pg_cluster.rs`).
//!
//! It prints the minimum and median wall time and objects per second of each, and for runed the
//! server's own time from its request log. `RUNE_BENCH_RUNS` (default 5), `RUNE_BENCH_OBJECTS`
//! (default 10,000) and `RUNE_BENCH_WRITES` (default 1,000) change the sizes.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/pg_cluster.rs"]
mod pg_cluster;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rune::client::{self, Backend, Remote};
use rune::local::Local;
use rune::plan::Plan;
use rune::resource::Kind;
use rune::secrets::Secret;
use rune::wire::batch::{ApplyRequest, BatchOptions};
use rune::wire::object::{Desired, DesiredSpec, KindName, ObjectKey, Provenance, SecretValues};
use support::{Row, Runed};

fn main() {
    let runs = support::setting("RUNS", 5);
    let objects = support::setting("OBJECTS", 10_000);
    let writes = support::setting("WRITES", 1_000);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let batch: Vec<Desired> = (0..objects).map(object).collect();
    let bytes = serde_json::to_vec(&batch).map_or(0, |b| b.len());
    println!(
        "engine benchmark: {objects} objects ({} secrets, {} configmaps; {:.2} MB of JSON), {writes} single writes, {cores} cores, {runs} runs of each plan",
        objects.div_ceil(2),
        objects / 2,
        bytes as f64 / 1e6
    );

    let scratch = tempfile::tempdir().expect("a temporary directory");
    match support::binary("runed", env!("CARGO_BIN_EXE_runed")) {
        Ok(binary) => {
            let runed = Runed::start(&binary, &scratch.path().join("runed"));
            let backend = Remote::new(&runed.url, None, Duration::from_secs(600));
            println!("\nruned (HTTP, {}):", runed.url);
            let rows = measure(&backend, &batch, writes, runs, Some(&runed));
            print!("{}", support::table(&rows));
            drop(runed);
            match pg_cluster::database() {
                Ok(url) => {
                    let dir = scratch.path().join("runed-pg");
                    std::fs::create_dir_all(&dir).expect("a directory");
                    std::fs::write(dir.join("url"), url).expect("write the URL");
                    let config = dir.join("runed.yaml");
                    std::fs::write(
                        &config,
                        format!(
                            "storage:\n  backend: postgres\n  postgres:\n    url-file: {}\n",
                            dir.join("url").display()
                        ),
                    )
                    .expect("write the server runefile");
                    let config = config.display().to_string();
                    let runed =
                        Runed::start_with(&binary, &dir.join("data"), &["--config", &config]);
                    let backend = Remote::new(&runed.url, None, Duration::from_secs(600));
                    println!("\nruned on PostgreSQL (HTTP, {}):", runed.url);
                    let rows = measure(&backend, &batch, writes, runs, Some(&runed));
                    print!("{}", support::table(&rows));
                }
                Err(why) => println!("\nruned on PostgreSQL: skipped; {why}"),
            }
        }
        Err(why) => println!("\nruned: skipped; {why}"),
    }
    let backend = Local::open(scratch.path().join("embedded")).expect("open the embedded engine");
    println!("\nembedded engine (in-process):");
    let rows = measure(&backend, &batch, writes, runs, None);
    print!("{}", support::table(&rows));
}

/// Object `i`: an even one is a secret with two or three keys, an odd one a configmap.
fn object(i: usize) -> Desired {
    let mut data = BTreeMap::new();
    data.insert("username".to_owned(), format!("user-{i}"));
    data.insert("password".to_owned(), format!("pw-{i}-{:016x}", i * 7919));
    if i.is_multiple_of(3) {
        data.insert("region".to_owned(), "eu-west-1".to_owned());
    }
    let (kind, name, spec) = if i.is_multiple_of(2) {
        let values = data.into_iter().map(|(k, v)| (k, Secret::new(v)));
        (
            Kind::Secret,
            format!("sec-{i}"),
            DesiredSpec::Secret {
                data: SecretValues(values.collect()),
                sealed: BTreeMap::new(),
            },
        )
    } else {
        (
            Kind::ConfigMap,
            format!("cfg-{i}"),
            DesiredSpec::ConfigMap { data },
        )
    };
    Desired {
        key: ObjectKey {
            kind: KindName(kind),
            name,
            namespace: "default".to_owned(),
        },
        labels: BTreeMap::from([("app".to_owned(), "bench".to_owned())]),
        provenance: Some(Provenance {
            document: Some(i % 200 + 1),
            path: Some(format!("bench/f{:03}.yaml", i / 200)),
            source_set: Some("bench".to_owned()),
            ..Provenance::default()
        }),
        spec,
    }
}

/// (a)–(d) on one backend with an empty store.
fn measure(
    backend: &dyn Backend,
    batch: &[Desired],
    writes: usize,
    runs: usize,
    runed: Option<&Runed>,
) -> Vec<Row> {
    let n = batch.len();
    let options = BatchOptions::default();
    let mut rows = Vec::new();
    let mut plan = Plan::default();
    let times = timed(runs, || {
        plan = backend.plan(batch, &options).expect("plan the new objects");
    });
    assert_eq!(plan.summary.create, n, "every object is new");
    rows.push(Row::new("(a) plan, all new", n, &times));
    server_row(&mut rows, runed, "server log", n, "/v1/plan");

    let request = ApplyRequest {
        delete: Vec::new(),
        expected: client::expectations(&plan),
        objects: batch.to_vec(),
        options: options.clone(),
    };
    let times = timed(1, || {
        let applied = backend.apply(&request).expect("apply the batch");
        assert_eq!(applied.applied, n, "every object is written");
    });
    rows.push(Row::new("(b) apply, all new", n, &times));
    server_row(&mut rows, runed, "server log", n, "/v1/apply");

    let times = timed(runs, || {
        plan = backend
            .plan(batch, &options)
            .expect("re-plan the applied objects");
    });
    assert_eq!(plan.summary.unchanged, n, "nothing changed since the apply");
    rows.push(Row::new("(c) re-plan, all unchanged", n, &times));
    server_row(&mut rows, runed, "server log", n, "/v1/plan");

    let secrets: Vec<Desired> = (0..writes)
        .map(|i| {
            let mut secret = object(2 * i);
            secret.key.name = format!("write-{i}");
            secret
        })
        .collect();
    let start = Instant::now();
    let mut each = Vec::with_capacity(writes);
    for secret in &secrets {
        let one = Instant::now();
        backend.put(secret, false).expect("write one secret");
        each.push(one.elapsed());
    }
    let total = start.elapsed();
    rows.push(Row::new(
        format!("(d) {writes} single-secret writes, total"),
        writes,
        &[total],
    ));
    rows.push(Row::new("  per write (rate = writes/s)", 1, &each));
    // Per-write server times would round to whole milliseconds: not reported.
    rows.extend(sealed_rows(backend, batch, runs, runed));
    if let Some(runed) = runed {
        runed.clear_log();
    }
    rows
}

/// (e)–(g): 1,000 of the applied secrets re-planned in plaintext, then sealed, before and after
/// a cast of the sealed text has recorded its digests.
fn sealed_rows(
    backend: &dyn Backend,
    batch: &[Desired],
    runs: usize,
    runed: Option<&Runed>,
) -> Vec<Row> {
    let options = BatchOptions::default();
    let mut rows = Vec::new();
    let mut plan = Plan::default();
    let sealed = sealed_secrets(backend, batch, 1_000);
    let in_plaintext: Vec<Desired> = batch
        .iter()
        .filter(|d| d.key.kind.0 == Kind::Secret)
        .take(sealed.len())
        .cloned()
        .collect();
    let times = timed(runs, || {
        plan = backend
            .plan(&in_plaintext, &options)
            .expect("plan the plaintext secrets");
    });
    assert_eq!(
        plan.summary.unchanged,
        in_plaintext.len(),
        "plaintext values match"
    );
    rows.push(Row::new(
        format!(
            "(e) re-plan {} secrets in plaintext, unchanged",
            in_plaintext.len()
        ),
        in_plaintext.len(),
        &times,
    ));
    server_row(
        &mut rows,
        runed,
        "server log",
        in_plaintext.len(),
        "/v1/plan",
    );
    let times = timed(runs, || {
        plan = backend
            .plan(&sealed, &options)
            .expect("plan the sealed secrets");
    });
    assert_eq!(plan.summary.unchanged, sealed.len(), "sealed values match");
    rows.push(Row::new(
        "(f) re-plan them sealed, cast in plaintext (opened)",
        sealed.len(),
        &times,
    ));
    server_row(&mut rows, runed, "server log", sealed.len(), "/v1/plan");
    // Cast sealed once: nothing changes, but the sealed texts' digests are recorded.
    let request = ApplyRequest {
        delete: Vec::new(),
        expected: client::expectations(&plan),
        objects: sealed.clone(),
        options: options.clone(),
    };
    backend.apply(&request).expect("apply the sealed secrets");
    if let Some(runed) = runed {
        runed.clear_log();
    }
    let times = timed(runs, || {
        plan = backend
            .plan(&sealed, &options)
            .expect("plan the sealed secrets");
    });
    assert_eq!(plan.summary.unchanged, sealed.len(), "sealed values match");
    rows.push(Row::new(
        "(g) re-plan them sealed, cast sealed (digests)",
        sealed.len(),
        &times,
    ));
    server_row(&mut rows, runed, "server log", sealed.len(), "/v1/plan");
    rows
}

/// runed's own time for the requests to `path` since the last call, as a sub-row.
fn server_row(rows: &mut Vec<Row>, runed: Option<&Runed>, label: &str, objects: usize, path: &str) {
    if let Some(runed) = runed {
        let times = runed.take_server_times(path);
        rows.push(Row::new(
            format!("  of which runed ({label})"),
            objects,
            &times,
        ));
    }
}

/// The first `count` secrets of the batch with every value sealed for its place.
fn sealed_secrets(backend: &dyn Backend, batch: &[Desired], count: usize) -> Vec<Desired> {
    let recipient: age::x25519::Recipient = backend
        .seal_recipient()
        .expect("the seal recipient")
        .parse()
        .expect("an age recipient");
    batch
        .iter()
        .filter(|d| d.key.kind.0 == Kind::Secret)
        .take(count)
        .map(|d| {
            let DesiredSpec::Secret { data, .. } = &d.spec else {
                unreachable!("filtered to secrets")
            };
            let sealed = data
                .0
                .iter()
                .map(|(key, value)| {
                    let place = rune::secrets::Place::new(&d.key.namespace, &d.key.name, key);
                    let armor = rune::secrets::seal(
                        value.expose(),
                        &place,
                        std::slice::from_ref(&recipient),
                    )
                    .expect("seal a value");
                    (key.clone(), armor)
                })
                .collect();
            Desired {
                spec: DesiredSpec::Secret {
                    data: SecretValues::default(),
                    sealed,
                },
                ..d.clone()
            }
        })
        .collect()
}

fn timed(runs: usize, mut work: impl FnMut()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect()
}
