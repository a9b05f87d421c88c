//! The official YAML test suite (vendored under `tests/yaml-test-suite/`, MIT) through rune's
//! parser, in-process: every invalid case must give a syntax finding, every valid case none, and
//! where a valid case has a JSON form, the documents rune keeps must hold those values.
//!
//! rune deviates from the suite on purpose in a few cases, listed in [`DEVIATIONS`] with the
//! reason; a case that deviates without being listed, or is listed but no longer deviates, fails
//! the test, so the list stays exact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rune::diag::Code;
use rune::parse::node::{Node, Value};
use rune::parse::{ReadFile, load_read};

/// Cases where rune's verdict or values differ from the suite's, on purpose, with the reason.
const DEVIATIONS: &[(&str, &str)] = &[];

/// Valid cases with an empty document (a `null` in the suite's JSON) that rune does not keep:
/// an empty document makes no resource (a stray or trailing `---` is common in runefiles). The
/// other documents of these cases must still match.
const EMPTY_DOCUMENTS_DROPPED: &[&str] = &[
    "6XDY", "6ZKB", "9DXL", "DK95/07", "MUS6/02", "MUS6/03", "MUS6/04", "MUS6/05", "MUS6/06",
    "PUW8", "UT92", "W4TN",
];

/// One case of the suite: its id (`229Q`, `SM9W/01`) and files.
struct Case {
    id: String,
    yaml: Vec<u8>,
    json: Option<String>,
    invalid: bool,
}

fn cases() -> Vec<Case> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml-test-suite/data");
    let mut dirs = Vec::new();
    collect(&data, &mut dirs);
    dirs.sort();
    dirs.into_iter()
        .map(|dir| Case {
            id: dir
                .strip_prefix(&data)
                .expect("below data")
                .to_string_lossy()
                .into_owned(),
            yaml: std::fs::read(dir.join("in.yaml")).expect("in.yaml"),
            json: std::fs::read_to_string(dir.join("in.json")).ok(),
            invalid: dir.join("error").exists(),
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("in.yaml").exists() {
        out.push(dir.to_path_buf());
    }
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        }
    }
}

/// What rune makes of one case: `Err(message)` when the verdict or the values differ,
/// `Ok(true)` when it matched once the empty documents were dropped.
fn verdict(case: &Case) -> Result<bool, String> {
    let loaded = load_read([ReadFile {
        bytes: case.yaml.clone(),
        name: "in.yaml".to_owned(),
        path: PathBuf::from("in.yaml"),
    }]);
    let syntax: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| matches!(d.code, Code::YamlSyntax | Code::InputEncoding))
        .collect();
    if case.invalid {
        return if syntax.is_empty() {
            Err("invalid YAML accepted".to_owned())
        } else {
            Ok(false)
        };
    }
    if let Some(first) = syntax.first() {
        return Err(format!("valid YAML refused: {}", first.message));
    }
    let Some(json) = &case.json else {
        return Ok(false);
    };
    let expected: Vec<serde_json::Value> = serde_json::Deserializer::from_str(json)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("in.json: {e}"))?;
    let dropped = expected.len() != loaded.documents.len();
    let expected: Vec<_> = if dropped {
        expected.into_iter().filter(|v| !v.is_null()).collect()
    } else {
        expected
    };
    let got: Vec<_> = loaded.documents.iter().map(|d| json_of(&d.root)).collect();
    if got.len() != expected.len() {
        return Err(format!(
            "{} documents, expected {}",
            got.len(),
            expected.len()
        ));
    }
    for (got, expected) in got.iter().zip(&expected) {
        if !same(got, expected) {
            return Err(format!("value {got} expected {expected}"));
        }
    }
    Ok(dropped)
}

fn json_of(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        // The suite's JSON holds a `!!binary` scalar as its base64 text.
        Value::Binary(bytes) => {
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            J::String(format!("{BINARY}{text}"))
        }
        Value::Bool(b) => J::Bool(*b),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Int(i) => serde_json::Number::from_f64(*i as f64).map_or(J::Null, J::Number),
        Value::Null => J::Null,
        Value::String(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(json_of).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), json_of(v)))
                .collect(),
        ),
    }
}

/// Marks the JSON form of binary data, whose base64 text the suite breaks into lines.
const BINARY: &str = "!!binary ";

/// JSON equality with numbers compared as floats (`1` and `1.0` are the same YAML value).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::String(x), J::String(y)) if x.starts_with(BINARY) => {
            x[BINARY.len()..] == y.split_whitespace().collect::<String>()
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn rune_reads_the_yaml_test_suite() {
    let mut failures = BTreeMap::new();
    let mut dropped = Vec::new();
    let cases = cases();
    assert!(cases.len() > 400, "the suite has {} cases", cases.len());
    for case in &cases {
        match verdict(case) {
            Ok(true) => dropped.push(case.id.as_str()),
            Ok(false) => {}
            Err(why) => {
                failures.insert(case.id.clone(), why);
            }
        }
    }
    let mut report = Vec::new();
    if dropped != EMPTY_DOCUMENTS_DROPPED {
        report.push(format!(
            "cases with empty documents dropped: {dropped:?}, listed: {EMPTY_DOCUMENTS_DROPPED:?}"
        ));
    }
    for (id, why) in &failures {
        if !DEVIATIONS.iter().any(|(d, _)| d == id) {
            report.push(format!("{id}: {why}"));
        }
    }
    for (id, _) in DEVIATIONS {
        if !failures.contains_key(*id) {
            report.push(format!("{id}: listed as a deviation but rune now agrees"));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
