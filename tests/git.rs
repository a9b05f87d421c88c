//! Git integration (issue 5, SPEC §3 and §6) with real repositories in temporary directories,
//! the real `git` and the real `rune`: the plaintext guard of `rune lint`, `rune lint --staged`
//! reading the index, the pre-commit hook that `rune hook install` writes, `rune cast --rev` and
//! the provenance every cast records.
//!
//! A [`Scratch`] is a temporary directory that is HOME (so the embedded engine's data stays out
//! of the repository) with the repository in `repo/` below it.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

use crate::util::{Server, create_token, git, git_ok, rune};

const USAGE: i32 = 2;
const CONFLICT: i32 = 5;
const VALIDATION: i32 = 6;

/// A secret with a plaintext value.
const PLAINTEXT: &str =
    "secret:\n  name: db\n  data:\n    - key: password\n      value: GitMarker-hunter2\n";
/// The same secret, its value read from an untracked file next to the runefile.
const FROM_FILE: &str =
    "secret:\n  name: db\n  data:\n    - key: password\n      file: password.txt\n";
/// The same secret, opted out of the guard.
const ALLOWED: &str = "secret:\n  name: db\n  allowPlaintext: true\n  data:\n    - key: password\n      value: GitMarker-hunter2\n";

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// An empty repository (no commits yet) in `repo/`.
    fn new() -> Self {
        let scratch = Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        std::fs::create_dir(scratch.repo()).expect("create the repository directory");
        scratch.git(&["init", "-q"]);
        scratch
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    #[track_caller]
    fn write(&self, path: &str, text: &str) -> &Self {
        let full = self.repo().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("create directories");
        std::fs::write(full, text).expect("write a file");
        self
    }

    #[track_caller]
    fn git(&self, args: &[&str]) -> String {
        git_ok(&self.repo(), args)
    }

    /// `git commit -m MESSAGE`, returning the output whatever the outcome (a hook may refuse).
    fn commit(&self, extra: &[&str]) -> std::process::Output {
        git(&self.repo())
            .args(["commit", "-q", "-m", "change"])
            .args(extra)
            .output()
            .expect("git runs")
    }

    /// `rune` in `repo/` (or a directory below it), HOME being the scratch directory.
    fn rune_in(&self, dir: &str) -> assert_cmd::Command {
        let mut command = rune(&self.repo().join(dir));
        command.env("HOME", self.dir.path());
        command
    }

    fn rune(&self) -> assert_cmd::Command {
        self.rune_in("")
    }

    /// `rune lint ARGS… --format json`: the exit code and the report.
    #[track_caller]
    fn lint_json(&self, dir: &str, args: &[&str]) -> (i32, Value) {
        let output = self
            .rune_in(dir)
            .arg("lint")
            .args(args)
            .args(["--format", "json"])
            .output()
            .expect("rune runs");
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}); stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().expect("an exit code"), report)
    }

    fn hook(&self) -> PathBuf {
        self.repo().join(".git/hooks/pre-commit")
    }
}

/// `(code, file, message)` of every finding of a JSON report.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("a diagnostics array")
        .iter()
        .map(|d| {
            let text = |field: &str| d[field].as_str().unwrap_or_default().to_owned();
            (text("code"), text("file"), text("message"))
        })
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The guard fires for a committed and for a staged file, naming which, and not for an untracked
/// file or a secret with `allowPlaintext: true`; the value never appears.
#[test]
fn plaintext_guard_fires_for_tracked_and_staged_files_only() {
    let s = Scratch::new();
    s.write("tracked.yaml", PLAINTEXT)
        .write("allowed.yaml", &ALLOWED.replace("db", "demo"));
    s.git(&["add", "tracked.yaml", "allowed.yaml"]);
    s.git(&["commit", "-q", "-m", "first"]);
    s.write("staged.yaml", &PLAINTEXT.replace("db", "staged"))
        .write("untracked.yaml", &PLAINTEXT.replace("db", "loose"));
    s.git(&["add", "staged.yaml"]);

    let (code, report) = s.lint_json(
        "",
        &[
            "tracked.yaml",
            "allowed.yaml",
            "staged.yaml",
            "untracked.yaml",
        ],
    );
    assert_eq!(code, VALIDATION, "{report:#}");
    let code = "E-SECRET-PLAINTEXT".to_owned();
    assert_eq!(
        findings(&report),
        [
            (
                code.clone(),
                "tracked.yaml".to_owned(),
                "plaintext value of `password` in a file git tracks".to_owned()
            ),
            (
                code,
                "staged.yaml".to_owned(),
                "plaintext value of `password` in a file staged for commit".to_owned()
            ),
        ]
    );
    assert!(!report.to_string().contains("GitMarker"));
    let (code, report) = s.lint_json("", &["untracked.yaml", "allowed.yaml"]);
    assert_eq!((code, findings(&report)), (0, vec![]));
}

/// `--staged` reads the index: a broken runefile fixed only in the working tree still fails,
/// while linting the working tree passes; once the fix is staged, `--staged` passes too.
#[test]
fn staged_reads_the_index_not_the_working_tree() {
    let s = Scratch::new();
    s.write("deploy/app.yaml", "configmap:\n  name: Bad_Name\n");
    s.git(&["add", "."]);
    s.write("deploy/app.yaml", "configmap:\n  name: good-name\n");

    let (code, report) = s.lint_json("", &["--staged"]);
    assert_eq!(code, VALIDATION);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0].0, "E-NAME-DNS1123");
    assert_eq!(found[0].1, "deploy/app.yaml");
    s.rune()
        .args(["lint", "deploy/app.yaml"])
        .assert()
        .success();

    s.git(&["add", "deploy/app.yaml"]);
    s.rune()
        .args(["lint", "--staged"])
        .assert()
        .success()
        .stdout(contains("1 file (1 document): no problems"));
}

/// The staged runefiles are linted together: a service's references resolve against a
/// configmap staged in another file, but not against one that is only in the working tree.
/// `file:` entries resolve in the working tree, next to the runefile.
#[test]
fn staged_references_resolve_across_staged_files() {
    let s = Scratch::new();
    s.write(
        "deploy/api.yaml",
        "service:\n  name: api\n  image: nginx\n  envFrom:\n    - configRef: app\n    - secretRef: db\n",
    )
    .write("config/app.yaml", "configmap:\n  name: app\n  data: {level: info}\n")
    .write("deploy/db.yaml", FROM_FILE)
    .write("deploy/password.txt", "GitMarker-from-file");
    s.git(&["add", "deploy/api.yaml", "deploy/db.yaml"]);

    let (code, report) = s.lint_json("", &["--staged"]);
    assert_eq!(code, 0);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0].0, "W-REF-UNRESOLVED");
    assert!(found[0].2.contains("`app`"), "{found:?}");

    s.git(&["add", "config/app.yaml"]);
    let (code, report) = s.lint_json("", &["--staged"]);
    assert_eq!((code, findings(&report)), (0, vec![]));
    assert_eq!(report["summary"]["files"], 3);
}

/// Paths select from the index relative to the working directory; findings name files from
/// the repository root. A path that selects nothing, `-`, a path outside the repository and a
/// directory outside any repository are usage errors.
#[test]
fn staged_paths_and_usage_errors() {
    let s = Scratch::new();
    s.write("deploy/app.yaml", "configmap:\n  name: Bad_Name\n")
        .write("other/x.yaml", "configmap:\n  name: x\n")
        .write(".github/workflows/ci.yaml", "on: push\n");
    s.git(&["add", "."]);

    let (code, report) = s.lint_json("deploy", &["--staged", "."]);
    assert_eq!(code, VALIDATION);
    assert_eq!(findings(&report)[0].1, "deploy/app.yaml");
    let (code, report) = s.lint_json("deploy", &["--staged", "../other"]);
    assert_eq!((code, findings(&report)), (0, vec![]));
    assert_eq!(report["summary"]["files"], 1);
    let (_, report) = s.lint_json("", &["--staged"]);
    assert_eq!(
        report["summary"]["files"], 2,
        "hidden directories are skipped"
    );

    s.rune()
        .args(["lint", "--staged", "nothing"])
        .assert()
        .code(USAGE)
        .stderr(contains("`nothing` names no runefile in the git index"));
    s.rune()
        .args(["lint", "--staged", "-"])
        .assert()
        .code(USAGE);
    s.rune()
        .args(["lint", "--staged", "../.."])
        .assert()
        .code(USAGE)
        .stderr(contains("outside the repository"));
    rune(s.dir.path())
        .args(["lint", "--staged"])
        .assert()
        .code(USAGE)
        .stderr(contains("is not inside a git repository"));
}

/// The installed hook refuses a commit with a plaintext secret (the finding on stderr), still
/// refuses it when the fix is only in the working tree, and lets the commit through once the
/// fix is staged. `git commit -a` commits the working tree: the hook checks the index git is
/// about to commit (`GIT_INDEX_FILE`), not the one it replaces.
#[test]
fn hook_refuses_plaintext_and_ignores_unstaged_fixes() {
    let s = Scratch::new();
    s.rune()
        .args(["hook", "install"])
        .assert()
        .success()
        .stdout(contains("installed").and(contains("rune lint --staged")));
    s.write(".gitignore", "password.txt\n")
        .write("db.yaml", PLAINTEXT)
        .write("password.txt", "GitMarker-from-file");
    s.git(&["add", ".gitignore", "db.yaml"]);

    let refused = s.commit(&[]);
    assert!(!refused.status.success(), "the commit went through");
    assert!(
        stderr(&refused).contains("E-SECRET-PLAINTEXT"),
        "{}",
        stderr(&refused)
    );
    assert!(!stderr(&refused).contains("GitMarker"));

    s.write("db.yaml", FROM_FILE);
    let refused = s.commit(&[]);
    assert!(
        !refused.status.success(),
        "an unstaged fix let the commit through"
    );
    assert!(stderr(&refused).contains("E-SECRET-PLAINTEXT"));

    s.git(&["add", "db.yaml"]);
    let done = s.commit(&[]);
    assert!(done.status.success(), "{}", stderr(&done));

    let second = PLAINTEXT.replace("name: db", "name: db2");
    s.write("db.yaml", &format!("{FROM_FILE}---\n{second}"));
    s.git(&["add", "db.yaml"]);
    s.write(
        "db.yaml",
        &format!("{FROM_FILE}---\nconfigmap:\n  name: extra\n"),
    );
    let done = s.commit(&["-a"]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(
        s.git(&["show", "HEAD:db.yaml"]),
        format!("{FROM_FILE}---\nconfigmap:\n  name: extra\n")
    );
}

/// The workflow of issue 5 end to end: the installed hook refuses a commit with a plaintext
/// secret; `rune seal --in-place` fixes the file, but only once the fix is staged does the commit
/// pass; the committed file holds no plaintext, lints clean with the team's key file, and casts.
#[test]
fn sealing_in_place_makes_the_hooked_commit_pass() {
    let s = Scratch::new();
    let team = rune::secrets::Keys::generate();
    std::fs::write(
        s.dir.path().join("key.txt"),
        team.to_text().expose().as_bytes(),
    )
    .expect("key file");
    s.write(
        ".rune/recipients",
        &format!("# the team\n{}\n", team.recipients()[0]),
    );
    s.rune().args(["hook", "install"]).assert().success();
    s.write("deploy/db.yaml", &format!("# the database\n{PLAINTEXT}"));
    s.git(&["add", ".rune/recipients", "deploy/db.yaml"]);
    let refused = s.commit(&[]);
    assert!(
        !refused.status.success(),
        "the plaintext commit went through"
    );
    assert!(
        stderr(&refused).contains("E-SECRET-PLAINTEXT"),
        "{}",
        stderr(&refused)
    );

    // Sealed for the embedded engine (HOME is the scratch directory) and the team's recipient.
    s.rune()
        .args(["seal", "--in-place", "deploy/db.yaml"])
        .assert()
        .success()
        .stderr(contains("sealed 1 value in deploy/db.yaml"));
    let sealed = std::fs::read_to_string(s.repo().join("deploy/db.yaml")).expect("read");
    assert!(sealed.starts_with("# the database\n") && sealed.contains("sealed: |"));
    assert!(!sealed.contains("GitMarker"), "{sealed}");
    let unstaged = s.commit(&[]);
    assert!(
        !unstaged.status.success(),
        "an unstaged seal let the commit through"
    );

    s.git(&["add", "deploy/db.yaml"]);
    let done = s.commit(&[]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        !s.git(&["show", "HEAD:deploy/db.yaml"])
            .contains("GitMarker")
    );

    let key_file = s.dir.path().join("key.txt");
    s.rune()
        .args(["lint", "--staged", "--key-file"])
        .arg(&key_file)
        .assert()
        .success()
        .stdout(contains("no problems"));
    s.rune()
        .args(["cast", "deploy/db.yaml"])
        .assert()
        .success()
        .stdout(contains("1 to create"));
}

/// A pre-commit hook that rune did not write is kept (exit 5, the message names `--force`),
/// replaced with `--force`; our own hook is replaced freely and removed by `uninstall`.
#[test]
fn hook_install_keeps_a_foreign_hook_unless_forced() {
    use std::os::unix::fs::PermissionsExt;

    let s = Scratch::new();
    std::fs::create_dir_all(s.hook().parent().expect("hooks dir")).expect("hooks dir");
    std::fs::write(s.hook(), "#!/bin/sh\nmake check\n").expect("a foreign hook");
    s.rune()
        .args(["hook", "install"])
        .assert()
        .code(CONFLICT)
        .stderr(contains("--force"));
    assert_eq!(
        std::fs::read_to_string(s.hook()).expect("the hook"),
        "#!/bin/sh\nmake check\n"
    );
    s.rune().args(["hook", "uninstall"]).assert().code(CONFLICT);
    s.rune()
        .args(["hook", "install", "--force"])
        .assert()
        .success()
        .stdout(contains("replaced"));
    s.rune()
        .args(["hook", "install", "deploy"])
        .assert()
        .success()
        .stdout(contains("updated").and(contains("rune lint --staged deploy")));
    let script = std::fs::read_to_string(s.hook()).expect("the hook");
    assert!(script.contains("# installed by rune hook install"));
    assert!(script.ends_with("lint --staged -- 'deploy'\n"), "{script}");
    let mode = std::fs::metadata(s.hook())
        .expect("the hook")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    s.rune().args(["hook", "uninstall"]).assert().success();
    assert!(!s.hook().exists());
}

/// The hook goes where git looks for it: `core.hooksPath` when set (relative to the working
/// tree), and the main repository's hooks for a linked worktree; from a subdirectory, paths
/// become relative to the root, where git runs hooks.
#[test]
fn hook_install_finds_the_hooks_directory() {
    let s = Scratch::new();
    s.write("deploy/app.yaml", "configmap:\n  name: app\n");
    s.git(&["add", "."]);
    s.git(&["commit", "-q", "-m", "first"]);
    s.git(&["worktree", "add", "-q", "../linked"]);
    rune(&s.dir.path().join("linked/deploy"))
        .env("HOME", s.dir.path())
        .args(["hook", "install", "."])
        .assert()
        .success();
    let script = std::fs::read_to_string(s.hook()).expect("the hook is in the common hooks dir");
    assert!(script.ends_with("lint --staged -- 'deploy'\n"), "{script}");

    s.git(&["config", "core.hooksPath", ".githooks"]);
    s.rune_in("deploy")
        .args(["hook", "install"])
        .assert()
        .success();
    assert!(s.repo().join(".githooks/pre-commit").is_file());
    s.write("deploy/app.yaml", "configmap:\n  name: Bad_Name\n");
    s.git(&["add", "deploy/app.yaml"]);
    assert!(
        !s.commit(&[]).status.success(),
        "the hook under core.hooksPath ran"
    );
}

/// `rune cast --rev` casts the files as they were in an older commit and records that commit,
/// not dirty, with the path from the repository root; `rune diff --rev` compares another commit
/// with what was cast; `-` and a name that is no commit are usage errors.
#[test]
fn cast_rev_casts_an_older_commit() {
    let s = Scratch::new();
    s.write(
        "deploy/app.yaml",
        "configmap:\n  name: app\n  data: {level: debug}\n",
    );
    s.git(&["add", "."]);
    s.git(&["commit", "-q", "-m", "first"]);
    let first = s.git(&["rev-parse", "HEAD"]).trim().to_owned();
    s.write(
        "deploy/app.yaml",
        "configmap:\n  name: app\n  data: {level: info}\n",
    );
    s.git(&["commit", "-q", "-a", "-m", "second"]);
    s.write(
        "deploy/app.yaml",
        "configmap:\n  name: app\n  data: {level: warn}\n",
    );

    s.rune_in("deploy")
        .args(["cast", "--rev", "HEAD~1", "."])
        .assert()
        .success();
    let output = s
        .rune()
        .args(["get", "config", "app", "-o", "json"])
        .output()
        .expect("rune runs");
    let object: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(object["data"]["level"], "debug");
    let provenance = &object["provenance"];
    assert_eq!(provenance["commit"], first.as_str());
    assert_eq!(provenance["dirty"], false);
    assert_eq!(provenance["path"], "deploy/app.yaml");
    assert_eq!(provenance["document"], 0);
    let root = std::fs::canonicalize(s.repo()).expect("canonical root");
    assert_eq!(
        provenance["sourceSet"],
        format!("{}:deploy", root.display()).as_str()
    );

    s.rune()
        .args(["diff", "--rev", "HEAD", "deploy"])
        .assert()
        .code(1)
        .stdout(contains("-  level: debug").and(contains("+  level: info")));
    s.rune()
        .args(["cast", "--rev", "HEAD~1", "-"])
        .assert()
        .code(USAGE);
    s.rune()
        .args(["cast", "--rev", "no-such-ref", "deploy"])
        .assert()
        .code(USAGE)
        .stderr(contains("`no-such-ref` names no commit"));
}

/// A cast from a working tree records the commit, the dirty flag, the path from the repository
/// root, the document index, and the time and caller of the cast; `rune get -o yaml` shows them.
#[test]
fn cast_records_provenance_shown_by_get() {
    let s = Scratch::new();
    s.write(
        "deploy/app.yaml",
        &format!("configmap:\n  name: app\n---\n{ALLOWED}"),
    );
    s.git(&["add", "."]);
    s.git(&["commit", "-q", "-m", "first"]);
    let head = s.git(&["rev-parse", "HEAD"]).trim().to_owned();

    s.rune_in("deploy")
        .args(["cast", "app.yaml"])
        .assert()
        .success();
    let yaml = s
        .rune()
        .args(["get", "secret", "db", "-o", "yaml"])
        .output()
        .expect("rune runs");
    let text = String::from_utf8(yaml.stdout).expect("UTF-8");
    for line in [
        format!("  commit: {head}"),
        "  dirty: false".to_owned(),
        "  document: 1".to_owned(),
        "  path: deploy/app.yaml".to_owned(),
        "  castBy: user:".to_owned(),
        "  castAt: ".to_owned(),
    ] {
        assert!(text.contains(&line), "`{line}` missing from:\n{text}");
    }
    assert!(!text.contains("GitMarker"));

    s.write("untracked.txt", "dirt");
    s.write(
        "deploy/app.yaml",
        &format!("configmap:\n  name: app\n---\n{ALLOWED}").replace("hunter2", "hunter3"),
    );
    s.rune()
        .args(["cast", "deploy/app.yaml"])
        .assert()
        .success();
    let text = get_yaml(&s.repo(), s.dir.path());
    assert!(text.contains("  dirty: true"), "{text}");

    // An imperative write replaces the provenance: no commit or path is left claiming its data.
    s.rune()
        .args([
            "create",
            "secret",
            "db",
            "--replace",
            "--from-literal=password=GitMarker-x",
        ])
        .assert()
        .success();
    let text = get_yaml(&s.repo(), s.dir.path());
    assert!(
        text.contains("  castBy: user:") && text.contains("  castAt: "),
        "{text}"
    );
    assert!(
        !text.contains("commit:") && !text.contains("path:"),
        "{text}"
    );
}

fn get_yaml(repo: &Path, home: &Path) -> String {
    let output = rune(repo)
        .env("HOME", home)
        .args(["get", "secret", "db", "-o", "yaml"])
        .output()
        .expect("rune runs");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// On runed the caller is the token's name, whatever the client sends.
#[test]
fn runed_records_the_token_as_the_caller() {
    let s = Scratch::new();
    s.write("app.yaml", "configmap:\n  name: app\n");
    let data = tempfile::tempdir().expect("a data directory");
    let server = Server::start(data.path(), &[]);
    let token = create_token(data.path(), "deployer", &[]);
    let url = server.url("");
    s.rune()
        .args(["--server", &url, "--token", &token, "cast", "app.yaml"])
        .assert()
        .success();
    let output = s
        .rune()
        .args(["--server", &url, "--token", &token])
        .args(["get", "config", "app", "-o", "json"])
        .output()
        .expect("rune runs");
    let object: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(object["provenance"]["castBy"], "token:deployer");
    assert!(object["provenance"]["castAt"].is_string(), "{object:#}");
}

/// The installed hook is silent when the commit is clean, like other pre-commit hooks (issue
/// #13): no "no problems" summary on every commit. A failing commit still shows its errors
/// (`hook_refuses_plaintext_and_ignores_unstaged_fixes`).
#[test]
fn the_hook_is_silent_on_success() {
    let s = Scratch::new();
    s.rune().args(["hook", "install"]).assert().success();
    s.write(
        "app.yaml",
        "configmap:\n  name: app\n  data:\n    LOG_LEVEL: info\n",
    );
    s.git(&["add", "app.yaml"]);
    let done = s.commit(&[]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(stderr(&done), "", "the hook spoke on success");
    assert_eq!(String::from_utf8_lossy(&done.stdout), "");
}
