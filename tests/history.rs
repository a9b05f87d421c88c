//! `rune history` and `rune rollback` with a real runed (SPEC §3, issue #15).

use std::time::Duration;

use serde_json::Value;

use crate::util::{Server, rune};

const SENTINEL: &str = "SENTINEL-hist-5b1e";

fn runefile(pw: &str, token: bool, level: &str) -> String {
    let mut text = format!(
        "secrets:\n  - name: db\n    data:\n      - key: user\n        value: admin\n      - key: pw\n        value: \"{pw}\"\n"
    );
    if token {
        text.push_str("      - key: token\n        value: \"tok-1\"\n");
    }
    text.push_str("configmaps:\n  - name: app\n    data:\n      level: ");
    text.push_str(level);
    text.push('\n');
    text
}

/// History shows who cast each version from which path, with key names only; a rollback makes
/// a new version with the old keys (values never leave the server), warns that the next cast
/// changes it back, and that cast does plan the change back; a version no longer retained is
/// exit 4.
#[test]
fn history_then_rollback_then_cast_plans_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    let token = server.authenticate(&data);
    let run = |args: &[&str]| {
        rune(tmp.path())
            .args(args)
            .args(["--server", &server.url(""), "--token", &token])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let write = |text: String| std::fs::write(tmp.path().join("app.yaml"), text).unwrap();
    write(runefile(&format!("{SENTINEL}-1"), false, "info"));
    assert!(run(&["cast", "app.yaml"]).status.success());
    write(runefile(&format!("{SENTINEL}-2"), true, "debug"));
    assert!(run(&["cast", "app.yaml"]).status.success());

    let output = run(&["history", "secret", "db", "-o", "json"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains(SENTINEL), "{text}");
    let history: Value = serde_json::from_str(&text).unwrap();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["castBy"], "token:tests");
    assert!(
        versions[0]["path"].as_str().unwrap().ends_with("app.yaml"),
        "{history}"
    );
    assert_eq!(
        versions[0]["changes"]["added"],
        serde_json::json!(["token"])
    );
    assert_eq!(versions[0]["changes"]["changed"], serde_json::json!(["pw"]));
    assert_eq!(
        versions[1]["changes"]["added"],
        serde_json::json!(["pw", "user"])
    );
    let table = run(&["history", "secret", "db"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("v2") && table.contains("+ token") && table.contains("~ pw"),
        "{table}"
    );
    assert!(!table.contains(SENTINEL));

    let rolled = run(&["rollback", "secret", "db", "--to-version", "1"]);
    assert!(rolled.status.success(), "{rolled:?}");
    let stderr = String::from_utf8_lossy(&rolled.stderr);
    assert!(stderr.contains("will plan to overwrite"), "{stderr}");
    let got = run(&["get", "secret", "db", "-o", "json"]);
    let got: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["version"], 3);
    assert_eq!(got["keys"], serde_json::json!(["pw", "user"]));
    assert!(
        run(&["rollback", "config", "app", "--to-version", "1"])
            .status
            .success()
    );
    let got = run(&["get", "config", "app", "-o", "json"]);
    let got: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["data"]["level"], "info", "{got}");

    let diff = run(&["diff", "app.yaml"]);
    assert_eq!(diff.status.code(), Some(1), "{diff:?}");
    let plan = String::from_utf8(diff.stdout).unwrap();
    assert!(plan.contains("+ token") && plan.contains("~ pw"), "{plan}");
    assert!(plan.contains("v3 → v4"), "{plan}");

    let gone = run(&["rollback", "secret", "db", "--to-version", "99"]);
    assert_eq!(gone.status.code(), Some(4), "{gone:?}");
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no longer retained"));
    let missing = run(&["history", "secret", "nope"]);
    assert_eq!(missing.status.code(), Some(4), "{missing:?}");
    server.stop();
}
