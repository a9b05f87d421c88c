//! `rune seal` end to end (SPEC §6): the real binary, real age keys (generated per test and
//! written to key files), the repository's `.rune/recipients`, the embedded engine and a real
//! `runed`. Nothing is mocked: a sealed value counts as sealed when a key opens it.

use std::path::Path;
use std::time::Duration;

use rune::secrets::{Keys, Place};

use crate::util::{Server, Workspace, root};

/// Every value these tests seal contains this, so one search finds a leak.
const MARK: &str = "SealMarker";

const USAGE: i32 = 2;
const NOT_FOUND: i32 = 4;
const VALIDATION: i32 = 6;

const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const END: &str = "-----END AGE ENCRYPTED FILE-----";

/// What one run printed.
struct Ran {
    code: i32,
    stderr: String,
    stdout: String,
}

/// Runs a prepared command and checks that no value leaked into its output.
#[track_caller]
fn run(command: &mut assert_cmd::Command) -> Ran {
    let output = command
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run rune");
    let ran = Ran {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    };
    assert!(
        !ran.stdout.contains(MARK) && !ran.stderr.contains(MARK),
        "a value leaked:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    ran
}

#[track_caller]
fn ok(command: &mut assert_cmd::Command) -> Ran {
    let ran = run(command);
    assert_eq!(
        ran.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    ran
}

/// Every armor in `text` (a printed entry, a runefile), without its indentation.
fn armors(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(end) = rest[start..].find(END) else {
            break;
        };
        let armor: Vec<&str> = rest[start..start + end + END.len()]
            .lines()
            .map(str::trim)
            .collect();
        found.push(armor.join("\n"));
        rest = &rest[start + end..];
    }
    found
}

/// Opens the only armor of `text` and returns its place and value.
#[track_caller]
fn open_one(text: &str, keys: &Keys) -> (Place, String) {
    let all = armors(text);
    assert_eq!(all.len(), 1, "one sealed value in:\n{text}");
    let opened = keys
        .unseal(&all[0])
        .expect("the key opens the sealed value");
    (opened.place, opened.value.expose().clone())
}

fn public(keys: &Keys) -> String {
    keys.recipients()[0].to_string()
}

/// A key file, as `age-keygen` writes one.
fn key_file(dir: &Path, name: &str, keys: &Keys) -> String {
    std::fs::write(
        dir.join(name),
        format!(
            "# public key: {}\n{}",
            public(keys),
            keys.to_text().expose().as_str()
        ),
    )
    .expect("write the key file");
    name.to_owned()
}

/// The quickstart fixture with the values marked, so that a leak can be found.
/// The quickstart without its `allowPlaintext: true`: values to seal, as a real runefile has.
fn quickstart() -> String {
    std::fs::read_to_string(root().join("fixtures/quickstart.yaml"))
        .expect("read the fixture")
        .replace("    allowPlaintext: true\n", "")
        .replace("value: admin", &format!("value: admin-{MARK}"))
        .replace("value: hunter2", &format!("value: hunter2-{MARK}"))
}

fn git_init(dir: &Path) {
    git2::Repository::init(dir).expect("git init");
}

/// Print mode: the entry is a list item whose armor opens, with the key at hand, to the place
/// NAME KEY names in `-n`'s namespace and to the value exactly as given (stdin included).
#[test]
fn printed_entries_open_to_their_place() {
    let keys = Keys::generate();
    let ws = Workspace::new();
    let ran = ok(ws
        .rune()
        .args(["seal", "db", "password", "-n", "prod", "--recipient"])
        .arg(public(&keys))
        .args(["--from-literal", &format!("p-{MARK}")]));
    assert!(
        ran.stdout
            .starts_with("- key: password\n  sealed: |\n    -----BEGIN"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .ends_with("    -----END AGE ENCRYPTED FILE-----\n")
    );
    assert_eq!(
        open_one(&ran.stdout, &keys),
        (Place::new("prod", "db", "password"), format!("p-{MARK}"))
    );
    assert!(
        ran.stderr
            .contains("sealed secret `prod/db` key `password`")
    );

    let value = format!("line one {MARK}\n\nline three\n");
    let ran = ok(ws
        .rune()
        .args(["seal", "db", "cert", "--recipient"])
        .arg(public(&keys))
        .write_stdin(value.clone()));
    assert_eq!(
        open_one(&ran.stdout, &keys),
        (Place::new("default", "db", "cert"), value)
    );

    let file = ws.dir.path().join("value.bin");
    std::fs::write(&file, format!("{MARK}\r\n")).expect("write");
    let ran = ok(ws
        .rune()
        .args(["seal", "db", "raw", "--recipient"])
        .arg(public(&keys))
        .arg("--from-file")
        .arg(&file));
    assert_eq!(open_one(&ran.stdout, &keys).1, format!("{MARK}\r\n"));
}

/// Recipients: `--recipient` and `--recipients-file` replace the server (nothing is contacted),
/// and the repository's `.rune/recipients` is always added; each can open the value.
#[test]
fn flags_and_the_repository_recipients_can_all_open() {
    let (flag, listed, repo) = (Keys::generate(), Keys::generate(), Keys::generate());
    let ws = Workspace::new()
        .file(
            ".rune/recipients",
            &format!("# the team\n{}\n", public(&repo)),
        )
        .file("team.txt", &format!("{}\n", public(&listed)))
        .file("deploy/.keep", "");
    git_init(ws.dir.path());
    let ran = ok(ws
        .rune()
        .current_dir(ws.dir.path().join("deploy"))
        .args(["seal", "api", "token", "--recipient"])
        .arg(public(&flag))
        .args(["--recipients-file", "../team.txt", "--recipient"])
        .arg(public(&flag))
        .args(["--from-literal", MARK]));
    assert!(
        ran.stderr.contains("for 3 recipients"),
        "deduplicated: {}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("embedded engine"), "{}", ran.stderr);
    for keys in [&flag, &listed, &repo] {
        assert_eq!(open_one(&ran.stdout, keys).1, MARK);
    }
    assert!(
        !ws.dir.path().join(".rune/local").exists(),
        "no engine was opened"
    );
}

/// A malformed recipient is a usage error naming the file and the line; so is a bad flag.
#[test]
fn malformed_recipients_are_usage_errors() {
    let ws = Workspace::new().file(".rune/recipients", "# team\n\nage1notarecipient\n");
    git_init(ws.dir.path());
    let ran = run(ws
        .rune()
        .args(["seal", "db", "k", "--recipient"])
        .arg(public(&Keys::generate()))
        .args(["--from-literal", MARK]));
    assert_eq!(ran.code, USAGE, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(".rune/recipients` line 3"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty());
    let ran = run(ws
        .rune()
        .args(["seal", "db", "k", "--recipient", "age1nope"])
        .args(["--from-literal", MARK]));
    assert_eq!(ran.code, USAGE, "{}", ran.stderr);
    let ran = run(ws
        .rune()
        .args(["seal", "db", "k", "--recipient"])
        .arg(public(&Keys::generate()))
        .args(["--from-literal", ""]));
    assert_eq!(ran.code, VALIDATION, "empty values: {}", ran.stderr);
}

/// `--in-place` over the quickstart fixture: every plaintext secret value becomes a sealed
/// entry for its place, the configmap and the comments stay, and `rune lint` passes.
#[test]
fn in_place_seals_the_fixture_and_lint_passes() {
    let keys = Keys::generate();
    let ws = Workspace::new().file("q.yaml", &quickstart());
    let before = std::fs::read_to_string(ws.dir.path().join("q.yaml")).expect("read");
    let ran = ok(ws
        .rune()
        .args(["seal", "--in-place", "q.yaml", "--recipient"])
        .arg(public(&keys)));
    assert!(
        ran.stderr.contains("sealed 2 values in q.yaml"),
        "{}",
        ran.stderr
    );
    let after = std::fs::read_to_string(ws.dir.path().join("q.yaml")).expect("read");
    assert!(!after.contains(MARK), "plaintext left:\n{after}");
    for line in before.lines().filter(|l| !l.contains(MARK)) {
        assert!(after.contains(line), "lost {line:?}");
    }
    let opened: Vec<(Place, String)> = armors(&after)
        .iter()
        .map(|armor| {
            let opened = keys.unseal(armor).expect("opens");
            (opened.place, opened.value.expose().clone())
        })
        .collect();
    assert_eq!(
        opened,
        [
            (
                Place::new("default", "db-credentials", "username"),
                format!("admin-{MARK}")
            ),
            (
                Place::new("default", "db-credentials", "password"),
                format!("hunter2-{MARK}")
            ),
        ]
    );
    ok(ws.rune().args(["lint", "q.yaml"]));
    let again = ok(ws
        .rune()
        .args(["seal", "--in-place", "q.yaml", "--recipient"])
        .arg(public(&keys)));
    assert!(again.stderr.contains("nothing to seal in q.yaml"));
    let unchanged = std::fs::read_to_string(ws.dir.path().join("q.yaml")).expect("read");
    assert_eq!(unchanged, after);
}

/// NAME KEY --in-place with the local key file: the same value again leaves the file byte for
/// byte; another value, or no key file to tell, seals again.
#[test]
fn resealing_the_same_value_keeps_the_file() {
    let keys = Keys::generate();
    let ws = Workspace::new().file("q.yaml", &quickstart());
    let key = key_file(ws.dir.path(), "key.txt", &keys);
    let path = ws.dir.path().join("q.yaml");
    let seal = |value: &str, key_file: Option<&str>| {
        let mut command = ws.rune();
        command
            .args(["seal", "db-credentials", "password", "--in-place", "q.yaml"])
            .arg("--recipient")
            .arg(public(&keys))
            .write_stdin(value.to_owned());
        if let Some(key_file) = key_file {
            command.args(["--key-file", key_file]);
        }
        ok(&mut command)
    };
    let value = format!("new-{MARK}");
    let first = seal(&value, Some(&key));
    assert!(
        first
            .stderr
            .contains("sealed secret `default/db-credentials` key `password` in q.yaml")
    );
    let sealed = std::fs::read(&path).expect("read");
    let second = seal(&value, Some(&key));
    assert!(
        second.stderr.contains("unchanged: secret `default/db-credentials` key `password` in q.yaml (the sealed value already holds it)"),
        "{}",
        second.stderr
    );
    assert_eq!(std::fs::read(&path).expect("read"), sealed);

    let with_env = ok(ws
        .rune()
        .args(["seal", "db-credentials", "password", "--in-place", "q.yaml"])
        .env("RUNE_KEY_FILE", ws.dir.path().join(&key))
        .args(["--from-literal", &value]));
    assert!(
        with_env.stderr.contains("unchanged:"),
        "{}",
        with_env.stderr
    );
    assert_eq!(std::fs::read(&path).expect("read"), sealed);

    let blind = seal(&value, None);
    assert!(
        blind.stderr.contains("no local key file can tell"),
        "{}",
        blind.stderr
    );
    assert_ne!(std::fs::read(&path).expect("read"), sealed);
    let other = seal(&format!("other-{MARK}"), Some(&key));
    assert!(other.stderr.contains("sealed secret"));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains(&format!("value: admin-{MARK}")),
        "the other key stays"
    );
    let password = armors(&text)
        .into_iter()
        .find_map(|armor| keys.unseal(&armor).ok())
        .expect("the password opens");
    assert_eq!(password.value.expose().as_str(), format!("other-{MARK}"));
    ok(ws
        .rune()
        .args([
            "seal",
            "db-credentials",
            "api-token",
            "--in-place",
            "q.yaml",
            "--from-literal",
            MARK,
            "--recipient",
        ])
        .arg(public(&keys)));
    ok(ws.rune().args(["lint", "q.yaml"]));
}

/// A secret the file does not declare (in the namespace in force) is exit 4; a file that does
/// not validate is refused with its findings (values masked) and left untouched (exit 6).
#[test]
fn missing_secrets_and_invalid_files_are_refused() {
    let keys = Keys::generate();
    let ws = Workspace::new().file("q.yaml", &quickstart()).file(
        "bad.yaml",
        &format!("secret:\n  name: Bad_Name\n  data:\n    - key: k\n      value: {MARK}\n"),
    );
    let ran = run(ws
        .rune()
        .args([
            "seal",
            "db-credentials",
            "password",
            "-n",
            "prod",
            "--in-place",
            "q.yaml",
        ])
        .args(["--from-literal", MARK, "--recipient"])
        .arg(public(&keys)));
    assert_eq!(ran.code, NOT_FOUND, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("declares no secret `prod/db-credentials`")
    );

    let bad = std::fs::read(ws.dir.path().join("bad.yaml")).expect("read");
    let ran = run(ws
        .rune()
        .args(["seal", "--in-place", "bad.yaml", "q.yaml", "--recipient"])
        .arg(public(&keys)));
    assert_eq!(ran.code, VALIDATION, "{}", ran.stderr);
    assert!(ran.stderr.contains("E-NAME-DNS1123"), "{}", ran.stderr);
    assert!(ran.stderr.contains("`bad.yaml` does not validate"));
    assert_eq!(
        std::fs::read(ws.dir.path().join("bad.yaml")).expect("read"),
        bad
    );
    assert!(
        ran.stderr.contains("sealed 2 values in q.yaml"),
        "the valid file is sealed"
    );

    let ran = run(ws
        .rune()
        .args(["seal", "--in-place", "q.yaml", "--from-literal", "x"]));
    assert_eq!(ran.code, USAGE);
    let ran = run(ws.rune().args(["seal", "--in-place", "-"]));
    assert_eq!(ran.code, USAGE);
}

/// With no server configured, `rune seal` seals for the embedded engine, and `rune cast` of
/// the sealed file stores the keys.
#[test]
fn the_embedded_engine_opens_what_was_sealed_for_it() {
    let ws = Workspace::new().file("q.yaml", &quickstart());
    let sealed = ok(ws.rune().args(["seal", "--in-place", "q.yaml"]));
    assert!(
        sealed.stderr.contains("embedded engine"),
        "{}",
        sealed.stderr
    );
    assert!(
        !std::fs::read_to_string(ws.dir.path().join("q.yaml"))
            .expect("read")
            .contains(MARK)
    );
    let cast = ok(ws.rune().args(["cast", "q.yaml"]));
    assert!(
        cast.stdout.contains("Applied 3 changes."),
        "{}",
        cast.stdout
    );
    let secret: serde_json::Value = serde_json::from_str(
        &ok(ws
            .rune()
            .args(["get", "secret", "db-credentials", "-o", "json"]))
        .stdout,
    )
    .expect("JSON");
    assert_eq!(secret["keys"], serde_json::json!(["password", "username"]));
}

/// Against a real runed: the file sealed for its recipient casts; sealing the same values
/// again (new ciphertext, no key file to tell) and casting is "no changes", no version bump.
#[test]
fn runed_casts_sealed_files_and_sees_no_change_in_a_reseal() {
    let ws = Workspace::new().file("q.yaml", &quickstart());
    let server = Server::start(&ws.dir.path().join("runed"), &[]);
    let url = server.url("");
    let rune = |args: &[&str]| {
        let mut command = ws.rune();
        command.args(["--server", &url]).args(args);
        command
    };
    ok(&mut rune(&["seal", "--in-place", "q.yaml"]));
    let cast = ok(&mut rune(&["cast", "q.yaml"]));
    assert!(
        cast.stdout.contains("Applied 3 changes."),
        "{}",
        cast.stdout
    );
    let before = std::fs::read(ws.dir.path().join("q.yaml")).expect("read");
    let mut reseal = rune(&["seal", "db-credentials", "password", "--in-place", "q.yaml"]);
    reseal.write_stdin(format!("hunter2-{MARK}"));
    ok(&mut reseal);
    assert_ne!(
        std::fs::read(ws.dir.path().join("q.yaml")).expect("read"),
        before
    );
    let again = ok(&mut rune(&["cast", "q.yaml"]));
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    let secret: serde_json::Value = serde_json::from_str(
        &ok(&mut rune(&[
            "get",
            "secret",
            "db-credentials",
            "-o",
            "json",
        ]))
        .stdout,
    )
    .expect("JSON");
    assert_eq!(secret["version"], 1);
    assert!(
        !server.replies().iter().any(|r| r.contains(MARK)),
        "no response holds a value"
    );
}

/// `rune seal --help` documents the modes, the value sources, the recipients and the place
/// binding; the snapshot keeps that text reviewed.
#[test]
fn help_describes_the_command() {
    let ran = ok(Workspace::new().rune().args(["seal", "--help"]));
    let mut settings = insta::Settings::clone_current();
    settings.set_description("rune seal --help");
    settings.set_omit_expression(true);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("seal_help", ran.stdout));
}
