//! A YAML document as a tree of nodes that each remember their source span.
//!
//! serde-saphyr does the YAML work; we ask it for a generic tree of `Spanned` nodes instead of
//! typed structs, because typed deserialisation stops at the first unknown field or wrong type,
//! and `rune lint` must report every finding at once. Scalars keep whether YAML resolved them
//! to a string, a number, a boolean or null, so the validator can say "quote it".
//!
//! Building that tree through serde is slow, so [`parse_document`] tries two shortcuts first,
//! each of which declines what it cannot read exactly as serde-saphyr would: a line reader for
//! the plain block style ([`super::block`]), then a builder over granit-parser's events
//! ([`super::fast`]). The tests below check that all paths agree, spans included.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::{SourceId, Span};

/// One YAML node with its span in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

/// What YAML resolved a node to.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Float(f64),
    Int(i128),
    Map(Vec<(Node, Node)>),
    Null,
    Seq(Vec<Node>),
    String(String),
}

impl Value {
    /// The YAML type name used in messages ("expected a string, found a number").
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Float(_) | Value::Int(_) => "a number",
            Value::Map(_) => "a mapping",
            Value::Null => "null",
            Value::Seq(_) => "a list",
            Value::String(_) => "a string",
        }
    }

    /// Whether quoting the scalar in YAML would have made it the string the user meant.
    #[must_use]
    pub fn is_unquoted_scalar(&self) -> bool {
        matches!(
            self,
            Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null
        )
    }
}

impl Node {
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// The node tree as serde-saphyr hands it over: spans relative to the parsed text, not yet
/// attached to a file.
struct RawNode(RawValue);

enum RawValue {
    Scalar(Value),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
    Seq(Vec<Spanned<RawNode>>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Bool(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v.into()))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v.into()))))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Int(v))))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(
            i128::try_from(v).map_or(Value::Float(v as f64), Value::Int),
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Float(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(v))))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::String(
            String::from_utf8_lossy(v).into_owned(),
        ))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Null)))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode(RawValue::Scalar(Value::Null)))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            items.push(item);
        }
        Ok(RawNode(RawValue::Seq(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
            let value = map.next_value::<Spanned<RawNode>>()?;
            entries.push((key, value));
        }
        Ok(RawNode(RawValue::Map(entries)))
    }
}

/// Attaches raw spans to a file: `base` is the byte offset of the parsed `text` in the file.
fn attach(raw: Spanned<RawNode>, at: &Anchor<'_>) -> Node {
    let span = span_of(&raw, at);
    let value = match raw.value.0 {
        RawValue::Scalar(value) => value,
        RawValue::Seq(items) => {
            Value::Seq(items.into_iter().map(|item| attach(item, at)).collect())
        }
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (attach_key(k, at), attach(v, at)))
                .collect(),
        ),
    };
    Node { span, value }
}

fn attach_key(raw: Spanned<RawNode>, at: &Anchor<'_>) -> Node {
    key(attach(raw, at), at)
}

/// Keys are names, so a plain scalar key that YAML resolves to a number or boolean (`8080:`,
/// `true:`) is kept as the text the user wrote.
pub(super) fn key(node: Node, at: &Anchor<'_>) -> Node {
    match node.value {
        Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null => {
            let local = (node.span.start - at.base) as usize..(node.span.end - at.base) as usize;
            let text = at.text.get(local).unwrap_or("").trim();
            Node {
                span: node.span,
                value: Value::String(text.to_owned()),
            }
        }
        value => Node {
            span: node.span,
            value,
        },
    }
}

/// Where a parsed text sits in its file.
pub(super) struct Anchor<'t> {
    pub base: u32,
    pub source: SourceId,
    pub text: &'t str,
}

impl Anchor<'_> {
    /// The file span of `len` bytes at `offset` in the parsed text (an unknown offset is 0).
    pub fn span(&self, offset: Option<u64>, len: Option<u64>) -> Span {
        let start = self
            .base
            .saturating_add(offset.map_or(0, |offset| u32::try_from(offset).unwrap_or(u32::MAX)));
        let len = len.map_or(0, |len| u32::try_from(len).unwrap_or(u32::MAX));
        Span::new(self.source, start, start.saturating_add(len))
    }
}

fn span_of(raw: &Spanned<RawNode>, at: &Anchor<'_>) -> Span {
    let span = raw.referenced.span();
    at.span(span.byte_offset(), span.byte_len())
}

/// Why a document could not be read as YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// The parser's message, without any snippet of the source (the source may hold secrets).
    pub message: String,
    pub span: Span,
}

/// Parses one YAML document; `text` is the document's slice of the file, starting at `base`.
/// The first path that takes the document builds its tree: the line reader, the granit path,
/// serde-saphyr.
///
/// # Errors
/// A [`SyntaxError`] when the text is not YAML or exceeds the parser's budget.
pub fn parse_document(text: &str, source: SourceId, base: u32) -> Result<Node, SyntaxError> {
    let at = Anchor { base, source, text };
    match super::block::parse(&at).or_else(|| super::fast::parse(&at)) {
        Some(root) => Ok(root),
        None => parse_with_serde(&at),
    }
}

/// The general path: serde-saphyr resolves everything (anchors, merge keys, tags) and words the
/// syntax errors.
fn parse_with_serde(at: &Anchor<'_>) -> Result<Node, SyntaxError> {
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(at.text, parser_options()) {
        Ok(raw) => Ok(attach(raw, at)),
        Err(error) => Err(syntax_error(&error, at.text, at.source, at.base)),
    }
}

pub(super) fn parser_options() -> serde_saphyr::Options {
    // Each call sees exactly one document (the reader splits files), so the stream budget is
    // the per-document budget: generous for real runefiles, finite against alias bombs.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 64,
            max_nodes: 1_000_000,
            max_aliases: 10_000,
            max_total_scalar_bytes: 64 * 1024 * 1024,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        // YAML 1.2 core: `yes`, `on` and `y` stay strings, as the user wrote them.
        strict_booleans: true,
    }
}

fn syntax_error(
    error: &serde_saphyr::Error,
    text: &str,
    source: SourceId,
    base: u32,
) -> SyntaxError {
    let offset = error
        .location()
        .map_or(0, |loc| offset_of(text, loc.line(), loc.column()));
    let start = base.saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
    let rendered = error.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    SyntaxError {
        message: first_line(&rendered),
        span: Span::new(source, start, start),
    }
}

/// The byte offset of a 1-based line and character column, clamped to the text.
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .map(str::len)
        .sum::<usize>();
    let rest = &text[line_start..];
    let skip = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    line_start + rest.char_indices().nth(skip).map_or(rest.len(), |(i, _)| i)
}

fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or("invalid YAML").trim();
    // The location is ours to render; drop the parser's own " at line X column Y" suffix.
    let line = line.split(" at line ").next().unwrap_or(line);
    line.trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::{Anchor, Node, parse_with_serde};
    use crate::source::SourceId;

    /// Which shortcut paths took a text.
    #[derive(Debug, PartialEq)]
    struct Taken {
        block: bool,
        fast: bool,
    }

    /// Every path over one text: where a shortcut (the line reader or the granit path) builds a
    /// tree, serde-saphyr accepts the text and builds the same tree, spans included.
    fn paths_agree(text: &str) -> Result<Taken, String> {
        let at = Anchor {
            base: 7,
            source: SourceId(3),
            text,
        };
        let block = crate::parse::block::parse(&at);
        let fast = crate::parse::fast::parse(&at);
        let taken = Taken {
            block: block.is_some(),
            fast: fast.is_some(),
        };
        if block.is_none() && fast.is_none() {
            return Ok(taken);
        }
        let slow = parse_with_serde(&at).map_err(|error| {
            format!(
                "a shortcut accepted {text:?} ({taken:?}), serde-saphyr refused: {}",
                error.message
            )
        })?;
        for (path, tree) in [("line reader", block), ("granit path", fast)] {
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
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
            .prop_map(|parts| parts.concat())
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
        ];
        for text in taken_by_reader {
            assert!(taken(text).block, "the line reader should take {text:?}");
        }
        let declined = [
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "a: |\n  x\n",
            "a: &x 1\n",
            "a: *x\n",
            "a: !t 1\n",
            "a: \"x\\ny\"\n",
            "a: \"open\n  close\"\n",
            "a: b\n  c\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: ü\n",
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

    /// A random document in roughly the block style, to compare the paths on.
    #[derive(Clone, Debug)]
    enum Tree {
        Leaf(&'static str),
        Map(Vec<(&'static str, Tree)>),
        Seq(Vec<Tree>),
    }

    const KEYS: &[&str] = &[
        "name", "data", "a b", "8080", "true", "null", "\"q\"", "'s'", "'it''s'", "a:b", "k_1",
        "x.y", "/p", "-x", "~", ".k", "a#b", "a #b", "\"e\\n\"", "\"a\" ", "1.5", "0x1F",
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
    ];

    /// Keys and scalars of the line reader's subset, so that most documents built only from
    /// them stay in it.
    const SIMPLE_KEYS: &[&str] = &["name", "data", "key", "value", "a b", "8080", "'q'", "k_1"];
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
    ];

    fn tree_of(
        keys: &'static [&'static str],
        scalars: &'static [&'static str],
    ) -> impl Strategy<Value = Tree> {
        let leaf = prop::sample::select(scalars).prop_map(Tree::Leaf);
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

    /// Writes `tree` as block YAML, taking layout choices (indentation, compact sequences,
    /// comments, blank lines, spaces) from `choices` in turn.
    fn block_text(tree: &Tree, choices: &[u8]) -> String {
        struct W<'c> {
            choices: &'c [u8],
            next: usize,
            out: String,
        }
        impl W<'_> {
            fn choice(&mut self, n: u8) -> u8 {
                let c = self
                    .choices
                    .get(self.next % self.choices.len().max(1))
                    .copied();
                self.next += 1;
                c.unwrap_or(0) % n
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
        let mut w = W {
            choices,
            next: 0,
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
        }
        if w.choice(5) == 0 {
            w.out.push_str("...\n");
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

    #[test]
    fn node_equality_includes_spans() {
        let a = Node {
            span: crate::source::Span::new(SourceId(0), 0, 1),
            value: super::Value::Null,
        };
        let mut b = a.clone();
        b.span.end = 2;
        assert_ne!(a, b);
    }
}
