//! `rune audit` with a real runed (SPEC §4.6, issue #15): changes and denied requests are
//! recorded with caller and outcome; a secret value never reaches a record.

use std::time::Duration;

use serde_json::Value;

use rune::server::store::Store;
use rune::server::store::redb::RedbStore;

use crate::util::{Server, create_token_with, rune};

const SENTINEL: &str = "SENTINEL-audit-93c4";

/// A cast, a delete and a rollback by an admin token are recorded (caller, objects with
/// versions, `ok`); a cast by a `read` token (403) and a request with an unknown token (401)
/// are recorded as denied. `rune audit` needs `admin` (exit 3 otherwise), `-n` filters by
/// namespace, and the sentinel value is in no record, neither in the output nor in the
/// store's audit table.
#[test]
fn changes_and_denials_are_audited_without_values() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    let admin = server.authenticate(&data);
    let reader = create_token_with(&data, "reader", &[], "read");
    let run = |token: &str, args: &[&str]| {
        rune(tmp.path())
            .args(args)
            .args(["--server", &server.url(""), "--token", token])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    std::fs::write(
        tmp.path().join("s.yaml"),
        format!(
            "secrets:\n  - name: db\n    data:\n      - key: pw\n        value: \"{SENTINEL}\"\n"
        ),
    )
    .unwrap();
    assert!(run(&admin, &["cast", "s.yaml"]).status.success());
    std::fs::write(
        tmp.path().join("s.yaml"),
        format!(
            "secrets:\n  - name: db\n    data:\n      - key: pw\n        value: \"{SENTINEL}-2\"\n"
        ),
    )
    .unwrap();
    assert!(run(&admin, &["cast", "s.yaml"]).status.success());
    assert!(
        run(&admin, &["rollback", "secret", "db", "--to-version", "1"])
            .status
            .success()
    );
    let denied = run(&reader, &["cast", "s.yaml"]);
    assert_eq!(denied.status.code(), Some(3), "{denied:?}");
    let unknown = run("not-a-token", &["get", "secrets"]);
    assert_eq!(unknown.status.code(), Some(3), "{unknown:?}");
    assert_eq!(run(&reader, &["audit"]).status.code(), Some(3));

    let output = run(&admin, &["audit", "--since", "1h", "-o", "json"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains(SENTINEL), "{text}");
    let audit: Value = serde_json::from_str(&text).unwrap();
    let items = audit["items"].as_array().unwrap();
    let find = |pred: &dyn Fn(&Value) -> bool| items.iter().find(|e| pred(e)).cloned();
    let cast = find(&|e| e["action"] == "apply" && e["objects"][0]["toVersion"] == 1)
        .unwrap_or_else(|| panic!("no apply record: {audit}"));
    assert_eq!(cast["caller"], "token:tests");
    assert_eq!(cast["outcome"], "ok");
    assert_eq!(cast["remote"], "127.0.0.1");
    assert_eq!(cast["objects"][0]["kind"], "secret");
    assert_eq!(cast["objects"][0]["name"], "db");
    let update = find(&|e| e["action"] == "apply" && e["objects"][0]["fromVersion"] == 1).unwrap();
    assert_eq!(update["objects"][0]["toVersion"], 2);
    let rollback = find(&|e| e["action"] == "rollback").unwrap();
    assert_eq!(
        (
            rollback["objects"][0]["fromVersion"].as_u64(),
            rollback["objects"][0]["toVersion"].as_u64()
        ),
        (Some(2), Some(3))
    );
    let forbidden = find(&|e| e["outcome"] == "denied" && e["caller"] == "token:reader")
        .unwrap_or_else(|| panic!("no denial of the reader: {audit}"));
    assert_eq!(forbidden["status"], 403);
    assert!(
        forbidden["request"]
            .as_str()
            .unwrap()
            .starts_with("POST /v1/"),
        "{forbidden}"
    );
    let unauthenticated = find(&|e| e["outcome"] == "denied" && e["status"] == 401).unwrap();
    assert_eq!(unauthenticated["caller"], Value::Null);
    let table = String::from_utf8(run(&admin, &["audit"]).stdout).unwrap();
    assert!(
        table.contains("token:reader") && table.contains("denied (403)"),
        "{table}"
    );
    let other = run(&admin, &["audit", "-n", "other", "-o", "json"]);
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert!(
        other["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "apply"),
        "{other}"
    );
    assert_eq!(
        run(&admin, &["audit", "--since", "soon"]).status.code(),
        Some(2)
    );
    server.stop();

    assert_no_sentinel_in_the_store(&data);
}

/// The store's audit table, read through the Store trait: no record holds the sentinel.
fn assert_no_sentinel_in_the_store(data: &std::path::Path) {
    let store = RedbStore::open(data).unwrap();
    let entries = (&store as &dyn Store)
        .read(|tx| tx.audit("", 100_000))
        .unwrap();
    assert!(entries.len() >= 5, "{entries:?}");
    let stored = serde_json::to_string(&entries).unwrap();
    assert!(!stored.contains(SENTINEL), "{stored}");
}
