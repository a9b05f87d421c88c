//! KEK rotation with a real runed (SPEC §4.6, issue #15): `runed kek generate`,
//! `crypto.previous-keks`, `rune admin kek status|rewrap` while casts go on, a rewrap killed
//! mid-way and resumed, and a start refused while records need a KEK that is not loaded.
//! That a rewrap leaves the data ciphertext byte for byte is proved on the store itself
//! (`server::engine::tests::keks`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Server, create_token_with, rune, rune_process, runed_once};

/// A temporary directory with a data directory, KEK files and runefiles.
struct Rotation {
    tmp: tempfile::TempDir,
}

impl Rotation {
    fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// `runed kek generate FILE`: returns the new KEK's id.
    fn generate(&self, name: &str) -> String {
        let file = self.path(name);
        let output = runed_once(
            &self.data(),
            &["kek", "generate", &file.display().to_string()],
        );
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// runed on `current`, with `previous` KEK files under `crypto.previous-keks`.
    fn start(&self, current: &str, previous: &[&str]) -> Server {
        let mut config = format!(
            "crypto:\n  kek: {{ source: file, file-path: {} }}\n",
            self.path(current).display()
        );
        if !previous.is_empty() {
            config.push_str("  previous-keks:\n");
            for file in previous {
                let _ = writeln!(
                    config,
                    "    - {{ file-path: {} }}",
                    self.path(file).display()
                );
            }
        }
        let path = self.path("runed.yaml");
        std::fs::write(&path, config).unwrap();
        Server::start(&self.data(), &["--config", &path.display().to_string()])
    }

    /// A runefile of `count` secrets `s0…` whose values carry `tag`.
    fn secrets(&self, name: &str, count: usize, tag: &str) -> String {
        let mut text = String::from("secrets:\n");
        for i in 0..count {
            let _ = writeln!(
                text,
                "  - name: s{i}\n    data:\n      - key: password\n        value: \"{tag}-{i}\"\n      - key: user\n        value: u{i}"
            );
        }
        std::fs::write(self.path(name), text).unwrap();
        name.to_owned()
    }

    /// `rune ARGS… --server URL --token T` in the directory.
    fn rune(&self, server: &Server, token: &str, args: &[&str]) -> std::process::Output {
        rune(self.tmp.path())
            .args(args)
            .args(["--server", &server.url(""), "--token", token])
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run rune")
    }
}

#[track_caller]
fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The status row of one KEK.
fn row<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["keks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("KEK {id} not in {status}"))
}

fn wrapped(status: &Value, id: &str) -> u64 {
    let kek = row(status, id);
    kek["secretVersions"].as_u64().unwrap() + kek["sealIdentities"].as_u64().unwrap()
}

/// Rotation online: casts run in a loop while `rune admin kek rewrap` moves every record to
/// the new KEK; no cast fails, the old KEK ends up removable, and after a restart without it
/// every secret still opens (a re-cast of the same values plans no change, which needs each
/// stored version decrypted). A token without `admin` gets exit 3.
#[test]
fn rotate_while_casting() {
    let r = Rotation::new();
    let old = r.generate("kek-old");
    let mut server = r.start("kek-old", &[]);
    let token = create_token_with(&r.data(), "ops", &[], "read,cast,admin");
    let caster = create_token_with(&r.data(), "ci", &[], "read,cast");
    let file = r.secrets("many.yaml", 30, "first");
    ok(&r.rune(&server, &token, &["cast", &file]));
    server.stop();

    let new = r.generate("kek-new");
    assert_ne!(old, new);
    let mut server = r.start("kek-new", &["kek-old"]);
    assert!(
        server.log().contains(&format!("previous KEK {old} loaded")),
        "{}",
        server.log()
    );
    let status: Value = serde_json::from_str(&ok(&r.rune(
        &server,
        &token,
        &["admin", "kek", "status", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(status["current"], new);
    assert_eq!(
        wrapped(&status, &old),
        31,
        "30 versions and the seal identity: {status}"
    );
    let plan = ok(&r.rune(&server, &token, &["admin", "kek", "rewrap", "--dry-run"]));
    assert!(plan.contains("Plan: 31 records to re-wrap"), "{plan}");

    let denied = r.rune(&server, &caster, &["admin", "kek", "status"]);
    assert_eq!(denied.status.code(), Some(3), "{denied:?}");
    let denied = r.rune(&server, &caster, &["admin", "kek", "rewrap"]);
    assert_eq!(denied.status.code(), Some(3), "{denied:?}");

    std::thread::scope(|scope| {
        let casts = scope.spawn(|| {
            let mut failures = Vec::new();
            for round in 0..12 {
                let file = r.secrets(&format!("loop-{round}.yaml"), 8, &format!("round{round}"));
                let output = r.rune(&server, &caster, &["cast", &file]);
                if !output.status.success() {
                    failures.push(String::from_utf8_lossy(&output.stderr).into_owned());
                }
            }
            failures
        });
        let rewrap = ok(&r.rune(
            &server,
            &token,
            &["admin", "kek", "rewrap", "--batch-size", "2"],
        ));
        assert!(
            rewrap.contains(&format!("KEK {old} wraps nothing")),
            "{rewrap}"
        );
        let failures = casts.join().unwrap();
        assert!(
            failures.is_empty(),
            "casts failed during the rewrap: {failures:?}"
        );
    });
    // Versions the loop wrote after the rewrap passed them were under the new KEK already.
    let status: Value = serde_json::from_str(&ok(&r.rune(
        &server,
        &token,
        &["admin", "kek", "status", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(wrapped(&status, &old), 0, "{status}");
    assert_eq!(row(&status, &old)["removable"], true);
    assert!(
        server
            .log()
            .contains(&format!("KEK {old} wraps nothing any more")),
        "{}",
        server.log()
    );
    server.stop();

    std::fs::remove_file(r.path("kek-old")).unwrap();
    let server = r.start("kek-new", &[]);
    let last = r.secrets("last.yaml", 8, "round11");
    ok(&r.rune(&server, &token, &["diff", &last]));
    // Secrets s8…s29 were last cast from the first file.
    let first = std::fs::read_to_string(r.path(&file)).unwrap();
    let rest = first
        .split("  - name: ")
        .skip(9)
        .fold(String::new(), |mut rest, entry| {
            rest.push_str("  - name: ");
            rest.push_str(entry);
            rest
        });
    std::fs::write(r.path("rest.yaml"), format!("secrets:\n{rest}")).unwrap();
    ok(&r.rune(&server, &token, &["diff", "rest.yaml"]));
}

/// A rewrap killed mid-way (SIGKILL of runed between batches of one) loses nothing: after a
/// restart the old KEK still wraps the rest, a second rewrap finishes it, and every secret
/// opens without the old KEK. Removing a previous KEK that records still need refuses the
/// start, naming the KEK and how many records need it.
#[test]
fn a_killed_rewrap_resumes_and_a_needed_kek_cannot_go() {
    let r = Rotation::new();
    let old = r.generate("kek-old");
    let mut server = r.start("kek-old", &[]);
    let token = create_token_with(&r.data(), "ops", &[], "read,cast,admin");
    let file = r.secrets("many.yaml", 400, "v");
    ok(&r.rune(&server, &token, &["cast", &file]));
    server.stop();
    r.generate("kek-new");

    let refused = {
        let path = r.path("runed.yaml");
        std::fs::write(
            &path,
            format!(
                "crypto:\n  kek: {{ file-path: {} }}\n",
                r.path("kek-new").display()
            ),
        )
        .unwrap();
        runed_once(
            &r.data(),
            &[
                "--config",
                &path.display().to_string(),
                "--listen",
                "127.0.0.1:0",
            ],
        )
    };
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("KEK `{old}` for 401 records")),
        "{stderr}"
    );

    let mut server = r.start("kek-new", &["kek-old"]);
    let mut child = rune_process(r.tmp.path())
        .args(["admin", "kek", "rewrap", "--batch-size", "1"])
        .args(["--server", &server.url(""), "--token", &token])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let killed_at = loop {
        let status = server
            .request("GET", "/v1/admin/kek")
            .bearer(&token)
            .send()
            .expect(200);
        let left = wrapped(&status, &old);
        if left < 401 && left > 0 {
            server.kill();
            break left;
        }
        assert!(left > 0, "the rewrap finished before it could be killed");
        assert!(Instant::now() < deadline, "the rewrap never started");
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = child.wait();
    let server = r.start("kek-new", &["kek-old"]);
    let status: Value = serde_json::from_str(&ok(&r.rune(
        &server,
        &token,
        &["admin", "kek", "status", "-o", "json"],
    )))
    .unwrap();
    let left = wrapped(&status, &old);
    assert!(
        left > 0 && left <= killed_at,
        "{left} left after a kill at {killed_at}"
    );
    ok(&r.rune(
        &server,
        &token,
        &["admin", "kek", "rewrap", "--batch-size", "64"],
    ));
    let status: Value = serde_json::from_str(&ok(&r.rune(
        &server,
        &token,
        &["admin", "kek", "status", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(wrapped(&status, &old), 0, "{status}");
    drop(server);
    let server = r.start("kek-new", &[]);
    ok(&r.rune(&server, &token, &["diff", &file]));
}

/// `crypto.previous-keks` is checked like the rest of a server runefile: a list of `file`
/// (with `file-path`) or `env` entries; a `generated` previous KEK or one without a path is an
/// error at its line.
#[test]
fn previous_keks_are_validated() {
    let r = Rotation::new();
    std::fs::write(
        r.path("good.yaml"),
        "crypto:\n  previous-keks:\n    - { file-path: /var/lib/rune/kek-2025 }\n    - { source: env, env-var: OLD_KEK }\n",
    )
    .unwrap();
    rune(r.tmp.path())
        .args(["lint", "good.yaml"])
        .assert()
        .success();
    std::fs::write(
        r.path("bad.yaml"),
        "crypto:\n  previous-keks:\n    - { source: generated, file-path: /x }\n    - { source: file }\n",
    )
    .unwrap();
    let output = rune(r.tmp.path())
        .args(["lint", "bad.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(6), "{stdout}{stderr}");
    let text = format!("{stdout}{stderr}");
    assert!(
        text.contains("`generated` is not a source of a previous KEK"),
        "{text}"
    );
    assert!(text.contains("needs `file-path`"), "{text}");
    assert!(text.contains("bad.yaml:3"), "{text}");
}
