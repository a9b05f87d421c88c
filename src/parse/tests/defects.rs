//! Regression tests for the parser defects of issue #14, each against what YAML 1.2 and the
//! reference parsers give.

use crate::diag::Code;
use crate::parse::node::Value;
use crate::parse::{Loaded, load_texts};

fn load(text: &str) -> Loaded {
    load_texts([("in.yaml".to_owned(), text.to_owned())])
}

/// The value at `key` of the last document, and no findings.
#[track_caller]
fn value(text: &str, key: &str) -> Value {
    let loaded = load(text);
    assert!(
        loaded.diagnostics.is_empty(),
        "{text:?}: {:?}",
        loaded.diagnostics
    );
    let entries = loaded
        .documents
        .last()
        .and_then(|d| d.root.as_map())
        .expect("a mapping");
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v.value.clone())
        .expect("the key")
}

fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

#[track_caller]
fn syntax_errors(text: &str) -> usize {
    load(text)
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::YamlSyntax)
        .count()
}

#[test]
fn a_block_scalar_at_the_end_without_a_line_break_has_none() {
    assert_eq!(value("k: |\n  x", "k"), string("x"));
    assert_eq!(value("k: |+\n  x", "k"), string("x"));
    assert_eq!(value("k: >\n  x\n  y", "k"), string("x y"));
    assert_eq!(value("k: |\n  x\n\n  y", "k"), string("x\n\ny"));
    assert_eq!(value("k: |\n  x  ", "k"), string("x  "));
    assert_eq!(value("a: 1\n---\nk: |\n  x", "k"), string("x"));
    // What is not a block scalar, or has its break, keeps it.
    assert_eq!(value("k: |\n  x\n", "k"), string("x\n"));
    assert_eq!(value("k: |\n  x\n  ", "k"), string("x\n"));
    assert_eq!(value("k: \"x\\n\"", "k"), string("x\n"));
    let Value::Seq(items) = value("k: [\"x\\n\"]", "k") else {
        panic!("a list")
    };
    assert_eq!(items[0].value, string("x\n"));
}

/// An empty document used to join the next one, which then failed with
/// `budget breached: Documents { documents: 2 }` on every path but the line reader.
#[test]
fn an_empty_document_does_not_break_the_next_one() {
    for text in [
        "---\n---\nk: {a: 1}\n",
        "---\n# only a comment\n---\nk: |\n  x\n",
        "a: 1\n---\n---\nk: \"\\u00e9\"\n",
    ] {
        let loaded = load(text);
        assert!(
            loaded.diagnostics.is_empty(),
            "{text:?}: {:?}",
            loaded.diagnostics
        );
        assert!(!loaded.documents.is_empty(), "{text:?}");
    }
    // Its findings show: the document is parsed alone.
    let loaded = load("---\n---\nk: [1, 2\n");
    assert_eq!(loaded.diagnostics.len(), 1);
    assert!(
        !loaded.diagnostics[0].message.contains("budget"),
        "{}",
        loaded.diagnostics[0].message
    );
}

#[test]
fn directives_of_empty_documents_are_checked() {
    assert_eq!(syntax_errors("%YAML 1.2\n"), 1);
    assert_eq!(syntax_errors("%YAML 1.2\n...\n"), 1);
    assert_eq!(syntax_errors("%YAML 1.2\n---\n%YAML 1.2\n---\n"), 1);
    assert_eq!(syntax_errors("%YAML 1.2\n---\n"), 0);
    let loaded = load("%YAML 1.2\n---\n...\n---\na: 1\n");
    assert!(loaded.diagnostics.is_empty());
    assert_eq!((loaded.document_count, loaded.documents[0].index), (1, 0));
}

#[test]
fn a_byte_order_mark_may_start_any_document() {
    assert_eq!(value("\u{feff}%YAML 1.2\n---\nk: 1\n", "k"), Value::Int(1));
    let loaded = load("a: 1\n\u{feff}---\nk: {b: 2}\n");
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.documents.len(), 2);
}

#[test]
fn a_leading_byte_order_mark_is_not_a_column() {
    let loaded = load("\u{feff}k: 1\n");
    let root = &loaded.documents[0].root;
    let position = loaded
        .sources
        .get(root.span.source)
        .position(root.span.start);
    assert_eq!((position.line, position.column), (1, 1));
}

#[test]
fn a_byte_order_mark_inside_a_document_is_refused_except_in_quotes() {
    assert_eq!(syntax_errors("k: b\u{feff}c\n"), 1);
    assert_eq!(syntax_errors("k: |\n  b\u{feff}c\n"), 1);
    assert_eq!(syntax_errors("k: 1 # \u{feff}\n"), 1);
    assert_eq!(value("k: \"b\u{feff}c\"\n", "k"), string("b\u{feff}c"));
    assert_eq!(value("k: 'b\u{feff}c'\n", "k"), string("b\u{feff}c"));
}

#[test]
fn lone_carriage_returns_are_line_breaks() {
    let loaded = load("a: 1\r---\rk: [x,\r  y]\rbad: [\r");
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.diagnostics.len(), 1);
    let span = loaded.diagnostics[0].primary.span;
    assert!(loaded.sources.get(span.source).position(span.start).line > 2);
    let root = &loaded.documents[0].root;
    assert_eq!(
        loaded
            .sources
            .get(root.span.source)
            .position(root.span.start)
            .line,
        1
    );
}

#[test]
fn a_question_mark_with_nothing_after_it_is_no_value() {
    assert_eq!(syntax_errors("{k: ?}\n"), 1);
    assert_eq!(syntax_errors("k: {a: ? , b: 1}\n"), 1);
    assert_eq!(syntax_errors("k: [a: ?]\n"), 1);
    assert_eq!(value("k: {a: ?x}\n", "k").type_name(), "a mapping");
    assert_eq!(value("k: '?'\n", "k"), string("?"));
    assert_eq!(value("k: ?x\n", "k"), string("?x"));
}

#[test]
fn continuation_lines_must_be_indented() {
    assert_eq!(syntax_errors("---\nflow: [a,\nb,\nc]\n"), 1);
    assert_eq!(syntax_errors("---\nquoted: \"a\nb\nc\"\n"), 1);
    assert_eq!(syntax_errors("foo: \"bar\n\tbaz\"\n"), 1);
    assert_eq!(value("flow: [a,\n  b]\n", "flow").type_name(), "a list");
    assert_eq!(
        value("flow: [\n  a,\n  b\n  ]\n", "flow").type_name(),
        "a list"
    );
    // YAML 1.2 wants even the closing bracket indented past the key: this is refused now.
    assert_eq!(syntax_errors("flow: [\n  a\n]\n"), 1);
}

#[test]
fn numbers_follow_the_yaml_1_2_core_schema() {
    for text in ["1_000", "0b101", "+0x1F", "-0x1F", "0x1_F"] {
        assert_eq!(value(&format!("k: {text}\n"), "k"), string(text), "{text}");
    }
    for (text, int) in [
        ("0x1F", 31),
        ("0o17", 15),
        ("+12", 12),
        ("007", 7),
        ("-3", -3),
    ] {
        assert_eq!(
            value(&format!("k: {text}\n"), "k"),
            Value::Int(int),
            "{text}"
        );
    }
    assert_eq!(value("k: !!int 0x1F\n", "k"), Value::Int(31));
}

#[test]
fn infinities_and_not_a_number_are_floats() {
    for text in [".inf", "-.inf", "+.inf", ".Inf", ".nan", ".NaN"] {
        let Value::Float(float) = value(&format!("k: {text}\n"), "k") else {
            panic!("{text} should be a float");
        };
        assert!(!float.is_finite(), "{text}");
    }
}

#[test]
fn binary_that_is_not_text_is_a_value_not_a_syntax_error() {
    assert_eq!(
        value("k: !!binary gAE=\n", "k"),
        Value::Binary(vec![0x80, 0x01])
    );
    assert_eq!(
        value("k: !!binary |\n  gA\n  E=\n", "k"),
        Value::Binary(vec![0x80, 0x01])
    );
    assert_eq!(value("k: !!binary aGk=\n", "k"), string("hi"));
    assert_eq!(value("k: !!binary 'aGk='\n", "k"), string("hi"));
    assert_eq!(syntax_errors("k: !!binary not*base64\n"), 1);
    assert_eq!(value("k: !!str 0b1\n", "k"), string("0b1"));
}
