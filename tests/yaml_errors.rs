//! YAML errors that say where and what (issue #13 item 10): a tab is reported on its own line
//! and shown in the snippet, tab and indentation errors carry a help line, and a Kubernetes
//! manifest is named as one, pointing at `rune import`.

use serde_json::Value;

use crate::util::Workspace;

/// `rune lint --format json FILE`: exit code and the findings.
fn lint_json(w: &Workspace, file: &str) -> (Option<i32>, Vec<Value>) {
    let output = w
        .rune()
        .args(["lint", "--format", "json", file])
        .output()
        .expect("rune runs");
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON findings");
    let findings = json["diagnostics"].as_array().expect("diagnostics").clone();
    (output.status.code(), findings)
}

fn lint_text(w: &Workspace, file: &str) -> String {
    let output = w.rune().args(["lint", file]).output().expect("rune runs");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn a_tab_is_reported_on_its_line_and_shown() {
    let w = Workspace::new().file("tab.yaml", "configmap:\n  name: app\n\tdata: x\n");
    let (code, findings) = lint_json(&w, "tab.yaml");
    assert_eq!(code, Some(6));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let finding = &findings[0];
    assert_eq!(finding["code"], "E-YAML-SYNTAX");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(
        finding["help"]
            .as_str()
            .is_some_and(|h| h.contains("use spaces")),
        "{finding}"
    );
    let text = lint_text(&w, "tab.yaml");
    assert!(
        text.contains("[tab.yaml:3:1]") && text.contains(" 3 │ →data: x"),
        "{text}"
    );
}

#[test]
fn bad_indentation_says_to_check_it() {
    let w = Workspace::new().file("indent.yaml", "configmap:\n  name: app\n   data: x\n");
    let (code, findings) = lint_json(&w, "indent.yaml");
    assert_eq!(code, Some(6));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["line"].as_u64(), Some(3));
    assert!(
        findings[0]["help"]
            .as_str()
            .is_some_and(|h| h.contains("indentation") && h.contains("spaces")),
        "{findings:?}"
    );
}

#[test]
fn a_kubernetes_manifest_points_at_rune_import() {
    let manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: S3CRET-k8s\n";
    let w = Workspace::new().file("k8s.yaml", manifest);
    let (code, findings) = lint_json(&w, "k8s.yaml");
    assert_eq!(code, Some(6));
    assert_eq!(
        findings.len(),
        1,
        "one finding, not one per key: {findings:?}"
    );
    let finding = &findings[0];
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("Kubernetes `Secret` manifest")),
        "{finding}"
    );
    assert!(
        finding["help"]
            .as_str()
            .is_some_and(|h| h.contains("rune import")),
        "{finding}"
    );
    let text = lint_text(&w, "k8s.yaml");
    assert!(
        text.contains("rune import") && !text.contains("S3CRET"),
        "{text}"
    );
}
