//! Parsing is bounded for the whole invocation, not per document (issue #12, SPEC §2.3): alias
//! bombs spread over many documents and several files end in `E-PARSE-BUDGET` and exit 6, with
//! the peak memory of `rune` well under 256 MB.
//!
//! The peak is the child's own `ru_maxrss`. `getrusage(RUSAGE_CHILDREN)` covers every child
//! this process ever reaped, and the integration binary runs many tests (and children) in
//! parallel; so the test runs itself again in its own test binary, as a probe (`PROBE` set)
//! whose only child is `rune`, and reads the figure the probe prints.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::util::rune_process;

/// The environment variable that turns [`probe`] on: the working directory, then the `rune`
/// arguments, separated by the unit separator (U+001F).
const PROBE: &str = "RUNE_TEST_BUDGET_PROBE";

/// Peak memory allowed to `rune` on hostile input.
const MAX_RSS_KB: i64 = 256 * 1024;

/// A billion-laughs document: each level repeats the one below seven times, and the last line
/// would hold 3 × 7^7 ≈ 2.5 million strings once expanded — each document stays small on disk.
fn bomb() -> String {
    let mut text =
        String::from("x0: &x0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for level in 1..=7 {
        let below = vec![format!("*x{}", level - 1); 7].join(",");
        let _ = writeln!(text, "x{level}: &x{level} [{below}]");
    }
    text.push_str("top: [*x7, *x7, *x7]\n");
    text
}

/// Runs `rune` in `dir` with `args` under a probe; returns its exit code, its output and its
/// peak resident set in KiB.
fn measured(dir: &Path, args: &[&str]) -> (i32, String, i64) {
    let spec = std::iter::once(dir.display().to_string())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect::<Vec<_>>()
        .join("\u{1f}");
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "parse_budget::alias_bombs_across_documents_and_files_end_in_the_budget_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE, spec)
        .output()
        .expect("run the probe");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| {
                panic!(
                    "the probe printed no `{key}`:\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .trim()
            .to_owned()
    };
    let code: i32 = line("probe-exit=").parse().expect("an exit code");
    let rss: i64 = line("probe-maxrss-kb=").parse().expect("a size");
    (code, stdout, rss)
}

/// The probe, in the test binary run again with [`PROBE`] set: runs `rune` once and prints its
/// exit code, output and peak RSS.
fn probe(spec: &str) {
    let mut parts = spec.split('\u{1f}');
    let dir = parts.next().expect("a directory");
    let args: Vec<&str> = parts.collect();
    let out = rune_process(Path::new(dir))
        .args(&args)
        .output()
        .expect("run rune");
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    println!("{}", String::from_utf8_lossy(&out.stderr));
    println!("probe-exit={}", out.status.code().unwrap_or(-1));
    println!("probe-maxrss-kb={}", usage.max_rss());
}

#[test]
fn alias_bombs_across_documents_and_files_end_in_the_budget_error() {
    if let Ok(spec) = std::env::var(PROBE) {
        probe(&spec);
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // 16 bombs in one file, and 4 files of 4 bombs each.
    let docs = vec![bomb(); 16];
    std::fs::write(dir.path().join("one.yaml"), docs.join("---\n")).expect("write");
    let mut files = Vec::new();
    for f in 0..4 {
        let name = format!("part-{f}.yaml");
        std::fs::write(dir.path().join(&name), docs[..4].join("---\n")).expect("write");
        files.push(name);
    }
    let many: Vec<&str> = files.iter().map(String::as_str).collect();
    for args in [
        vec!["lint", "one.yaml"],
        [&["lint"][..], &many[..]].concat(),
        [&["cast", "--dry-run", "--data-dir", "data"][..], &many[..]].concat(),
    ] {
        let (code, output, rss) = measured(dir.path(), &args);
        assert_eq!(code, 6, "{args:?}:\n{output}");
        assert!(output.contains("E-PARSE-BUDGET"), "{args:?}:\n{output}");
        assert!(
            output.contains("parse budget of this run is spent"),
            "{args:?}: the budget is not shared across documents:\n{output}"
        );
        assert!(
            rss < MAX_RSS_KB,
            "{args:?}: rune peaked at {} MiB",
            rss / 1024
        );
    }
}
