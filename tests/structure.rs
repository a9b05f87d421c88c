//! The shape of the source tree (issue #10): no cycle between the top-level modules of `src/`,
//! none between the submodules of `parse`, and no file in `src/` over 600 lines.
//!
//! The checker reads every `src/**/*.rs` with std only. A dependency is a path that starts with
//! `crate::` in code (`use crate::a::b;`, grouped `use crate::{a, b::{c, d}};`, or inline
//! `crate::a::f()`); comments and string literals do not count, and neither do `super::` and
//! `self::` paths, so a dependency between siblings counts only when written from `crate::`. A
//! file belongs to the module of its first path segment (`src/foo.rs` and `src/foo/…` to `foo`);
//! `src/lib.rs` and `src/bin/` are the crate's roots and belong to no module. Tests inside `src/`
//! count like any other code: a cycle through a test module is still a cycle.

mod graph;
mod scan;

use std::collections::BTreeSet;

use graph::{Graph, SourceFile, long_files, source_files};
use scan::crate_paths;

/// Past this many lines a file holds more than one concern.
const MAX_LINES: usize = 600;

#[track_caller]
fn assert_no_cycle(graph: &Graph) {
    if let Some(report) = graph.cycle_report() {
        panic!("{report}");
    }
}

/// The top-level modules of `src/` form no cycle: each stage depends only on earlier ones.
#[test]
fn no_cycles_between_top_level_modules() {
    assert_no_cycle(&Graph::of(&source_files(), &[]));
}

/// No file in `src/` grows past 600 lines.
#[test]
fn no_file_over_600_lines() {
    let long = long_files(&source_files(), MAX_LINES);
    let list: Vec<String> = long
        .iter()
        .map(|(path, lines)| format!("- src/{path}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "{} file(s) over {MAX_LINES} lines; split them along their concerns:\n{}",
        long.len(),
        list.join("\n")
    );
}

/// The submodules of `parse` form no cycle: the tree types of `node` depend on no parser path.
#[test]
fn no_cycles_inside_parse() {
    let graph = Graph::of(&source_files(), &["parse"]);
    // The checker must see the tree, or the assertion proves nothing.
    assert!(graph.has_edge("block", "node"), "{graph:#?}");
    assert_no_cycle(&graph);
}

/// The checker finds a cycle across three modules, names it in order, and points at the line
/// that makes each edge; a file in a module's directory belongs to that module.
#[test]
fn checker_finds_a_cycle() {
    let files = [
        SourceFile::new("a.rs", "//! A.\n\nuse crate::b::B;\n"),
        SourceFile::new("b/x.rs", "fn f() {\n    crate::c::g();\n}\n"),
        SourceFile::new("c.rs", "use crate::{a::A, source};\n"),
        SourceFile::new("source.rs", "pub struct Span;\n"),
    ];
    let report = Graph::of(&files, &[])
        .cycle_report()
        .expect("a cycle is found");
    assert_eq!(
        report,
        "1 module cycle(s):\n\
         - a → b → c → a\n    \
         a → b: src/a.rs:3\n    \
         b → c: src/b/x.rs:2\n    \
         c → a: src/c.rs:1\n"
    );
}

/// Each group of modules that depend on each other is reported once, with its members when
/// the cycle shown does not pass through all of them; two modules that use each other are a
/// cycle.
#[test]
fn checker_reports_each_cycle_once() {
    let files = [
        SourceFile::new(
            "plan.rs",
            "use crate::server::Engine;\nuse crate::server::Api;\n",
        ),
        SourceFile::new("server.rs", "use crate::plan::Plan;\n"),
        SourceFile::new("resource.rs", "use crate::seal::Place;\n"),
        SourceFile::new(
            "seal.rs",
            "use crate::validate::x;\nuse crate::resource::R;\n",
        ),
        SourceFile::new("validate/y.rs", "use crate::resource::Kind;\n"),
    ];
    let report = Graph::of(&files, &[])
        .cycle_report()
        .expect("cycles are found");
    assert!(report.starts_with("2 module cycle(s):\n"), "{report}");
    assert!(report.contains("- plan → server → plan\n"), "{report}");
    assert!(
        report.contains("plan → server: src/plan.rs:1 (and 1 more)"),
        "{report}"
    );
    assert!(
        report
            .contains("- resource → seal → resource (one cycle among resource, seal, validate)\n"),
        "{report}"
    );
}

/// An acyclic graph passes, whatever the crate roots (`lib.rs`, `bin/`) use, and paths that
/// name no module of the tree (`crate::Item`, `super::`, `self::`) add no edge.
#[test]
fn checker_passes_an_acyclic_graph() {
    let files = [
        SourceFile::new("lib.rs", "pub mod a;\npub mod b;\npub use crate::a::A;\n"),
        SourceFile::new(
            "bin/tool.rs",
            "use rune::a;\nfn main() { crate::b::run(); }\n",
        ),
        SourceFile::new("a.rs", "use crate::b::B;\nuse crate::Reexported;\n"),
        SourceFile::new(
            "a/inner.rs",
            "use super::b;\nuse self::c;\nuse crate::c::C;\n",
        ),
        SourceFile::new("b/mod.rs", "use crate::c::{self, C};\n"),
        SourceFile::new("c.rs", "pub(crate) struct C;\npub(in crate::c) fn f() {}\n"),
    ];
    let graph = Graph::of(&files, &[]);
    assert_eq!(
        graph.nodes,
        BTreeSet::from(["a", "b", "c"].map(str::to_owned))
    );
    assert!(graph.has_edge("a", "b") && graph.has_edge("a", "c") && graph.has_edge("b", "c"));
    assert_eq!(graph.edges.len(), 3, "{graph:#?}");
    assert_eq!(graph.cycle_report(), None);
}

/// Grouped and nested `use` declarations give one path per leaf, over several lines; renames,
/// globs and inline paths are read too.
#[test]
fn checker_reads_grouped_imports() {
    let text = "use crate::{\n    a,\n    b::{c, d::{E, F as G}},\n    h::*,\n    self,\n};\n\
                use crate :: i::j as k;\nfn f() -> crate::l::M { crate::n::o::<u8>() }\n";
    let paths: Vec<(usize, String)> = crate_paths(text)
        .into_iter()
        .map(|(line, path)| (line, path.join("::")))
        .collect();
    let expected = [
        (1, "a"),
        (1, "b::c"),
        (1, "b::d::E"),
        (1, "b::d::F"),
        (1, "h"),
        (1, "self"),
        (7, "i::j"),
        (8, "l::M"),
        (8, "n::o"),
    ];
    assert_eq!(paths, expected.map(|(l, p)| (l, p.to_owned())));
}

/// Paths in comments, doc comments and string or character literals are no dependencies;
/// lifetimes do not open a literal, and line numbers survive the blanking.
#[test]
fn checker_ignores_comments_and_literals() {
    let text = "// use crate::a;\n/// See [`crate::b`].\n/* crate::c /* nested */ crate::d */\n\
                fn f<'x>(s: &'x str) -> char {\n    let _ = \"crate::e\\\" crate::f\";\n    \
                let _ = r#\"crate::g\"#;\n    let _ = b\"crate::h\";\n    let _ = '\"';\n    \
                let _ = '\\'';\n    crate::i::j();\n    'x'\n}\n";
    let paths: Vec<(usize, Vec<String>)> = crate_paths(text);
    assert_eq!(paths, [(10, vec!["i".to_owned(), "j".to_owned()])]);
}

/// Within one module, its children form the graph: the module's own file is its root, paths
/// to other top-level modules add no edge, and a cycle between children is found.
#[test]
fn checker_finds_a_cycle_between_submodules() {
    let files = [
        SourceFile::new("parse.rs", "mod a;\nmod b;\nuse crate::parse::a::x;\n"),
        SourceFile::new(
            "parse/a.rs",
            "use crate::parse::b::Y;\nuse crate::source::Span;\n",
        ),
        SourceFile::new("parse/b/c.rs", "use crate::parse::{a, Document};\n"),
        SourceFile::new("parse/d.rs", "use crate::parse::a;\n"),
        SourceFile::new("cli.rs", "use crate::parse::d;\n"),
    ];
    let graph = Graph::of(&files, &["parse"]);
    assert_eq!(
        graph.nodes,
        BTreeSet::from(["a", "b", "d"].map(str::to_owned))
    );
    assert_eq!(
        graph.cycle_report().as_deref(),
        Some(
            "1 module cycle(s):\n- parse::a → parse::b → parse::a\n    \
             parse::a → parse::b: src/parse/a.rs:1\n    \
             parse::b → parse::a: src/parse/b/c.rs:1\n"
        )
    );
    assert_eq!(Graph::of(&files, &[]).cycle_report(), None);
}

/// Files over the limit are named with their line counts; a file at the limit passes.
#[test]
fn checker_names_long_files() {
    let files = [
        SourceFile::new("short.rs", &"x\n".repeat(MAX_LINES)),
        SourceFile::new("long/file.rs", &"x\n".repeat(MAX_LINES + 1)),
    ];
    assert_eq!(
        long_files(&files, MAX_LINES),
        [("long/file.rs".to_owned(), MAX_LINES + 1)]
    );
}
