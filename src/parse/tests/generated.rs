//! Generated texts for the paths' agreement: token soups, mapping-like lines, and block
//! documents written from random trees with random layout, some slightly broken.

use std::fmt::Write as _;

use proptest::prelude::*;

use super::{paths_agree, same_as_serde};

const FRAGMENTS: &[&str] = &[
    "a",
    "b",
    "key",
    "name",
    "data",
    "value",
    "secrets",
    "configmap",
    ":",
    ": ",
    "- ",
    "-",
    "---",
    "...",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "\t",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "\"x\"",
    "'y'",
    "&a ",
    "*a",
    "!!str ",
    "!t ",
    "<<",
    "? ",
    "#c",
    "|",
    ">",
    "|-",
    "~",
    "null",
    "true",
    "False",
    "0",
    "7",
    "-3",
    "1.5",
    "0x1F",
    "1_0",
    ".inf",
    "10Gi",
    "30s",
    "ü",
    "\\n",
    "%YAML 1.2\n",
    "\u{feff}",
    "\r\n",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

fn mapping_like() -> impl Strategy<Value = String> {
    let scalar = prop::sample::select(FRAGMENTS).prop_map(str::to_owned);
    let line = (0usize..3, scalar.clone(), scalar)
        .prop_map(|(indent, k, v)| format!("{}{k}: {v}\n", "  ".repeat(indent)));
    prop::collection::vec(line, 1..12).prop_map(|lines| lines.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Wherever the fast path builds a tree, serde-saphyr accepts the text and builds the
    /// same tree, spans included.
    #[test]
    fn fast_path_agrees_with_serde_saphyr(text in prop_oneof![yamlish(), mapping_like()]) {
        if let Err(e) = same_as_serde(&text) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// A random document in roughly the block style, to compare the paths on.
#[derive(Clone, Debug)]
enum Tree {
    Leaf(&'static str),
    /// A block scalar: its header and its lines (an empty one is a blank line; one of spaces,
    /// spaces only).
    Block(&'static str, Vec<&'static str>),
    Map(Vec<(&'static str, Tree)>),
    Seq(Vec<Tree>),
}

const KEYS: &[&str] = &[
    "name",
    "data",
    "a b",
    "8080",
    "true",
    "null",
    "\"q\"",
    "'s'",
    "'it''s'",
    "a:b",
    "k_1",
    "x.y",
    "/p",
    "-x",
    "~",
    ".k",
    "a#b",
    "a #b",
    "\"e\\n\"",
    "\"a\" ",
    "1.5",
    "0x1F",
    "größe",
    "'ключ'",
    "日本",
    "&k a",
    "*a",
];

const SCALARS: &[&str] = &[
    "a",
    "info",
    "10Gi",
    "30s",
    "8080",
    "-1",
    "0",
    "007",
    "true",
    "False",
    "~",
    "null",
    "",
    "1.5",
    "x y",
    "a:b",
    "a: b",
    "a:",
    "a#b",
    "a # c",
    "http://h:1/p",
    "'q'",
    "'it''s'",
    "\"d\"",
    "\"e\\n\"",
    "\"\"",
    "-",
    "--x",
    "- x",
    "[1]",
    "{}",
    "|",
    "&a x",
    "*a",
    "!t x",
    "?",
    ".5",
    "+5",
    "+x",
    "x  ",
    "\"a\" # c",
    "'a'b",
    "(x)",
    "=",
    "$v",
    "\\",
    "ü",
    "grüß dich",
    "\"grüß dich\"",
    "'日本語'",
    "ü # ç",
    "é:x",
    "\u{a0}x",
    "x\u{2028}y",
    "x\u{85}",
    "&b 'q'",
    "*b",
    "&a 1",
    "&b ü",
    "&a",
    "*a # c",
    "*c",
];

const HEADERS: &[&str] = &[
    "|", "|-", "|+", ">", ">-", ">+", "|2", ">1-", "|+1", "|  # c", "|0", "|#c", "|--", ">x",
];

const BLOCK_LINES: &[&str] = &[
    "x", "y z", "", "", " ", "  more", " s", "ü ö", "# not", "\tt", "a: b", "- x", "x  ",
];

/// Keys and scalars of the line reader's subset, so that most documents built only from
/// them stay in it.
const SIMPLE_KEYS: &[&str] = &[
    "name", "data", "key", "value", "a b", "8080", "'q'", "k_1", "größe",
];
const SIMPLE_SCALARS: &[&str] = &[
    "a",
    "info",
    "10Gi",
    "8080",
    "-1",
    "true",
    "~",
    "",
    "x y",
    "a:b",
    "a#b",
    "'q'",
    "\"d\"",
    "http://h:1/p",
    "--x",
    "(x)",
    "ü",
    "\"grüß dich\"",
    "&a x",
    "&b 'y'",
    "*a",
    "*b",
];

fn tree_of(
    keys: &'static [&'static str],
    scalars: &'static [&'static str],
) -> impl Strategy<Value = Tree> {
    let block = (
        prop::sample::select(HEADERS),
        prop::collection::vec(prop::sample::select(BLOCK_LINES), 0..6),
    )
        .prop_map(|(header, lines)| Tree::Block(header, lines));
    let leaf = prop_oneof![
        4 => prop::sample::select(scalars).prop_map(Tree::Leaf),
        1 => block,
    ];
    leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec((prop::sample::select(keys), inner.clone()), 0..5)
                .prop_map(Tree::Map),
            prop::collection::vec(inner, 0..5).prop_map(Tree::Seq),
        ]
    })
}

fn tree() -> impl Strategy<Value = Tree> {
    prop_oneof![tree_of(KEYS, SCALARS), tree_of(SIMPLE_KEYS, SIMPLE_SCALARS)]
}

/// Layout choices, taken in turn (round and round).
pub(super) struct Choices<'c> {
    choices: &'c [u8],
    next: usize,
}

impl<'c> Choices<'c> {
    pub(super) fn new(choices: &'c [u8]) -> Self {
        Self { choices, next: 0 }
    }

    /// The next choice among `n`.
    pub(super) fn pick(&mut self, n: u8) -> u8 {
        let c = self
            .choices
            .get(self.next % self.choices.len().max(1))
            .copied();
        self.next += 1;
        c.unwrap_or(0) % n
    }
}

/// The state of [`block_text`]: the layout choices and the text so far.
struct W<'c> {
    choices: Choices<'c>,
    out: String,
}
impl W<'_> {
    fn choice(&mut self, n: u8) -> u8 {
        self.choices.pick(n)
    }
    fn end_line(&mut self, indent: usize) {
        match self.choice(8) {
            0 => self.out.push_str("  # c"),
            1 => self.out.push_str("  "),
            _ => {}
        }
        self.out.push('\n');
        match self.choice(10) {
            0 => self.out.push('\n'),
            1 => {
                let _ = writeln!(self.out, "{}# between", " ".repeat(indent));
            }
            _ => {}
        }
    }
    /// A value after `key:` or `-` (nothing written yet after the indicator).
    fn value(&mut self, tree: &Tree, indent: usize, under_key: bool) {
        match tree {
            Tree::Leaf(s) => {
                self.out.push(' ');
                self.out.push_str(s);
                self.end_line(indent);
            }
            Tree::Block(header, lines) => self.block(header, lines, indent),
            Tree::Map(entries) if !entries.is_empty() => {
                self.end_line(indent);
                let step = 1 + usize::from(self.choice(4));
                self.map(entries, indent + step, None);
            }
            Tree::Seq(items) if !items.is_empty() => {
                self.end_line(indent);
                let step = if under_key && self.choice(2) == 0 {
                    0
                } else {
                    1 + usize::from(self.choice(4))
                };
                self.seq(items, indent + step);
            }
            Tree::Map(_) => self.out.push_str(" {}\n"),
            Tree::Seq(_) => self.out.push_str(" []\n"),
        }
    }
    fn block(&mut self, header: &str, lines: &[&str], indent: usize) {
        self.out.push(' ');
        self.out.push_str(header);
        self.out.push('\n');
        let step = 1 + usize::from(self.choice(3));
        for line in lines {
            match *line {
                "" => {}
                " " => {
                    let spaces = " ".repeat(usize::from(self.choice(5)));
                    self.out.push_str(&spaces);
                }
                line => {
                    self.out.push_str(&" ".repeat(indent + step));
                    self.out.push_str(line);
                }
            }
            self.out.push('\n');
        }
    }
    fn map(&mut self, entries: &[(&str, Tree)], indent: usize, lead: Option<usize>) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 || lead.is_none() {
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push_str(k);
            self.out.push(':');
            self.value(v, indent, true);
        }
    }
    fn seq(&mut self, items: &[Tree], indent: usize) {
        for item in items {
            self.out.push_str(&" ".repeat(indent));
            self.out.push('-');
            match item {
                Tree::Map(entries) if !entries.is_empty() && self.choice(3) != 0 => {
                    let gap = 1 + usize::from(self.choice(3));
                    self.out.push_str(&" ".repeat(gap));
                    self.map(entries, indent + 1 + gap, Some(indent + 1 + gap));
                }
                other => self.value(other, indent, false),
            }
        }
    }
}

/// Writes `tree` as block YAML, taking layout choices (indentation, compact sequences,
/// comments, blank lines, spaces) from `choices` in turn.
fn block_text(tree: &Tree, choices: &[u8]) -> String {
    let mut w = W {
        choices: Choices::new(choices),
        out: String::new(),
    };
    if w.choice(4) == 0 {
        w.out.push_str("# head\n---\n");
    }
    let indent = usize::from(w.choice(3) == 0);
    match tree {
        Tree::Map(entries) => w.map(entries, indent, None),
        Tree::Seq(items) => w.seq(items, indent),
        Tree::Leaf(s) => w.out.push_str(s),
        Tree::Block(..) => w.value(tree, indent, false),
    }
    if w.choice(5) == 0 {
        w.out.push_str("...\n");
    }
    // The end of a file may have no line break.
    if w.choice(4) == 0 {
        w.out.pop();
    }
    w.out
}

/// One small edit that may make the text invalid, or change its structure.
fn perturb(text: &str, at: prop::sample::Index, edit: u8) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let i = at.index(lines.len());
    let line = &mut lines[i];
    match edit % 6 {
        0 => line.insert(0, ' '),
        1 => {
            if line.starts_with(' ') {
                line.remove(0);
            }
        }
        2 => *line = line.replacen(": ", ":", 1),
        3 => line.push_str(" :"),
        4 => *line = line.replacen(' ', "\t", 1),
        _ => line.insert_str(0, "- "),
    }
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Generated block documents, and small edits of them: every path that builds a tree
    /// builds serde-saphyr's.
    #[test]
    fn paths_agree_on_block_documents(
        tree in tree(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
        edit in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut text = block_text(&tree, &choices);
        if let Some((at, edit)) = edit {
            text = perturb(&text, at, edit);
        }
        if let Err(e) = paths_agree(&text) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// One value of [`anchored_text`]: a scalar, an anchored scalar, an alias, or a block scalar
/// (header, lines, extra indentation).
#[derive(Clone, Debug)]
enum Item {
    Scalar(&'static str),
    Anchor(u8, &'static str),
    Alias(u8),
    Block(&'static str, Vec<&'static str>, u8),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        prop::sample::select(SIMPLE_SCALARS).prop_map(Item::Scalar),
        (0u8..3, prop::sample::select(SIMPLE_SCALARS)).prop_map(|(n, s)| Item::Anchor(n, s)),
        (0u8..3).prop_map(Item::Alias),
        (
            prop::sample::select(HEADERS),
            prop::collection::vec(prop::sample::select(BLOCK_LINES), 0..6),
            0u8..3,
        )
            .prop_map(|(h, lines, step)| Item::Block(h, lines, step)),
    ]
}

/// A document of mapping values and list entries holding the items, as runefiles hold
/// anchors, aliases and block scalars.
fn anchored_text(items: &[(bool, Item)]) -> String {
    let mut out = String::new();
    for (i, (in_list, item)) in items.iter().enumerate() {
        let column = if *in_list {
            let _ = write!(out, "l{i}:\n  - k: ");
            4
        } else {
            let _ = write!(out, "k{i}: ");
            0
        };
        match item {
            Item::Scalar(s) => out.push_str(s),
            Item::Anchor(n, s) => {
                let _ = write!(out, "&a{n} {s}");
            }
            Item::Alias(n) => {
                let _ = write!(out, "*a{n}");
            }
            Item::Block(header, lines, step) => {
                out.push_str(header);
                for line in lines {
                    out.push('\n');
                    match *line {
                        "" => {}
                        " " => out.push_str(&" ".repeat(column + usize::from(*step))),
                        line => {
                            out.push_str(&" ".repeat(column + 1 + usize::from(*step)));
                            out.push_str(line);
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Documents with anchors, aliases, block scalars and non-ASCII scalars, and small edits
    /// of them: every path that builds a tree builds serde-saphyr's.
    #[test]
    fn paths_agree_on_anchors_and_block_scalars(
        items in prop::collection::vec((any::<bool>(), item()), 1..8),
        edit in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        unterminated in any::<bool>(),
    ) {
        let mut text = anchored_text(&items);
        if let Some((at, edit)) = edit {
            text = perturb(&text, at, edit);
        }
        if unterminated {
            text.pop();
        }
        if let Err(e) = paths_agree(&text) {
            return Err(TestCaseError::fail(e));
        }
    }
}
