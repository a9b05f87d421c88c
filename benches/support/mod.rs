//! What the engine and cast benchmarks share: a release `runed` on a free loopback port, and
//! min/median tables.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The release binary `name` that cargo built for this benchmark (`CARGO_BIN_EXE_<name>`), or
/// why it cannot be used.
pub fn binary(name: &str, built: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(built);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: run `cargo build --release --bins` to time `{name}`",
            path.display()
        ))
    }
}

/// A `runed` child process listening on `127.0.0.1:<free port>`; killed when dropped.
pub struct Runed {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    pub url: String,
}

impl Runed {
    /// Starts `binary` on a fresh data directory and waits for its `listening on` line.
    pub fn start(binary: &Path, data_dir: &Path) -> Self {
        Self::start_with(binary, data_dir, &[])
    }

    /// [`Runed::start`] with more arguments (`--config FILE`).
    pub fn start_with(binary: &Path, data_dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start runed");
        let mut lines = BufReader::new(child.stderr.take().expect("runed's stderr")).lines();
        let mut seen = Vec::new();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("runed stopped before listening:\n{}", seen.join("\n"));
            };
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
            seen.push(line);
        };
        // Keep draining stderr (one line per request), so runed never blocks on a full pipe.
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().expect("the log lock").push(line);
            }
        });
        Self { child, log, url }
    }

    /// The server-side time of every request to `path` logged since the last call for that
    /// path. runed logs `… INFO POST /v1/plan 200 123ms` once the handler has answered: body
    /// decoding, engine work and response encoding, in whole milliseconds.
    pub fn take_server_times(&self, path: &str) -> Vec<Duration> {
        // The line is written as the response goes out; give the drain thread a moment.
        std::thread::sleep(Duration::from_millis(50));
        let mut log = self.log.lock().expect("the log lock");
        let mut times = Vec::new();
        log.retain(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, "INFO", _, logged, _, ms] = fields.as_slice() else {
                return true;
            };
            let Some(ms) = ms.strip_suffix("ms").and_then(|ms| ms.parse().ok()) else {
                return true;
            };
            if *logged != path {
                return true;
            }
            times.push(Duration::from_millis(ms));
            false
        });
        times
    }

    /// The server's process id (to read its memory use from `/proc`).
    #[allow(dead_code)] // not every benchmark that shares this module reads it
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log lines since the last clear that are not request lines (warnings and errors).
    #[allow(dead_code)] // not every benchmark that shares this module reads it
    pub fn problems(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(50));
        let log = self.log.lock().expect("the log lock");
        log.iter()
            .filter(|line| !line.contains(" INFO "))
            .cloned()
            .collect()
    }

    /// Forgets the log so far.
    pub fn clear_log(&self) {
        std::thread::sleep(Duration::from_millis(50));
        self.log.lock().expect("the log lock").clear();
    }
}

impl Drop for Runed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `RUNE_BENCH_<name>` as a number, else `default`.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(format!("RUNE_BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// One line of results: the fastest and the median of some runs over `objects` objects.
pub struct Row {
    pub label: String,
    pub median: Duration,
    pub min: Duration,
    pub objects: usize,
    pub runs: usize,
}

impl Row {
    pub fn new(label: impl Into<String>, objects: usize, times: &[Duration]) -> Self {
        let mut sorted = times.to_vec();
        sorted.sort();
        Self {
            label: label.into(),
            median: sorted.get(sorted.len() / 2).copied().unwrap_or_default(),
            min: sorted.first().copied().unwrap_or_default(),
            objects,
            runs: times.len(),
        }
    }
}

pub fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:width$}  {:>4}  {:>9}  {:>9}  {:>12}  {:>12}",
        "what", "runs", "min ms", "median ms", "obj/s (min)", "obj/s (med)"
    );
    let rate = |objects: usize, time: Duration| {
        if time.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.0}", objects as f64 / time.as_secs_f64())
        }
    };
    for row in rows {
        let _ = writeln!(
            out,
            "{:width$}  {:>4}  {:>9.1}  {:>9.1}  {:>12}  {:>12}",
            row.label,
            row.runs,
            row.min.as_secs_f64() * 1e3,
            row.median.as_secs_f64() * 1e3,
            rate(row.objects, row.min),
            rate(row.objects, row.median),
        );
    }
    out
}
