//! `rune lint` through the real binary: inputs, formats, exit codes.

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::{Workspace, root};

const VALID: &str =
    "secrets:\n  - name: db\n    data:\n      - key: password\n        value: hunter2\n";

/// The quickstart fixture (the upstream page's examples) lints clean: no error, no warning
/// (issue #13).
#[test]
fn quickstart_has_no_errors() {
    crate::util::rune(&root())
        .args(["lint", "fixtures/quickstart.yaml"])
        .assert()
        .success()
        .stdout("1 file (3 documents): no problems\n");
}

/// Every document of a multi-document file is checked: an error in the third is found.
#[test]
fn every_document_counts() {
    let ws = Workspace::new().file(
        "app.yaml",
        "namespace: {name: team}\n---\nconfigmap: {name: a, data: {k: v}}\n---\nconfigmap: {name: Bad}\n",
    );
    ws.rune()
        .args(["lint", "app.yaml"])
        .assert()
        .code(6)
        .stdout(contains("E-NAME-DNS1123").and(contains("app.yaml:5:19")));
}

/// A syntax error in one document does not hide findings in the others.
#[test]
fn syntax_error_does_not_hide_other_documents() {
    let ws = Workspace::new().file(
        "a.yaml",
        "configmap: {name: ok\n---\nconfigmap: {name: x_y}\n",
    );
    ws.rune()
        .args(["lint", "a.yaml", "--format", "json"])
        .assert()
        .code(6)
        .stdout(contains("E-YAML-SYNTAX").and(contains("E-NAME-DNS1123")));
}

/// Exit codes: 0 clean, 6 on an error, 2 for a path that does not exist or a bad flag.
#[test]
fn exit_codes() {
    let ws = Workspace::new()
        .file("ok.yaml", VALID)
        .file("bad.yaml", "secret: {name: A}\n");
    ws.rune().args(["lint", "ok.yaml"]).assert().code(0);
    ws.rune().args(["lint", "bad.yaml"]).assert().code(6);
    ws.rune()
        .args(["lint", "missing.yaml"])
        .assert()
        .code(2)
        .stderr(contains("`missing.yaml` does not exist"));
    ws.rune()
        .args(["lint", "--nope", "ok.yaml"])
        .assert()
        .code(2);
    ws.rune().args(["lint"]).assert().code(2);
}

/// Warnings alone do not fail the run.
#[test]
fn warnings_exit_zero() {
    let ws = Workspace::new().file(
        "svc.yaml",
        "service:\n  name: api\n  image: x\n  envFrom:\n    - secretRef: elsewhere\n",
    );
    ws.rune()
        .args(["lint", "svc.yaml"])
        .assert()
        .code(0)
        .stdout(contains("W-REF-UNRESOLVED"));
}

/// Directories need `-r` to recurse; globs are expanded by rune; `-` reads standard input.
#[test]
fn directories_globs_and_stdin() {
    let ws = Workspace::new()
        .file("deploy/a.yaml", VALID)
        .file("deploy/nested/b.yml", "configmap: {name: Nope_}\n")
        .file("deploy/readme.txt", "not yaml: [");
    ws.rune().args(["lint", "deploy"]).assert().code(0);
    ws.rune()
        .args(["lint", "-r", "deploy"])
        .assert()
        .code(6)
        .stdout(contains("deploy/nested/b.yml"));
    ws.rune().args(["lint", "deploy/**/*.yml"]).assert().code(6);
    ws.rune()
        .args(["lint", "nothing/*.yaml"])
        .assert()
        .code(2)
        .stderr(contains("matches no files"));
    ws.rune()
        .args(["lint", "-"])
        .write_stdin("configmap: {name: x, data: {a: 1}}\n")
        .assert()
        .code(6)
        .stdout(contains("<stdin>:1:32"));
}

/// Duplicate resources across files name both places.
#[test]
fn duplicates_across_files() {
    let ws = Workspace::new().file("a.yaml", VALID).file("b.yaml", VALID);
    ws.rune()
        .args(["lint", "a.yaml", "b.yaml"])
        .assert()
        .code(6)
        .stdout(contains("E-RESOURCE-DUPLICATE").and(contains("first declared here: a.yaml:2:11")));
}

/// `-n` sets the namespace of resources that name none; a document's own namespace wins.
#[test]
fn namespace_flag() {
    let ws = Workspace::new().file(
        "a.yaml",
        "secret: {name: db, data: {k: v}}\n---\nsecret: {name: db, namespace: prod, data: {k: v}}\n",
    );
    ws.rune().args(["lint", "a.yaml"]).assert().code(0);
    ws.rune()
        .args(["lint", "-n", "prod", "a.yaml"])
        .assert()
        .code(6)
        .stdout(contains("secret `prod/db` is declared twice"));
}

/// No output format ever prints a secret value, even when a finding is about that value.
#[test]
fn secret_values_never_printed() {
    let ws = Workspace::new().file(
        "s.yaml",
        "secret:\n  name: db\n  data:\n    pin: 424242\n    token: s3cr3t-t0ken\n    bad/key: s3cr3t-t0ken\n",
    );
    for format in ["text", "json", "sarif", "github"] {
        ws.rune()
            .args(["lint", "s.yaml", "--format", format])
            .assert()
            .code(6)
            .stdout(contains("424242").not().and(contains("s3cr3t").not()));
    }
}

/// `-q` prints errors only.
#[test]
fn quiet_prints_errors_only() {
    let ws = Workspace::new().file(
        "w.yaml",
        "service: {name: api, image: x, envFrom: [{secretRef: gone}]}\n",
    );
    ws.rune()
        .args(["lint", "-q", "w.yaml"])
        .assert()
        .code(0)
        .stdout("");
}

/// A server runefile is recognised by content and validated.
#[test]
fn server_runefile_is_validated() {
    let ws = Workspace::new()
        .file(
            "server.yaml",
            "server:\n  listen: 127.0.0.1:7861\nstorage:\n  versions-kept: 10\n",
        )
        .file(
            "bad-server.yaml",
            "server:\n  listen: nowhere\nstorag: {}\n",
        );
    ws.rune().args(["lint", "server.yaml"]).assert().code(0);
    ws.rune()
        .args(["lint", "bad-server.yaml"])
        .assert()
        .code(6)
        .stdout(
            contains("`nowhere` is not a listen address").and(contains("did you mean `storage`?")),
        );
}
