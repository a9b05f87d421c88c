//! `rune cast`, `rune diff`, `create`, `get`, `describe`, `delete` and contexts end to end
//! (issue 4): the real `rune` binary against a real `runed` on loopback **and** against the
//! embedded engine.
//!
//! A [`World`] is one scenario's state: a temporary directory that is both HOME and the working
//! directory (the runefiles live there), plus either a data directory for the embedded engine
//! (`--data-dir`) or a fresh `runed` (`--server http://127.0.0.1:PORT`). [`in_both`] runs a
//! scenario once in each. Nothing that varies between runs (timestamps, temporary paths) reaches
//! a plan, so the plan snapshots need no filters — and both modes must print the same plan.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rune::cli::error::{CliError, ExitCode};
use rune::client::{self, Backend, ClientError, Remote};
use rune::local::Local;
use rune::resource::Kind;
use rune::wire::batch::{ApplyRequest, BatchOptions};
use rune::wire::error::ErrorKind;
use rune::wire::object::{Desired, KindName, ObjectKey};
use serde_json::{Value, json};

use crate::util::{Server, create_token, root};

/// Every secret value these tests write contains this, so one search finds a leak.
const MARK: &str = "PlainTextMarker";

/// The exit codes of SPEC §3.1, by name.
const PENDING: i32 = 1;
const USAGE: i32 = 2;
const AUTH: i32 = 3;
const NOT_FOUND: i32 = 4;
const CONFLICT: i32 = 5;
const VALIDATION: i32 = 6;
const UNREACHABLE: i32 = 8;

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/// Where a world keeps its state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Mode {
    /// `--data-dir DIR`: the engine in the `rune` process.
    Embedded,
    /// `--server URL`: a fresh `runed` on a loopback port.
    Remote,
}

/// One scenario's directory and state.
struct World {
    /// Declared first so that runed stops before its directory is removed.
    server: Option<Server>,
    dir: tempfile::TempDir,
    mode: Mode,
    /// A token with every permission that `rune` sends (remote worlds made by
    /// [`World::authenticated`]): open mode refuses `process:` services.
    token: Option<String>,
}

/// Runs `scenario` once against the embedded engine and once against a real runed.
fn in_both(scenario: impl Fn(&World)) {
    each_mode(scenario);
}

/// Like [`in_both`], and returns what each run returned (embedded first).
fn each_mode<T>(scenario: impl Fn(&World) -> T) -> Vec<T> {
    [Mode::Embedded, Mode::Remote]
        .into_iter()
        .map(|mode| scenario(&World::authenticated(mode)))
        .collect()
}

impl World {
    fn new(mode: Mode) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = (mode == Mode::Remote).then(|| Server::start(&dir.path().join("runed"), &[]));
        Self {
            server,
            dir,
            mode,
            token: None,
        }
    }

    /// A world whose runed requires a token (one with every permission, which `rune` sends).
    fn authenticated(mode: Mode) -> Self {
        let mut world = Self::new(mode);
        if world.server.is_some() {
            world.token = Some(create_token(&world.server_data(), "world", &[]));
        }
        world
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("a remote world has a runed")
    }

    /// runed's data directory (remote worlds).
    fn server_data(&self) -> PathBuf {
        self.path().join("runed")
    }

    /// The embedded engine's data directory (embedded worlds).
    fn data_dir(&self) -> PathBuf {
        self.path().join("local")
    }

    /// The flags that point `rune` at this world's state.
    fn target(&self) -> Vec<String> {
        match &self.server {
            Some(server) => {
                let mut target = vec!["--server".to_owned(), server.url("")];
                target.extend(
                    self.token
                        .iter()
                        .flat_map(|t| ["--token".to_owned(), t.clone()]),
                );
                target
            }
            None => vec![
                "--data-dir".to_owned(),
                self.data_dir().display().to_string(),
            ],
        }
    }

    /// Writes a file under the world's directory.
    #[track_caller]
    fn write(&self, name: &str, text: &str) -> &Self {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(path, text).expect("write a test file");
        self
    }

    /// Replaces `from` (which must occur) with `to` in a file.
    #[track_caller]
    fn edit(&self, name: &str, from: &str, to: &str) -> &Self {
        let text = std::fs::read_to_string(self.path().join(name)).expect("read a test file");
        assert!(text.contains(from), "{name} does not contain {from:?}");
        self.write(name, &text.replace(from, to))
    }

    /// `quickstart.yaml`: the upstream page's example (`fixtures/quickstart.yaml`).
    fn quickstart(&self) -> &Self {
        let text = std::fs::read_to_string(root().join("fixtures/quickstart.yaml"))
            .expect("read fixtures/quickstart.yaml");
        self.write("quickstart.yaml", &text)
    }

    /// `rune` in the world's directory, without a target.
    fn bare(&self) -> assert_cmd::Command {
        let mut command = crate::util::rune(self.path());
        command.timeout(Duration::from_secs(60));
        command
    }

    /// `rune --server URL ARGS…` or `rune --data-dir DIR ARGS…`, not yet run.
    fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = self.bare();
        command.args(self.target()).args(args);
        command
    }

    /// Runs `rune ARGS…` against the world's state.
    fn rune(&self, args: &[&str]) -> Run {
        Run::of(self.label(args), &mut self.command(args))
    }

    fn label(&self, args: &[&str]) -> String {
        format!("{:?}: rune {}", self.mode, args.join(" "))
    }

    /// `rune get KIND NAME -n NS -o json`, which must succeed.
    #[track_caller]
    fn object(&self, kind: &str, name: &str, namespace: &str) -> Value {
        self.rune(&["get", kind, name, "-n", namespace, "-o", "json"])
            .ok()
            .json()
    }

    /// The data version of an object in `default`.
    #[track_caller]
    fn version(&self, kind: &str, name: &str) -> u64 {
        self.object(kind, name, "default")["version"]
            .as_u64()
            .expect("a version")
    }

    /// Whether `rune get KIND NAME -n NS` finds the object (exit 0) or not (exit 4).
    #[track_caller]
    fn exists(&self, kind: &str, name: &str, namespace: &str) -> bool {
        let run = self.rune(&["get", kind, name, "-n", namespace]);
        match run.code {
            0 => true,
            NOT_FOUND => false,
            _ => panic!("{run}"),
        }
    }

    /// Everything the state holds, as `rune get … -A -o json` prints it: equal before and after
    /// means nothing was written.
    #[track_caller]
    fn state(&self) -> String {
        [
            "namespaces",
            "secrets",
            "configs",
            "services",
            "storageclasses",
            "volumes",
        ]
        .iter()
        .map(|kind| {
            let text = self
                .rune(&["get", kind, "-A", "-o", "json", "--versions"])
                .ok()
                .stdout;
            without_builtin_times(&text)
        })
        .collect()
    }

    /// The library's client for this world's state. An embedded backend holds the data
    /// directory's lock: drop it before running `rune` again.
    fn backend(&self) -> Box<dyn Backend> {
        match &self.server {
            Some(server) => Box::new(Remote::new(
                &server.url(""),
                self.token.clone().map(rune::secrets::Secret::new),
                Duration::from_secs(30),
            )),
            None => Box::new(Local::open(self.data_dir()).expect("open the embedded engine")),
        }
    }
}

/// What one `rune` command did.
struct Run {
    code: i32,
    label: String,
    stderr: String,
    stdout: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (exit {})\n--- stdout\n{}--- stderr\n{}",
            self.label, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn of(label: String, command: &mut assert_cmd::Command) -> Self {
        let output = command.output().expect("run rune");
        Self {
            code: output.status.code().unwrap_or(-1),
            label,
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        }
    }

    #[track_caller]
    fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "unexpected exit code: {self}");
        self
    }

    #[track_caller]
    fn ok(self) -> Self {
        self.code(0)
    }

    /// Exit `code`, with an `error: …` on stderr that contains `needle`, and no error on stdout.
    #[track_caller]
    fn fails(self, code: i32, needle: &str) -> Self {
        let run = self.code(code);
        assert!(
            run.stderr.contains("error") && run.stderr.contains(needle),
            "stderr should report {needle:?}: {run}"
        );
        assert!(
            !run.stdout.contains("error") && !run.stdout.contains(needle),
            "errors go to stderr, not stdout: {run}"
        );
        run
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }

    /// Neither stream holds a secret value.
    #[track_caller]
    fn no_secret(&self) -> &Self {
        for value in [MARK, "hunter2"] {
            assert!(
                !self.stdout.contains(value) && !self.stderr.contains(value),
                "a secret value was printed: {self}"
            );
        }
        self
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// A desired object in the wire form (`{"kind", "namespace", "name", "spec"}`).
fn desired(value: &Value) -> Desired {
    serde_json::from_value(value.clone()).expect("a desired object")
}

fn key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

/// Every regular file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Cast and diff
// ---------------------------------------------------------------------------------------------

/// The upstream page's example casts on a fresh state (3 objects at version 1), and casting it
/// again is a no-op: "No changes", exit 0, and not one byte of the stored state changes (no
/// version, revision or timestamp bump).
#[test]
fn quickstart_casts_and_recasting_is_a_no_op() {
    in_both(|w| {
        w.quickstart();
        let first = w.rune(&["cast", "quickstart.yaml"]).ok();
        assert!(
            first
                .stdout
                .starts_with("Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged\n"),
            "{first}"
        );
        assert!(first.stdout.ends_with("Applied 3 changes.\n"), "{first}");
        assert!(
            !first.stderr.contains("W-"),
            "the quickstart warns: {first}"
        );
        first.no_secret();
        for (kind, name) in [
            ("secret", "db-credentials"),
            ("config", "app-settings"),
            ("service", "api"),
        ] {
            assert_eq!(w.version(kind, name), 1, "{kind} {name}");
        }
        let before = w.state();
        let second = w.rune(&["cast", "quickstart.yaml"]).ok();
        assert_eq!(
            second.stdout,
            "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged\n\
             No changes: the server matches the runefiles.\n"
        );
        assert_eq!(
            w.state(),
            before,
            "{:?}: a no-op cast wrote something",
            w.mode
        );
    });
}

/// Changing one secret value shows exactly that key as changed, and applying bumps that one
/// version; changing one configmap value shows exactly that line in the diff. `--force` bumps
/// the data kinds even when nothing changed (SPEC §3).
#[test]
fn changing_one_value_shows_that_key_and_bumps_one_version() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["cast", "quickstart.yaml"]).ok();

        w.edit("quickstart.yaml", "value: hunter2", "value: hunter3");
        let diff = w.rune(&["diff", "quickstart.yaml"]).code(PENDING);
        assert_eq!(
            diff.stdout,
            "\
Plan: 0 to create, 1 to update, 0 to delete, 2 unchanged
~ secret default/db-credentials (v1 → v2)
    ~ password (changed)
"
        );
        assert!(!diff.stdout.contains("hunter"), "{diff}");
        let cast = w.rune(&["cast", "quickstart.yaml"]).ok();
        assert!(cast.stdout.ends_with("Applied 1 change.\n"), "{cast}");
        assert_eq!(w.version("secret", "db-credentials"), 2);
        assert_eq!(w.version("config", "app-settings"), 1);
        assert_eq!(w.version("service", "api"), 1);

        w.edit("quickstart.yaml", "value: info", "value: debug");
        let diff = w.rune(&["diff", "quickstart.yaml"]).code(PENDING);
        assert_eq!(
            diff.stdout,
            "\
Plan: 0 to create, 1 to update, 0 to delete, 2 unchanged
~ configmap default/app-settings (v1 → v2)
    --- live
    +++ desired
    @@ -1,5 +1,5 @@
     data:
       feature-x: enabled
    -  log-level: info
    +  log-level: debug
     name: app-settings
     namespace: default
"
        );
        w.rune(&["cast", "quickstart.yaml"]).ok();
        assert_eq!(w.version("secret", "db-credentials"), 2);
        assert_eq!(w.version("config", "app-settings"), 2);
        assert_eq!(w.version("service", "api"), 1);

        let forced = w.rune(&["cast", "quickstart.yaml", "--force"]).ok();
        assert!(
            forced
                .stdout
                .starts_with("Plan: 0 to create, 2 to update, 0 to delete, 1 unchanged\n"),
            "{forced}"
        );
        assert_eq!(w.version("secret", "db-credentials"), 3);
        assert_eq!(w.version("config", "app-settings"), 3);
    });
}

/// A runefile whose secrets hold marked values in every form: list entries, a map, a `file:`.
const MARKED: &str = "\
secrets:
  - name: db
    data:
      - key: password
        value: PlainTextMarker-one
      - key: cert
        file: cert.pem
  - name: api-keys
    data:
      stripe: PlainTextMarker-two
---
service:
  name: api
  image: ghcr.io/example/api:1.0.0
  envFrom:
    - secretRef: api-keys
  secretMounts:
    - name: db
      secretName: db
      mountPath: /etc/secrets/db
";

/// No secret value appears in any plan (text, `-v`, `-o json`; create and update), in any
/// `rune get` of secrets (table, `-o yaml`, `-o json`, `--versions`, lists), in `describe`,
/// in `create`'s answers or errors — nor in runed's log or, embedded, on the disk.
#[test]
fn no_secret_value_in_plans_or_get_output() {
    in_both(|w| {
        w.write("secrets.yaml", MARKED)
            .write("cert.pem", "PlainTextMarker-cert\n");
        let mut runs = vec![
            w.rune(&["diff", "secrets.yaml", "-v"]).code(PENDING),
            w.rune(&["diff", "secrets.yaml", "-o", "json"])
                .code(PENDING),
            w.rune(&["cast", "secrets.yaml", "-v"]).ok(),
        ];
        w.edit("secrets.yaml", "PlainTextMarker-one", "PlainTextMarker-new")
            .edit("secrets.yaml", "stripe:", "paypal:");
        w.write("cert.pem", "PlainTextMarker-cert-2\n");
        runs.extend([
            w.rune(&["diff", "secrets.yaml", "-v"]).code(PENDING),
            w.rune(&["diff", "secrets.yaml", "-o", "json"])
                .code(PENDING),
            w.rune(&["cast", "secrets.yaml", "-o", "json", "-v"]).ok(),
            w.rune(&["cast", "secrets.yaml", "-v"]).ok(),
            w.rune(&[
                "create",
                "secret",
                "extra",
                "--from-literal=k=PlainTextMarker-3",
            ])
            .ok(),
            w.rune(&[
                "create",
                "secret",
                "extra",
                "--from-literal=k=PlainTextMarker-3",
            ])
            .fails(CONFLICT, "already exists"),
            w.rune(&[
                "create",
                "secret",
                "extra",
                "--replace",
                "--from-literal=k=PlainTextMarker-4",
            ])
            .ok(),
            w.rune(&["describe", "service", "api"]).ok(),
            w.rune(&["describe", "service", "api", "-o", "json"]).ok(),
        ]);
        for format in ["table", "yaml", "json"] {
            runs.push(w.rune(&["get", "secret", "db", "-o", format]).ok());
            runs.push(
                w.rune(&["get", "secret", "db", "-o", format, "--versions"])
                    .ok(),
            );
            runs.push(w.rune(&["get", "secrets", "-A", "-o", format]).ok());
        }
        for run in &runs {
            run.no_secret();
        }
        assert_eq!(w.version("secret", "db"), 2);
        match &w.server {
            Some(server) => assert!(!server.log().contains(MARK), "runed logged a value"),
            None => assert_eq!(
                files_containing(&w.data_dir(), MARK),
                Vec::<PathBuf>::new(),
                "plaintext in the embedded data directory"
            ),
        }
    });
}

/// `--dry-run` prints the plan and writes nothing, on a fresh state and on a changed one;
/// with `--exit-code` it exits 1 while changes are pending.
#[test]
fn dry_run_changes_nothing() {
    in_both(|w| {
        w.quickstart();
        let before = w.state();
        let dry = w.rune(&["cast", "quickstart.yaml", "--dry-run"]).ok();
        assert!(dry.stdout.starts_with("Plan: 3 to create"), "{dry}");
        assert!(!dry.stdout.contains("Applied"), "{dry}");
        assert_eq!(w.state(), before, "{:?}: --dry-run wrote", w.mode);
        assert!(!w.exists("secret", "db-credentials", "default"));

        w.rune(&["cast", "quickstart.yaml"]).ok();
        w.edit("quickstart.yaml", "value: hunter2", "value: hunter3");
        let before = w.state();
        let dry = w
            .rune(&["cast", "quickstart.yaml", "--dry-run", "--exit-code"])
            .code(PENDING);
        assert!(dry.stdout.contains("~ password (changed)"), "{dry}");
        let json = w
            .rune(&["cast", "quickstart.yaml", "--dry-run", "-o", "json"])
            .ok()
            .json();
        assert_eq!(json["result"], Value::Null);
        assert_eq!(json["plan"]["summary"]["update"], 1);
        assert_eq!(w.state(), before, "{:?}: --dry-run wrote", w.mode);
        assert_eq!(w.version("secret", "db-credentials"), 1);
    });
}

/// `rune diff` exits 1 while changes are pending and 0 in sync; `cast --exit-code` without
/// `--dry-run` applies and exits 0 (1 is only ever "pending", never "applied").
#[test]
fn diff_and_exit_code() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["diff", "quickstart.yaml"]).code(PENDING);
        w.rune(&["cast", "quickstart.yaml"]).ok();
        let synced = w.rune(&["diff", "quickstart.yaml"]).ok();
        assert!(synced.stdout.contains("No changes"), "{synced}");
        let json = w
            .rune(&["diff", "quickstart.yaml", "-o", "json"])
            .ok()
            .json();
        assert_eq!(json["plan"]["summary"]["unchanged"], 3);
        assert_eq!(json["result"], Value::Null);

        w.edit("quickstart.yaml", "value: info", "value: warn");
        w.rune(&["diff", "quickstart.yaml"]).code(PENDING);
        w.rune(&["diff", "quickstart.yaml", "-o", "json"])
            .code(PENDING);
        let applied = w.rune(&["cast", "quickstart.yaml", "--exit-code"]).ok();
        assert!(applied.stdout.ends_with("Applied 1 change.\n"), "{applied}");
        w.rune(&["diff", "quickstart.yaml"]).ok();
        w.rune(&["cast", "quickstart.yaml", "--dry-run", "--exit-code"])
            .ok();
    });
}

/// `--prune --yes` deletes what the same source set cast before and no longer declares — and
/// nothing else: not objects of another file's source set, nor ones made with `rune create`.
/// Without `--yes` (no terminal to ask) it is a usage error and nothing is applied.
#[test]
fn prune_deletes_only_the_same_source_set() {
    in_both(|w| {
        w.write(
            "app.yaml",
            "\
secrets:
  - name: keep
    data: {a: PlainTextMarker-a}
  - name: gone
    data: {b: PlainTextMarker-b}
---
configmap:
  name: gone-too
  data: {c: d}
",
        )
        .write("other.yaml", "secret:\n  name: other\n  data: {e: f}\n");
        w.rune(&["cast", "app.yaml"]).ok();
        w.rune(&["cast", "other.yaml"]).ok();
        w.rune(&["create", "secret", "manual", "--from-literal=g=h"])
            .ok();
        w.write(
            "app.yaml",
            "secrets:\n  - name: keep\n    data: {a: PlainTextMarker-a}\n",
        );

        let plain = w.rune(&["cast", "app.yaml"]).ok();
        assert!(plain.stdout.contains("No changes"), "{plain}");
        assert!(w.exists("secret", "gone", "default"));

        let before = w.state();
        let diff = w.rune(&["diff", "app.yaml", "--prune"]).code(PENDING);
        assert_eq!(
            diff.stdout,
            "\
Plan: 0 to create, 0 to update, 2 to delete, 1 unchanged
- configmap default/gone-too (v1)
- secret default/gone (v1)
"
        );
        w.rune(&["cast", "app.yaml", "--prune"])
            .fails(USAGE, "--yes");
        assert_eq!(w.state(), before, "{:?}: a refused prune wrote", w.mode);

        let pruned = w.rune(&["cast", "app.yaml", "--prune", "--yes"]).ok();
        assert!(pruned.stdout.ends_with("Applied 2 changes.\n"), "{pruned}");
        assert!(!w.exists("secret", "gone", "default"));
        assert!(!w.exists("config", "gone-too", "default"));
        for survivor in ["keep", "other", "manual"] {
            assert!(w.exists("secret", survivor, "default"), "{survivor}");
        }
        let again = w.rune(&["cast", "app.yaml", "--prune", "--yes"]).ok();
        assert!(again.stdout.contains("No changes"), "{again}");
    });
}

/// A namespace nobody declared: without `--create-namespace` the cast fails validation (exit 6)
/// with a message that says how to fix it, and nothing is applied; with it, the namespace is
/// created in the same batch.
#[test]
fn create_namespace_is_needed_for_an_undeclared_namespace() {
    in_both(|w| {
        w.write(
            "prod.yaml",
            "secret:\n  name: db\n  namespace: prod\n  data: {password: PlainTextMarker-p}\n",
        );
        let refused = w
            .rune(&["cast", "prod.yaml"])
            .fails(VALIDATION, "namespace `prod` does not exist");
        assert!(
            refused.stderr.contains("--create-namespace")
                && refused.stderr.contains("rune create namespace prod"),
            "{refused}"
        );
        refused.no_secret();
        assert!(!w.exists("namespace", "prod", ""));

        let created = w.rune(&["cast", "prod.yaml", "--create-namespace"]).ok();
        assert!(
            created
                .stdout
                .starts_with("Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged\n"),
            "{created}"
        );
        assert!(
            created.stdout.contains("+ namespace prod (v1)\n"),
            "{created}"
        );
        assert!(w.exists("namespace", "prod", ""));
        assert!(w.exists("secret", "db", "prod"));
    });
}

/// `--offline` contacts nothing: with a server that does not exist it still plans, and with a
/// data directory it never opens (or creates) it. `--exit-code` still reports pending changes.
#[test]
fn offline_contacts_no_server() {
    let w = World::new(Mode::Embedded);
    w.quickstart();
    let bogus = format!("http://127.0.0.1:{}", closed_port());
    let offline = w
        .bare()
        .args(["--server", &bogus, "cast", "quickstart.yaml", "--offline"])
        .output()
        .expect("run rune");
    assert_eq!(offline.status.code(), Some(0), "{offline:?}");
    let stdout = String::from_utf8(offline.stdout).expect("UTF-8");
    assert_eq!(
        stdout,
        "\
Plan (offline): 3 objects would be created or updated; the server was not contacted
? secret default/db-credentials
? configmap default/app-settings
? service default/api
"
    );
    let pending = w
        .rune(&["cast", "quickstart.yaml", "--offline", "--exit-code"])
        .code(PENDING);
    assert!(!pending.stderr.contains("embedded engine"), "{pending}");
    let json = w
        .rune(&["cast", "quickstart.yaml", "--offline", "-o", "json"])
        .ok()
        .json();
    // The online shape (issue #13): the plan, every action `unknown`, and no result.
    assert_eq!(json["plan"]["summary"]["unknown"], 3, "{json:#}");
    assert_eq!(json["plan"]["changes"][0]["action"], "unknown", "{json:#}");
    assert_eq!(json["result"], serde_json::Value::Null, "{json:#}");
    assert!(
        !w.data_dir().exists(),
        "--offline opened the embedded engine"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes
// ---------------------------------------------------------------------------------------------

/// Every failure goes to stderr with its SPEC §3.1 code: usage 2, not found 4 (`get`, `delete`,
/// `describe` of a missing object), conflict 5, validation 6.
#[test]
fn errors_go_to_stderr_with_their_exit_codes() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["cast", "quickstart.yaml"]).ok();

        w.rune(&["cast"]).fails(USAGE, "PATHS");
        w.rune(&["cast", "quickstart.yaml", "--no-such-flag"])
            .fails(USAGE, "--no-such-flag");
        w.rune(&["get", "gizmos"])
            .fails(USAGE, "unknown kind `gizmos`");
        w.rune(&["create", "secret", "x", "--from-literal=novalue"])
            .fails(USAGE, "KEY=VALUE");

        w.rune(&["get", "secret", "nope"])
            .fails(NOT_FOUND, "secret `default/nope` not found");
        // With -o json the failure is also JSON on stdout (issue #13), and only that.
        let json = w
            .rune(&["get", "config", "nope", "-o", "json"])
            .code(NOT_FOUND);
        assert!(
            json.stderr
                .contains("error: configmap `default/nope` not found"),
            "{json}"
        );
        assert_eq!(json.json()["error"]["exitCode"], NOT_FOUND, "{json}");
        w.rune(&["get", "namespace", "nope"])
            .fails(NOT_FOUND, "not found");
        w.rune(&["delete", "secret", "nope"])
            .fails(NOT_FOUND, "secret `default/nope` not found");
        w.rune(&["delete", "service", "nope", "--force"])
            .fails(NOT_FOUND, "not found");
        w.rune(&["describe", "service", "nope"])
            .fails(NOT_FOUND, "not found");

        w.rune(&["create", "namespace", "default"])
            .fails(CONFLICT, "already exists");
        w.rune(&["delete", "config", "app-settings"])
            .fails(CONFLICT, "in use by service `default/api`");

        w.write(
            "bad.yaml",
            "secret:\n  name: Bad_Name\n  data: {k: PlainTextMarker}\n",
        );
        let invalid = w.rune(&["cast", "bad.yaml"]).code(VALIDATION);
        invalid.no_secret();
        assert!(invalid.stderr.contains("E-NAME-DNS1123"), "{invalid}");
        assert_eq!(invalid.stdout, "", "diagnostics go to stderr: {invalid}");
    });
}

/// A server that is not there is exit 8, whatever the command.
#[test]
fn an_unreachable_server_is_exit_8() {
    let w = World::new(Mode::Embedded);
    w.quickstart();
    let url = format!("http://127.0.0.1:{}", closed_port());
    for args in [
        vec!["get", "secrets"],
        vec!["cast", "quickstart.yaml"],
        vec!["diff", "quickstart.yaml"],
        vec!["delete", "secret", "db"],
        vec!["create", "namespace", "team"],
    ] {
        let mut command = w.bare();
        command.arg("--server").arg(&url).args(&args);
        Run::of(
            format!("rune --server {url} {}", args.join(" ")),
            &mut command,
        )
        .fails(UNREACHABLE, "cannot reach the server");
    }
}

/// With a token created, runed refuses requests without one or with a wrong one (exit 3); the
/// right token works from `--token`, `--token-file` and `RUNE_TOKEN`; a token limited to one
/// namespace is refused (exit 3) in another.
#[test]
fn auth_failures_are_exit_3() {
    let w = World::new(Mode::Remote);
    let token = create_token(&w.server_data(), "ci", &[]);
    let team = create_token(&w.server_data(), "team", &["team"]);
    w.quickstart();

    w.rune(&["get", "secrets"])
        .fails(AUTH, "requires a bearer token");
    w.rune(&["cast", "quickstart.yaml"])
        .fails(AUTH, "requires a bearer token");
    w.rune(&["get", "secrets", "--token", "not-the-token"])
        .fails(AUTH, "the token is not valid");

    w.rune(&["cast", "quickstart.yaml", "--token", &token]).ok();
    w.write("token", &format!("{token}\n"));
    w.rune(&["get", "secrets", "--token-file", "token"]).ok();
    let from_env = Run::of(
        "RUNE_TOKEN=… rune get secrets".to_owned(),
        w.command(&["get", "secret", "db-credentials"])
            .env("RUNE_TOKEN", &token),
    )
    .ok();
    assert!(from_env.stdout.contains("db-credentials"), "{from_env}");

    w.rune(&["get", "secrets", "-n", "default", "--token", &team])
        .fails(AUTH, "may not act in namespace `default`");
    for run in [
        w.rune(&["get", "secrets", "--token", "not-the-token"]),
        w.rune(&["get", "secrets", "--token", &team]),
    ] {
        assert!(!run.stderr.contains(&token), "a token was printed: {run}");
    }
}

/// The plan/apply guard at the library level: a change made by a second client between plan
/// and apply aborts the apply with a conflict (exit code 5), and nothing from the batch is
/// applied — not the update, not the create, not the other client's object overwritten.
#[test]
fn a_change_between_plan_and_apply_aborts_the_whole_batch() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["cast", "quickstart.yaml"]).ok();
        let batch = vec![
            desired(&json!({
                "kind": "secret", "namespace": "default", "name": "db-credentials",
                "spec": {"data": {"username": "admin", "password": "PlainTextMarker-new"}}
            })),
            desired(&json!({
                "kind": "configmap", "namespace": "default", "name": "app-settings",
                "spec": {"data": {"log-level": "debug", "feature-x": "enabled"}}
            })),
            desired(&json!({
                "kind": "secret", "namespace": "default", "name": "brand-new",
                "spec": {"data": {"k": "PlainTextMarker-v"}}
            })),
        ];
        let options = BatchOptions::default();
        let backend = w.backend();
        let plan = backend.plan(&batch, &options).expect("plan");
        assert_eq!(plan.summary.update, 2, "{plan:?}");
        assert_eq!(plan.summary.create, 1, "{plan:?}");
        // An embedded engine locks its directory: the "second client" opens it after the first
        // lets go, as another `rune` process would.
        drop(backend);
        {
            let other = w.backend();
            let theirs = desired(&json!({
                "kind": "configmap", "namespace": "default", "name": "app-settings",
                "spec": {"data": {"log-level": "warn", "feature-x": "enabled"}}
            }));
            other.put(&theirs, false).expect("the other client's write");
        }
        let backend = w.backend();
        let request = ApplyRequest {
            delete: Vec::new(),
            expected: client::expectations(&plan),
            objects: batch,
            options,
        };
        let error = backend
            .apply(&request)
            .expect_err("the apply must be refused");
        assert_eq!(error.kind().exit_code(), ExitCode::Conflict, "{error}");
        assert!(
            error.to_string().contains("app-settings") && error.to_string().contains("plan again"),
            "{error}"
        );
        assert_eq!(CliError::Client(error).exit_code(), ExitCode::Conflict);

        let secret = backend
            .get(&key(Kind::Secret, "default", "db-credentials"))
            .expect("the secret");
        assert_eq!(secret.object.version, 1, "the secret was updated");
        let configmap = backend
            .get(&key(Kind::ConfigMap, "default", "app-settings"))
            .expect("the configmap");
        assert_eq!(configmap.object.version, 2);
        let data = serde_json::to_value(&configmap.object).expect("JSON")["data"].clone();
        assert_eq!(
            data["log-level"], "warn",
            "the other client's write was lost"
        );
        match backend.get(&key(Kind::Secret, "default", "brand-new")) {
            Err(ClientError::Api(error)) if error.kind == ErrorKind::NotFound => {
                assert_eq!(error.kind.exit_code(), ExitCode::NotFound);
            }
            other => panic!("the batch's new secret exists: {other:?}"),
        }
    });
}

/// A loopback HTTP proxy in front of runed that, just before it forwards the first `POST
/// /v1/apply`, runs `meanwhile` — someone else's change landing between `rune cast`'s plan and
/// its apply. One request per connection (`connection: close`); it stops after the apply.
fn interloper(upstream: String, meanwhile: impl FnOnce() + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("its address").port()
    );
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut meanwhile = Some(meanwhile);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                head.push_str(&line);
                line.clear();
            }
            let mut words = head.split_whitespace();
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("read the request body");
            let apply = method == "POST" && path == "/v1/apply";
            if apply && let Some(change) = meanwhile.take() {
                change();
            }
            let request = ureq::http::Request::builder()
                .method(method)
                .uri(format!("{upstream}{path}"))
                .header("content-type", "application/json")
                .body(body)
                .expect("a request");
            let mut response = agent.run(request).expect("forward to runed");
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .read_to_string()
                .expect("runed's answer");
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            if apply {
                break;
            }
        }
    });
    url
}

/// Through the binary: `rune cast` plans, someone changes an object it planned, and the apply
/// is refused with exit 5 — the plan was printed, the error is on stderr, and nothing from the
/// batch was applied.
#[test]
fn an_apply_conflict_in_rune_cast_is_exit_5() {
    let w = World::new(Mode::Remote);
    w.quickstart();
    w.rune(&["cast", "quickstart.yaml"]).ok();
    w.edit("quickstart.yaml", "value: hunter2", "value: hunter3")
        .edit("quickstart.yaml", "value: info", "value: debug");
    let server = w.server().url("");
    let theirs = w
        .server()
        .url("/v1/namespaces/default/configmaps/app-settings");
    let proxy = interloper(server, move || {
        let body = json!({
            "kind": "configmap", "namespace": "default", "name": "app-settings",
            "spec": {"data": {"log-level": "warn", "feature-x": "enabled"}}
        });
        let response = ureq::put(&theirs)
            .content_type("application/json")
            .send(body.to_string())
            .expect("the other client's write");
        assert_eq!(response.status().as_u16(), 200);
    });
    let mut command = w.bare();
    command.args(["--server", &proxy, "cast", "quickstart.yaml"]);
    let run = Run::of(
        format!("rune --server {proxy} cast quickstart.yaml"),
        &mut command,
    )
    .fails(CONFLICT, "changed since the plan; plan again");
    assert!(run.stderr.contains("app-settings"), "{run}");
    assert!(
        run.stdout
            .starts_with("Plan: 0 to create, 2 to update, 0 to delete, 1 unchanged\n"),
        "{run}"
    );
    assert!(!run.stdout.contains("Applied"), "{run}");
    assert_eq!(w.version("secret", "db-credentials"), 1);
    assert_eq!(w.version("config", "app-settings"), 2);
    assert_eq!(
        w.object("config", "app-settings", "default")["data"]["log-level"],
        "warn"
    );
}

// ---------------------------------------------------------------------------------------------
// create, get, describe, delete
// ---------------------------------------------------------------------------------------------

/// `rune create secret` takes `--from-literal` (split at the first `=`), `--from-file` with and
/// without `KEY=`, and `--from-env-file` (comments and blank lines skipped); an existing secret
/// is a conflict (exit 5) without `--replace`; `--replace` bumps the version when the data
/// changes and not when it is the same.
#[test]
fn create_secret_from_literals_files_and_env_files() {
    in_both(|w| {
        w.write("tls.crt", "PlainTextMarker-cert\n")
            .write("certs/ca.pem", "PlainTextMarker-ca\n")
            .write(
                "app.env",
                "# the app's settings\nAPI_KEY=PlainTextMarker-api\n\nDSN=postgres://u@h/db?x=y\n",
            );
        let created = w
            .rune(&[
                "create",
                "secret",
                "app",
                "--from-literal=user=PlainTextMarker-user",
                "--from-literal=url=a=b=c",
                "--from-file=tls.crt",
                "--from-file=ca=certs/ca.pem",
                "--from-env-file=app.env",
            ])
            .ok();
        assert_eq!(created.stdout, "created secret `default/app` (version 1)\n");
        created.no_secret();
        let secret = w.object("secret", "app", "default");
        assert_eq!(
            secret["keys"],
            json!(["API_KEY", "DSN", "ca", "tls.crt", "url", "user"])
        );
        assert_eq!(secret["version"], 1);

        w.rune(&["create", "secret", "app", "--from-literal=user=x"])
            .fails(CONFLICT, "secret `default/app` already exists")
            .no_secret();
        assert_eq!(w.version("secret", "app"), 1);

        let replaced = w
            .rune(&[
                "create",
                "secret",
                "app",
                "--replace",
                "--from-literal=user=PlainTextMarker-other",
            ])
            .ok();
        assert_eq!(
            replaced.stdout,
            "applied secret `default/app` (version 2)\n"
        );
        assert_eq!(
            w.object("secret", "app", "default")["keys"],
            json!(["user"])
        );
        w.rune(&[
            "create",
            "secret",
            "app",
            "--replace",
            "--from-literal=user=PlainTextMarker-other",
        ])
        .ok();
        assert_eq!(w.version("secret", "app"), 2, "same data, same version");

        w.rune(&[
            "create",
            "secret",
            "twice",
            "--from-literal=k=1",
            "--from-literal=k=2",
        ])
        .fails(USAGE, "given twice");
        w.rune(&["create", "secret", "missing", "--from-file=nope.txt"])
            .fails(USAGE, "nope.txt");
    });
}

/// `rune create config` (same flags; values are data, shown by `get`) and `rune create
/// namespace NAME --description D`, and both refuse to overwrite (exit 5).
#[test]
fn create_config_and_namespace() {
    in_both(|w| {
        w.write("motd.txt", "hello\n");
        w.rune(&[
            "create",
            "namespace",
            "team",
            "--description",
            "the team's things",
        ])
        .ok();
        let ns = w.object("namespace", "team", "");
        assert_eq!(ns["description"], "the team's things");
        let table = w.rune(&["get", "namespaces"]).ok();
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.starts_with("team ") && l.contains("the team's things")),
            "{table}"
        );
        w.rune(&["create", "namespace", "team"])
            .fails(CONFLICT, "already exists");

        let created = w
            .rune(&[
                "create",
                "config",
                "settings",
                "-n",
                "team",
                "--from-literal=mode=fast",
                "--from-file=motd.txt",
            ])
            .ok();
        assert_eq!(
            created.stdout,
            "created configmap `team/settings` (version 1)\n"
        );
        let config = w.object("config", "settings", "team");
        assert_eq!(
            config["data"],
            json!({"mode": "fast", "motd.txt": "hello\n"})
        );
        w.rune(&[
            "create",
            "config",
            "settings",
            "-n",
            "team",
            "--from-literal=a=b",
        ])
        .fails(CONFLICT, "already exists");
        w.rune(&["create", "namespace", "Not_Valid"])
            .fails(VALIDATION, "not a valid name");
    });
}

/// Every kind, declared in one runefile: a namespace, secrets in two namespaces, a configmap,
/// a `process:` service with ports and labels, a storage class and a volume.
const EVERYTHING: &str = "\
namespace:
  name: storage
  description: disks and their keys
---
secret:
  name: ceph-admin
  namespace: storage
  data:
    key: PlainTextMarker-ceph
---
secret:
  name: db
  data:
    password: PlainTextMarker-db
---
configmap:
  name: app
  labels:
    team: web
  data:
    mode: fast
    greeting: hello world
---
service:
  name: web
  labels:
    team: web
  process:
    command: /usr/bin/web
    args: [--port, '8080']
    workdir: /srv/web
  scale: 2
  env:
    MODE: fast
  envFrom:
    - configRef: app
      prefix: APP_
  secretMounts:
    - name: db
      secretName: db
      mountPath: /run/secrets/db
  configMounts:
    - name: app
      configName: app
      mountPath: /etc/app
  ports:
    - name: http
      port: 80
      targetPort: 8080
      protocol: tcp
---
storageClass:
  name: ceph-rbd
  provisioner: rbd.csi.ceph.com
  parameters:
    pool: rbd
    adminSecret: secret:ceph-admin.storage.rune/key
---
volume:
  name: pg-data
  namespace: storage
  storageClassName: ceph-rbd
  size: 20Gi
  parameters:
    pool: fast
";

/// `rune get` for every kind in every format: the table has the kind's header and its rows,
/// `-A` reaches other namespaces, `-o json` is `{"items": […]}` (or the object with a name),
/// `-o yaml` is runefile documents, `--versions` lists retained versions. Secrets show keys,
/// never values.
#[test]
fn get_every_kind_in_every_format() {
    in_both(|w| {
        w.write("everything.yaml", EVERYTHING);
        w.rune(&["cast", "everything.yaml"]).ok();
        w.edit(
            "everything.yaml",
            "PlainTextMarker-db",
            "PlainTextMarker-db2",
        );
        w.rune(&["cast", "everything.yaml"]).ok();

        let cases: [(&str, &str, &str, &str); 6] = [
            ("secrets", "NAMESPACE   NAME", "db", "ceph-admin"),
            ("configs", "NAMESPACE   NAME", "app", ""),
            ("services", "NAMESPACE   NAME   RUNTIME", "web", ""),
            ("namespaces", "NAME", "storage", ""),
            ("storageclasses", "NAME", "ceph-rbd", ""),
            ("volumes", "NAMESPACE   NAME", "", "pg-data"),
        ];
        for (kind, header, here, elsewhere) in cases {
            let table = w.rune(&["get", kind]).ok().no_secret().stdout.clone();
            assert!(table.starts_with(header), "{kind}: {table}");
            let all = w.rune(&["get", kind, "-A"]).ok().no_secret().stdout.clone();
            for name in [here, elsewhere].into_iter().filter(|n| !n.is_empty()) {
                assert!(all.contains(name), "{kind} -A lacks {name}: {all}");
            }
            if !elsewhere.is_empty() {
                assert!(!table.contains(elsewhere), "{kind}: {table}");
            }
            let json = w
                .rune(&["get", kind, "-A", "-o", "json"])
                .ok()
                .no_secret()
                .json();
            let items = json["items"].as_array().expect("items");
            assert!(!items.is_empty(), "{kind}: {json}");
            for item in items {
                assert!(item.get("versions").is_none(), "{kind}: {item}");
                assert!(item["createdAt"].is_string() && item["updatedAt"].is_string());
            }
            let yaml = w
                .rune(&["get", kind, "-A", "-o", "yaml"])
                .ok()
                .no_secret()
                .stdout
                .clone();
            assert!(yaml.starts_with("---\n"), "{kind}: {yaml}");
            let versions = w
                .rune(&["get", kind, "-A", "-o", "json", "--versions"])
                .ok()
                .json();
            for item in versions["items"].as_array().expect("items") {
                assert!(item["versions"].is_array(), "{kind} --versions: {item}");
            }
        }

        let db = w.object("secret", "db", "default");
        assert_eq!(db["keys"], json!(["password"]));
        assert_eq!(db["version"], 2);
        let versions = w
            .rune(&["get", "secret", "db", "--versions", "-o", "json"])
            .ok()
            .json();
        let numbers: Vec<&Value> = versions["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| &v["version"])
            .collect();
        assert_eq!(numbers, [&json!(1), &json!(2)]);
        let table = w.rune(&["get", "secret", "db", "--versions"]).ok();
        assert!(table.stdout.contains(" v1,v2 "), "{table}");
        let table = w.rune(&["get", "secret", "db"]).ok();
        let row: Vec<&str> = table
            .stdout
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        assert_eq!(row.len(), 6, "{table}");
        assert_eq!(row[..4], ["default", "db", "v2", "password"], "{table}");
        assert_eq!(row[5], "everything.yaml", "{table}");

        let service = w.object("service", "web", "default");
        assert_eq!(service["scale"], 2);
        assert_eq!(service["process"]["workdir"], "/srv/web");
        let class = w.object("storageclass", "ceph-rbd", "");
        assert_eq!(class["provisioner"], "rbd.csi.ceph.com");
        let volume = w.object("volume", "pg-data", "storage");
        assert_eq!(volume["size"], "20Gi");
        let namespace = w.object("namespace", "storage", "");
        assert_eq!(namespace["description"], "disks and their keys");
    });
}

/// `rune get KIND NAME -o yaml` of a configmap, a service, a storage class, a volume and a
/// namespace, written to files and cast back, plans every object `unchanged`. A secret's YAML
/// is metadata, not a runefile: casting it back fails validation and changes nothing.
#[test]
fn get_yaml_casts_back_unchanged() {
    in_both(|w| {
        w.write("everything.yaml", EVERYTHING);
        w.quickstart();
        w.rune(&["cast", "everything.yaml"]).ok();
        w.rune(&["cast", "quickstart.yaml"]).ok();
        let exports = [
            ("config", "app-settings", "default"),
            ("service", "api", "default"),
            ("config", "app", "default"),
            ("service", "web", "default"),
            ("storageclass", "ceph-rbd", ""),
            ("volume", "pg-data", "storage"),
            ("namespace", "storage", ""),
        ];
        let mut files = Vec::new();
        for (kind, name, namespace) in exports {
            let yaml = w
                .rune(&["get", kind, name, "-n", namespace, "-o", "yaml"])
                .ok()
                .stdout;
            let file = format!("exported/{kind}-{name}.yaml");
            w.write(&file, &yaml);
            files.push(file);
        }
        let before = w.state();
        let mut args = vec!["cast", "-v"];
        args.extend(files.iter().map(String::as_str));
        let cast = w.rune(&args).ok();
        assert!(
            cast.stdout
                .starts_with("Plan: 0 to create, 0 to update, 0 to delete, 7 unchanged\n"),
            "{cast}"
        );
        assert_eq!(cast.stdout.matches("\n= ").count(), 7, "{cast}");
        assert_eq!(w.state(), before, "{:?}: casting an export wrote", w.mode);

        let secret = w
            .rune(&["get", "secret", "db-credentials", "-o", "yaml"])
            .ok();
        w.write("exported/secret.yaml", &secret.stdout);
        w.rune(&["cast", "exported/secret.yaml"])
            .code(VALIDATION)
            .no_secret();
        assert_eq!(w.state(), before);
    });
}

/// `rune get secret X -o json` is exactly SPEC §3.2's secret object, and `--versions` adds
/// exactly `versions: [{version, createdAt}]`.
#[test]
fn get_secret_json_has_the_spec_shape() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["cast", "quickstart.yaml"]).ok();
        let secret = w.object("secret", "db-credentials", "default");
        let fields: BTreeSet<&str> = secret
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from([
                "createdAt",
                "keys",
                "kind",
                "labels",
                "name",
                "namespace",
                "provenance",
                "updatedAt",
                "version"
            ]),
            "{secret:#}"
        );
        assert_eq!(secret["kind"], "secret");
        assert_eq!(secret["name"], "db-credentials");
        assert_eq!(secret["namespace"], "default");
        assert_eq!(secret["version"], 1);
        assert_eq!(secret["keys"], json!(["password", "username"]));
        assert_eq!(secret["labels"], json!({}));
        for time in ["createdAt", "updatedAt"] {
            let text = secret[time].as_str().expect("a timestamp");
            assert!(
                text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T',
                "{time}: {text}"
            );
        }
        assert_eq!(secret["provenance"]["path"], "quickstart.yaml");
        assert_eq!(secret["provenance"]["document"], 0);
        let source_set = w.path().join("quickstart.yaml");
        let source_set = std::fs::canonicalize(source_set).expect("canonical path");
        assert_eq!(
            secret["provenance"]["sourceSet"],
            source_set.display().to_string()
        );

        let with_versions = w
            .rune(&[
                "get",
                "secret",
                "db-credentials",
                "-o",
                "json",
                "--versions",
            ])
            .ok()
            .json();
        let mut expected = secret.clone();
        expected["versions"] = json!([{"version": 1, "createdAt": secret["createdAt"]}]);
        assert_eq!(with_versions, expected);
    });
}

/// A service whose environment has every precedence case: a later `envFrom` entry shadows an
/// earlier one, explicit `env` shadows `envFrom`, a key that is not a variable name is skipped.
const LAYERED: &str = "\
secret:
  name: db-credentials
  data:
    password: PlainTextMarker-pw
    username: PlainTextMarker-user
---
configmap:
  name: app-settings
  data:
    LOG_LEVEL: info
    username: from-config
    log-format: text
---
service:
  name: api
  image: ghcr.io/example/api:1.0.0
  envFrom:
    - secretRef: db-credentials
    - configRef: app-settings
  env:
    LOG_LEVEL: debug
    LOG_FORMAT: json
  secretMounts:
    - name: db
      secretName: db-credentials
      mountPath: /etc/secrets/db
  configMounts:
    - name: settings
      configName: app-settings
      mountPath: /etc/config
";

/// `rune describe service api` lists each variable with its source and version, marks the
/// shadowed and the skipped ones, and lists every mounted file with its mode — never a value;
/// after an update it names the new version.
#[test]
fn describe_service_shows_sources_without_values() {
    in_both(|w| {
        w.write("layered.yaml", LAYERED);
        w.rune(&["cast", "layered.yaml"]).ok();
        let described = w
            .rune(&["describe", "service", "api"])
            .ok()
            .no_secret()
            .stdout
            .clone();
        // The instances section depends on the mode (embedded: not run; runed: an image
        // service is not runnable); tests/services.rs covers it.
        let (described, instances) = described
            .split_once("Instances:\n")
            .unwrap_or_else(|| panic!("no instances section: {described}"));
        assert!(
            instances.contains("not run") || instances.contains("no container runtime"),
            "{instances}"
        );
        assert_eq!(
            described,
            "\
Name:       api
Namespace:  default
Runtime:    image ghcr.io/example/api:1.0.0 (stored and validated; runed runs only `process:` services)
Scale:      1
Environment:
  password          ← secret db-credentials/password v1
  username          ← secret db-credentials/username v1  (shadowed by configmap app-settings/username v1)
  LOG_LEVEL         ← configmap app-settings/LOG_LEVEL v1  (shadowed by env)
  log-format        ← configmap app-settings/log-format v1  (skipped: not a valid environment variable name)
  username          ← configmap app-settings/username v1
  LOG_FORMAT        ← env
  LOG_LEVEL         ← env
  RUNE_INSTANCE     ← runed
  RUNE_NAMESPACE    ← runed
  RUNE_SERVICE_NAME ← runed
Files:
  /etc/secrets/db/password ← secret db-credentials/password v1 (0400)
  /etc/secrets/db/username ← secret db-credentials/username v1 (0400)
  /etc/config/LOG_LEVEL    ← configmap app-settings/LOG_LEVEL v1 (0444)
  /etc/config/log-format   ← configmap app-settings/log-format v1 (0444)
  /etc/config/username     ← configmap app-settings/username v1 (0444)
"
        );
        assert!(!described.contains("from-config") && !described.contains("debug"));

        w.edit("layered.yaml", "PlainTextMarker-pw", "PlainTextMarker-pw2");
        w.rune(&["cast", "layered.yaml"]).ok();
        let described = w
            .rune(&["describe", "service", "api"])
            .ok()
            .no_secret()
            .stdout
            .clone();
        assert!(
            described.contains("  password          ← secret db-credentials/password v2\n"),
            "{described}"
        );
        let json = w
            .rune(&["describe", "service", "api", "-o", "json"])
            .ok()
            .no_secret()
            .json();
        assert_eq!(json["env"][2]["shadowedBy"], "env");
        assert_eq!(json["files"][0]["mode"], "0400");
        w.rune(&["describe", "secret", "db-credentials"])
            .fails(USAGE, "describes services");
    });
}

/// `rune delete` refuses (exit 5) a secret or configmap a service uses, and deletes it with
/// `--force`; `rune delete namespace` refuses a namespace that still holds objects.
#[test]
fn delete_refuses_what_is_in_use_and_non_empty_namespaces() {
    in_both(|w| {
        w.quickstart();
        w.rune(&["cast", "quickstart.yaml"]).ok();
        w.rune(&["delete", "secret", "db-credentials"])
            .fails(CONFLICT, "is in use by service `default/api`");
        assert!(w.exists("secret", "db-credentials", "default"));
        let forced = w
            .rune(&["delete", "secret", "db-credentials", "--force"])
            .ok();
        assert_eq!(forced.stdout, "deleted secret `default/db-credentials`\n");
        assert!(!w.exists("secret", "db-credentials", "default"));
        w.rune(&["delete", "service", "api"]).ok();
        w.rune(&["delete", "config", "app-settings"]).ok();

        w.rune(&["create", "namespace", "team"]).ok();
        w.rune(&["create", "secret", "s", "-n", "team", "--from-literal=k=v"])
            .ok();
        w.rune(&["delete", "namespace", "team"])
            .fails(CONFLICT, "namespace `team` is not empty");
        assert!(w.exists("namespace", "team", ""));
        w.rune(&["delete", "secret", "s", "-n", "team"]).ok();
        w.rune(&["delete", "namespace", "team"]).ok();
        assert!(!w.exists("namespace", "team", ""));
    });
}

// ---------------------------------------------------------------------------------------------
// Contexts and the embedded notice
// ---------------------------------------------------------------------------------------------

/// `rune login NAME --server URL --token-stdin [ARGS…]` (the token on stdin), with `env` set.
#[track_caller]
fn login(w: &World, name: &str, token: &str, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let url = w.server().url("");
    let mut command = w.bare();
    command
        .args(["login", name, "--server", &url, "--token-stdin"])
        .args(args)
        .write_stdin(format!("{token}\n"));
    for (name, value) in env {
        command.env(name, value);
    }
    Run::of(
        format!("rune login {name} --server URL --token-stdin"),
        &mut command,
    )
    .ok()
}

/// The config file exists with mode 0600 (it holds tokens) and returns its text.
#[track_caller]
fn private_config(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    std::fs::read_to_string(path).expect("read the config file")
}

/// `rune login prod --server URL --token-stdin` writes `~/.rune/config.yaml` (mode 0600) and
/// makes `prod` current, so later commands reach the server with its token and no flags;
/// `config view` masks the token; `RUNE_TOKEN` and `RUNE_SERVER` override the context; a
/// context's namespace is where namespaced commands act; `RUNE_CONFIG` moves the file.
#[test]
fn login_saves_a_context_that_later_commands_use() {
    let w = World::new(Mode::Remote);
    let token = create_token(&w.server_data(), "ci", &[]);
    let url = w.server().url("");
    let run = |args: &[&str]| Run::of(format!("rune {}", args.join(" ")), w.bare().args(args));
    let config = w.path().join(".rune/config.yaml");

    let saved = login(&w, "prod", &token, &[], &[]);
    assert!(saved.stdout.contains("context `prod` saved in"), "{saved}");
    assert!(!saved.stdout.contains(&token), "{saved}");
    let text = private_config(&config);
    assert!(text.contains("current-context: prod"), "{text}");
    assert!(text.contains(&token), "the token is not saved: {text}");

    let created = run(&[
        "create",
        "secret",
        "app",
        "--from-literal=k=PlainTextMarker-1",
    ])
    .ok();
    assert!(!created.stderr.contains("embedded"), "{created}");
    w.server()
        .request("GET", "/v1/namespaces/default/secrets/app")
        .bearer(&token)
        .send()
        .expect(200);

    let view = run(&["config", "view"]).ok();
    assert!(
        view.stdout.contains("<redacted>") && view.stdout.contains(&url),
        "{view}"
    );
    assert!(
        !view.stdout.contains(&token),
        "config view printed the token: {view}"
    );

    Run::of(
        "RUNE_TOKEN=wrong rune get secrets".to_owned(),
        w.bare().args(["get", "secrets"]).env("RUNE_TOKEN", "wrong"),
    )
    .fails(AUTH, "the token is not valid");
    let closed = format!("http://127.0.0.1:{}", closed_port());
    Run::of(
        "RUNE_SERVER=closed rune get secrets".to_owned(),
        w.bare()
            .args(["get", "secrets"])
            .env("RUNE_SERVER", &closed),
    )
    .fails(UNREACHABLE, &closed);

    run(&["create", "namespace", "team"]).ok();
    login(&w, "team", &token, &["-n", "team"], &[]);
    let in_team = run(&["create", "secret", "t", "--from-literal=k=v"]).ok();
    assert_eq!(in_team.stdout, "created secret `team/t` (version 1)\n");

    let elsewhere = w.path().join("elsewhere/config.yaml");
    login(&w, "alt", &token, &[], &[("RUNE_CONFIG", &elsewhere)]);
    let text = private_config(&elsewhere);
    assert!(text.contains("current-context: alt"), "{text}");
    let home = private_config(&config);
    assert!(
        !home.contains("name: alt"),
        "RUNE_CONFIG was ignored: {home}"
    );
}

/// `config set-context` adds a context without switching; `--context` picks one for a command;
/// `use-context` switches (an unknown name is a usage error); `delete-context` removes one, and
/// with no context left `rune` falls back to the embedded engine and says so.
#[test]
fn contexts_switch_and_delete() {
    let w = World::new(Mode::Remote);
    let token = create_token(&w.server_data(), "ci", &[]);
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let run = |args: &[&str]| Run::of(format!("rune {}", args.join(" ")), w.bare().args(args));
    login(&w, "prod", &token, &[], &[]);
    run(&["create", "secret", "app", "--from-literal=k=v"]).ok();

    run(&["config", "set-context", "staging", "--server", &closed]).ok();
    run(&["get", "secret", "app"]).ok();
    run(&["--context", "staging", "get", "secrets"]).fails(UNREACHABLE, &closed);
    run(&["config", "use-context", "staging"]).ok();
    run(&["get", "secrets"]).fails(UNREACHABLE, &closed);
    run(&["--context", "prod", "get", "secret", "app"]).ok();
    run(&["config", "use-context", "nope"]).fails(USAGE, "no context is named `nope`");
    run(&["--context", "nope", "get", "secrets"]).fails(USAGE, "no context is named `nope`");
    run(&["config", "set-context", "fresh"]).fails(USAGE, "--server");
    run(&["config", "delete-context", "nope"]).fails(USAGE, "no context is named `nope`");

    run(&["config", "delete-context", "staging"]).ok();
    let view = run(&["config", "view"]).ok();
    assert!(!view.stdout.contains("staging"), "{view}");
    assert!(!view.stdout.contains("current-context"), "{view}");
    let private = private_config(&w.path().join(".rune/config.yaml"));
    assert!(private.contains("name: prod"), "{private}");

    run(&["config", "delete-context", "prod"]).ok();
    let local = run(&["get", "secrets"]).ok();
    assert!(local.stderr.contains("embedded engine"), "{local}");
    assert!(!local.stdout.contains("app"), "{local}");
}

/// With no server configured, `rune` says on stderr (one line, even with `-q`: a plan means
/// nothing without knowing what it compared with) that it runs the engine embedded and where its
/// data lives — `~/.rune/local`, `RUNE_DATA_DIR` or `--data-dir`. Data stays on stdout, and a
/// read-only command creates no data directory (issue #13).
#[test]
fn embedded_notice_names_the_data_directory() {
    let w = World::new(Mode::Embedded);
    let home = w.path().display().to_string();
    let run =
        |command: &mut assert_cmd::Command| Run::of("rune get namespaces".to_owned(), command);

    let default = run(w.bare().args(["get", "namespaces"])).ok();
    let notice = format!(
        "rune: no server configured; using the embedded engine with data in {home}/.rune/local\n"
    );
    assert_eq!(default.stderr, notice);
    assert!(default.stdout.starts_with("NAME"), "{default}");
    assert!(!w.path().join(".rune").exists(), "a read-only command");

    let quiet = run(w.bare().args(["-q", "get", "namespaces"])).ok();
    assert_eq!(quiet.stderr, notice, "{quiet}");

    let env = run(w
        .bare()
        .args(["get", "namespaces"])
        .env("RUNE_DATA_DIR", w.path().join("from-env")))
    .ok();
    assert_eq!(
        env.stderr,
        format!("rune: using the embedded engine with data in {home}/from-env\n")
    );
    let flag = run(w
        .bare()
        .args(["create", "namespace", "flagged-ns", "--data-dir", "flagged"]))
    .ok();
    assert!(flag.stderr.ends_with("with data in flagged\n"), "{flag}");
    assert!(w.path().join("flagged").is_dir());
}

/// `rune completion bash|zsh|fish` prints a completion script for `rune`.
#[test]
fn completion_scripts() {
    let w = World::new(Mode::Embedded);
    for shell in ["bash", "zsh", "fish"] {
        let run = Run::of(
            format!("rune completion {shell}"),
            w.bare().args(["completion", shell]),
        )
        .ok();
        assert!(
            run.stdout.len() > 100 && run.stdout.contains("rune"),
            "{run}"
        );
        assert_eq!(run.stderr, "", "{run}");
    }
    Run::of(
        "rune completion tcsh".to_owned(),
        w.bare().args(["completion", "tcsh"]),
    )
    .fails(USAGE, "tcsh");
}

// ---------------------------------------------------------------------------------------------
// The plan's formats: snapshots and the JSON Schema
// ---------------------------------------------------------------------------------------------

/// The quickstart reworked: a secret key changed, one added and one removed; a configmap value
/// changed; the `default` namespace declared as it is; the `api` service gone (pruned) and a
/// `worker` service new.
const REWORKED: &str = "\
namespace:
  name: default
---
secrets:
  - name: db-credentials
    namespace: default
    data:
      - key: password
        value: PlainTextMarker-reworked
      - key: host
        value: db.internal
---
configmaps:
  - name: app-settings
    namespace: default
    data:
      - key: log-level
        value: debug
      - key: feature-x
        value: enabled
---
service:
  name: worker
  process:
    command: /usr/bin/worker
    args: [--queue, jobs]
  scale: 2
  secretMounts:
    - name: db
      secretName: db-credentials
      mountPath: /run/secrets/db
  env:
    QUEUE: jobs
";

/// Each plan output of one cast history: the first cast's plan as JSON (`diff -o json`) and as
/// text, then a reworked runefile's plan with every action (`diff --prune -v`) and its applied
/// JSON (`cast --prune --yes -o json`).
fn plan_outputs(w: &World) -> [String; 4] {
    w.quickstart();
    let create_json = w
        .rune(&["diff", "quickstart.yaml", "-o", "json"])
        .code(PENDING)
        .stdout;
    let create = w.rune(&["cast", "quickstart.yaml"]).ok().stdout;
    w.write("quickstart.yaml", REWORKED);
    let change = w
        .rune(&["diff", "quickstart.yaml", "--prune", "-v"])
        .code(PENDING)
        .stdout;
    let change_json = w
        .rune(&["cast", "quickstart.yaml", "--prune", "--yes", "-o", "json"])
        .ok()
        .stdout;
    let none = w
        .rune(&["cast", "quickstart.yaml", "--prune", "--yes"])
        .ok();
    assert!(none.stdout.contains("No changes"), "{none}");
    [create, create_json, change, change_json]
}

/// The plan printout (plain, `NO_COLOR`) and `-o json`, pinned by snapshots in
/// `tests/snapshots/cast__*.snap`; the embedded engine and runed print exactly the same.
#[test]
fn plan_snapshots() {
    let outputs = each_mode(plan_outputs);
    assert_eq!(
        outputs[0], outputs[1],
        "the embedded engine and runed print different plans"
    );
    let [create, create_json, change, change_json] = &outputs[0];
    for text in &outputs[0] {
        assert!(!text.contains(MARK) && !text.contains("hunter2"), "{text}");
    }
    let snapshots = [
        ("cast__create", "rune cast quickstart.yaml", create),
        (
            "cast__create_json",
            "rune diff quickstart.yaml -o json",
            create_json,
        ),
        (
            "cast__change",
            "rune diff quickstart.yaml --prune -v (reworked)",
            change,
        ),
        (
            "cast__change_json",
            "rune cast quickstart.yaml --prune --yes -o json (reworked)",
            change_json,
        ),
    ];
    for (name, command, text) in snapshots {
        let mut settings = insta::Settings::clone_current();
        settings.set_description(command);
        settings.set_omit_expression(true);
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

fn cast_output_schema() -> jsonschema::Validator {
    let path = root().join("schemas/cast-output.schema.json");
    let text = std::fs::read_to_string(&path).expect("read schemas/cast-output.schema.json");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{instance:#}\n{}", errors.join("\n"));
}

/// Real `rune cast -o json` and `rune diff -o json` outputs — every action, every kind
/// (cluster-scoped ones too), with and without a result, offline — match
/// `schemas/cast-output.schema.json`, which admits no field it does not describe.
#[test]
fn cast_output_matches_its_schema() {
    let validator = cast_output_schema();
    let plans = each_mode(|w| {
        let [_, create_json, _, change_json] = plan_outputs(w);
        w.write("everything.yaml", EVERYTHING);
        let mut outputs = vec![
            create_json,
            change_json,
            w.rune(&["diff", "everything.yaml", "-o", "json"])
                .code(PENDING)
                .stdout,
            w.rune(&["cast", "everything.yaml", "-o", "json"])
                .ok()
                .stdout,
            w.rune(&["diff", "everything.yaml", "-o", "json"])
                .ok()
                .stdout,
            w.rune(&["cast", "everything.yaml", "--offline", "-o", "json"])
                .ok()
                .stdout,
        ];
        w.edit("everything.yaml", "size: 20Gi", "size: 40Gi")
            .edit("everything.yaml", "pool: rbd", "pool: ssd")
            .edit(
                "everything.yaml",
                "description: disks",
                "description: all disks",
            );
        outputs.push(
            w.rune(&["cast", "everything.yaml", "-o", "json"])
                .ok()
                .stdout,
        );
        let outputs: Vec<Value> = outputs
            .iter()
            .map(|text| serde_json::from_str(text).expect("JSON"))
            .collect();
        for value in &outputs {
            assert_valid(&validator, value);
        }
        assert_eq!(
            outputs[6]["plan"]["summary"]["update"], 3,
            "{:#}",
            outputs[6]
        );
        let kinds: BTreeSet<&str> = outputs[3]["plan"]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            BTreeSet::from([
                "configmap",
                "namespace",
                "secret",
                "service",
                "storageClass",
                "volume"
            ])
        );
        outputs[0].clone()
    });

    // The schema is strict: an unknown field, or a diff on a secret, is refused.
    let mut extra = plans[0].clone();
    extra["plan"]["changes"][0]["value"] = json!("x");
    assert!(!validator.is_valid(&extra), "an unknown field passed");
    let mut diff = plans[0].clone();
    assert_eq!(diff["plan"]["changes"][0]["kind"], "secret");
    diff["plan"]["changes"][0]["diff"] = json!("--- live\n+++ desired\n");
    assert!(!validator.is_valid(&diff), "a secret's diff passed");
}

/// `text` (a `get -A -o json` list) without the times of the built-in namespaces: with no
/// store yet, a read-only command shows them as they would be created at that moment, so two
/// reads a second apart differ there and nowhere else.
fn without_builtin_times(text: &str) -> String {
    let Ok(mut list) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    if let Some(items) = list["items"].as_array_mut() {
        for item in items.iter_mut().filter(|item| {
            item["kind"] == "namespace" && (item["name"] == "default" || item["name"] == "system")
        }) {
            if let Some(object) = item.as_object_mut() {
                object.remove("createdAt");
                object.remove("updatedAt");
            }
        }
    }
    list.to_string()
}
