//! The line reader's one-line flow collections ([`crate::parse::flow_line`]) against the other
//! paths: hand-picked texts it must take or leave, the YAML test suite's inputs, and generated
//! flow lines in block documents, some broken.

use proptest::prelude::*;

use super::generated::Choices;
use super::{paths_agree, taken};

#[test]
fn line_reader_takes_one_line_flow_collections() {
    let taken_by_reader = [
        "configmap: {name: cfg-7, namespace: default, data: [{key: mode, value: fast}, {key: retries, value: \"3\"}, {key: copy, value: fast}]}\n",
        "a: [1, two, {three: 3}]\n",
        "a: {}\nb: []\nc: { }\nd: [ ]\n",
        "a: [a, b,]\nb: {a: 1,}\nc: [ a , b , ]\n",
        "a: {  x  :  y  ,  'z' :  \"w\"  }   # c\n",
        "a: [[[x]], [], {b: [c, d]}]  #c\n",
        "- [a, b]\n- {c: d}\n- k: [e]\n  l: {f: g}\n",
        "a:\n- {b: c}\n- [d]\nz: [e]\n",
        "a:\n  b: {c: 'it''s', d: '', e: \"\", f: ' x '}\n",
        "a: [~, null, true, False, -1, 0, 8080, 10Gi, 30s]\n",
        "a: {8080: x, true: y, null: z, 'q': 1}\n",
        "a: [http://h:1/p, a:b, a#b, b c d, x-, --x, -x, (x), a'b, a\"b, a!b, a&b, a*b, a?b, a|b]\n",
        "a: [a :b, 'a, b', \"[x]\", '{y}', \"# no comment\"]\n",
        "a: {k: v, k: w}\n",
    ];
    for text in taken_by_reader {
        assert!(taken(text).block, "the line reader should take {text:?}");
    }
    let declined = [
        "a: {b: c\n",
        "a: [b, c\n",
        "a: [b, c]]\n",
        "a: {b: c]\n",
        "a: [b, c}\n",
        "a: [a,,b]\n",
        "a: [,]\n",
        "a: {,}\n",
        "a: {a: b,,}\n",
        "a: [a: b]\n",
        "a: [a : b]\n",
        "a: [\"a\": b]\n",
        "a: [{a: b}: c]\n",
        "a: {a}\n",
        "a: {a, b: c}\n",
        "a: {a: , b: c}\n",
        "a: {a: }\n",
        "a: {: b}\n",
        "a: {\"a\":b}\n",
        "a: {a:b}\n",
        "a: {? a: b}\n",
        "a: [? a]\n",
        "a: [!t a]\n",
        "a: [\"a\\nb\"]\n",
        "a: ['a\n  b']\n",
        "a: [a,\n  b]\n",
        "a: [a # c\n  ]\n",
        "a: [a]#c\n",
        "a: [a] b\n",
        "a: [a]: b\n",
        "a: [-]\n",
        "a: [- a]\n",
        "a: [-, a]\n",
        "a: [1.5]\n",
        "a: [0x1F]\n",
        "a: [.inf]\n",
        "a: {<<: {b: c}}\n",
        "a: [a\tb]\n",
        "a: [|]\n",
        "a: [@x]\n",
        "a: [%x]\n",
        "a: [`x`]\n",
        "{a: b}\n",
        "[a, b]\n",
        "a: [b]\n  c\n",
        "- [a]\n  b: c\n",
    ];
    for text in declined {
        assert!(
            !taken(text).block,
            "the line reader should leave {text:?} to the others"
        );
    }
}

/// Flow collections nest up to the depth the events path takes, counting the block
/// collections around them; deeper ones go to serde-saphyr.
/// Anchors on flow scalars and aliases to them, shared with the block lines around: taken
/// only where the other paths build the same tree (the anchored corpus of the benchmarks).
#[test]
fn line_reader_takes_anchored_flow_scalars() {
    let taken_by_reader = [
        "a: [&x a, *x]\n",
        "a: {k: &v fast, c: *v}\n",
        "a: &v x\nb: [*v, *v ]\n",
        "a: [&v 'q', {b: *v}]\nc: *v\n",
        "a: [&v   \"q\" , *v,]\n",
        "configmap: {name: c, data: [{key: mode, value: &level fast}, {key: copy, value: *level}]}\n",
    ];
    for text in taken_by_reader {
        assert!(taken(text).block, "the line reader should take {text:?}");
    }
    let declined = [
        "a: [*x]\n",
        "a: [*x, &x a]\n",
        "a: [&x a, &x b]\n",
        "a: [&x {b: c}]\n",
        "a: [&x [b]]\n",
        "a: [&x &y a]\n",
        "a: [&x *y]\n",
        "a: [&x]\n",
        "a: [&x , b]\n",
        "a: [&x a, *x.y]\n",
        "a: [&x a, *x:b]\n",
        "a: {&x k: v}\n",
        "a: &x k\nb: {*x : v}\n",
        "a: {\"<<\": b}\n",
        "a: ['<<': b]\n",
        "a: [&é a]\n",
    ];
    for text in declined {
        assert!(
            !taken(text).block,
            "the line reader should leave {text:?} to the others"
        );
    }
}

#[test]
fn line_reader_flow_depth_is_the_events_path_depth() {
    use crate::parse::budget::MAX_DEPTH;
    let nested = |n: usize| format!("a: {}x{}\n", "[".repeat(n), "]".repeat(n));
    let at_limit = nested(MAX_DEPTH - 1);
    assert_eq!(
        taken(&at_limit),
        super::Taken {
            block: true,
            fast: true
        }
    );
    let past = nested(MAX_DEPTH);
    assert_eq!(
        taken(&past),
        super::Taken {
            block: false,
            fast: false
        }
    );
    let in_block = format!("a:\n  b:\n  - {}x{}\n", "{c: ".repeat(45), "}".repeat(45));
    assert_eq!(
        taken(&in_block),
        super::Taken {
            block: true,
            fast: true
        }
    );
    let in_block = format!("a:\n  b:\n  - {}x{}\n", "{c: ".repeat(46), "}".repeat(46));
    assert_eq!(
        taken(&in_block),
        super::Taken {
            block: false,
            fast: false
        }
    );
}

/// Every document of the YAML test suite: wherever a shortcut builds a tree, serde-saphyr
/// builds the same, spans included.
#[test]
fn paths_agree_on_the_yaml_test_suite() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml-test-suite/data");
    let mut inputs = Vec::new();
    let mut dirs = vec![data];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the vendored YAML test suite") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "in.yaml") {
                inputs.push(path);
            }
        }
    }
    assert!(inputs.len() > 300, "the suite holds {} cases", inputs.len());
    let mut by_reader = 0;
    for path in inputs {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for document in crate::parse::split::split_documents(&text) {
            let document = &text[document.start..document.end];
            let taken = paths_agree(document).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            by_reader += usize::from(taken.block);
        }
    }
    assert!(by_reader > 20, "the line reader took {by_reader} documents");
}

/// Scalars for generated flow collections: in the subset, next to ones that change the
/// structure, break it, or leave it to the other paths.
const FLOW_SCALARS: &[&str] = &[
    "a",
    "b c",
    "10Gi",
    "8080",
    "-1",
    "0",
    "true",
    "~",
    "null",
    "''",
    "\"\"",
    "'it''s'",
    "\"d\"",
    "http://h:1/p",
    "a:b",
    "a#b",
    "-x",
    "x-",
    "(x)",
    "a'b",
    "1.5",
    "0x1F",
    ".5",
    "\"e\\n\"",
    "a,b",
    "a]",
    "a}",
    "{",
    "?",
    ":",
    "-",
    "- x",
    "&a x",
    "*a",
    "!t x",
    "a: b",
    "a :b",
    "\"a\":b",
    "'q' x",
    "a #b",
    "#c",
    "ü",
    "a\tb",
    "|",
    "@x",
    "a  b",
    "&a x",
    "&b 'y'",
    "*a",
    "*b",
    "&a",
    "*a b",
];
const FLOW_KEYS: &[&str] = &[
    "name", "data", "a b", "8080", "true", "null", "'q'", "\"k\"", "k_1", "/p", "a:b", "a#b", "-x",
    "~", "?", "", "'it''s'", "a ", "\"e\\n\"", "[a]", "{a: b}",
];

/// Keys and scalars of the line reader's subset, so that most collections built only from
/// them stay in it.
const SIMPLE_KEYS: &[&str] = &[
    "name", "data", "key", "value", "a b", "8080", "'q'", "\"k\"",
];
const SIMPLE_SCALARS: &[&str] = &[
    "a",
    "b c",
    "10Gi",
    "-1",
    "true",
    "~",
    "''",
    "\"d\"",
    "'it''s'",
    "http://h:1/p",
    "a#b",
];

#[derive(Clone, Debug)]
enum Flow {
    Leaf(&'static str),
    Map(Vec<(&'static str, Flow)>),
    Seq(Vec<Flow>),
}

fn flow_tree_of(
    keys: &'static [&'static str],
    scalars: &'static [&'static str],
) -> impl Strategy<Value = Flow> {
    let leaf = prop::sample::select(scalars).prop_map(Flow::Leaf);
    leaf.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            prop::collection::vec((prop::sample::select(keys), inner.clone()), 0..4)
                .prop_map(Flow::Map),
            prop::collection::vec(inner, 0..4).prop_map(Flow::Seq),
        ]
    })
}

fn flow_tree() -> impl Strategy<Value = Flow> {
    prop_oneof![
        flow_tree_of(FLOW_KEYS, FLOW_SCALARS),
        flow_tree_of(SIMPLE_KEYS, SIMPLE_SCALARS)
    ]
}

impl Choices<'_> {
    /// Mostly none, sometimes one or two spaces.
    fn spaces(&mut self, out: &mut String) {
        let n = [0, 0, 0, 1, 2][usize::from(self.pick(5))];
        out.push_str(&"  "[..n]);
    }
}

/// Writes `tree` on one line in flow style, taking spacing, trailing commas and separators
/// from `choices`.
fn flow_line(tree: &Flow, choices: &mut Choices<'_>, out: &mut String) {
    let (open, close, len) = match tree {
        Flow::Leaf(s) => {
            out.push_str(s);
            return;
        }
        Flow::Map(entries) => ('{', '}', entries.len()),
        Flow::Seq(items) => ('[', ']', items.len()),
    };
    out.push(open);
    choices.spaces(out);
    for i in 0..len {
        if i > 0 {
            choices.spaces(out);
            out.push(',');
            choices.spaces(out);
        }
        match tree {
            Flow::Map(entries) => {
                out.push_str(entries[i].0);
                if choices.pick(6) == 0 {
                    out.push(' ');
                }
                out.push_str([": ", ": ", ": ", ":  ", ":"][usize::from(choices.pick(5))]);
                flow_line(&entries[i].1, choices, out);
            }
            Flow::Seq(items) => flow_line(&items[i], choices, out),
            Flow::Leaf(_) => {}
        }
    }
    if len > 0 && choices.pick(5) == 0 {
        out.push(',');
    }
    choices.spaces(out);
    out.push(close);
}

/// A block document holding `flow` where `context` says: as a top-level key's value, a nested
/// key's, a sequence entry, a key's in a sequence entry; with something after it.
fn in_block(flow: &str, context: u8, after: u8) -> String {
    let tail = ["", "  # c", "#c", "   ", " x", ": y", ",", "]"][usize::from(after % 8)];
    match context % 5 {
        0 => format!("configmap: {flow}{tail}\nnext: 1\n"),
        1 => format!("a:\n  b: x\n  c: {flow}{tail}\n  d: y\n"),
        2 => format!("- {flow}{tail}\n- z\n"),
        3 => format!("a:\n- k: {flow}{tail}\n  l: m\n- n\n"),
        _ => format!("a:\n  - {flow}{tail}\n  -   key: {flow}\nb: c\n"),
    }
}

/// What [`edit`] inserts.
const INSERTS: &[u8] = b",[]{}: #'\"-?";

/// One edit of a line that may break it: a byte removed, or a flow indicator inserted.
fn edit(text: &str, at: prop::sample::Index, insert: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return text.to_owned();
    }
    let i = at.index(bytes.len());
    match INSERTS.get(usize::from(insert) % (INSERTS.len() + 1)) {
        Some(&b) => bytes.insert(i, b),
        None => {
            bytes.remove(i);
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Generated one-line flow collections in block documents, and small edits of them: every
    /// path that builds a tree builds serde-saphyr's, spans included.
    #[test]
    fn paths_agree_on_flow_lines(
        tree in flow_tree(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
        context in any::<u8>(),
        after in any::<u8>(),
        broken in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut flow = String::new();
        flow_line(&tree, &mut Choices::new(&choices), &mut flow);
        if !matches!(tree, Flow::Leaf(_)) {
            let mut text = in_block(&flow, context, after);
            if let Some((at, insert)) = broken {
                text = edit(&text, at, insert);
            }
            if let Err(e) = paths_agree(&text) {
                return Err(TestCaseError::fail(e));
            }
        }
    }
}

/// Most generated flow lines without odd scalars stay in the subset (so that the property
/// above tests the reader, not only its declining).
#[test]
fn generated_flow_lines_are_mostly_taken() {
    let mut flow = String::new();
    let tree = Flow::Map(vec![
        ("name", Flow::Leaf("a")),
        (
            "data",
            Flow::Seq(vec![
                Flow::Leaf("b c"),
                Flow::Map(vec![("k_1", Flow::Leaf("'it''s'"))]),
            ]),
        ),
    ]);
    let mut taken_count = 0;
    for seed in 0..=255u8 {
        flow.clear();
        let choices = [seed, seed.wrapping_mul(7), seed.wrapping_add(3)];
        flow_line(&tree, &mut Choices::new(&choices), &mut flow);
        let text = in_block(&flow, seed, 0);
        taken_count += usize::from(taken(&text).block);
    }
    assert!(
        taken_count > 64,
        "the line reader took {taken_count} of 256"
    );
}
