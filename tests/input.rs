//! Each runefile is read once, however it is named, and `-r` ends in a symlink loop
//! (issue #14): a file read twice would report its resources as duplicates of themselves.

use std::os::unix::fs::symlink;

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::Workspace;

const VALID: &str = "configmap:\n  name: cfg\n  data:\n    k: v\n";

/// `rune lint --format json ARGS` succeeds reading one file and one document.
#[track_caller]
fn reads_once(ws: &Workspace, args: &[&str]) {
    ws.rune()
        .args(["lint", "--format", "json"])
        .args(args)
        .assert()
        .code(0)
        .stdout(
            contains("\"files\": 1,")
                .and(contains("\"documents\": 1,"))
                .and(contains("E-RESOURCE-DUPLICATE").not()),
        );
}

#[test]
fn a_file_named_twice_is_read_once() {
    let ws = Workspace::new().file("deploy/a.yaml", VALID);
    reads_once(&ws, &["deploy/a.yaml", "./deploy/a.yaml"]);
    reads_once(&ws, &["deploy/a.yaml", "deploy/../deploy/a.yaml"]);
    reads_once(&ws, &["deploy", "deploy/*.yaml"]);
    reads_once(&ws, &["-r", "deploy", "./deploy", "deploy/a.yaml"]);
}

#[test]
fn a_symlink_to_a_file_is_read_once() {
    let ws = Workspace::new().file("deploy/a.yaml", VALID);
    symlink("a.yaml", ws.dir.path().join("deploy/link.yaml")).expect("symlink");
    reads_once(&ws, &["-r", "deploy"]);
    reads_once(&ws, &["deploy/a.yaml", "deploy/link.yaml"]);
}

#[test]
fn a_symlink_loop_is_walked_once() {
    let ws = Workspace::new().file("deploy/nested/a.yaml", VALID);
    symlink("..", ws.dir.path().join("deploy/nested/up")).expect("symlink");
    symlink(".", ws.dir.path().join("deploy/self")).expect("symlink");
    reads_once(&ws, &["-r", "deploy"]);
    reads_once(&ws, &["-r", "deploy/nested"]);
}
