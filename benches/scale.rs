//! `rune lint` and `rune cast` at scale, on a realistic mixed corpus, with peak memory.
//!
//! Run with `cargo bench --bench scale` (a release build; cargo also builds the release `rune`
//! and `runed` it runs). The corpus mixes the shapes real repositories hold, a quarter each:
//!
//! - a secret whose value is sealed (`sealed: |`, an age armor block scalar of 8 lines);
//! - a configmap in block style with a non-ASCII comment and double-quoted values;
//! - a configmap in flow style (`{name: …, data: [{key: …, value: …}]}`);
//! - a configmap in plain block style, single-quoted and plain scalars;
//!
//! and a second corpus is the same with one anchor and alias per document. It times
//! `rune lint --format json` on
//!
//! - the mixed corpus in one file at each size of `RUNE_BENCH_SIZES` (default
//!   `10000,100000,1000000` documents);
//! - the same first 10,000 documents as 10,000 one-document files (`RUNE_BENCH_FILES`);
//! - the anchored corpus in one file at 100,000 documents;
//!
//! and `rune cast` against a release `runed` (`RUNE_BENCH_CAST`, default 100,000 configmaps and
//! secrets in one file, with `--dry-run` against an empty server, then the apply).
//!
//! Each row gives the minimum and median wall time, documents per second, and the peak resident
//! memory (`VmHWM`) of the `rune` process and, for casts, of `runed`, read from `/proc` while the
//! process runs (every 2 ms; the high-water mark only grows, so the last reading is the peak up
//! to then). `RUNE_BENCH_RUNS` (default 3; sizes of a million documents run once) changes the
//! number of runs; `RUNE_BENCH_LINT=0` leaves out the lint rows (the casts only).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)] // the runed launcher only; the tables are for the other benchmarks
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rune::client::Backend as _;
use support::Runed;

/// An age armor as `rune seal` writes it (for a recipient that is not in this benchmark: lint
/// without a key file checks its form, not its contents).
const ARMOR: &str = "-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBySkxHWTRRbXpFd2s5dDFJ
OG9Ma0JmS3o4S3ZMQnJ4NDVaY2ZnU2ltbWxJCjFhWWloTDhmWUpwTjgrQ1FMTnpu
c3A0enNZNTV5TGp6YzNqQzhRc2VBTFEKLT4gdC1ncmVhc2UKc2doUTVNSDMKLS0t
IGw2Zi9oSnNhK1MvcjVLMktoT0kxNmJvSmttZWdqOTlaUGFzbFlGd0RJVFkKpev7
/RWERb03EZc5jkz0VNxhjgjrGOx1ylCK/GToW9q3SORaGsZFWMrb2nHaBeCZcwJy
QkaesQOnrKhUkVHRHkFXV1LWD0A6NsAjBzXYKqF3yukwM024t6xayuNJNRLUi2A=
-----END AGE ENCRYPTED FILE-----
";

#[derive(Clone, Copy, PartialEq)]
enum Corpus {
    Mixed,
    Anchored,
}

/// Document `i` of a corpus. Names are unique across the corpus; the secret's armor is
/// indented as a block scalar under its key.
fn document(i: usize, corpus: Corpus, armor: &str) -> String {
    let anchored = corpus == Corpus::Anchored;
    let (anchor, alias) = if anchored {
        ("&level ", "*level")
    } else {
        ("", "info")
    };
    match i % 4 {
        0 => {
            let mut sealed = String::new();
            for line in armor.lines() {
                let _ = writeln!(sealed, "        {line}");
            }
            let extra = if anchored {
                format!(
                    "    - key: region\n      value: {anchor}eu-west-1\n    - key: zone\n      value: *level\n"
                )
            } else {
                String::new()
            };
            format!(
                "secret:\n  name: sec-{i}\n  namespace: default\n  data:\n    - key: password\n      sealed: |\n{sealed}{extra}"
            )
        }
        1 => format!(
            "# Réglages du service {i} — für die Größe, ñ\nconfigmap:\n  name: \"cfg-{i}\"\n  namespace: default\n  data:\n    - key: log-level # niveau de journalisation\n      value: {anchor}\"debug\"\n    - key: greeting\n      value: \"grüß dich, {i}\"\n    - key: copy\n      value: {}\n",
            if anchored { "*level" } else { "\"debug\"" }
        ),
        2 => format!(
            "configmap: {{name: cfg-{i}, namespace: default, data: [{{key: mode, value: {anchor}fast}}, {{key: retries, value: \"3\"}}, {{key: copy, value: {}}}]}}\n",
            if anchored { "*level" } else { "fast" }
        ),
        _ => format!(
            "configmap:\n  name: cfg-{i}\n  namespace: default\n  data:\n    - key: log-level\n      value: {anchor}info\n    - key: timeout\n      value: '30s'\n    - key: copy\n      value: {alias}\n"
        ),
    }
}

fn corpus(count: usize, corpus: Corpus) -> impl Iterator<Item = String> {
    (0..count).map(move |i| document(i, corpus, ARMOR))
}

/// Writes `count` documents into one file; returns its size in bytes.
fn write_one_file(path: &Path, count: usize, kind: Corpus) -> usize {
    let mut text = String::new();
    for doc in corpus(count, kind) {
        text.push_str("---\n");
        text.push_str(&doc);
    }
    std::fs::write(path, &text).expect("write the corpus");
    text.len()
}

/// One measured run of a child process: wall time and its peak RSS in bytes.
struct Run {
    time: Duration,
    peak: u64,
}

/// The high-water mark of a process's resident set, from `/proc/<pid>/status`.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `command`, polling its peak RSS (and `also`'s, a server it talks to) until it exits.
fn run(mut command: Command, also: Option<u32>) -> (Run, u64, String) {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rune");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        out
    });
    let mut peak = 0;
    let mut server_peak = 0;
    let status = loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak = peak.max(hwm);
        }
        if let Some(hwm) = also.and_then(vm_hwm) {
            server_peak = server_peak.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait for rune") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let time = start.elapsed();
    let out = reader.join().unwrap_or_default();
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
    }
    assert!(status.success(), "rune failed ({status}):\n{err}\n{out}");
    (Run { time, peak }, server_peak, out)
}

struct Row {
    label: String,
    documents: usize,
    bytes: usize,
    runs: Vec<Run>,
    server_peak: Option<u64>,
}

fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {:width$} | {:>4} | {:>9} | {:>9} | {:>9} | {:>10} | {:>9} | {:>10} |",
        "what", "runs", "input MB", "min s", "median s", "docs/s med", "peak MB", "runed MB"
    );
    let _ = writeln!(
        out,
        "|{}|------|-----------|-----------|-----------|------------|-----------|------------|",
        "-".repeat(width + 2)
    );
    for row in rows {
        let mut times: Vec<Duration> = row.runs.iter().map(|r| r.time).collect();
        times.sort();
        let median = times[times.len() / 2];
        let peak = row.runs.iter().map(|r| r.peak).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "| {:width$} | {:>4} | {:>9.1} | {:>9.2} | {:>9.2} | {:>10.0} | {:>9.0} | {:>10} |",
            row.label,
            row.runs.len(),
            row.bytes as f64 / 1e6,
            times[0].as_secs_f64(),
            median.as_secs_f64(),
            row.documents as f64 / median.as_secs_f64(),
            peak as f64 / 1e6,
            row.server_peak
                .map_or_else(|| "-".to_owned(), |p| format!("{:.0}", p as f64 / 1e6)),
        );
    }
    out
}

fn lint(binary: &Path, path: &Path, documents: usize) -> Run {
    let mut command = Command::new(binary);
    command
        .args(["lint", "--format", "json", "-r"])
        .arg(path)
        .env("NO_COLOR", "1");
    let (run, _, out) = run(command, None);
    assert!(
        out.contains(&format!("\"documents\": {documents}")) && out.contains("\"errors\": 0"),
        "rune lint did not read the corpus clean:\n{}",
        &out[..out.len().min(4000)]
    );
    run
}

fn main() {
    let runs = support::setting("RUNS", 3);
    let sizes: Vec<usize> = std::env::var("RUNE_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let files = support::setting("FILES", 10_000);
    let cast_size = std::env::var("RUNE_BENCH_CAST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (cli, server) = match (
        support::binary("rune", env!("CARGO_BIN_EXE_rune")),
        support::binary("runed", env!("CARGO_BIN_EXE_runed")),
    ) {
        (Ok(cli), Ok(server)) => (cli, server),
        (Err(why), _) | (_, Err(why)) => {
            println!("skipped: {why}");
            return;
        }
    };
    println!("scale benchmark: mixed corpus, {cores} cores");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut rows = Vec::new();
    if std::env::var("RUNE_BENCH_LINT").as_deref() != Ok("0") {
        lint_rows(&cli, scratch.path(), &sizes, files, runs, &mut rows);
    }
    if cast_size > 0 {
        rows.extend(cast(&cli, &server, scratch.path(), cast_size));
    }
    print!("{}", table(&rows));
}

/// The lint rows: the mixed corpus in one file at each size, as one-document files, and the
/// anchored corpus.
fn lint_rows(
    cli: &Path,
    scratch: &Path,
    sizes: &[usize],
    files: usize,
    runs: usize,
    rows: &mut Vec<Row>,
) {
    let runs_for = |documents: usize| if documents >= 1_000_000 { 1 } else { runs };
    for &size in sizes {
        let file = scratch.join(format!("mixed-{size}.yaml"));
        let bytes = write_one_file(&file, size, Corpus::Mixed);
        let measured = (0..runs_for(size))
            .map(|_| lint(cli, &file, size))
            .collect();
        std::fs::remove_file(&file).expect("remove the corpus");
        rows.push(Row {
            label: format!("lint, mixed, {size} documents, 1 file"),
            documents: size,
            bytes,
            runs: measured,
            server_peak: None,
        });
    }
    let dir = scratch.join("files");
    std::fs::create_dir(&dir).expect("a directory for the files");
    let mut bytes = 0;
    for (i, doc) in corpus(files, Corpus::Mixed).enumerate() {
        bytes += doc.len();
        std::fs::write(dir.join(format!("r{i:05}.yaml")), doc).expect("write a file");
    }
    rows.push(Row {
        label: format!("lint, mixed, {files} one-document files"),
        documents: files,
        bytes,
        runs: (0..runs).map(|_| lint(cli, &dir, files)).collect(),
        server_peak: None,
    });
    std::fs::remove_dir_all(&dir).expect("remove the files");
    let anchored_size = 100_000;
    let file = scratch.join("anchored.yaml");
    let bytes = write_one_file(&file, anchored_size, Corpus::Anchored);
    rows.push(Row {
        label: format!("lint, one anchor each, {anchored_size} documents"),
        documents: anchored_size,
        bytes,
        runs: (0..runs).map(|_| lint(cli, &file, anchored_size)).collect(),
        server_peak: None,
    });
    std::fs::remove_file(&file).expect("remove the corpus");
}

/// `rune cast` of `count` resources of the mixed corpus (sealed for this runed) in one file:
/// a dry-run against the empty server, then the apply.
fn cast(rune: &Path, runed_binary: &Path, scratch: &Path, count: usize) -> Vec<Row> {
    let runed = Runed::start(runed_binary, &scratch.join("runed"));
    let pid = runed.pid();
    let recipient: age::x25519::Recipient =
        rune::client::Remote::new(&runed.url, None, Duration::from_secs(60))
            .seal_recipient()
            .expect("the seal recipient")
            .parse()
            .expect("an age recipient");
    let file = scratch.join("cast.yaml");
    let mut text = String::new();
    for i in 0..count {
        let armor = if i % 4 == 0 {
            let place = rune::secrets::Place::new("default", &format!("sec-{i}"), "password");
            rune::secrets::seal(&format!("pw-{i}"), &place, std::slice::from_ref(&recipient))
                .expect("seal a value")
        } else {
            String::new()
        };
        text.push_str("---\n");
        text.push_str(&document(i, Corpus::Mixed, &armor));
    }
    std::fs::write(&file, &text).expect("write the cast corpus");
    let cast_once = |dry: bool| {
        let mut command = Command::new(rune);
        command
            .args(["--server", &runed.url, "cast", "-q"])
            .args(dry.then_some("--dry-run"))
            .arg(&file)
            .env("NO_COLOR", "1");
        run(command, Some(pid))
    };
    let (dry, dry_server, _) = cast_once(true);
    let (apply, apply_server, _) = cast_once(false);
    vec![
        Row {
            label: format!("cast --dry-run, {count} resources, empty runed"),
            documents: count,
            bytes: text.len(),
            runs: vec![dry],
            server_peak: Some(dry_server),
        },
        Row {
            label: format!("cast, {count} resources, empty runed"),
            documents: count,
            bytes: text.len(),
            runs: vec![apply],
            server_peak: Some(apply_server),
        },
    ]
}
