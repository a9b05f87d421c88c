//! The paths of [`super::parse_document`] agree: wherever a shortcut (the line reader or the
//! events path) builds a tree, serde-saphyr accepts the text and builds the same tree, spans
//! included. Hand-picked texts here; generated ones in [`generated`].

mod defects;
mod flow;
mod generated;

use crate::parse::node::Anchor;
use crate::parse::{block, conform, events, saphyr};
use crate::source::SourceId;

/// Which shortcut paths took a text.
#[derive(Debug, PartialEq)]
struct Taken {
    block: bool,
    fast: bool,
}

/// Every path over one text: where a shortcut (the line reader or the granit path) builds a
/// tree, serde-saphyr accepts the text and builds the same tree, spans included, once
/// [`conform`] has put right what `parse_document` puts right after the last two paths.
fn paths_agree(text: &str) -> Result<Taken, String> {
    let at = Anchor {
        base: 7,
        source: SourceId(3),
        text,
    };
    let block = block::parse(&at);
    let fast = events::parse(&at).map(|tree| conform::document(tree, &at));
    let taken = Taken {
        block: block.is_some(),
        fast: fast.is_some(),
    };
    if block.is_none() && fast.is_none() {
        return Ok(taken);
    }
    let slow = saphyr::parse(&at, &super::budget::Invocation::default()).map_err(|error| {
        format!(
            "a shortcut accepted {text:?} ({taken:?}), serde-saphyr refused: {}",
            error.message
        )
    })?;
    let slow = conform::document(slow, &at);
    for (path, tree) in [("line reader", block.map(Ok)), ("granit path", fast)] {
        if let Some(tree) = tree
            && tree != slow
        {
            return Err(format!(
                "the {path} differs for {text:?}:\n{path} {tree:#?}\nserde {slow:#?}"
            ));
        }
    }
    Ok(taken)
}

fn same_as_serde(text: &str) -> Result<bool, String> {
    paths_agree(text).map(|taken| taken.fast)
}

#[track_caller]
fn check(text: &str) -> bool {
    same_as_serde(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn fast_path_matches_serde_saphyr_on_runefile_shapes() {
    let taken = [
        "configmap:\n  name: cfg-1\n  namespace: default\n  data:\n    - key: log-level\n      value: info\n",
        "secrets:\n  - name: db\n    data: {password: \"hunter2\", 'user': admin}\n",
        "service:\n  name: web\n  scale: 3\n  ports: [{port: 8080, targetPort: -1}]\n  env: {A: ~, B: null, C: true, D: False, E: ''}\n",
        "volume: {name: v, size: 10Gi, storageClassName: fast}\n",
        "a:\n  - |\n    block\n    text\n  - >\n    folded\n    text\n  -\n  - \"esc\\taped\"\n",
        "8080: x\ntrue: y\nnull: z\n~: w\n\"q\": 1\n: empty\n",
        "\u{feff}a: 1\n",
        "# comment\n---\na: 1 # trailing\n...\n",
        "[1, two, {three: 3}]\n",
        "plain scalar\n",
        "a: b\n  c\n",
        "a: [ü, 'ö', \"\\u00e9\"]\n",
        "a: {}\nb: []\nc:\n",
        "-\n  - - x\n",
    ];
    for text in taken {
        assert!(check(text), "the fast path should take {text:?}");
    }
    let declined = [
        "a: &x 1\nb: *x\n",
        "base: &b {x: 1}\nc:\n  <<: *b\n",
        "a: !!str 1\n",
        "a: 1.5\n",
        "a: 0x1F\n",
        "a: .inf\n",
        "a: 007\n",
        "? [a, b]\n: c\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: [1, 2\n",
        "a: b: c\n",
        "a: 1\n---\nb: 2\n",
    ];
    for text in declined {
        assert!(
            !check(text),
            "the fast path should leave {text:?} to serde-saphyr"
        );
    }
}

#[test]
fn fast_path_declines_deep_and_large_documents() {
    let deep = format!("{}1{}\n", "[".repeat(60), "]".repeat(60));
    assert!(!check(&deep));
    let large = format!("a: \"{}\"\n", "x".repeat(300 * 1024));
    assert!(!check(&large));
}
#[track_caller]
fn taken(text: &str) -> Taken {
    paths_agree(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn line_reader_matches_serde_saphyr_on_block_documents() {
    let taken_by_reader = [
        "configmap:\n  name: cfg-1\n  namespace: default\n  data:\n    - key: log-level\n      value: info\n",
        "# head\n---\nsecrets:\n- name: db   # the database\n  data:\n    password: 'hunter2'\n    user: \"admin\"\n...\n",
        "service:\n  name: web\n  scale: 3\n  env:\n    A: ~\n    B: null\n    C: true\n    D:\n  ports:\n    -   port: 8080\n        targetPort: -1\n",
        "  a: 1\n  b:\n\n  # comment\n  c: x y  \n",
        "a:\n- b\n- 'it''s'\nc: 10Gi\n",
        "- a\n- b: 1\n  c:\n    - x\n- \"\"\n",
        "8080: x\ntrue: y\nnull: z\n\"q\": 1\n'r': 2\nkey with space: 3\na:b: 4\n",
        "url: http://example.com:8080/x?y=1#frag\npath: /etc/x\nexpr: a#b\n",
        "a: # comment\n  b: 1\n",
        "# Réglages — für die Größe, ñ, 日本語, 🙂\nconfigmap:\n  name: c\n    # ça\n  data: x\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "- {name: c, data: [{key: a, value: 'b'}]} # flow\n",
    ];
    for text in taken_by_reader {
        assert!(taken(text).block, "the line reader should take {text:?}");
    }
    let declined = [
        "-\n",
        "- - a\n",
        "? a\n: b\n",
        "a: 1.5\n",
        "a: .inf\n",
        "-x: 1\n",
        "a : b\n",
        "a: b: c\n",
        "a:\n    b: 1\n  c: 2\n",
        "%YAML 1.2\n---\na: 1\n",
        "plain\n",
        "a: 1\n...\nb: 2\n",
        "a: 'x'y\n",
    ];
    for text in declined {
        assert!(
            !taken(text).block,
            "the line reader should leave {text:?} to the others"
        );
    }
}

#[test]
fn line_reader_takes_block_scalars_anchors_and_non_ascii_scalars() {
    let taken_by_reader = [
        "a: ü\nb: c # ü\n",
        "größe: \"grüß dich, 1\"\n'ключ': 日本語 🙂\n",
        "- größe: \"grüß dich, 1\"\n  'ключ': 日本語 🙂 # ñ\n- ça va\n- 'ü''s'\n",
        "a: |\n  x\n",
        "a: |\n  x\n  y\n\nb: 1\n",
        "a: |-\n  x\n\n",
        "a: |+\n  x\n\n\nb: 1\n",
        "a: >\n  x\n  y\n\n  z\n   w\n  v\n",
        "a: >-  # c\n  x\n",
        "a: >+\n\n  x\n  y\n \n\n",
        "a: |\n  x",
        "a: |+\n  x",
        "a: >\n  x\n  y",
        "a: |\n  x\n  ",
        "a: |+\n  x\n \n  ",
        "a: |2\n    x\n   y\n",
        "x:\n  a: |-2\n      t\n     u\n\n  # c\n  b: 1\n",
        "- k: |\n   x\n  j: >\n    é # ü\n",
        "secret:\n  data:\n    - key: password\n      sealed: |\n        -----BEGIN AGE-----\n        YWdl+/=\n        -----END AGE-----\n",
        "a: &x 1\nb: *x\n",
        "- &a 'q'\n- *a # c\n- &b-2 ü x\n- k: *b-2\n",
        "a: &level \"debug\"\nb:\n  - value: *level\n",
    ];
    for text in taken_by_reader {
        assert!(taken(text).block, "the line reader should take {text:?}");
    }
    let declined = [
        "a: *x\n",
        "a: *x\nb: &x 1\n",
        "a: &x 1\nb: &x 2\n",
        "a: &x\n  b: 1\nc: *x\n",
        "a: &x {b: 1}\nc: *x\n",
        "a: &x\nb: *x\n",
        "a: &x # c\n",
        "a: &x |\n  y\n",
        "a: &x !t y\n",
        "a: &x y\n<<: *x\n",
        "- &x y\n- <<: *x\n",
        "a: *x:\n",
        "a: &x:y z\n",
        "a: |\n",
        "a: |\nb: 1\n",
        "a: |\n\n",
        "a: |\n  x\n\tb\n",
        "a: |\n  x\t\n",
        "a: |\n   \n  x\n",
        "a: |\n  x\n    \n",
        "a: |0\n  x\n",
        "a: |--\n  x\n",
        "a: |#c\n  x\n",
        "a: | x\n",
        "a: |\n  x\n  # y\n",
        "a: |2\n x\n",
        "- |\n  x\n",
        "a:  \u{a0}x\n",
        "a: x\u{3000}\n",
        "a: !t 1\n",
        "a: \"x\\ny\"\n",
        "a: \"open\n  close\"\n",
        "a: b\n  c\n",
        "a:\tb\n",
        "a: b\r\n",
        "# ok \u{85} not\na: 1\n",
        "# \u{2028}\na: 1\n",
        "# \u{feff}\na: 1\n",
        "# \u{7f}\na: 1\n",
        "# \u{9f}\na: 1\n",
        "a: |\n  # é\n",
        "a: \"x\n  # é\"\n",
    ];
    for text in declined {
        assert!(
            !taken(text).block,
            "the line reader should leave {text:?} to the others"
        );
    }
    // Aliases that build more than was written are left to serde-saphyr and its budget.
    let larger = format!("a: &x {}\n{}", "y".repeat(50), "b: *x\n".repeat(5));
    assert!(!taken(&larger).block);
    let smaller = format!("a: &x {}\n{}", "y".repeat(5), "b: *x\n".repeat(3));
    assert!(taken(&smaller).block);
}

/// From 100 aliases in a document on, serde-saphyr may refuse it (over ten aliases per
/// anchor, or over 10,000): the line reader leaves such documents to it, and many anchors too.
#[test]
fn line_reader_leaves_many_aliases_to_serde_saphyr() {
    use std::fmt::Write as _;
    let text = |aliases: usize| format!("a: &f \"on\"\nall:\n{}", "  - *f\n".repeat(aliases));
    assert!(taken(&text(99)).block);
    assert!(!taken(&text(100)).block);
    let anchors = |n: usize| {
        let mut text = String::new();
        for i in 0..n {
            let _ = writeln!(text, "k{i}: &a{i} v");
        }
        text
    };
    assert!(taken(&anchors(99)).block);
    assert!(!taken(&anchors(100)).block);
}

/// Only alias expansion beyond the written size draws from the run's budget: an ordinary
/// anchored document parses however little is left, any number of times; once nothing is left,
/// documents that need serde-saphyr are refused.
#[test]
fn only_expansion_draws_from_the_run_budget() {
    use crate::parse::budget::{Invocation, MAX_EXPANDED_NODES, SPENT};
    let run = Invocation::default();
    run.draw(MAX_EXPANDED_NODES - 4, 0);
    let text =
        "configmap:\n  name: cfg\n  data:\n    a: &v\n      x: value\n    b: *v\n    c: *v\n";
    for _ in 0..1_000 {
        crate::parse::parse_within(text, SourceId(0), 0, &run).expect("an ordinary document");
    }
    run.draw(4, 0);
    let error = crate::parse::parse_within(text, SourceId(0), 0, &run).unwrap_err();
    assert_eq!(error.message, SPENT);
}
