//! `rune import` (issue #13 item 11): Kubernetes `Secret`/`ConfigMap` manifests → runefiles,
//! round trip through a real runed; `--seal` writes no plaintext.

use serde_json::{Value, json};

use crate::util::{Server, Workspace};

const MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: team
  labels:
    app: web
data:
  LOG_LEVEL: debug
  app.conf: |
    a = 1
    b = \"two\"
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: team
type: Opaque
data:
  password: U0VOVElORUwtYmFzZTY0
  user: YXBw
stringData:
  user: SENTINEL-string
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
";

/// `rune ARGS…` in the workspace: (exit code, stdout, stderr).
fn rune(w: &Workspace, args: &[&str]) -> (Option<i32>, String, String) {
    w.run(args)
}

/// import --seal → lint clean → cast → `get -o json` has the configmap's data and the secret's
/// keys (stringData won for `user`); the written runefile holds no plaintext; the Deployment is
/// skipped with a warning.
#[test]
fn import_round_trip_through_runed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(&dir.path().join("runed"), &[]);
    let url = server.url("");
    let w = Workspace::new().file("k8s/manifests.yaml", MANIFESTS);
    let (code, stdout, stderr) = rune(
        &w,
        &[
            "--server",
            &url,
            "import",
            "--seal",
            "--output-file",
            "runefiles/app.yaml",
            "k8s/manifests.yaml",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("skipped Deployment `web`") && !stderr.contains("SENTINEL"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(w.dir.path().join("runefiles/app.yaml"))
        .expect("the runefile was written");
    assert!(!written.contains("SENTINEL"), "{written}");
    assert!(
        written.contains("sealed: |") && written.contains("configmap:"),
        "{written}"
    );

    let (code, stdout, stderr) = rune(&w, &["lint", "runefiles/app.yaml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("no problems"), "{stdout}");

    let (code, _, stderr) = rune(
        &w,
        &[
            "--server",
            &url,
            "cast",
            "--create-namespace",
            "runefiles/app.yaml",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");

    let get = |kind: &str, name: &str| -> Value {
        let (code, stdout, stderr) = rune(
            &w,
            &[
                "--server", &url, "-n", "team", "get", kind, name, "-o", "json",
            ],
        );
        assert_eq!(code, Some(0), "{stderr}");
        serde_json::from_str(&stdout).expect("JSON")
    };
    let config = get("configmap", "app-config");
    assert_eq!(
        config["data"],
        json!({"LOG_LEVEL": "debug", "app.conf": "a = 1\nb = \"two\"\n"})
    );
    assert_eq!(config["labels"], json!({"app": "web"}));
    let secret = get("secret", "db");
    assert_eq!(secret["keys"], json!(["password", "user"]));
}

/// Without `--seal`, a secret is refused (exit 2) and nothing is written; `--allow-plaintext`
/// writes it, marked `allowPlaintext: true`, to stdout (from standard input here).
#[test]
fn plaintext_needs_to_be_asked_for() {
    let w = Workspace::new().file("m.yaml", MANIFESTS);
    let (code, stdout, stderr) = rune(&w, &["import", "m.yaml"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("--seal") && !stderr.contains("SENTINEL"),
        "{stderr}"
    );

    let output = w
        .rune()
        .args(["import", "--allow-plaintext", "-"])
        .write_stdin(MANIFESTS)
        .output()
        .expect("rune runs");
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(text.contains("allowPlaintext: true"), "{text}");
    assert!(text.contains("value: \"SENTINEL-base64\""), "{text}");
    assert!(text.contains("value: \"SENTINEL-string\""), "{text}");
}
