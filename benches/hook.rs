//! The pre-commit hook on a repository of 1,000 runefiles: `rune lint --staged` end to end.
//!
//! Run with `cargo bench --bench hook` (a release build; cargo also builds the release `rune`
//! it runs). It makes a git repository in a temporary directory with 1,000 runefiles in 250
//! directories — per directory a secret with a sealed value, a secret marked
//! `allowPlaintext: true`, a configmap and a service that mounts and imports both secrets and
//! the configmap — plus a few files that are not runefiles (`README.md`, `.github/`), stages
//! everything (`git add -A`; no commit yet, so every blob is a loose object), installs the hook
//! with `rune hook install`, and times
//!
//! - `rune lint --staged` run in the repository, as a whole process;
//! - the installed `.git/hooks/pre-commit` run by `sh`, as git runs it (it execs the same
//!   binary); and
//! - the same path in-process, stage by stage: open the repository and read the index and its
//!   blobs, parse, validate, and the plaintext guard.
//!
//! Every run must pass (exit 0, no finding). The goal is well under one second for the hook.
//! `RUNE_BENCH_RUNS` (default 15) changes the number of runs.

#![allow(clippy::print_stdout, clippy::print_stderr)]

// Shared with the engine and cast benchmarks; this one starts no runed.
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rune::git::Repo;
use rune::validate::plaintext::{self, InGit};
use rune::validate::{self, Options};
use support::Row;

const GROUPS: usize = 250;
const FILES: usize = GROUPS * 4;

/// A well-formed age armor block (the linter checks its form; nothing unseals it here).
const ARMOR: &str = "-----BEGIN AGE ENCRYPTED FILE-----\n        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBqT2x0UEhWRkZ6WmJ3a0Ns\n        -----END AGE ENCRYPTED FILE-----";

fn main() {
    let runs = support::setting("RUNS", 15);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let repo = scratch.path().join("repo");
    let bytes = write_repository(&repo);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    println!(
        "hook benchmark: {FILES} runefiles ({GROUPS} each of sealed secret, allowPlaintext secret, configmap, service), {:.2} MB, staged, {cores} cores, {runs} runs each",
        bytes as f64 / 1e6
    );
    let binary = match support::binary("rune", env!("CARGO_BIN_EXE_rune")) {
        Ok(binary) => binary,
        Err(why) => {
            println!("\nskipped: {why}");
            return;
        }
    };
    let installed = command(&binary, &repo, scratch.path())
        .args(["hook", "install"])
        .output()
        .expect("run rune hook install");
    assert!(
        installed.status.success(),
        "rune hook install failed: {installed:?}"
    );

    let lint: Vec<Duration> = (0..runs)
        .map(|_| time(command(&binary, &repo, scratch.path()).args(["lint", "--staged"])))
        .collect();
    let hook: Vec<Duration> = (0..runs)
        .map(|_| {
            let mut sh = Command::new("sh");
            sh.arg(".git/hooks/pre-commit")
                .current_dir(&repo)
                .env("HOME", scratch.path())
                .env("NO_COLOR", "1");
            time(&mut sh)
        })
        .collect();
    let mut rows = vec![
        Row::new("rune lint --staged (process)", FILES, &lint),
        Row::new(".git/hooks/pre-commit (sh + rune)", FILES, &hook),
    ];
    std::env::set_current_dir(&repo).expect("enter the repository");
    let mut stages = [const { Vec::new() }; 5];
    for _ in 0..runs {
        for (all, one) in stages.iter_mut().zip(in_process()) {
            all.push(one);
        }
    }
    let labels = [
        "in-process total",
        "– open + read index and blobs",
        "– parse",
        "– validate",
        "– plaintext guard",
    ];
    for (label, times) in labels.iter().zip(&stages) {
        rows.push(Row::new(*label, FILES, times));
    }
    print!("{}", support::table(&rows));
}

/// The stages of `rune lint --staged`: total, read, parse, validate, guard.
fn in_process() -> [Duration; 5] {
    let start = Instant::now();
    let repo = Repo::from_env("the benchmark lints its index").expect("a repository");
    let files = repo.staged(&[]).expect("the index");
    let read = Instant::now();
    let loaded = rune::parse::load_read(files);
    let parsed = Instant::now();
    let validated = validate::validate(&loaded, &Options::default());
    let checked = Instant::now();
    let guard = plaintext::check(&validated.resources, |_| Some(InGit::Staged));
    let end = Instant::now();
    assert_eq!(loaded.files.len(), FILES);
    assert!(
        validated.diagnostics.is_empty() && guard.is_empty(),
        "the benchmark repository must lint clean"
    );
    [
        end - start,
        read - start,
        parsed - read,
        checked - parsed,
        end - checked,
    ]
}

fn command(binary: &Path, repo: &Path, home: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(repo)
        .env("HOME", home)
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("RUNE_") || name.starts_with("GIT_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs a passing lint and returns its wall time.
fn time(command: &mut Command) -> Duration {
    let start = Instant::now();
    let output = command.stdin(Stdio::null()).output().expect("run the hook");
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("{FILES} files")),
        "the lint failed ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

/// Writes the repository's files; returns the bytes of runefiles written.
fn write_repository(repo: &Path) -> usize {
    let mut bytes = 0;
    for g in 0..GROUPS {
        let dir = repo.join(format!("deploy/group-{g:03}"));
        std::fs::create_dir_all(&dir).expect("create a directory");
        for (name, text) in group(g) {
            bytes += text.len();
            std::fs::write(dir.join(name), text).expect("write a runefile");
        }
    }
    let extra: [(PathBuf, &str); 2] = [
        (repo.join("README.md"), "# deploy\n"),
        (
            repo.join(".github/workflows/ci.yaml"),
            "on: push\njobs: {}\n",
        ),
    ];
    for (path, text) in extra {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create a directory");
        std::fs::write(path, text).expect("write a file");
    }
    bytes
}

fn group(g: usize) -> [(&'static str, String); 4] {
    [
        (
            "db.yaml",
            format!(
                "secret:\n  name: db-{g}\n  namespace: default\n  labels: {{app: app-{g}}}\n  data:\n    - key: password\n      sealed: |\n        {ARMOR}\n"
            ),
        ),
        (
            "login.yaml",
            format!(
                "# A demo account, public on purpose.\nsecret:\n  name: login-{g}\n  namespace: default\n  allowPlaintext: true\n  data:\n    username: demo-{g}\n    realm: example\n"
            ),
        ),
        (
            "settings.yaml",
            format!(
                "configmap:\n  name: settings-{g}\n  namespace: default\n  data:\n    - key: LOG_LEVEL\n      value: info\n    - key: TIMEOUT\n      value: \"30s\"\n    - key: FEATURE_X\n      value: enabled\n"
            ),
        ),
        (
            "api.yaml",
            format!(
                "service:\n  name: api-{g}\n  namespace: default\n  image: ghcr.io/example/api:1.{g}.0\n  scale: 2\n  env:\n    LOG_FORMAT: json\n  envFrom:\n    - configRef: settings-{g}\n    - secretRef: login-{g}\n      prefix: LOGIN_\n  secretMounts:\n    - name: db\n      secretName: db-{g}\n      mountPath: /etc/secrets/db\n  configMounts:\n    - name: settings\n      configName: settings-{g}\n      mountPath: /etc/config\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n"
            ),
        ),
    ]
}
