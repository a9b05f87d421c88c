//! Lint throughput: documents per second through the whole offline path.
//!
//! Run with `cargo bench --bench lint` (a release build). It writes 20,000 small configmap
//! documents once into a single file and once split over 200 files, then times
//!
//! - the library path `parse::load` (read from disk, split, parse) + `validate::validate` +
//!   `render::json::render`, stage by stage, several times; and
//! - the release binary `target/release/rune lint --format json` on the same inputs, when it has
//!   been built (`cargo build --release`); otherwise that row says how to get it.
//!
//! It prints the minimum and median wall time and documents per second of each. The goal is more
//! than 100,000 documents per second end to end. `RUNE_BENCH_RUNS` changes the number of runs.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rune::diag::render::{self, Totals};
use rune::validate::{self, Options};

const DOCUMENTS: usize = 20_000;
const FILES: usize = 200;

fn main() {
    let runs: usize = std::env::var("RUNE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15)
        .max(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let docs: Vec<String> = (0..DOCUMENTS).map(document).collect();
    let single = dir.path().join("all.yaml");
    std::fs::write(&single, docs.join("---\n")).expect("write the single file");
    let split = dir.path().join("split");
    std::fs::create_dir(&split).expect("create the split directory");
    for (i, chunk) in docs.chunks(DOCUMENTS / FILES).enumerate() {
        std::fs::write(split.join(format!("f{i:03}.yaml")), chunk.join("---\n"))
            .expect("write a split file");
    }
    let bytes = docs.iter().map(String::len).sum::<usize>() + 4 * (DOCUMENTS - 1);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "rune lint benchmark: {DOCUMENTS} configmap documents, {:.2} MB, {cores} cores, {runs} runs each",
        bytes as f64 / 1e6
    );
    println!();

    let inputs = [
        ("1 file", single.to_string_lossy().into_owned()),
        (
            "200 files",
            split.to_string_lossy().into_owned(), // a directory: its .yaml files
        ),
    ];
    let mut rows = Vec::new();
    for (label, path) in &inputs {
        let mut stages = Stages::default();
        for _ in 0..runs {
            stages.push(library(path));
        }
        rows.push(Row::new(format!("library, {label}"), &stages.total));
        rows.push(Row::new("  load (read+split+parse)".into(), &stages.load));
        rows.push(Row::new("  validate".into(), &stages.validate));
        rows.push(Row::new("  render json".into(), &stages.render));
    }
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/rune");
    let mut note = None;
    if binary.is_file() {
        for (label, path) in &inputs {
            let times: Vec<Duration> = (0..runs).map(|_| run_binary(&binary, path)).collect();
            rows.push(Row::new(
                format!("rune lint --format json, {label}"),
                &times,
            ));
        }
    } else {
        note = Some(format!(
            "{} not found: run `cargo build --release` to time the binary",
            binary.display()
        ));
    }
    print!("{}", table(&rows));
    if let Some(note) = note {
        println!("\n{note}");
    }
}

/// One small configmap (about 135 bytes) with two keys, one value quoted.
fn document(i: usize) -> String {
    format!(
        "configmap:\n  name: cfg-{i}\n  namespace: default\n  data:\n    - key: log-level\n      value: info\n    - key: timeout\n      value: \"30s\"\n"
    )
}

#[derive(Default)]
struct Stages {
    load: Vec<Duration>,
    render: Vec<Duration>,
    total: Vec<Duration>,
    validate: Vec<Duration>,
}

impl Stages {
    fn push(&mut self, (load, validate, render): (Duration, Duration, Duration)) {
        self.load.push(load);
        self.validate.push(validate);
        self.render.push(render);
        self.total.push(load + validate + render);
    }
}

/// The path `rune lint --format json` takes, in-process, timed stage by stage.
fn library(path: &str) -> (Duration, Duration, Duration) {
    let start = Instant::now();
    let loaded = rune::parse::load(&[path.to_owned()], false).expect("load the benchmark input");
    let loaded_at = Instant::now();
    let validated = validate::validate(&loaded, &Options::default());
    let validated_at = Instant::now();
    let totals = Totals {
        documents: loaded.document_count,
        files: loaded.files.len(),
        skipped: validated.skipped.len(),
    };
    let json = render::json::render(&validated.diagnostics, &loaded.sources, totals);
    let rendered_at = Instant::now();
    assert_eq!(loaded.document_count, DOCUMENTS);
    assert_eq!(validated.resources.len(), DOCUMENTS);
    assert!(
        validated.diagnostics.is_empty(),
        "the benchmark input must lint clean:\n{json}"
    );
    std::hint::black_box(json);
    (
        loaded_at - start,
        validated_at - loaded_at,
        rendered_at - validated_at,
    )
}

fn run_binary(binary: &PathBuf, path: &str) -> Duration {
    let start = Instant::now();
    let output = Command::new(binary)
        .args(["lint", "--format", "json", path])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the rune binary");
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("\"documents\": {DOCUMENTS}")),
        "rune lint failed ({}):\n{stdout}",
        output.status
    );
    elapsed
}

struct Row {
    label: String,
    median: Duration,
    min: Duration,
}

impl Row {
    fn new(label: String, times: &[Duration]) -> Self {
        let mut sorted = times.to_vec();
        sorted.sort();
        Self {
            label,
            median: sorted[sorted.len() / 2],
            min: sorted[0],
        }
    }
}

fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:width$}  {:>9}  {:>9}  {:>12}  {:>12}",
        "what", "min ms", "median ms", "docs/s (min)", "docs/s (med)"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:width$}  {:>9.1}  {:>9.1}  {:>12.0}  {:>12.0}",
            row.label,
            row.min.as_secs_f64() * 1e3,
            row.median.as_secs_f64() * 1e3,
            DOCUMENTS as f64 / row.min.as_secs_f64(),
            DOCUMENTS as f64 / row.median.as_secs_f64(),
        );
    }
    out
}
