//! The user-visible parser defects of issue #14 through `rune lint`: each finding must be the
//! right one, at the right place.

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::Workspace;

fn lint(text: &str) -> assert_cmd::assert::Assert {
    Workspace::new()
        .file("app.yaml", text)
        .rune()
        .args(["lint", "app.yaml"])
        .assert()
}

/// `.inf` and `.nan` are floats in YAML 1.2: a value-type finding with the quoting hint.
#[test]
fn infinity_is_a_number_to_quote_not_a_syntax_error() {
    lint("configmap:\n  name: a\n  data:\n    x: .inf\n    y: .nan\n")
        .code(6)
        .stdout(
            contains("E-DATA-VALUE-TYPE")
                .and(contains("\"\\.inf\"").or(contains("\".inf\"")))
                .and(contains("E-YAML-SYNTAX").not()),
        );
}

/// Binary data that is not text is a value of the wrong type, not broken YAML.
#[test]
fn binary_data_is_a_value_type_finding() {
    lint("configmap:\n  name: a\n  data:\n    x: !!binary gAE=\n")
        .code(6)
        .stdout(contains("E-DATA-VALUE-TYPE").and(contains("E-YAML-SYNTAX").not()));
}

/// An empty document does not make the next one fail, nor hide its findings.
#[test]
fn an_empty_document_hides_nothing() {
    lint("---\n---\nconfigmap: {name: Bad}\n").code(6).stdout(
        contains("E-NAME-DNS1123")
            .and(contains("app.yaml:3:19"))
            .and(contains("budget").not()),
    );
}

/// A leading byte order mark is no column; one before a later `---` is allowed.
#[test]
fn byte_order_marks_start_documents() {
    Workspace::new()
        .file(
            "app.yaml",
            "\u{feff}configmap: {name: Bad}\n\u{feff}---\nnamespace: {name: team}\n",
        )
        .rune()
        .args(["lint", "app.yaml", "--format", "json"])
        .assert()
        .code(6)
        .stdout(
            contains("\"line\": 1,")
                .and(contains("\"column\": 19,"))
                .and(contains("E-YAML-SYNTAX").not())
                .and(contains("\"documents\": 2")),
        );
}

/// Lone carriage returns end lines: documents split and positions land on their lines.
#[test]
fn carriage_returns_alone_are_line_breaks() {
    lint("namespace: {name: team}\r---\rconfigmap: {name: Bad}\r")
        .code(6)
        .stdout(contains("app.yaml:3:19").and(contains("2 documents")));
}
