//! Sealed values end to end (issue 5, SPEC §6) with real age keys: the server opens what was
//! sealed for it and refuses what was sealed for another place; the local key file serves the
//! offline checks only, and an online cast never opens it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rune::client::Backend;
use rune::local::Local;
use rune::secrets::{Keys, Place, seal};
use serde_json::Value;

use crate::util::{Server, rune};

/// One scenario: a directory (HOME, working directory, runefiles) and where state lives.
struct Scene {
    /// Declared first so that runed stops before its directory is removed.
    server: Option<Server>,
    dir: tempfile::TempDir,
    /// The local key file: a developer's identity, also a recipient of every sealed value.
    key: Keys,
}

impl Scene {
    fn new(remote: bool) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = remote.then(|| Server::start(&dir.path().join("runed"), &[]));
        let key = Keys::generate();
        std::fs::write(
            dir.path().join("key.txt"),
            key.to_text().expose().as_bytes(),
        )
        .expect("key file");
        Self { server, dir, key }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn key_file(&self) -> PathBuf {
        self.path().join("key.txt")
    }

    /// The target as the environment names it (`rune lint` takes no target flags, and the
    /// variables serve every command).
    fn target(&self) -> (&'static str, String) {
        match &self.server {
            Some(server) => ("RUNE_SERVER", server.url("")),
            None => (
                "RUNE_DATA_DIR",
                self.path().join("local").display().to_string(),
            ),
        }
    }

    /// What `rune seal` would fetch: the server's (or the embedded engine's) recipient.
    fn server_recipient(&self) -> age::x25519::Recipient {
        let text = match &self.server {
            Some(server) => server.get("/v1/seal-recipient").expect(200)["recipient"]
                .as_str()
                .expect("a recipient")
                .to_owned(),
            None => Local::open(self.path().join("local"))
                .expect("the embedded engine opens")
                .seal_recipient()
                .expect("a recipient"),
        };
        text.parse().expect("an age recipient")
    }

    /// The age armor of `value` sealed for `place`, for the server and the local key.
    fn sealed(&self, place: &str, value: &str) -> String {
        let parts: Vec<&str> = place.split('/').collect();
        let recipients = [self.server_recipient(), self.key.recipients()[0].clone()];
        seal(
            value,
            &Place::new(parts[0], parts[1], parts[2]),
            &recipients,
        )
        .expect("seals")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write a runefile");
    }

    /// `rune <target> ARGS…`, with its exit code, stdout and stderr.
    fn rune(&self, args: &[&str]) -> (i32, String, String) {
        let (variable, value) = self.target();
        let output = rune(self.path())
            .env(variable, value)
            .args(args)
            .timeout(Duration::from_secs(120))
            .output()
            .expect("rune runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn secret_json(&self, name: &str) -> Value {
        let (code, stdout, stderr) = self.rune(&["get", "secret", name, "-o", "json"]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).expect("JSON")
    }
}

/// A runefile with one secret whose entries are `(key, source line)` pairs.
fn secret_file(name: &str, entries: &[(&str, String)]) -> String {
    let mut text = format!("secret:\n  name: {name}\n  data:\n");
    for (key, source) in entries {
        let _ = writeln!(text, "    - key: {key}\n      {source}");
    }
    text
}

/// `sealed: |` plus the armor, indented for a list entry.
fn sealed_entry(armor: &str) -> String {
    let body: Vec<String> = armor.lines().map(|l| format!("        {l}")).collect();
    format!("sealed: |\n{}", body.join("\n"))
}

/// A cast of sealed values stores what the same values in plaintext store: the sealed cast after
/// a plaintext one changes nothing, and so does a re-cast after re-sealing (new ciphertext, same
/// values); a changed value is an ordinary key-level change.
#[test]
fn sealed_casts_match_plaintext_and_resealing_is_a_no_op() {
    for remote in [false, true] {
        let scene = Scene::new(remote);
        scene.write(
            "plain.yaml",
            &secret_file(
                "db",
                &[
                    ("username", "value: admin".to_owned()),
                    ("password", "value: hunter2-PlainTextMarker".to_owned()),
                ],
            ),
        );
        let (code, _, stderr) = scene.rune(&["cast", "plain.yaml"]);
        assert_eq!(code, 0, "{stderr}");
        for round in 0..2 {
            let sealed = secret_file(
                "db",
                &[
                    ("username", "value: admin".to_owned()),
                    (
                        "password",
                        sealed_entry(
                            &scene.sealed("default/db/password", "hunter2-PlainTextMarker"),
                        ),
                    ),
                ],
            );
            scene.write("sealed.yaml", &sealed);
            let (code, stdout, stderr) = scene.rune(&["cast", "sealed.yaml"]);
            assert_eq!(code, 0, "round {round}: {stderr}");
            assert!(stdout.contains("No changes"), "round {round}: {stdout}");
        }
        assert_eq!(scene.secret_json("db")["version"], 1);

        let changed = secret_file(
            "db",
            &[
                ("username", "value: admin".to_owned()),
                (
                    "password",
                    sealed_entry(&scene.sealed("default/db/password", "rotated-PlainTextMarker")),
                ),
            ],
        );
        scene.write("sealed.yaml", &changed);
        let (code, stdout, stderr) = scene.rune(&["cast", "sealed.yaml"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("~ password (changed)"), "{stdout}");
        assert!(stdout.contains("v1 → v2"), "{stdout}");
        assert!(!stdout.contains("PlainTextMarker") && !stderr.contains("PlainTextMarker"));
        assert_eq!(scene.secret_json("db")["version"], 2);
    }
}

/// A sealed value moved to another secret fails offline, with the key file, naming the secret it
/// was sealed for; and online the server refuses it naming both places. Nothing is stored.
#[test]
fn a_moved_sealed_value_fails_offline_and_online() {
    for remote in [false, true] {
        let scene = Scene::new(remote);
        let armor = scene.sealed("default/db/password", "hunter2-PlainTextMarker");
        let text = format!(
            "{}---\n{}",
            secret_file("db", &[("password", sealed_entry(&armor))]),
            secret_file("api", &[("password", sealed_entry(&armor))]),
        );
        scene.write("moved.yaml", &text);
        let key_file = scene.key_file().display().to_string();

        let (code, stdout, _) = scene.rune(&["lint", "moved.yaml", "--key-file", &key_file]);
        assert_eq!(code, 6, "{stdout}");
        assert!(stdout.contains("E-SEALED-PLACE"), "{stdout}");
        assert!(
            stdout.contains("secret `default/api`")
                && stdout.contains("sealed for secret `default/db` key `password`"),
            "{stdout}"
        );
        let (code, _, stderr) =
            scene.rune(&["cast", "--offline", "moved.yaml", "--key-file", &key_file]);
        assert_eq!(code, 6, "{stderr}");
        assert!(stderr.contains("E-SEALED-PLACE"), "{stderr}");

        let (code, _, stderr) = scene.rune(&["cast", "moved.yaml"]);
        assert_eq!(code, 6, "{stderr}");
        // The server's finding is a diagnostic, its message wrapped at the terminal's width.
        let stderr = stderr.replace("\n  │ ", " ");
        assert!(
            stderr.contains("sealed for secret `default/db` key `password`, not for secret `default/api` key `password`"),
            "{stderr}"
        );
        assert!(!stderr.contains("PlainTextMarker"));
        let (code, _, _) = scene.rune(&["get", "secret", "db"]);
        assert_eq!(code, 4, "nothing of the batch may be stored");
    }
}

/// An online cast never opens the key file: here it is a FIFO, which blocks whoever opens it
/// until a writer comes — none does, so a cast that opened it would hang past the timeout.
#[test]
fn an_online_cast_never_opens_the_key_file() {
    for remote in [false, true] {
        let scene = Scene::new(remote);
        let fifo = scene.path().join("key.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let armor = scene.sealed("default/db/password", "hunter2-PlainTextMarker");
        scene.write(
            "db.yaml",
            &secret_file("db", &[("password", sealed_entry(&armor))]),
        );
        let (variable, value) = scene.target();
        let output = rune(scene.path())
            .env("RUNE_KEY_FILE", &fifo)
            .env(variable, value)
            .args(["cast", "db.yaml", "--key-file"])
            .arg(&fifo)
            .timeout(Duration::from_secs(60))
            .output()
            .expect("rune runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("--key-file is read by offline checks only"),
            "{stderr}"
        );
        assert_eq!(
            scene.secret_json("db")["keys"],
            serde_json::json!(["password"])
        );
    }
}

/// Without a key file, lint checks the armor's form and says what it could not check; with a
/// key file that is not among the recipients, each value is a warning, not an error.
#[test]
fn without_a_usable_key_lint_says_what_it_did_not_check() {
    let scene = Scene::new(false);
    let only_server = seal(
        "hunter2-PlainTextMarker",
        &Place::new("default", "db", "password"),
        &[scene.server_recipient()],
    )
    .expect("seals");
    scene.write(
        "db.yaml",
        &secret_file("db", &[("password", sealed_entry(&only_server))]),
    );

    let (code, stdout, stderr) = scene.rune(&["lint", "db.yaml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no problems"), "{stdout}");
    assert!(
        stderr.contains("1 sealed value was checked for form only")
            && stderr.contains(".config/rune/key.txt"),
        "{stderr}"
    );

    let key_file = scene.key_file().display().to_string();
    let (code, stdout, _) = scene.rune(&["lint", "db.yaml", "--key-file", &key_file]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("W-SEALED-UNOPENED"), "{stdout}");

    let output = rune(scene.path())
        .env("RUNE_KEY_FILE", scene.path().join("missing.txt"))
        .args(["lint", "db.yaml"])
        .output()
        .expect("rune runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an explicit key file must exist"
    );
}

/// Lint reads a namespace-less document in the context's namespace, as `rune seal` and `rune
/// cast` do: a value sealed there is not mistaken for one sealed for another place.
#[test]
fn lint_binds_places_in_the_contexts_namespace() {
    let scene = Scene::new(false);
    let run = |args: &[&str]| {
        let output = rune(scene.path()).args(args).output().expect("rune runs");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    };
    let (code, text) = run(&[
        "config",
        "set-context",
        "prod",
        "--server",
        "http://127.0.0.1:9",
        "--namespace",
        "prod",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = run(&["config", "use-context", "prod"]);
    assert_eq!(code, Some(0), "{text}");
    let recipient = scene.key.recipients()[0].to_string();
    let armor = seal(
        "hunter2-PlainTextMarker",
        &Place::new("prod", "db", "password"),
        &[recipient.parse().expect("a recipient")],
    )
    .expect("seals");
    scene.write(
        "db.yaml",
        &secret_file("db", &[("password", sealed_entry(&armor))]),
    );
    let key_file = scene.key_file().display().to_string();
    let (code, text) = run(&["lint", "db.yaml", "--key-file", &key_file]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("E-SEALED-PLACE"), "{text}");
    let (code, text) = run(&["lint", "-n", "default", "db.yaml", "--key-file", &key_file]);
    assert_eq!(code, Some(6), "{text}");
    assert!(text.contains("E-SEALED-PLACE"), "{text}");
}
