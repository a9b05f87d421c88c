//! Target selection (SPEC §3, issue #13 item 1): in CI, no implicit embedded engine; the line
//! naming the target survives `-q`; read-only commands create no data directory, store or KEK.

use crate::util::Workspace;

const RUNEFILE: &str = "secrets:\n  - name: app\n    data:\n      - key: k\n        value: v\n";

/// `rune ARGS…` in the workspace with `CI` set to `ci`.
fn rune_ci(w: &Workspace, ci: &str, args: &[&str]) -> std::process::Output {
    w.rune()
        .env("CI", ci)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("rune runs")
}

/// In CI with no server, context or `--embedded`, every command that needs a target exits 2,
/// says how to choose one, and creates nothing under HOME.
#[test]
fn ci_without_a_target_is_a_usage_error() {
    let w = Workspace::new().file("app.yaml", RUNEFILE);
    let commands: [&[&str]; 8] = [
        &["diff", "app.yaml"],
        &["-q", "diff", "app.yaml"],
        &["cast", "app.yaml"],
        &["cast", "--dry-run", "app.yaml"],
        &["get", "secrets"],
        &["describe", "service", "web"],
        &["status"],
        &["create", "namespace", "team"],
    ];
    for ci in ["true", "1", "yes"] {
        for args in commands {
            let output = rune_ci(&w, ci, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "CI={ci} rune {args:?}: {stderr}"
            );
            assert!(
                stderr.contains("RUNE_SERVER") && stderr.contains("--embedded"),
                "CI={ci} rune {args:?}: {stderr}"
            );
            assert!(output.stdout.is_empty(), "CI={ci} rune {args:?}");
        }
    }
    assert!(
        !w.dir.path().join(".rune").exists(),
        "nothing created under HOME"
    );
}

/// `CI=false`/`CI=0` is no CI; `--embedded` and `--data-dir` choose the embedded engine on
/// purpose, and the line saying so is printed even with `-q`.
#[test]
fn embedded_on_purpose_in_ci() {
    let w = Workspace::new().file("app.yaml", RUNEFILE);
    for ci in ["false", "0"] {
        let output = rune_ci(&w, ci, &["-q", "diff", "app.yaml"]);
        assert_eq!(output.status.code(), Some(1), "CI={ci}: {output:?}");
    }
    let output = rune_ci(&w, "true", &["-q", "--embedded", "diff", "app.yaml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let home = w.dir.path().display();
    assert_eq!(
        stderr,
        format!("rune: using the embedded engine with data in {home}/.rune/local\n")
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 to create"));
    assert!(!w.dir.path().join(".rune").exists(), "diff is read-only");

    let output = rune_ci(
        &w,
        "true",
        &["-q", "--data-dir", "state", "cast", "app.yaml"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(w.dir.path().join("state/kek").is_file());
    let output = rune_ci(
        &w,
        "true",
        &["-q", "--data-dir", "state", "diff", "app.yaml"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "the cast is seen: {output:?}"
    );
}

/// Outside CI, the read-only commands compare with an empty state and create no data
/// directory, store or KEK; the first cast does.
#[test]
fn read_only_commands_create_nothing() {
    let w = Workspace::new().file("app.yaml", RUNEFILE);
    let read_only: [(&[&str], i32); 5] = [
        (&["diff", "app.yaml"], 1),
        (&["cast", "--dry-run", "app.yaml"], 0),
        (&["get", "secrets"], 0),
        (&["get", "secret", "app"], 4),
        (&["describe", "service", "web"], 4),
    ];
    for (args, code) in read_only {
        let output = rune_ci(&w, "false", args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "rune {args:?}: {output:?}"
        );
        assert!(!w.dir.path().join(".rune").exists(), "rune {args:?}");
    }
    let output = rune_ci(&w, "false", &["cast", "app.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(w.dir.path().join(".rune/local/kek").is_file());
}
