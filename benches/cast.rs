//! `rune cast` end to end: 10,000 resources in runefiles, planned and applied against a release
//! `runed` by the release `rune` binary.
//!
//! Run with `cargo bench --bench cast` (a release build; cargo also builds the release `rune`
//! and `runed` it runs). It writes 10,000 resources — 5,000 secrets with 2–3 keys and 5,000
//! configmaps — as 50 runefiles of 200 documents each into a temporary directory, then times
//!
//! - `rune --server URL cast --dry-run DIR -r -q` against an empty runed (all 10,000 to create),
//!   several times;
//! - `rune --server URL cast DIR -r -q`, the apply, each run against a fresh runed; and
//! - the dry-run again against the applied server (all 10,000 unchanged), several times.
//!
//! Each binary row has a sub-row with runed's own time for the request, from its log. Then the
//! same dry-runs in-process, stage by stage: load (read, split, parse), validate, provenance,
//! conversion to desired objects, the plan request (encode, round trip, decode) and the text
//! rendering. The goal is a dry-run of 10,000 resources in under one second. `RUNE_BENCH_RUNS`
//! (default 5) changes the number of runs.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rune::client::{Backend, Remote};
use rune::plan::Plan;
use rune::plan::render::{self, TextStyle};
use rune::validate::{self, Options};
use rune::wire::batch::BatchOptions;
use rune::wire::object::Desired;
use support::{Row, Runed};

const RESOURCES: usize = 10_000;
const FILES: usize = 50;

fn main() {
    let runs = support::setting("RUNS", 5);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let dir = scratch.path().join("runefiles");
    let bytes = write_runefiles(&dir);
    println!(
        "cast benchmark: {RESOURCES} resources ({} secrets, {} configmaps) in {FILES} runefiles, {:.2} MB, {cores} cores, {runs} runs each",
        RESOURCES / 2,
        RESOURCES / 2,
        bytes as f64 / 1e6
    );
    let (cli_binary, server_binary) = match (
        support::binary("rune", env!("CARGO_BIN_EXE_rune")),
        support::binary("runed", env!("CARGO_BIN_EXE_runed")),
    ) {
        (Ok(cli), Ok(server)) => (cli, server),
        (Err(why), _) | (_, Err(why)) => {
            println!("\nskipped: {why}");
            return;
        }
    };
    let cli = Cli {
        binary: cli_binary,
        dir: dir.clone(),
        home: scratch.path().join("home"),
    };
    std::fs::create_dir_all(&cli.home).expect("create the home directory");
    let mut rows = Vec::new();

    let server = Runed::start(&server_binary, &scratch.path().join("empty"));
    let times: Vec<Duration> = (0..runs)
        .map(|_| cli.cast(&server.url, true, "Plan: 10000 to create"))
        .collect();
    rows.push(Row::new("cast --dry-run, empty server", RESOURCES, &times));
    let server_times = server.take_server_times("/v1/plan");
    rows.push(Row::new(
        "  of which runed /v1/plan",
        RESOURCES,
        &server_times,
    ));
    let mut stages = Stages::default();
    for _ in 0..runs {
        stages.push(&library(&dir, &server.url, "create"));
    }
    server.clear_log();
    drop(server);

    let mut applied = None;
    let mut times = Vec::new();
    let mut plan_times = Vec::new();
    let mut apply_times = Vec::new();
    for run in 0..runs {
        let server = Runed::start(
            &server_binary,
            &scratch.path().join(format!("applied-{run}")),
        );
        times.push(cli.cast(&server.url, false, "Applied 10000 changes."));
        plan_times.extend(server.take_server_times("/v1/plan"));
        apply_times.extend(server.take_server_times("/v1/apply"));
        applied = Some(server);
    }
    rows.push(Row::new("cast (apply), fresh server", RESOURCES, &times));
    let server = applied.expect("at least one run");
    rows.push(Row::new(
        "  of which runed /v1/plan",
        RESOURCES,
        &plan_times,
    ));
    rows.push(Row::new(
        "  of which runed /v1/apply",
        RESOURCES,
        &apply_times,
    ));

    let times: Vec<Duration> = (0..runs)
        .map(|_| cli.cast(&server.url, true, "10000 unchanged"))
        .collect();
    rows.push(Row::new("cast --dry-run, all unchanged", RESOURCES, &times));
    let server_times = server.take_server_times("/v1/plan");
    rows.push(Row::new(
        "  of which runed /v1/plan",
        RESOURCES,
        &server_times,
    ));
    let mut unchanged = Stages::default();
    for _ in 0..runs {
        unchanged.push(&library(&dir, &server.url, "unchanged"));
    }
    server.clear_log();
    drop(server);

    println!("\nthe release binary, `rune --server URL cast [--dry-run] DIR -r -q`:");
    print!("{}", support::table(&rows));
    println!("\nin-process dry-run, stage by stage, empty server:");
    print!("{}", support::table(&stages.rows()));
    println!("\nin-process dry-run, stage by stage, all unchanged:");
    print!("{}", support::table(&unchanged.rows()));
}

/// 50 runefiles of 200 single-resource documents, alternately a secret and a configmap.
fn write_runefiles(dir: &Path) -> usize {
    std::fs::create_dir_all(dir).expect("create the runefile directory");
    let per_file = RESOURCES / FILES;
    let mut bytes = 0;
    for file in 0..FILES {
        let docs: Vec<String> = (file * per_file..(file + 1) * per_file)
            .map(document)
            .collect();
        let text = docs.join("---\n");
        bytes += text.len();
        std::fs::write(dir.join(format!("f{file:03}.yaml")), text).expect("write a runefile");
    }
    bytes
}

fn document(i: usize) -> String {
    let (kind, name) = if i.is_multiple_of(2) {
        ("secret", format!("sec-{i}"))
    } else {
        ("configmap", format!("cfg-{i}"))
    };
    let mut text = format!(
        "{kind}:\n  name: {name}\n  namespace: default\n  labels:\n    app: bench\n  data:\n    - key: username\n      value: user-{i}\n    - key: password\n      value: pw-{i}-{:016x}\n",
        i * 7919
    );
    if i.is_multiple_of(3) {
        text.push_str("    - key: region\n      value: eu-west-1\n");
    }
    text
}

/// The release `rune`, with a home of its own (no contexts) and no colour.
struct Cli {
    binary: PathBuf,
    dir: PathBuf,
    home: PathBuf,
}

impl Cli {
    /// One cast; checks that stdout holds `expect` and returns the wall time.
    fn cast(&self, url: &str, dry_run: bool, expect: &str) -> Duration {
        let mut command = Command::new(&self.binary);
        command.args(["--server", url, "cast"]);
        if dry_run {
            command.arg("--dry-run");
        }
        command
            .arg(&self.dir)
            .args(["-r", "-q"])
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env_remove("RUNE_CONFIG")
            .env_remove("RUNE_SERVER")
            .env_remove("RUNE_TOKEN")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        let start = Instant::now();
        let output = command.output().expect("run the rune binary");
        let elapsed = start.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains(expect),
            "rune cast failed ({}), expected `{expect}`:\n{}",
            output.status,
            stdout.lines().take(20).collect::<Vec<_>>().join("\n")
        );
        elapsed
    }
}

/// The dry-run's stages in-process, as `rune cast --dry-run` runs them.
#[derive(Default)]
struct Stages {
    load: Vec<Duration>,
    validate: Vec<Duration>,
    origin: Vec<Duration>,
    convert: Vec<Duration>,
    encode: Vec<Duration>,
    round_trip: Vec<Duration>,
    decode: Vec<Duration>,
    plan: Vec<Duration>,
    render: Vec<Duration>,
    total: Vec<Duration>,
    /// Bytes of the plan request and of its answer.
    sizes: (usize, usize),
}

struct Timings {
    load: Duration,
    validate: Duration,
    origin: Duration,
    convert: Duration,
    encode: Duration,
    round_trip: Duration,
    decode: Duration,
    plan: Duration,
    render: Duration,
    sizes: (usize, usize),
}

impl Stages {
    fn push(&mut self, t: &Timings) {
        self.load.push(t.load);
        self.validate.push(t.validate);
        self.origin.push(t.origin);
        self.convert.push(t.convert);
        self.encode.push(t.encode);
        self.round_trip.push(t.round_trip);
        self.decode.push(t.decode);
        self.plan.push(t.plan);
        self.render.push(t.render);
        self.sizes = t.sizes;
        self.total
            .push(t.load + t.validate + t.origin + t.convert + t.plan + t.render);
    }

    fn rows(&self) -> Vec<Row> {
        let n = RESOURCES;
        vec![
            Row::new("total (load … render)", n, &self.total),
            Row::new("  load (read+split+parse)", n, &self.load),
            Row::new("  validate", n, &self.validate),
            Row::new("  provenance (git)", n, &self.origin),
            Row::new("  to desired objects", n, &self.convert),
            Row::new("  plan via Remote", n, &self.plan),
            Row::new("    encode request JSON", n, &self.encode),
            Row::new(
                format!(
                    "    POST /v1/plan round trip ({:.1} MB up, {:.1} MB down)",
                    self.sizes.0 as f64 / 1e6,
                    self.sizes.1 as f64 / 1e6
                ),
                n,
                &self.round_trip,
            ),
            Row::new("    decode response JSON", n, &self.decode),
            Row::new("  render plan text", n, &self.render),
        ]
    }
}

fn library(dir: &Path, url: &str, expect: &str) -> Timings {
    let paths = [dir.display().to_string()];
    let start = Instant::now();
    let loaded = rune::parse::load(&paths, true).expect("load the runefiles");
    let loaded_at = Instant::now();
    let validated = validate::validate(&loaded, &Options::default());
    let validated_at = Instant::now();
    assert!(
        !validated.diagnostics.has_errors(),
        "the runefiles are valid"
    );
    let origin = rune::git::provenance::origin(&paths, None);
    let origin_at = Instant::now();
    let desired = rune::plan::desired::to_desired(&validated.resources, &loaded, &origin)
        .expect("convert the resources");
    let converted_at = Instant::now();
    assert_eq!(desired.len(), RESOURCES);
    let options = BatchOptions::default();
    let backend = Remote::new(url, None, Duration::from_secs(600));
    let plan = backend.plan(&desired, &options).expect("plan");
    let planned_at = Instant::now();
    let text = render::text(&plan, &desired, TextStyle::default());
    let rendered_at = Instant::now();
    let summary = render::summary_line(&plan.summary);
    assert!(summary.contains(expect), "unexpected plan: {summary}");
    std::hint::black_box(text);
    let (encode, round_trip, decode, sizes) = raw_plan(url, &desired, &options);
    Timings {
        load: loaded_at - start,
        validate: validated_at - loaded_at,
        origin: origin_at - validated_at,
        convert: converted_at - origin_at,
        encode,
        round_trip,
        decode,
        plan: planned_at - converted_at,
        render: rendered_at - planned_at,
        sizes,
    }
}

/// The plan request again, split: encode the body, send it and read the answer, decode it.
fn raw_plan(
    url: &str,
    desired: &[Desired],
    options: &BatchOptions,
) -> (Duration, Duration, Duration, (usize, usize)) {
    /// The body `Remote::plan` sends: a `PlanRequest` that borrows the batch.
    #[derive(serde::Serialize)]
    struct Body<'a> {
        objects: &'a [Desired],
        options: &'a BatchOptions,
    }
    let start = Instant::now();
    let body = serde_json::to_vec(&Body {
        objects: desired,
        options,
    })
    .expect("encode the plan request");
    let encoded_at = Instant::now();
    let mut response = ureq::post(format!("{url}/v1/plan"))
        .header("Content-Type", "application/json")
        .send(&body[..])
        .expect("POST /v1/plan");
    let text = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()
        .expect("read the plan");
    let answered_at = Instant::now();
    let plan: Plan = serde_json::from_str(&text).expect("decode the plan");
    let decoded_at = Instant::now();
    std::hint::black_box(plan);
    (
        encoded_at - start,
        answered_at - encoded_at,
        decoded_at - answered_at,
        (body.len(), text.len()),
    )
}
