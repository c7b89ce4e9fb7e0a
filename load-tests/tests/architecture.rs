//! Design rules the build keeps: no two files of a crate import each other, directly or through
//! others (ARCHITECTURE.md), agent-core never depends on load-tests or benches, and no source
//! file grows past what one reader holds.
//!
//! A file's imports are read with a Rust parser (`syn`): every path it names, in `use` items, in
//! code and types, and inside macro invocations, outside `#[cfg(test)]` items. A path is resolved
//! the way the compiler resolves it within the crate: `crate::`, `super::`, `self::`, a child
//! module's name, or a name the file brought in with `use` (its alias followed). The file it
//! reaches is the deepest module file on the path, and when that file only re-exports the name
//! (`pub use child::Name`, or any `use` a child reaches through `super::`), the re-export is
//! followed to the file that defines it. `mod child;` itself is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module path (`["kinds", "steps", "run"]`).
type ModPath = Vec<String>;
/// Which file each module lives in (an inline `mod x { }` lives in its parent's file).
type Modules = BTreeMap<ModPath, PathBuf>;
/// For each module file, the module files it imports.
type Graph = BTreeMap<ModPath, BTreeSet<ModPath>>;
/// For each import between two files, the paths (as written) that make it.
type Why = BTreeMap<(ModPath, ModPath), BTreeSet<String>>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every module file of the crate rooted at `src` (binaries, `src/main.rs` beside a `src/lib.rs`
/// and `src/bin/`, excluded).
fn modules(src: &Path) -> Modules {
    fn walk(dir: &Path, src: &Path, out: &mut Modules) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    walk(&path, src, out);
                }
            } else if path == src.join("main.rs") && src.join("lib.rs").exists() {
                // The binary: a crate of its own, whose root is not the library's.
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: ModPath = rel
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

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// What one module (a file or an inline `mod x { }`) names.
#[derive(Default, Debug)]
struct Names {
    /// `use` bindings: the name in scope and the path as written.
    uses: BTreeMap<String, ModPath>,
    /// `use path::*` targets.
    globs: Vec<ModPath>,
    /// Every path named, `use` paths included.
    paths: Vec<ModPath>,
}

/// Collects paths; stops at `#[cfg(test)]` items and at inline modules (read separately).
#[derive(Default)]
struct Collect {
    paths: Vec<ModPath>,
}

impl Collect {
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        // Paths inside a macro's tokens: identifiers joined by `::`.
        let mut path: ModPath = Vec::new();
        let mut colons = 0;
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Ident(i) => {
                    if colons != 2 && !path.is_empty() {
                        self.paths.push(std::mem::take(&mut path));
                    }
                    path.push(i.to_string());
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                other => {
                    if path.len() > 1 {
                        self.paths.push(std::mem::take(&mut path));
                    }
                    path.clear();
                    colons = 0;
                    if let proc_macro2::TokenTree::Group(g) = other {
                        self.tokens(g.stream());
                    }
                }
            }
        }
        if path.len() > 1 {
            self.paths.push(path);
        }
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            // Read separately, as modules of their own.
            syn::Item::Mod(_) => return,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            _ => &Vec::new(),
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // `use` trees are read by `uses`.
    }
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.paths
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// The bindings of one `use` tree, prefixed by `prefix`.
fn uses(tree: &syn::UseTree, prefix: &[String], names: &mut Names) {
    let with = |s: &syn::Ident| {
        let mut p = prefix.to_vec();
        p.push(s.to_string());
        p
    };
    match tree {
        syn::UseTree::Path(p) => uses(&p.tree, &with(&p.ident), names),
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned().unwrap_or_default();
            names.uses.insert(name, prefix.to_vec());
            names.paths.push(prefix.to_vec());
        }
        syn::UseTree::Name(n) => {
            let full = with(&n.ident);
            names.uses.insert(n.ident.to_string(), full.clone());
            names.paths.push(full);
        }
        syn::UseTree::Rename(r) => {
            let full = with(&r.ident);
            names.uses.insert(r.rename.to_string(), full.clone());
            names.paths.push(full);
        }
        syn::UseTree::Glob(_) => names.globs.push(prefix.to_vec()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| uses(t, prefix, names)),
    }
}

/// Reads the items of module `module` (in `file`) into `out`, inline modules as their own.
fn read_items(
    module: &ModPath,
    file: &Path,
    items: &[syn::Item],
    out: &mut BTreeMap<ModPath, (PathBuf, Names)>,
    inline: &mut Modules,
) {
    let mut names = Names::default();
    let mut collect = Collect::default();
    for item in items {
        match item {
            syn::Item::Use(u) if !is_cfg_test(&u.attrs) => uses(&u.tree, &[], &mut names),
            syn::Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    let mut child = module.clone();
                    child.push(m.ident.to_string());
                    inline.insert(child.clone(), file.to_owned());
                    read_items(&child, file, inner, out, inline);
                }
            }
            other => collect.visit_item(other),
        }
    }
    names.paths.extend(collect.paths);
    out.insert(module.clone(), (file.to_owned(), names));
}

/// The absolute module path a path written in `module` names, if it is within the crate.
fn absolute(
    module: &ModPath,
    path: &[String],
    all: &BTreeMap<ModPath, (PathBuf, Names)>,
    depth: usize,
) -> Option<ModPath> {
    let first = path.first()?;
    let mut out = match first.as_str() {
        "crate" => return Some(path[1..].to_vec()),
        "self" => {
            let mut m = module.clone();
            m.extend_from_slice(&path[1..]);
            return Some(m);
        }
        "super" => {
            let mut m = module.clone();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                m.pop()?;
                rest = &rest[1..];
            }
            m.extend_from_slice(rest);
            return Some(m);
        }
        _ => module.clone(),
    };
    // A child module's name.
    let mut child = module.clone();
    child.push(first.clone());
    if all.contains_key(&child) {
        out.push(first.clone());
        out.extend_from_slice(&path[1..]);
        return Some(out);
    }
    // A name this module brought in.
    if depth > 0 {
        if let Some(written) = all.get(module).and_then(|(_, n)| n.uses.get(first)) {
            if written.as_slice() != path {
                let mut base = absolute(module, written, all, depth - 1)?;
                base.extend_from_slice(&path[1..]);
                return Some(base);
            }
        }
    }
    None
}

/// The module that defines what the absolute path `path` names: the deepest module on it, with
/// re-exports followed; `None` when a re-export leads out of the crate.
fn defining(
    path: &[String],
    all: &BTreeMap<ModPath, (PathBuf, Names)>,
    depth: usize,
) -> Option<ModPath> {
    let n = (0..=path.len())
        .rev()
        .find(|&n| all.contains_key(&path[..n]))
        .unwrap_or(0);
    let module = path[..n].to_vec();
    if let (Some(name), true) = (path.get(n), depth > 0) {
        if let Some(written) = all.get(&module).and_then(|(_, names)| names.uses.get(name)) {
            let mut target = absolute(&module, written, all, 8)?;
            target.extend_from_slice(&path[n + 1..]);
            return defining(&target, all, depth - 1);
        }
    }
    Some(module)
}

/// Which module files each module file of the crate rooted at `src` imports.
fn imports(src: &Path) -> Graph {
    imports_why(src).0
}

/// [`imports`], with the paths behind each import.
fn imports_why(src: &Path) -> (Graph, Why) {
    let mut all = BTreeMap::new();
    let mut inline = Modules::new();
    for (module, file) in modules(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", file.display()));
        read_items(&module, &file, &parsed.items, &mut all, &mut inline);
    }
    // The file a module lives in, named by its own module path (a file's top module).
    let file_module = |m: &ModPath| -> ModPath {
        let mut m = m.clone();
        while inline.contains_key(&m) {
            m.pop();
        }
        m
    };
    let mut graph = Graph::new();
    let mut why = Why::new();
    for (module, (_, names)) in &all {
        let from = file_module(module);
        let deps = graph.entry(from.clone()).or_default();
        let named = names.paths.iter().chain(&names.globs);
        for path in named {
            let Some(abs) = absolute(module, path, &all, 8) else {
                continue;
            };
            let Some(to) = defining(&abs, &all, 8) else {
                continue;
            };
            let to = file_module(&to);
            if to != from && !(to.is_empty() && abs.is_empty()) {
                why.entry((from.clone(), to.clone()))
                    .or_default()
                    .insert(path.join("::"));
                deps.insert(to);
            }
        }
    }
    (graph, why)
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Vec<String>,
        graph: &Graph,
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
    for krate in ["agent-core", "load-tests", "benches", "nats-testkit"] {
        let (graph, why) = imports_why(&workspace().join(krate).join("src"));
        assert!(graph.len() > 5, "{krate}: too few modules found");
        if let Some(cycle) = find_cycle(&graph) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let key = |m: &str| -> ModPath {
                        m.split('/')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    };
                    let names = &why[&(key(&w[0]), key(&w[1]))];
                    format!("{} -> {} (names {names:?})", w[0], w[1])
                })
                .collect();
            panic!("{krate}: an import cycle:\n  {}", steps.join("\n  "));
        }
    }
}

/// load-tests' layers, lowest first (ARCHITECTURE.md draws them): a file imports only from its
/// own layer or below. A module path matches the first entry whose pattern it starts with; `*`
/// is any one segment, and a pattern ending in `$` must match the whole path.
const LOAD_TESTS_LAYERS: &[(&str, &[&str])] = &[
    (
        "basics",
        &[
            "format",
            "stats",
            "nested_cargo",
            "rule",
            "history/git",
            "history/changepoint",
        ],
    ),
    (
        "model: scenarios and each kind's parameters",
        &["scenario", "workload", "kinds$", "kinds/*$"],
    ),
    (
        "measurement: figures, reports, gates",
        &[
            "metrics",
            "resources",
            "invariants",
            "report",
            "attribution",
            "gate",
        ],
    ),
    ("driving interface", &["drive"]),
    (
        "kinds: drivers and their rules",
        &["kinds/rules", "kinds/*/*", "distributed"],
    ),
    (
        "running, counting, comparing",
        &[
            "runner",
            "instructions",
            "own_process",
            "baseline",
            "load_test",
            "chaos",
            "history",
        ],
    ),
    ("suite", &["catalog", "engine"]),
    ("command line", &["cli", "$"]),
];

/// The layer of `module`: of the patterns it matches, the one with the most named segments.
fn layer_of(module: &ModPath) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (layer, (_, patterns)) in LOAD_TESTS_LAYERS.iter().enumerate() {
        for p in *patterns {
            let (p, whole) = p.strip_suffix('$').map_or((*p, false), |p| (p, true));
            let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            let fits = module.len() >= segs.len()
                && (!whole || module.len() == segs.len())
                && segs.iter().zip(module).all(|(s, m)| *s == "*" || s == m);
            let named = segs.iter().filter(|s| **s != "*").count();
            if fits && best.is_none_or(|(n, _)| named > n) {
                best = Some((named, layer));
            }
        }
    }
    best.map(|(_, layer)| layer)
}

#[test]
fn load_tests_imports_only_from_its_layer_or_below() {
    let (graph, why) = imports_why(&workspace().join("load-tests/src"));
    let mut wrong = Vec::new();
    for (from, deps) in &graph {
        let Some(at) = layer_of(from) else {
            wrong.push(format!(
                "{}: in no layer; add it to LOAD_TESTS_LAYERS",
                from.join("/")
            ));
            continue;
        };
        for to in deps {
            match layer_of(to) {
                Some(l) if l <= at => {}
                Some(l) => wrong.push(format!(
                    "{} ({}) imports {} ({}) through {:?}",
                    from.join("/"),
                    LOAD_TESTS_LAYERS[at].0,
                    to.join("/"),
                    LOAD_TESTS_LAYERS[l].0,
                    why[&(from.clone(), to.clone())]
                )),
                None => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layering broken:\n  {}",
        wrong.join("\n  ")
    );
}

/// A crate in a temporary directory, from (file, source) pairs.
fn crate_of(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in files {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    // Two files naming each other through others, with `super::` and a `{...}` group.
    let dir = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("a/mod.rs", "mod inner;\nuse crate::b::B;\n"),
        ("a/inner.rs", "use super::super::c::C;\n"),
        ("b.rs", "use crate::{c::C, x};\n"),
        ("c.rs", "pub struct C;\nfn f() { crate::a::inner::g(); }\n"),
    ]);
    let cycle = find_cycle(&imports(dir.path())).expect("a -> b -> c -> a/inner -> c is a cycle");
    assert!(cycle.contains(&"c".to_owned()), "{cycle:?}");
    std::fs::write(dir.path().join("c.rs"), "pub struct C;\n").unwrap();
    assert_eq!(find_cycle(&imports(dir.path())), None);
}

#[test]
fn the_cycle_check_resolves_self_children_reexports_and_macros() {
    let cyclic = |files: &[(&str, &str)]| find_cycle(&imports(crate_of(files).path()));
    // A parent re-exporting its child, which names the parent's own type: a cycle.
    let parent_child = [
        ("lib.rs", "pub mod bus;\n"),
        (
            "bus/mod.rs",
            "mod local;\npub use local::Local;\npub struct Snapshot;\n",
        ),
        ("bus/local.rs", "pub struct Local(super::Snapshot);\n"),
    ];
    assert!(cyclic(&parent_child).is_some());
    // The same through `self::` and a bare child path in code.
    let via_self = [
        ("lib.rs", "pub mod bus;\n"),
        (
            "bus/mod.rs",
            "mod local;\npub struct Snapshot;\nfn f() { self::local::g(); }\n",
        ),
        ("bus/local.rs", "use crate::bus::Snapshot;\npub fn g() {}\n"),
    ];
    assert!(cyclic(&via_self).is_some());
    let bare_child = [
        ("lib.rs", "pub mod bus;\n"),
        (
            "bus/mod.rs",
            "mod local;\npub struct Snapshot;\nfn f() { local::g(); }\n",
        ),
        (
            "bus/local.rs",
            "pub fn g() { let _ = crate::bus::Snapshot; }\n",
        ),
    ];
    assert!(cyclic(&bare_child).is_some());
    // A re-export is followed to the file that defines the name: `b` imports `a/leaf` (not
    // `a/mod.rs`), and `a/leaf` importing `b` closes a cycle the parent never sees.
    let reexport = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a/mod.rs", "mod leaf;\npub use leaf::L;\n"),
        ("a/leaf.rs", "pub struct L;\nfn f() { crate::b::g(); }\n"),
        ("b.rs", "use crate::a::L;\npub fn g() {}\n"),
    ];
    assert!(cyclic(&reexport).is_some());
    // Inside a macro's tokens, and through a `use` alias.
    let in_macro = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub fn f() { println!(\"{}\", crate::b::G); }\n"),
        (
            "b.rs",
            "use crate::a as other;\npub const G: u8 = 0;\nfn g() { other::f(); }\n",
        ),
    ];
    assert!(cyclic(&in_macro).is_some());
    // What is not an import: `mod child;`, a test module, an external crate's path.
    let none = [
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub fn f() { serde::x(); }\n#[cfg(test)]\nmod tests { use crate::b::g; }\n",
        ),
        ("b.rs", "pub fn g() { crate::a::f(); }\n"),
    ];
    assert_eq!(cyclic(&none), None);
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
