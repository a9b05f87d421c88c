//! Findings grouped by file, then by line (issue #13 item 5), in text and GitHub output; GitHub
//! annotations and SARIF results name files relative to the repository root (else to the
//! current directory).

use std::path::Path;

use serde_json::Value;

use crate::util::{git_ok, rune};

/// Bad names on lines 2 and 8 of one file, so that a second file's line 2 sorts between them
/// if findings are ordered by line across files.
const LONG: &str = "configmaps:\n  - name: Bad_One\n    data:\n      a: b\n  - name: fine\n    data:\n      a: b\n  - name: Bad_Two\n    data:\n      a: b\n";
const SHORT: &str = "configmap:\n  name: Bad_Three\n  data:\n    a: b\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
    std::fs::write(path, text).expect("write a runefile");
}

/// `rune lint ARGS…` in `dir`: its stdout.
fn lint(dir: &Path, args: &[&str]) -> String {
    let output = rune(dir)
        .arg("lint")
        .args(args)
        .output()
        .expect("rune runs");
    assert_eq!(output.status.code(), Some(6), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The order in which `needles` first occur in `text`.
fn order<'a>(text: &str, needles: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> = needles
        .iter()
        .map(|n| (text.find(n).unwrap_or_else(|| panic!("{n} in {text}")), *n))
        .collect();
    found.sort_unstable();
    found.into_iter().map(|(_, n)| n).collect()
}

/// Text and GitHub output keep each file's findings together, in line order.
#[test]
fn findings_are_grouped_by_file_then_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    write(&dir.path().join("long.yaml"), LONG);
    write(&dir.path().join("short.yaml"), SHORT);
    let names = ["Bad_One", "Bad_Two", "Bad_Three"];
    let text = lint(dir.path(), &["long.yaml", "short.yaml"]);
    assert_eq!(order(&text, &names), names, "{text}");
    let github = lint(
        dir.path(),
        &["--format", "github", "long.yaml", "short.yaml"],
    );
    assert_eq!(order(&github, &names), names, "{github}");
    let lines: Vec<&str> = github
        .lines()
        .filter_map(|l| l.split(",col=").next())
        .collect();
    assert_eq!(
        lines,
        [
            "::error file=long.yaml,line=2",
            "::error file=long.yaml,line=8",
            "::error file=short.yaml,line=2"
        ],
        "{github}"
    );
}

/// From a subdirectory of a repository, annotations and SARIF name files from the root;
/// outside any repository, from the current directory.
#[test]
fn machine_formats_name_files_from_the_repository_root() {
    let top = tempfile::tempdir().expect("a temporary directory");
    let repo = top.path().join("repo");
    write(&repo.join("deploy/app/long.yaml"), LONG);
    write(&repo.join("ops/short.yaml"), SHORT);
    git_ok(&repo, &["init", "-q"]);
    let cwd = repo.join("deploy");
    let args = ["app/long.yaml", "../ops/short.yaml"];

    let github = lint(&cwd, &[&["--format", "github"][..], &args].concat());
    assert!(github.contains("file=deploy/app/long.yaml,"), "{github}");
    assert!(github.contains("file=ops/short.yaml,"), "{github}");

    let sarif: Value =
        serde_json::from_str(&lint(&cwd, &[&["--format", "sarif"][..], &args].concat()))
            .expect("SARIF is JSON");
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("a URI")
        })
        .collect();
    assert_eq!(
        uris,
        [
            "deploy/app/long.yaml",
            "deploy/app/long.yaml",
            "ops/short.yaml"
        ]
    );

    // The text output keeps the names as given.
    let text = lint(&cwd, &args);
    assert!(text.contains("[../ops/short.yaml:2:9]"), "{text}");

    let outside = top.path().join("outside");
    write(&outside.join("short.yaml"), SHORT);
    let absolute = outside.join("short.yaml").display().to_string();
    let github = lint(&outside, &["--format", "github", &absolute]);
    assert!(github.starts_with("::error file=short.yaml,"), "{github}");
}
