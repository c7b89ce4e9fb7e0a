//! Design rules the build keeps: no two files of a crate import each other, directly or through
//! others (ARCHITECTURE.md), agent-core never depends on load-tests or benches, and no source
//! file grows past what one reader holds.
//!
//! A file's imports are the `crate::` and `super::` paths it names (in `use` lines and inline),
//! outside its `#[cfg(test)]` module, each resolved to the deepest module file it reaches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["kinds", "steps", "run"]`) and its file.
type Modules = BTreeMap<Vec<String>, PathBuf>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every module file of the crate rooted at `src` (binaries under `src/bin/` excluded).
fn modules(src: &Path) -> Modules {
    fn walk(dir: &Path, src: &Path, out: &mut Modules) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    walk(&path, src, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                out.insert(parts, path);
            }
        }
    }
    let mut out = Modules::new();
    walk(src, src, &mut out);
    out
}

/// The source of `file` without comments and its `#[cfg(test)]` module.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths `code` names after `crate::` or `super::`, with `{a, b::c}` groups expanded, as
/// segment lists relative to `module` (`super` resolved).
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !ident(bytes[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        // Read a path: identifiers and `::`, then maybe one `{...}` group.
        let mut j = i;
        let mut path = String::new();
        while j < bytes.len() && (ident(bytes[j]) || bytes[j] == ':') {
            path.push(bytes[j]);
            j += 1;
        }
        let mut tails = vec![String::new()];
        if path.ends_with("::") && j < bytes.len() && bytes[j] == '{' {
            let end = (j..bytes.len())
                .find(|&k| bytes[k] == '}')
                .unwrap_or(bytes.len());
            let group: String = bytes[j + 1..end].iter().collect();
            tails = group
                .split(',')
                .map(|t| t.split(" as ").next().unwrap_or_default().trim().to_owned())
                .filter(|t| !t.is_empty() && t != "self")
                .collect();
            j = end;
        }
        for tail in tails {
            let full = format!("{path}{tail}");
            let mut segs: Vec<String> = full
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut base: Vec<String> = Vec::new();
            if segs.first().map(String::as_str) == Some("crate") {
                segs.remove(0);
            } else {
                // A module's path is its folder for a mod.rs file, so `super` is always one up.
                base = module.to_vec();
                base.pop();
                while segs.first().map(String::as_str) == Some("super") {
                    segs.remove(0);
                    if segs.first().map(String::as_str) == Some("super") {
                        base.pop();
                    }
                }
            }
            base.extend(segs);
            out.push(base);
        }
        i = j.max(i + 1);
    }
    out
}

/// Which module files each module file imports.
fn imports(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules(src);
    let mut graph = BTreeMap::new();
    for (module, file) in &mods {
        let mut deps = BTreeSet::new();
        for path in named_paths(module, &code(file)) {
            // The deepest module the path reaches.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| mods.contains_key(p));
            if let Some(t) = target.filter(|t| !t.is_empty() && t != module) {
                deps.insert(t);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        marks: &mut BTreeMap<Vec<String>, Mark>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle: Vec<String> = stack[from..].iter().map(|n| n.join("/")).collect();
                cycle.push(node.join("/"));
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_two_files_of_a_crate_import_each_other() {
    for krate in ["agent-core", "load-tests", "benches"] {
        let graph = imports(&workspace().join(krate).join("src"));
        assert!(graph.len() > 5, "{krate}: too few modules found");
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{krate}: an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    // The check itself: two files naming each other are caught, through `super::` too.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod c;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "mod inner;\nuse crate::b::B;\n").unwrap();
    std::fs::write(src.join("a/inner.rs"), "use super::super::c::C;\n").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::{c::C, x};\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "pub struct C;\nfn f() { crate::a::inner::g(); }\n",
    )
    .unwrap();
    let graph = imports(src);
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a/inner -> c is a cycle");
    assert!(cycle.contains(&"c".to_owned()), "{cycle:?}");
    std::fs::write(src.join("c.rs"), "pub struct C;\n").unwrap();
    assert_eq!(find_cycle(&imports(src)), None);
}

#[test]
fn agent_core_depends_on_neither_load_tests_nor_benches() {
    let manifest = std::fs::read_to_string(workspace().join("agent-core/Cargo.toml")).unwrap();
    for other in ["load-tests", "benches"] {
        assert!(
            !manifest.lines().any(|l| l.trim_start().starts_with(other)),
            "agent-core/Cargo.toml depends on {other}"
        );
    }
    let benches = std::fs::read_to_string(workspace().join("benches/Cargo.toml")).unwrap();
    assert!(
        !benches
            .lines()
            .any(|l| l.trim_start().starts_with("load-tests")),
        "benches depends on load-tests (its tokio features would change what benches measure)"
    );
}

#[test]
fn no_source_file_passes_600_lines() {
    for krate in ["agent-core", "load-tests", "benches", "nats-testkit"] {
        for (_, file) in modules(&workspace().join(krate).join("src")) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            assert!(lines <= 600, "{}: {lines} lines; split it", file.display());
        }
    }
}
