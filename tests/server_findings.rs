//! Findings the server rejects at plan or apply time (issue #13 item 4): printed once, as
//! diagnostics at the file, line and column of the document that declares the object, even
//! with `-q`; the exit code is that of the server's answer.

use crate::util::{Server, Workspace};

const APP: &str = "\
namespace:
  name: team
---
service:
  name: web
  namespace: team
  image: nginx
  envFrom:
    - secretRef: missing-secret
";

const OTHER: &str = "\
configmaps:
  - name: fine
    data:
      A: b
  - name: cfg
    namespace: nowhere
    data:
      A: b
";

/// `rune [-q] --server URL cast|diff FILES…`: (exit code, stdout, stderr).
fn rune(w: &Workspace, server: &Server, args: &[&str]) -> (Option<i32>, String, String) {
    let url = server.url("");
    w.run(&[&["--server", url.as_str()], args].concat())
}

/// A missing secret and a missing namespace, found by runed: each printed once, at its file
/// and line, with no summary that repeats them; exit 6; nothing applied.
#[test]
fn server_findings_point_at_the_runefiles_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(&dir.path().join("runed"), &[]);
    let w = Workspace::new()
        .file("app.yaml", APP)
        .file("more/other.yaml", OTHER);
    for args in [
        &["-q", "cast", "app.yaml", "more/other.yaml"][..],
        &["cast", "app.yaml", "more/other.yaml"],
        &["-q", "diff", "app.yaml", "more/other.yaml"],
    ] {
        let (code, stdout, stderr) = rune(&w, &server, args);
        assert_eq!(code, Some(6), "rune {args:?}: {stderr}");
        assert_eq!(stdout, "", "rune {args:?}");
        assert_eq!(
            stderr.matches("missing-secret").count(),
            // The server's finding, its message and its snippet at `secretRef:` (the `error:`
            // line only counts); without `-q`, lint's warning too (its message and its snippet).
            if args[0] == "-q" { 2 } else { 4 },
            "rune {args:?}: {stderr}"
        );
        assert_eq!(
            stderr.matches("`nowhere` does not exist").count(),
            1,
            "rune {args:?}: {stderr}"
        );
        assert!(
            stderr.contains("[app.yaml:9:18]"),
            "rune {args:?}: {stderr}"
        );
        assert!(
            stderr.contains("[more/other.yaml:6:16]"),
            "rune {args:?}: {stderr}"
        );
        assert!(stderr.contains("rejected by the server"), "{stderr}");
        assert!(
            stderr.ends_with("error: the server rejected the input: 2 findings above\n"),
            "rune {args:?}: {stderr}"
        );
    }
    let (_, stdout, _) = rune(&w, &server, &["get", "configmaps", "-A"]);
    assert!(!stdout.contains("fine"), "nothing applied: {stdout}");
}

/// A value over the server's own limit points at its data key (list form, a key with a dot),
/// never shows the value, and exits 6.
#[test]
fn a_server_limit_points_at_the_data_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("runed.yaml");
    std::fs::write(
        &config,
        "storage:\n  secret-limits:\n    max-keys-per-secret: 4\n    max-value-size: 16\n",
    )
    .expect("write the server runefile");
    let config = config.display().to_string();
    let server = Server::start(&dir.path().join("runed"), &["--config", &config]);
    let value = "S3CRET-far-longer-than-sixteen-bytes";
    let w = Workspace::new().file(
        "db.yaml",
        &format!(
            "secret:\n  name: db\n  data:\n    - key: user\n      value: app\n    - key: tls.key\n      value: {value}\n"
        ),
    );
    let (code, _, stderr) = rune(&w, &server, &["-q", "cast", "db.yaml"]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stderr.contains("[db.yaml:6:12]"), "{stderr}");
    assert!(stderr.contains("max-value-size"), "{stderr}");
    assert!(!stderr.contains("S3CRET"), "{stderr}");
}
