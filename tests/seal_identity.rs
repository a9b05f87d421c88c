//! `rune admin seal-identity status|rotate` with a real runed (SPEC §4.6, issue #15): a new
//! identity becomes current, and values sealed for the earlier one keep casting, across a
//! restart too.

use std::time::Duration;

use serde_json::Value;

use crate::util::{Server, create_token_with, rune};

fn runefile(name: &str) -> String {
    format!("secret:\n  name: {name}\n  data:\n    - key: pw\n      value: \"value-of-{name}\"\n")
}

/// Rotate between two seals: the file sealed before still casts (and, after a restart, still
/// plans as unchanged), the seal recipient is the new identity, `status` lists both, and a
/// token without `admin` gets exit 3.
#[test]
fn values_sealed_before_a_rotation_still_cast() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    let admin = server.authenticate(&data);
    let caster = create_token_with(&data, "ci", &[], "read,cast");
    let run = |server: &Server, token: &str, args: &[&str]| {
        rune(tmp.path())
            .args(args)
            .args(["--server", &server.url(""), "--token", token])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let json = |output: std::process::Output| -> Value {
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    for name in ["old", "new"] {
        std::fs::write(tmp.path().join(format!("{name}.yaml")), runefile(name)).unwrap();
    }
    let sealed = run(&server, &admin, &["seal", "--in-place", "old.yaml"]);
    assert!(sealed.status.success(), "{sealed:?}");
    let before = json(run(
        &server,
        &admin,
        &["admin", "seal-identity", "status", "-o", "json"],
    ));
    let first = before["current"].as_str().unwrap().to_owned();

    let rotated = json(run(
        &server,
        &admin,
        &["admin", "seal-identity", "rotate", "-o", "json"],
    ));
    let second = rotated["current"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(rotated["recipients"], serde_json::json!([second, first]));
    assert_eq!(
        server.get("/v1/seal-recipient").expect(200)["recipient"],
        second
    );
    let denied = run(&server, &caster, &["admin", "seal-identity", "rotate"]);
    assert_eq!(denied.status.code(), Some(3), "{denied:?}");

    let sealed = run(&server, &admin, &["seal", "--in-place", "new.yaml"]);
    assert!(sealed.status.success(), "{sealed:?}");
    for file in ["old.yaml", "new.yaml"] {
        let cast = run(&server, &caster, &["cast", file]);
        assert!(cast.status.success(), "{file}: {cast:?}");
    }
    let kek = server.get("/v1/admin/kek").expect(200);
    assert_eq!(kek["keks"][0]["sealIdentities"], 2, "{kek}");
    server.stop();

    let server = Server::start(&data, &[]);
    let status = json(run(
        &server,
        &admin,
        &["admin", "seal-identity", "status", "-o", "json"],
    ));
    assert_eq!(status["current"], second);
    let diff = run(&server, &caster, &["diff", "old.yaml", "new.yaml"]);
    assert_eq!(diff.status.code(), Some(0), "{diff:?}");
}
