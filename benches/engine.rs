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
//!   is (g) within 2× of (e). (f) runs first; then (e) and (g) take turns, run by run, so that
//!   a shared machine's drift falls on both alike.
//!
//! The same runs against a `runed` on PostgreSQL (issue #16) when the benchmark can start a
//! throwaway cluster as the tests do (`tests/support/pg_cluster.rs`).
//!
//! Then concurrent casts (issue #16): 4 casters at once, each casting its own 1,000 objects (its
//! own names and source set) as `rune cast` does — plan, then apply guarded by the plan — on a
//! fresh redb runed, on a fresh runed on PostgreSQL, and on two replicas of one fresh PostgreSQL
//! database (same KEK file and `url-file`), the casters alternating between them:
//!
//! - (h) casts of new objects, several times on fresh names;
//! - (i) the first casts again, all unchanged (a plan each, nothing to apply); and
//! - (j) the first casts with every object changed (a new label), several times.
//!
//! Each timed as the wall time from the first caster's start to the last one's end (objects/s
//! over all casters) and per cast; conflicts (HTTP 409/412, `rune` exit 5) are counted and the
//! cast retried.
//!
//! It prints the minimum and median wall time and objects per second of each, and for runed the
//! server's own time from its request log. `RUNE_BENCH_RUNS` (default 5), `RUNE_BENCH_OBJECTS`
//! (default 10,000), `RUNE_BENCH_WRITES` (default 1,000), `RUNE_BENCH_CASTERS` (default 4) and
//! `RUNE_BENCH_CAST_OBJECTS` (objects per caster, default 1,000) change the sizes. On
//! PostgreSQL every write transaction waits up to 90 s for one advisory lock: casters whose
//! applies queue longer than that fail as busy (HTTP 503), and the benchmark stops with runed's
//! warnings. `RUNE_BENCH_RUNED=0` leaves out every runed section (the embedded engine only).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/pg_cluster.rs"]
mod pg_cluster;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;

use rune::client::{self, Backend, Remote};
use rune::local::Local;
use rune::plan::Plan;
use rune::resource::Kind;
use rune::secrets::Secret;
use rune::wire::batch::{ApplyRequest, BatchOptions};
use rune::wire::error::ErrorKind;
use rune::wire::object::{Desired, DesiredSpec, KindName, ObjectKey, Provenance, SecretValues};
use support::{Row, Runed};

fn main() {
    let runs = support::setting("RUNS", 5);
    let objects = support::setting("OBJECTS", 10_000);
    let writes = support::setting("WRITES", 1_000);
    let casters = support::setting("CASTERS", 4);
    let per_caster = support::setting("CAST_OBJECTS", 1_000);
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
    let load = Load {
        casters,
        per_caster,
        runs,
    };
    let runed_binary = if std::env::var("RUNE_BENCH_RUNED").as_deref() == Ok("0") {
        Err("RUNE_BENCH_RUNED=0".to_owned())
    } else {
        support::binary("runed", env!("CARGO_BIN_EXE_runed"))
    };
    match runed_binary {
        Ok(binary) => {
            let runed = Runed::start(&binary, &scratch.path().join("runed"));
            let backend = Remote::new(&runed.url, None, Duration::from_secs(600));
            println!("\nruned (HTTP, {}):", runed.url);
            let rows = measure(&backend, &batch, writes, runs, Some(&runed));
            print!("{}", support::table(&rows));
            drop(runed);
            let postgres = pg_cluster::database();
            match &postgres {
                Ok(url) => {
                    let dir = scratch.path().join("runed-pg");
                    let args = on_postgres(&dir, url);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let runed = Runed::start_with(&binary, &dir.join("data"), &args);
                    let backend = Remote::new(&runed.url, None, Duration::from_secs(600));
                    println!("\nruned on PostgreSQL (HTTP, {}):", runed.url);
                    let rows = measure(&backend, &batch, writes, runs, Some(&runed));
                    print!("{}", support::table(&rows));
                }
                Err(why) => println!("\nruned on PostgreSQL: skipped; {why}"),
            }
            concurrent_sections(&binary, scratch.path(), &load, postgres.is_ok());
        }
        Err(why) => println!("\nruned: skipped; {why}"),
    }
    let backend = Local::open(scratch.path().join("embedded")).expect("open the embedded engine");
    println!("\nembedded engine (in-process):");
    let rows = measure(&backend, &batch, writes, runs, None);
    print!("{}", support::table(&rows));
}

/// The arguments that put a runed on the PostgreSQL database `url`, with the files they name
/// written under `dir`: a server runefile (`url-file`) and a KEK file, so that every replica
/// started with them shares the database and can open what another sealed.
fn on_postgres(dir: &Path, url: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).expect("a directory");
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
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("random bytes for the KEK");
    let kek = dir.join("kek");
    std::fs::write(&kek, base64::engine::general_purpose::STANDARD.encode(key))
        .expect("write the KEK");
    rune::fs::restrict_to_owner(&kek).expect("a private KEK file");
    vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--kek-file".to_owned(),
        kek.display().to_string(),
    ]
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

/// (e)–(g): 1,000 of the applied secrets re-planned sealed before a cast of the sealed text
/// has recorded its digests (f); then in plaintext (e) and sealed after that cast (g), taking
/// turns run by run, so that the machine's drift falls on both alike.
fn sealed_rows(
    backend: &dyn Backend,
    batch: &[Desired],
    runs: usize,
    runed: Option<&Runed>,
) -> Vec<Row> {
    let options = BatchOptions::default();
    let sealed = sealed_secrets(backend, batch, 1_000);
    let in_plaintext: Vec<Desired> = batch
        .iter()
        .filter(|d| d.key.kind.0 == Kind::Secret)
        .take(sealed.len())
        .cloned()
        .collect();
    let unchanged = |objects: &[Desired], what: &str| {
        let plan = backend.plan(objects, &options).expect("plan the secrets");
        assert_eq!(plan.summary.unchanged, objects.len(), "{what} values match");
        plan
    };
    let mut plan = Plan::default();
    let opened = timed(runs, || plan = unchanged(&sealed, "sealed"));
    let opened_by_runed = runed.map(|r| r.take_server_times("/v1/plan"));
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
    let (mut in_plain, mut digests) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        in_plain.extend(timed(1, || drop(unchanged(&in_plaintext, "plaintext"))));
        digests.extend(timed(1, || drop(unchanged(&sealed, "sealed"))));
    }
    // runed logs them in the order they were sent: plaintext, sealed, plaintext, …
    let by_runed = runed.map(|r| r.take_server_times("/v1/plan"));
    let turns = |first: bool| {
        by_runed.as_ref().map(|times| {
            let skip = usize::from(!first);
            times.iter().skip(skip).step_by(2).copied().collect()
        })
    };
    let count = sealed.len();
    let mut rows = Vec::new();
    let mut push = |label: String, times: &[Duration], server: Option<Vec<Duration>>| {
        rows.push(Row::new(label, count, times));
        if let Some(server) = server {
            rows.push(Row::new("  of which runed (server log)", count, &server));
        }
    };
    push(
        format!("(e) re-plan {count} secrets in plaintext, unchanged"),
        &in_plain,
        turns(true),
    );
    push(
        "(f) re-plan them sealed, cast in plaintext (opened)".to_owned(),
        &opened,
        opened_by_runed,
    );
    push(
        "(g) re-plan them sealed, cast sealed (digests)".to_owned(),
        &digests,
        turns(false),
    );
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

/// The concurrent load of (h)–(j): `casters` casters at once, `per_caster` objects each.
struct Load {
    casters: usize,
    per_caster: usize,
    runs: usize,
}

/// (h)–(j) on a fresh redb runed, a fresh runed on PostgreSQL, and two replicas of one fresh
/// PostgreSQL database with the casters alternating between them.
fn concurrent_sections(binary: &Path, scratch: &Path, load: &Load, postgres: bool) {
    let runed = Runed::start(binary, &scratch.join("concurrent-redb"));
    println!(
        "\n{} casters at once on one runed (redb, {}):",
        load.casters, runed.url
    );
    print!("{}", support::table(&concurrent(&[&runed], load)));
    drop(runed);
    if !postgres {
        println!("\n{} casters at once on PostgreSQL: skipped", load.casters);
        return;
    }
    for replicas in [1, 2] {
        let url = match pg_cluster::database() {
            Ok(url) => url,
            Err(why) => {
                println!("\n{replicas} runed on PostgreSQL: skipped; {why}");
                continue;
            }
        };
        let dir = scratch.join(format!("concurrent-pg-{replicas}"));
        let args = on_postgres(&dir, &url);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started: Vec<Runed> = (0..replicas)
            .map(|r| Runed::start_with(binary, &dir.join(format!("replica-{r}")), &args))
            .collect();
        let urls: Vec<&str> = started.iter().map(|r| r.url.as_str()).collect();
        println!(
            "\n{} casters at once on {replicas} runed on one PostgreSQL database ({}):",
            load.casters,
            urls.join(", ")
        );
        let runeds: Vec<&Runed> = started.iter().collect();
        print!("{}", support::table(&concurrent(&runeds, load)));
    }
}

/// (h) casts of new objects, `runs` times on fresh names; (i) the first run's casts again, all
/// unchanged; (j) the first run's objects changed (a new label on each), `runs` times. Caster
/// `c` talks to replica `c % replicas`. Each caster casts its own objects (its own names and
/// source set), as teams sharing a server do, so a conflict is not expected; any (HTTP 409 or
/// 412, `rune` exit 5) is counted in the row's label and the cast retried, as an operator would.
fn concurrent(runeds: &[&Runed], load: &Load) -> Vec<Row> {
    let Load {
        casters,
        per_caster,
        runs,
    } = *load;
    let total = casters * per_caster;
    let batches = |run: usize, round: Option<usize>| -> Vec<Vec<Desired>> {
        (0..casters)
            .map(|c| caster_batch(c, run, per_caster, round))
            .collect()
    };
    let mut rows = Vec::new();
    let mut section = |label: String, rounds: Vec<Vec<Vec<Desired>>>, expect: Expect| {
        let conflicts = AtomicUsize::new(0);
        let mut walls = Vec::new();
        let mut each = Vec::new();
        for batches in &rounds {
            let (wall, casts) = match at_once(runeds, batches, expect, &conflicts) {
                Ok(times) => times,
                Err(why) => {
                    for runed in runeds {
                        eprintln!("runed {}:\n{}", runed.url, runed.problems().join("\n"));
                    }
                    panic!("{label}: {why}");
                }
            };
            walls.push(wall);
            each.extend(casts);
        }
        let conflicts = conflicts.into_inner();
        rows.push(Row::new(
            format!("{label}, wall ({conflicts} conflicts)"),
            total,
            &walls,
        ));
        rows.push(Row::new("  per cast", per_caster, &each));
        for runed in runeds {
            runed.clear_log();
        }
    };
    section(
        format!("(h) {casters} casts of {per_caster} new objects"),
        (0..runs).map(|run| batches(run, None)).collect(),
        Expect::Created,
    );
    section(
        format!("(i) {casters} re-casts of {per_caster}, unchanged"),
        (0..runs).map(|_| batches(0, None)).collect(),
        Expect::Unchanged,
    );
    section(
        format!("(j) {casters} casts of {per_caster} changed objects"),
        (0..runs).map(|round| batches(0, Some(round))).collect(),
        Expect::Updated,
    );
    rows
}

/// What every object of a concurrent cast is expected to plan as.
#[derive(Clone, Copy)]
enum Expect {
    Created,
    Unchanged,
    Updated,
}

/// Caster `caster`'s objects of run `run`: the benchmark's objects under its own names and
/// source set, with a `round` label when `round` is given (every object then changes).
fn caster_batch(caster: usize, run: usize, count: usize, round: Option<usize>) -> Vec<Desired> {
    (0..count)
        .map(|i| {
            let mut desired = object(i);
            desired.key.name = format!("c{caster}-r{run}-{}", desired.key.name);
            if let Some(provenance) = &mut desired.provenance {
                provenance.source_set = Some(format!("caster-{caster}"));
            }
            if let Some(round) = round {
                desired.labels.insert("round".to_owned(), round.to_string());
            }
            desired
        })
        .collect()
}

/// Every caster's batch cast at once (released together by a barrier): the wall time from the
/// first start to the last end, and each cast's own time; or the first caster's failure.
fn at_once(
    runeds: &[&Runed],
    batches: &[Vec<Desired>],
    expect: Expect,
    conflicts: &AtomicUsize,
) -> Result<(Duration, Vec<Duration>), String> {
    let barrier = Barrier::new(batches.len());
    let spans: Vec<(Instant, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = batches
            .iter()
            .enumerate()
            .map(|(caster, batch)| {
                let url = &runeds[caster % runeds.len()].url;
                let barrier = &barrier;
                scope.spawn(move || {
                    let backend = Remote::new(url, None, Duration::from_secs(600));
                    barrier.wait();
                    let start = Instant::now();
                    cast(&backend, batch, expect, conflicts)
                        .map_err(|e| format!("caster {caster}: {e}"))?;
                    Ok((start, start.elapsed()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a caster"))
            .collect::<Result<_, String>>()
    })?;
    let first = spans.iter().map(|(start, _)| *start).min();
    let last = spans.iter().map(|(start, took)| *start + *took).max();
    let wall = first.zip(last).map_or(Duration::ZERO, |(a, b)| b - a);
    Ok((wall, spans.into_iter().map(|(_, took)| took).collect()))
}

/// What `rune cast` does with a batch: plan, then, if anything changes, apply guarded by the
/// plan's expectations. A conflict is counted and the whole cast retried; any other failure
/// ends the cast.
fn cast(
    backend: &Remote,
    batch: &[Desired],
    expect: Expect,
    conflicts: &AtomicUsize,
) -> Result<(), client::ClientError> {
    let options = BatchOptions::default();
    loop {
        let plan = backend.plan(batch, &options)?;
        let planned = match expect {
            Expect::Created => plan.summary.create,
            Expect::Unchanged => plan.summary.unchanged,
            Expect::Updated => plan.summary.update,
        };
        assert_eq!(planned, batch.len(), "every object planned as expected");
        if matches!(expect, Expect::Unchanged) {
            return Ok(());
        }
        let request = ApplyRequest {
            delete: Vec::new(),
            expected: client::expectations(&plan),
            objects: batch.to_vec(),
            options: options.clone(),
        };
        match backend.apply(&request) {
            Ok(applied) => {
                assert_eq!(applied.applied, batch.len(), "every object is written");
                return Ok(());
            }
            Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Precondition) => {
                conflicts.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
}
