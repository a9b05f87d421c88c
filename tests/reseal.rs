//! `rune seal --reseal FILE…` and `POST /v1/reseal` with a real runed and real age keys (SPEC
//! §4.6, issue #15): after a seal-identity rotation, files are re-sealed locally with a key file
//! and through the server without one; only the sealed blocks change, the files lint clean and
//! cast as no-ops, and the new armors open with the repository's key. A token without `admin`
//! gets exit 3; a value sealed for another place is refused and its file stays as it was.

use std::path::Path;
use std::time::Duration;

use rune::secrets::{Keys, Place};
use serde_json::json;

use crate::util::{Server, create_token_with, rune};

const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const END: &str = "-----END AGE ENCRYPTED FILE-----";

/// Every value here holds this, so that one search finds a leak.
const MARK: &str = "ResealMarker";

fn runefile(name: &str) -> String {
    format!(
        "# {name}: comments, order and blank lines stay\n\
         secret:\n  name: {name}\n  data:\n    - key: user   # trailing comment\n      \
         value: \"{MARK}-user-{name}\"\n\n    - key: password\n      \
         value: \"{MARK}-password-{name}\"\n---\nconfigmap:\n  name: {name}-settings\n  \
         data:\n    mode: fast\n"
    )
}

/// The text with every armor cut out: what must not change.
fn outside_armor(text: &str) -> String {
    let mut rest = text;
    let mut kept = String::new();
    while let Some(start) = rest.find(BEGIN) {
        kept.push_str(&rest[..start]);
        let end = rest[start..].find(END).expect("armor ends") + start + END.len();
        kept.push_str("<armor>");
        rest = &rest[end..];
    }
    kept.push_str(rest);
    kept
}

fn armors(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let end = rest[start..].find(END).expect("armor ends") + start + END.len();
        let armor: String = rest[start..end]
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("\n");
        found.push(armor);
        rest = &rest[end..];
    }
    found
}

/// Each armor opens with `keys` to its own place and the value the runefile started with.
#[track_caller]
fn opens_to_the_originals(text: &str, name: &str, keys: &Keys) {
    let armors = armors(text);
    assert_eq!(armors.len(), 2, "{text}");
    for (armor, key) in armors.iter().zip(["user", "password"]) {
        let value = keys
            .unseal_for(armor, &Place::new("default", name, key))
            .expect("the repository key opens the new armor, for its place");
        assert_eq!(value.expose().as_str(), format!("{MARK}-{key}-{name}"));
        // Two recipients: the server's current identity and the repository's key.
        assert_eq!(armor_stanzas(armor), 2);
    }
}

/// How many X25519 stanzas (recipients) the payload's header names.
fn armor_stanzas(armor: &str) -> usize {
    use std::io::Read;
    let mut reader = age::armor::ArmoredReader::new(armor.as_bytes());
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).expect("armor decodes");
    let header_end = bytes
        .windows(4)
        .position(|w| w == b"\n---")
        .expect("an age header");
    String::from_utf8_lossy(&bytes[..header_end])
        .lines()
        .filter(|l| l.starts_with("-> X25519 "))
        .count()
}

struct Run {
    code: i32,
    stderr: String,
    stdout: String,
}

#[track_caller]
fn run(dir: &Path, server: &Server, token: &str, args: &[&str]) -> Run {
    let output = rune(dir)
        .args(args)
        .args(["--server", &server.url(""), "--token", token])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("rune runs");
    let ran = Run {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    };
    assert!(
        !ran.stdout.contains(MARK) && !ran.stderr.contains(MARK),
        "a value leaked: {}{}",
        ran.stdout,
        ran.stderr
    );
    ran
}

/// A reseal refused (exit 6) with the finding `code` at `at` (`file:line:`).
#[track_caller]
fn refused_with(ran: &Run, code: &str, at: &str) {
    assert_eq!(ran.code, 6, "{}", ran.stderr);
    assert!(ran.stderr.contains(code), "{}", ran.stderr);
    assert!(ran.stderr.contains(at), "{}", ran.stderr);
}

#[track_caller]
fn ok(ran: Run) -> Run {
    assert_eq!(
        ran.code, 0,
        "stdout: {}\nstderr: {}",
        ran.stdout, ran.stderr
    );
    ran
}

/// Rotate, then re-seal one file with the key file and one through the server: only the sealed
/// blocks change, lint is clean, a cast is a no-op, the repository's key opens every new armor
/// to its place and value; `read,cast` gets exit 3; the audit has the re-seal, without a value.
#[test]
fn reseal_locally_and_through_the_server_after_a_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(dir.join(".rune")).unwrap();
    git2::Repository::init(&dir).expect("git init");
    let team = Keys::generate();
    std::fs::write(
        dir.join(".rune/recipients"),
        format!("{}\n", team.recipients()[0]),
    )
    .unwrap();
    std::fs::write(
        dir.join("team.key"),
        team.to_text().expose().as_str().as_bytes(),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    let admin = server.authenticate(&data);
    let caster = create_token_with(&data, "ci", &[], "read,cast");

    for name in ["local", "remote"] {
        let file = format!("{name}.yaml");
        std::fs::write(dir.join(&file), runefile(name)).unwrap();
        ok(run(&dir, &server, &admin, &["seal", "--in-place", &file]));
        ok(run(&dir, &server, &caster, &["cast", &file]));
    }
    let before: Vec<String> = ["local", "remote"]
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(format!("{n}.yaml"))).unwrap())
        .collect();
    let rotated = server.post("/v1/admin/seal-identity/rotate", &json!({}));
    let current = rotated.expect(200)["current"].as_str().unwrap().to_owned();
    assert_eq!(
        server.get("/v1/seal-recipient").expect(200)["recipient"],
        current.as_str()
    );

    // (a) The key file opens every value: nothing goes to the server but the recipient ask.
    let local = ok(run(
        &dir,
        &server,
        &admin,
        &["seal", "--reseal", "local.yaml", "--key-file", "team.key"],
    ));
    assert!(
        local
            .stderr
            .contains("re-sealed 2 values in local.yaml for 2 recipients (2 with the local key file, 0 by the server)"),
        "{}",
        local.stderr
    );
    // (b) No key file: the server opens and re-seals.
    let denied = run(&dir, &server, &caster, &["seal", "--reseal", "remote.yaml"]);
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("remote.yaml")).unwrap(),
        before[1]
    );
    let remote = ok(run(
        &dir,
        &server,
        &admin,
        &["seal", "--reseal", "remote.yaml"],
    ));
    assert!(
        remote
            .stderr
            .contains("(0 with the local key file, 2 by the server)"),
        "{}",
        remote.stderr
    );

    for (index, name) in ["local", "remote"].into_iter().enumerate() {
        let file = format!("{name}.yaml");
        let after = std::fs::read_to_string(dir.join(&file)).unwrap();
        assert_eq!(
            outside_armor(&after),
            outside_armor(&before[index]),
            "{file}"
        );
        assert_ne!(armors(&after), armors(&before[index]), "{file}: new armors");
        opens_to_the_originals(&after, name, &team);
        let lint = rune(&dir)
            .args(["lint", &file, "--key-file", "team.key"])
            .output()
            .unwrap();
        assert!(lint.status.success(), "{lint:?}");
        let cast = ok(run(&dir, &server, &caster, &["cast", &file]));
        assert!(
            cast.stdout.contains("No changes"),
            "{file}: {}",
            cast.stdout
        );
    }
    let audit = server.get("/v1/audit").expect(200);
    let text = audit.to_string();
    assert!(text.contains("\"reseal\""), "{text}");
    assert!(!text.contains(MARK), "{text}");
}

/// A value sealed for another place is refused, by the server and by the key file alike, and
/// the file stays byte for byte; so does a file holding one value nobody here can open.
#[test]
fn values_sealed_for_another_place_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    let admin = server.authenticate(&data);
    let mine = Keys::generate();
    std::fs::write(dir.join("mine.key"), mine.to_text().expose().as_str()).unwrap();

    // Sealed by the server's recipient for `api`, pasted under `db`.
    let pasted = |entry: &str| {
        format!(
            "secret:\n  name: db\n  data:\n{}",
            entry.lines().fold(String::new(), |mut text, line| {
                text.push_str("    ");
                text.push_str(line);
                text.push('\n');
                text
            })
        )
    };
    let by_server = ok(run(
        &dir,
        &server,
        &admin,
        &["seal", "api", "pw", "--from-literal", MARK],
    ))
    .stdout;
    let wrong = pasted(&by_server);
    std::fs::write(dir.join("wrong.yaml"), &wrong).unwrap();
    let refused = run(&dir, &server, &admin, &["seal", "--reseal", "wrong.yaml"]);
    refused_with(&refused, "E-SEALED-PLACE", "wrong.yaml:6:");
    assert_eq!(
        std::fs::read_to_string(dir.join("wrong.yaml")).unwrap(),
        wrong
    );

    // Sealed for the key file only, for `api`, under `db`: refused without asking the server.
    let for_mine = ok(run(
        &dir,
        &server,
        &admin,
        &[
            "seal",
            "api",
            "pw",
            "--from-literal",
            MARK,
            "--recipient",
            &mine.recipients()[0].to_string(),
        ],
    ))
    .stdout;
    let wrong = pasted(&for_mine);
    std::fs::write(dir.join("mine.yaml"), &wrong).unwrap();
    let refused = run(
        &dir,
        &server,
        &admin,
        &["seal", "--reseal", "mine.yaml", "--key-file", "mine.key"],
    );
    refused_with(&refused, "E-SEALED-PLACE", "mine.yaml:6:");
    // Without the key file the server cannot open it: refused too, naming file and line.
    let unopened = run(&dir, &server, &admin, &["seal", "--reseal", "mine.yaml"]);
    refused_with(&unopened, "W-SEALED-UNOPENED", "mine.yaml:6:");
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.yaml")).unwrap(),
        wrong
    );
}
