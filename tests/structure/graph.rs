//! The files of `src/`, the modules they belong to, and the dependency graph between the
//! children of one module (or of the crate), with its cycles and the places that make them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

use super::scan::crate_paths;

/// A file of `src/`: its path below `src/` (with `/`) and its text.
pub(super) struct SourceFile {
    path: String,
    text: String,
}

impl SourceFile {
    pub(super) fn new(path: &str, text: &str) -> Self {
        Self {
            path: path.to_owned(),
            text: text.to_owned(),
        }
    }
}

/// Every `.rs` file below `src/`, in path order.
pub(super) fn source_files() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a directory of src/") {
            let path = entry.expect("read a directory entry of src/").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).expect("a path below src/");
                let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
                files.push(SourceFile {
                    path: parts.join("/"),
                    text: std::fs::read_to_string(&path).expect("read a source file"),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The module path a file defines: `parse/node.rs` → `parse::node`, `foo/mod.rs` → `foo`.
fn module_path(file: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = file.split('/').collect();
    if let Some(last) = parts.last_mut() {
        *last = last.strip_suffix(".rs").unwrap_or(last);
    }
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    parts
}

/// The child of `parent` (empty: the crate) that a file belongs to, if any. The parent's own
/// file is its root, like `lib.rs` for the crate, and belongs to none of its children.
fn member_of(file: &str, parent: &[&str]) -> Option<String> {
    let path = module_path(file);
    if parent.is_empty() && matches!(path.first(), Some(&("bin" | "lib" | "main"))) {
        return None;
    }
    if path.len() <= parent.len() || path[..parent.len()] != *parent {
        return None;
    }
    Some(path[parent.len()].to_owned())
}

/// The dependencies between the children of one module (or of the crate).
#[derive(Debug, Default)]
pub(super) struct Graph {
    /// How a child is named in messages (`plan`, `parse::node`).
    prefix: String,
    pub(super) nodes: BTreeSet<String>,
    /// For each edge, the places that make it (`plan/render.rs:12`).
    pub(super) edges: BTreeMap<(String, String), Vec<String>>,
}

impl Graph {
    /// The graph between the children of `parent` (empty: the top-level modules).
    pub(super) fn of(files: &[SourceFile], parent: &[&str]) -> Self {
        let mut graph = Graph {
            prefix: parent.iter().flat_map(|p| [*p, "::"]).collect(),
            ..Graph::default()
        };
        graph.nodes = files
            .iter()
            .filter_map(|f| member_of(&f.path, parent))
            .collect();
        let parent_segments: Vec<String> = parent.iter().map(|&p| p.to_owned()).collect();
        for file in files {
            let Some(from) = member_of(&file.path, parent) else {
                continue;
            };
            for (line, path) in crate_paths(&file.text) {
                let Some(to) = path
                    .strip_prefix(parent_segments.as_slice())
                    .and_then(<[String]>::first)
                else {
                    continue;
                };
                if *to != from && graph.nodes.contains(to) {
                    graph
                        .edges
                        .entry((from.clone(), to.clone()))
                        .or_default()
                        .push(format!("{}:{line}", file.path));
                }
            }
        }
        graph
    }

    fn targets(&self, from: &str) -> impl Iterator<Item = &String> {
        self.edges
            .keys()
            .filter(move |(a, _)| a == from)
            .map(|(_, b)| b)
    }

    fn reachable(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(node) = todo.pop() {
            for next in self.targets(&node) {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    }

    /// Each group of modules that depend on each other (a strongly connected component of more
    /// than one module), with one cycle in it: the shortest through the group's first module,
    /// closed (`[a, b, a]`).
    fn cycles(&self) -> Vec<(Vec<String>, Vec<String>)> {
        let reach: BTreeMap<&String, BTreeSet<String>> =
            self.nodes.iter().map(|n| (n, self.reachable(n))).collect();
        let mut done = BTreeSet::new();
        let mut cycles = Vec::new();
        for node in &self.nodes {
            if done.contains(node) || !reach[node].contains(node) {
                continue;
            }
            let group: BTreeSet<&String> = reach[node]
                .iter()
                .filter(|other| reach[other].contains(node))
                .filter_map(|other| self.nodes.get(other))
                .collect();
            done.extend(group.iter().map(|n| (*n).clone()));
            let cycle = self.shortest_cycle(node, &group);
            cycles.push((group.into_iter().cloned().collect(), cycle));
        }
        cycles
    }

    /// A shortest path from `start` back to itself inside `group` (breadth first).
    fn shortest_cycle(&self, start: &String, group: &BTreeSet<&String>) -> Vec<String> {
        let mut before: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        while let Some(node) = queue.pop_front() {
            for next in self.targets(&node).filter(|n| group.contains(n)) {
                if next == start {
                    let mut path = vec![start.clone(), node.clone()];
                    let mut at = node.clone();
                    while let Some(prev) = before.get(&at) {
                        path.push(prev.clone());
                        at = prev.clone();
                    }
                    path.reverse();
                    return path;
                }
                if !before.contains_key(next) && next != start {
                    before.insert(next.clone(), node.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        vec![start.clone()]
    }

    /// The cycles, each with the places that make its edges, or `None` without a cycle.
    pub(super) fn cycle_report(&self) -> Option<String> {
        let cycles = self.cycles();
        if cycles.is_empty() {
            return None;
        }
        let mut report = format!("{} module cycle(s):\n", cycles.len());
        for (group, cycle) in cycles {
            let names: Vec<String> = cycle.iter().map(|n| self.name(n)).collect();
            let _ = write!(report, "- {}", names.join(" → "));
            if group.len() + 1 > cycle.len() {
                // Breaking this cycle may leave others among the same modules.
                let members: Vec<String> = group.iter().map(|n| self.name(n)).collect();
                let _ = write!(report, " (one cycle among {})", members.join(", "));
            }
            report.push('\n');
            for pair in cycle.windows(2) {
                let places = &self.edges[&(pair[0].clone(), pair[1].clone())];
                let _ = writeln!(
                    report,
                    "    {} → {}: src/{}{}",
                    self.name(&pair[0]),
                    self.name(&pair[1]),
                    places[0],
                    match places.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    }
                );
            }
        }
        Some(report)
    }

    fn name(&self, node: &str) -> String {
        format!("{}{node}", self.prefix)
    }

    pub(super) fn has_edge(&self, from: &str, to: &str) -> bool {
        self.edges.contains_key(&(from.to_owned(), to.to_owned()))
    }
}

/// The files over `max` lines, with their line counts.
pub(super) fn long_files(files: &[SourceFile], max: usize) -> Vec<(String, usize)> {
    files
        .iter()
        .map(|f| (f.path.clone(), f.text.lines().count()))
        .filter(|&(_, lines)| lines > max)
        .collect()
}
