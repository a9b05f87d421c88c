//! Issue #13, items 6-9 and 12: a command line that kubectl users trust. Flags a command does
//! not use and `-o` formats it cannot produce are usage errors; kubectl's spellings work
//! (`apply`, `-f`, `--dry-run=client|server`, `get KIND/NAME`, `-l`, `config
//! current-context|get-contexts`); every help ends with examples and cites no SPEC; `-o json`
//! failures are JSON; shell completion names the objects of a live runed and stays silent when
//! it is down. Real `rune` and `runed` binaries throughout.

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{Server, create_token, root, rune};

const SECRETS: &str = "\
secrets:
  - name: db
    labels: {team: payments, tier: db}
    allowPlaintext: true
    data:
      - key: password
        value: hunter2
  - name: api-key
    labels: {team: payments, tier: web}
    allowPlaintext: true
    data:
      - key: token
        value: abc
  - name: other
    labels: {team: search}
    allowPlaintext: true
    data:
      - key: token
        value: xyz
";

const CONFIG: &str = "configmap:\n  name: app\n  data:\n    LOG_LEVEL: info\n";

/// A scratch directory (HOME too) and, when asked, a live runed with a token `rune` sends.
struct World {
    dir: tempfile::TempDir,
    server: Option<Server>,
    token: Option<String>,
}

impl World {
    fn offline() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            server: None,
            token: None,
        }
    }

    fn live() -> Self {
        let mut world = Self::offline();
        let data = world.dir.path().join("runed");
        world.server = Some(Server::start(&data, &[]));
        world.token = Some(create_token(&data, "kubectl", &[]));
        world
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.path().join(name), text).expect("write a file");
        self
    }

    /// `rune ARGS…` in the scratch directory, aimed at the live runed through the environment
    /// (as CI does), so that no flag is added to commands that take none.
    fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = rune(self.path());
        if let Some(server) = &self.server {
            command.env("RUNE_SERVER", server.url(""));
        }
        if let Some(token) = &self.token {
            command.env("RUNE_TOKEN", token);
        }
        command.args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("rune runs")
    }
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn expect(output: &Output, wanted: i32) -> &Output {
    assert_eq!(
        code(output),
        wanted,
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(output), stderr(output)))
}

/// A loopback port nobody listens on.
fn dead_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The names a JSON list holds.
fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

/// Item 6: an `-o` format a command cannot produce is exit 2, wherever `-o` stands; `version
/// -o json` is JSON.
#[test]
fn output_formats_a_command_cannot_produce_are_usage_errors() {
    let w = World::offline();
    w.write("app.yaml", CONFIG);
    for args in [
        &["lint", "-o", "json", "app.yaml"][..],
        &["cast", "-o", "yaml", "app.yaml"],
        &["-o", "yaml", "cast", "app.yaml"],
        &["diff", "-o", "table", "app.yaml"],
        &["version", "-o", "yaml"],
        &["config", "view", "-o", "json"],
        &["hook", "install", "-o", "json"],
    ] {
        let output = w.run(args);
        expect(&output, 2);
        assert!(
            stderr(&output).contains("-o"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let version = w.run(&["version", "-o", "json"]);
    expect(&version, 0);
    assert_eq!(json(&version)["version"], env!("CARGO_PKG_VERSION"));
}

/// Item 6: a global flag a command does not use is refused on its command line (before or
/// after the command) and missing from its help; the same variable in the environment is fine,
/// since it serves other commands.
#[test]
fn flags_a_command_does_not_use_are_refused() {
    let w = World::offline();
    w.write("app.yaml", CONFIG);
    for args in [
        &["lint", "--server", "http://127.0.0.1:1", "app.yaml"][..],
        &["--server", "http://127.0.0.1:1", "lint", "app.yaml"],
        &["lint", "--token", "t", "app.yaml"],
        &["lint", "-v", "app.yaml"],
        &["lint", "--data-dir", "d", "app.yaml"],
        &["get", "secrets", "--no-color"],
        &["version", "-q"],
        &["completion", "bash", "--server", "http://x"],
    ] {
        let output = w.run(args);
        expect(&output, 2);
        assert!(
            stderr(&output).contains("does not take"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let help = stdout(expect(&w.run(&["lint", "--help"]), 0));
    for flag in ["--server", "--token", "--verbose", "--data-dir", "--output"] {
        assert!(!help.contains(flag), "lint --help offers {flag}:\n{help}");
    }
    let linted = w
        .command(&["lint", "app.yaml"])
        .env("RUNE_SERVER", "http://127.0.0.1:1")
        .output()
        .expect("rune runs");
    expect(&linted, 0);
}

/// Item 7: `rune apply -f A -f B` is `rune cast A B`; kubectl's `-f` on `cast`, `diff` and
/// `lint` too (no more "use `-- -f`").
#[test]
fn apply_with_dash_f_works_like_cast() {
    let w = World::live();
    w.write("secrets.yaml", SECRETS).write("app.yaml", CONFIG);
    expect(&w.run(&["lint", "-f", "secrets.yaml", "-f", "app.yaml"]), 0);
    expect(&w.run(&["diff", "-f", "secrets.yaml", "app.yaml"]), 1);
    let applied = w.run(&["apply", "-f", "secrets.yaml", "-f", "app.yaml"]);
    assert!(stdout(expect(&applied, 0)).contains("Applied 4 changes"));
    let again = w.run(&["cast", "secrets.yaml", "app.yaml"]);
    assert!(
        stdout(expect(&again, 0)).contains("0 to create, 0 to update"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        names(&json(&w.run(&["get", "configs", "-o", "json"]))),
        ["app"]
    );
    assert!(stdout(expect(&w.run(&["apply", "--help"]), 0)).contains("Examples:"));
}

/// Item 7: `--dry-run=client` contacts no server (a dead one does not matter); `--dry-run` and
/// `--dry-run=server` plan against runed and apply nothing.
#[test]
fn dry_run_client_and_server() {
    let w = World::offline();
    w.write("app.yaml", CONFIG);
    let client = w
        .command(&["cast", "app.yaml", "--dry-run=client"])
        .env("RUNE_SERVER", dead_server())
        .output()
        .expect("rune runs");
    assert!(stdout(expect(&client, 0)).contains("Plan (offline)"));
    assert!(
        !w.path().join(".rune").exists(),
        "a data directory appeared"
    );

    let w = World::live();
    w.write("app.yaml", CONFIG);
    for args in [
        &["cast", "app.yaml", "--dry-run"][..],
        &["cast", "app.yaml", "--dry-run=server"],
        &["apply", "-f", "app.yaml", "--dry-run=server", "--exit-code"],
    ] {
        let planned = w.run(args);
        let wanted = i32::from(args.contains(&"--exit-code"));
        assert!(
            stdout(expect(&planned, wanted)).contains("1 to create"),
            "{args:?}"
        );
    }
    assert_eq!(
        names(&json(&w.run(&["get", "configs", "-o", "json"]))),
        Vec::<String>::new()
    );
    expect(&w.run(&["cast", "app.yaml", "--dry-run=elsewhere"]), 2);
}

/// Item 7: `get secret/NAME` (singular and plural kinds) and `-l key=value[,…]`.
#[test]
fn get_kind_slash_name_and_label_selectors() {
    let w = World::live();
    w.write("secrets.yaml", SECRETS);
    expect(&w.run(&["cast", "secrets.yaml"]), 0);
    for word in ["secret/db", "secrets/db"] {
        let one = json(expect(&w.run(&["get", word, "-o", "json"]), 0));
        assert_eq!(one["name"], "db");
        assert_eq!(one["keys"], serde_json::json!(["password"]));
    }
    let team = json(expect(
        &w.run(&["get", "secrets", "-l", "team=payments", "-o", "json"]),
        0,
    ));
    assert_eq!(names(&team), ["api-key", "db"]);
    let both = w.run(&[
        "get",
        "secrets",
        "--selector",
        "team=payments,tier=db",
        "-o",
        "json",
    ]);
    assert_eq!(names(&json(expect(&both, 0))), ["db"]);
    let none = w.run(&["get", "secrets", "-l", "team=nobody"]);
    assert!(!stdout(expect(&none, 0)).contains("db"));
    for args in [
        &["get", "secrets", "-l", "team"][..],
        &["get", "secret/db", "db"],
        &["get", "secret/"],
        &["get", "secret/db", "-l", "team=payments"],
    ] {
        expect(&w.run(args), 2);
    }
    expect(&w.run(&["get", "secret/missing"]), 4);
    // `delete` and `describe` take KIND/NAME too.
    expect(&w.run(&["describe", "service/nope"]), 4);
    expect(&w.run(&["describe", "secret/db"]), 2);
    expect(&w.run(&["delete", "secret"]), 2);
    expect(&w.run(&["delete", "secret/other"]), 0);
    let left = w.run(&["get", "secrets", "-o", "json"]);
    assert_eq!(names(&json(expect(&left, 0))), ["api-key", "db"]);
}

/// Item 12: `get -n MISSING` says the namespace does not exist (exit 4), for a list and for
/// one object; an empty built-in namespace is an empty list.
#[test]
fn get_in_a_missing_namespace_is_not_found() {
    let w = World::live();
    for args in [
        &["get", "secrets", "-n", "nope"][..],
        &["get", "secret/db", "-n", "nope"],
        &["-n", "nope", "get", "configs", "db"],
    ] {
        let output = w.run(args);
        assert!(
            stderr(expect(&output, 4)).contains("namespace `nope` does not exist"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    expect(&w.run(&["get", "secrets"]), 0);
    expect(&w.run(&["get", "secrets", "-n", "system"]), 0);
}

fn error_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/error-output.schema.json"))
        .expect("read the schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

/// Item 6: with `-o json`, a failure is `{"error": {code, message, exitCode}}` on stdout (and
/// the `error:` line on stderr), matching `schemas/error-output.schema.json`.
#[test]
fn json_errors_on_stdout() {
    let validator = error_schema();
    let w = World::live();
    let cases = [
        (
            w.run(&["get", "secret/missing", "-o", "json"]),
            4,
            "not_found",
        ),
        (
            w.run(&["get", "secrets", "-n", "nope", "-o", "json"]),
            4,
            "not_found",
        ),
        (
            w.command(&["get", "secrets", "-o", "json"])
                .env("RUNE_TOKEN", "wrong")
                .output()
                .expect("rune runs"),
            3,
            "",
        ),
        (
            w.command(&["status", "-o", "json"])
                .env("RUNE_SERVER", dead_server())
                .output()
                .expect("rune runs"),
            8,
            "unavailable",
        ),
    ];
    for (output, exit, wanted) in &cases {
        expect(output, *exit);
        let error = json(output);
        let failures: Vec<String> = validator
            .iter_errors(&error)
            .map(|e| e.to_string())
            .collect();
        assert!(failures.is_empty(), "{error:#}: {failures:?}");
        assert_eq!(error["error"]["exitCode"], *exit);
        if !wanted.is_empty() {
            assert_eq!(error["error"]["code"], *wanted, "{error:#}");
        }
        assert!(stderr(output).starts_with("error: "), "{}", stderr(output));
    }
    // A command line that does not parse, with -o json in it: JSON too.
    for args in [
        &["get", "secrets", "--bogus", "-o", "json"][..],
        &["lint", "-o", "json", "x.yaml"],
        &["get", "--output=json"],
    ] {
        let output = w.run(args);
        let error = json(expect(&output, 2));
        assert_eq!(error["error"]["code"], "usage", "{args:?}: {error:#}");
        assert!(validator.is_valid(&error), "{error:#}");
        assert!(
            stderr(&output).starts_with("error: "),
            "{}",
            stderr(&output)
        );
    }
    // Without -o json, stdout stays empty.
    let plain = w.run(&["get", "secret/missing"]);
    assert_eq!(stdout(expect(&plain, 4)), "");
}

/// Every command path below `rune` (`config use-context`), from the clap tree the binary uses.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            walk(sub, &path, out);
            out.push(path);
        }
    }
    let mut paths = vec![Vec::new()];
    walk(&rune::cli::args::command(), &[], &mut paths);
    paths
}

/// Item 8: every command's `-h` and `--help` end with examples, list its own flags before the
/// global ones, and cite no SPEC section.
#[test]
fn every_help_ends_with_examples() {
    let w = World::offline();
    let paths = command_paths();
    assert!(paths.len() > 20, "{paths:?}");
    for path in paths {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let output = w.run(&args);
            let help = stdout(expect(&output, 0));
            let examples = help
                .rfind("\nExamples:\n")
                .unwrap_or_else(|| panic!("`rune {args:?}` has no examples:\n{help}"));
            let tail = &help[examples..];
            assert!(
                !tail.contains("Options:") && tail.contains("  rune"),
                "`rune {args:?}`: the examples are not the end of the help:\n{help}"
            );
            assert!(!help.contains("SPEC"), "`rune {args:?}` cites the SPEC");
            let own = help.find("\nOptions:\n");
            let target = help.find("\nTarget options:\n");
            let global = help.find("\nGlobal options:\n");
            if let (Some(own), Some(target)) = (own, target) {
                assert!(own < target, "`rune {args:?}`: global flags first");
            }
            if let (Some(own), Some(global)) = (own, global) {
                assert!(own < global, "`rune {args:?}`: global flags first");
            }
        }
    }
}

/// Item 8: error output cites no SPEC section either (a plaintext secret's help, a usage
/// error, a missing file, a refused flag).
#[test]
fn no_error_cites_the_spec() {
    let w = World::offline();
    w.write(
        "plain.yaml",
        "secret:\n  name: db\n  data:\n    - key: password\n      value: hunter2\n",
    );
    crate::util::git_ok(w.path(), &["init", "-q"]);
    crate::util::git_ok(w.path(), &["add", "plain.yaml"]);
    let outputs = [
        expect(&w.run(&["lint", "plain.yaml"]), 6).clone(),
        expect(&w.run(&["lint", "missing.yaml"]), 2).clone(),
        expect(&w.run(&["cast"]), 2).clone(),
        expect(&w.run(&["lint", "--server", "x", "plain.yaml"]), 2).clone(),
        expect(&w.run(&["get", "widgets"]), 2).clone(),
    ];
    for output in &outputs {
        let text = format!("{}{}", stdout(output), stderr(output));
        assert!(!text.contains("SPEC"), "{text}");
    }
    assert!(stdout(&outputs[0]).contains("rune seal --help"));
}

/// `COMPLETE=SHELL rune -- WORDS…`, the call the scripts make; returns the candidates.
fn complete(w: &World, shell: &str, words: &[&str], server: Option<&str>) -> Output {
    let mut command = w.command(&["--"]);
    command.args(words).env("COMPLETE", shell);
    // As the bash and zsh scripts do: the index of the word under the cursor (the last here).
    if shell != "fish" {
        command.env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string());
        command.env("_CLAP_IFS", "\n");
    }
    if let Some(server) = server {
        command.env("RUNE_SERVER", server);
    }
    command.output().expect("rune runs")
}

/// The candidates of a completion, without their descriptions and without flags.
fn candidates(output: &Output) -> Vec<String> {
    assert_eq!(stderr(output), "", "completion printed to stderr");
    expect(output, 0);
    stdout(output)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .collect()
}

/// Item 9: the script `rune completion bash` prints, sourced in a real bash, completes the
/// names of a live runed's secrets.
#[test]
fn bash_completion_names_the_objects_of_a_live_runed() {
    let w = World::live();
    w.write("secrets.yaml", SECRETS);
    expect(&w.run(&["cast", "secrets.yaml"]), 0);
    let script = stdout(expect(&w.run(&["completion", "bash"]), 0));
    w.write("rune.bash", &script);
    let bin = assert_cmd::cargo::cargo_bin("rune");
    let path = format!(
        "{}:{}",
        bin.parent().expect("a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = std::process::Command::new("bash");
    bash.current_dir(w.path())
        .env("HOME", w.path())
        .env("PATH", &path)
        .env("RUNE_SERVER", w.server.as_ref().expect("runed").url(""))
        .env("RUNE_TOKEN", w.token.as_deref().expect("a token"))
        .args([
            "-c",
            r#"source ./rune.bash
COMP_WORDS=(rune get secrets "")
COMP_CWORD=3
_clap_complete_rune rune "" secrets
printf '%s\n' "${COMPREPLY[@]}""#,
        ]);
    let output = bash.output().expect("bash runs");
    let names = candidates(&output);
    assert_eq!(names, ["api-key", "db", "other"], "{}", stdout(&output));
}

/// Item 9: kinds after `get`/`delete`/`describe`, names (also as `KIND/NAME`), namespaces,
/// services and contexts, by the zsh and fish protocols too.
#[test]
fn completion_offers_kinds_names_namespaces_and_contexts() {
    let w = World::live();
    w.write("secrets.yaml", SECRETS).write("app.yaml", CONFIG);
    expect(&w.run(&["cast", "secrets.yaml", "app.yaml"]), 0);
    expect(&w.run(&["create", "namespace", "payments"]), 0);
    expect(
        &w.run(&[
            "create",
            "secret",
            "vault",
            "-n",
            "payments",
            "--from-literal=a=b",
        ]),
        0,
    );
    for shell in ["fish", "zsh", "bash"] {
        let get = candidates(&complete(&w, shell, &["rune", "get", ""], None));
        assert!(get.contains(&"secrets".to_owned()), "{shell}: {get:?}");
        let delete = candidates(&complete(&w, shell, &["rune", "delete", "se"], None));
        assert_eq!(delete, ["secret", "service"], "{shell}");
        let describe = candidates(&complete(&w, shell, &["rune", "describe", ""], None));
        assert_eq!(describe, ["service"], "{shell}");
        let names = candidates(&complete(&w, shell, &["rune", "get", "secrets", "d"], None));
        assert_eq!(names, ["db"], "{shell}");
        let slash = candidates(&complete(&w, shell, &["rune", "get", "configs/"], None));
        assert_eq!(slash, ["configs/app"], "{shell}");
        let deleted = candidates(&complete(
            &w,
            shell,
            &["rune", "delete", "config", ""],
            None,
        ));
        assert_eq!(deleted, ["app"], "{shell}");
        let namespaces = candidates(&complete(
            &w,
            shell,
            &["rune", "get", "secrets", "-n", ""],
            None,
        ));
        assert_eq!(namespaces, ["default", "payments", "system"], "{shell}");
    }
    // Names in the namespace the line names.
    let elsewhere = candidates(&complete(
        &w,
        "fish",
        &["rune", "-n", "payments", "get", "secrets", ""],
        None,
    ));
    assert_eq!(elsewhere, ["vault"]);
    // Contexts come from the config file.
    std::fs::create_dir_all(w.path().join(".rune")).expect("mkdir");
    w.write(
        ".rune/config.yaml",
        "contexts:\n  - name: prod\n    server: http://127.0.0.1:1\n  - name: dev\n    server: http://127.0.0.1:2\n",
    );
    let contexts = candidates(&complete(
        &w,
        "fish",
        &["rune", "config", "use-context", ""],
        None,
    ));
    assert_eq!(contexts, ["prod", "dev"]);
    let contexts = candidates(&complete(
        &w,
        "fish",
        &["rune", "get", "secrets", "--context", ""],
        None,
    ));
    assert_eq!(contexts, ["prod", "dev"]);
}

/// Item 9: with the target down (or refusing the token), completion offers no names, exits 0
/// and prints nothing on stderr, and it never opens the embedded engine.
#[test]
fn completion_is_silent_when_the_target_is_down() {
    let w = World::offline();
    let dead = dead_server();
    for shell in ["bash", "fish", "zsh"] {
        for words in [
            &["rune", "get", "secrets", ""][..],
            &["rune", "logs", ""],
            &["rune", "get", "secret/"],
            &["rune", "get", "secrets", "-n", ""],
        ] {
            let output = complete(&w, shell, words, Some(&dead));
            assert_eq!(
                candidates(&output),
                Vec::<String>::new(),
                "{shell} {words:?}"
            );
        }
    }
    // No server at all: the embedded engine is not opened for a key press.
    let output = complete(&w, "fish", &["rune", "get", "secrets", ""], None);
    assert_eq!(candidates(&output), Vec::<String>::new());
    assert!(
        !w.path().join(".rune").exists(),
        "completion created ~/.rune"
    );
    let live = World::live();
    let output = live
        .command(&["--", "rune", "get", "namespaces", ""])
        .env("COMPLETE", "fish")
        .env("RUNE_TOKEN", "wrong")
        .output()
        .expect("rune runs");
    assert_eq!(candidates(&output), Vec::<String>::new());
}

/// Item 7: `config current-context` and `config get-contexts`, as kubectl prints them.
#[test]
fn config_current_context_and_get_contexts() {
    let w = World::offline();
    expect(&w.run(&["config", "current-context"]), 2);
    expect(
        &w.run(&[
            "config",
            "set-context",
            "prod",
            "--server",
            "https://prod.example",
            "-n",
            "payments",
        ]),
        0,
    );
    expect(
        &w.run(&[
            "config",
            "set-context",
            "dev",
            "--server",
            "http://127.0.0.1:1",
        ]),
        0,
    );
    expect(&w.run(&["config", "use-context", "prod"]), 0);
    let current = w.run(&["config", "current-context"]);
    assert_eq!(stdout(expect(&current, 0)), "prod\n");
    let table = stdout(expect(&w.run(&["config", "get-contexts"]), 0));
    assert_eq!(
        table,
        "CURRENT   NAME   SERVER                 NAMESPACE\n\
         *         prod   https://prod.example   payments\n          \
         dev    http://127.0.0.1:1\n"
    );
}

/// Item 12: `-n` that a document's own namespace overrides is a warning with a code, in lint
/// and in cast; without `-n` (or with the same namespace) there is none.
#[test]
fn a_namespace_flag_the_document_overrides_is_a_warning() {
    let w = World::offline();
    w.write(
        "app.yaml",
        "configmap:\n  name: app\n  namespace: default\n  data:\n    LOG_LEVEL: info\n",
    );
    let lint = w.run(&["lint", "-n", "staging", "app.yaml", "--format", "json"]);
    let report = json(expect(&lint, 0));
    assert_eq!(
        report["diagnostics"][0]["code"], "W-NAMESPACE-MISMATCH",
        "{report:#}"
    );
    assert_eq!(report["diagnostics"][0]["line"], 3, "{report:#}");
    let cast = w.run(&["cast", "-n", "staging", "app.yaml", "--dry-run=client"]);
    assert!(stderr(expect(&cast, 0)).contains("W-NAMESPACE-MISMATCH"));
    for args in [
        &["lint", "app.yaml"][..],
        &["lint", "-n", "default", "app.yaml"],
    ] {
        let clean = w.run(args);
        assert!(
            stdout(expect(&clean, 0)).contains("no problems"),
            "{args:?}"
        );
    }
}

/// Item 12: the quickstart lints clean: no warning at all.
#[test]
fn the_quickstart_lints_clean() {
    let w = World::offline();
    let output = rune(&root())
        .env("HOME", w.path())
        .args(["lint", "fixtures/quickstart.yaml", "--format", "json"])
        .output()
        .expect("rune runs");
    let report = json(expect(&output, 0));
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
}
