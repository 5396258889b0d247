//! docs/architecture.md, "Guard rails": no module of a crate imports a module that imports it
//! back, directly or through others, and no code cites a contract outside the repository.
//! Read from the sources, so a cycle fails here before anyone has to untangle it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates")
}

/// The top-level module a file belongs to (`grants/refresh_token.rs` → `grants`).
fn top_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The module names after `crate::` in `text` (also each first name inside `crate::{a::{b, c},
/// d}`), outside unit tests.
fn crate_references(text: &str) -> BTreeSet<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.insert(rest.chars().take_while(|c| is_name(*c)).collect());
            continue;
        };
        let (mut depth, mut name, mut in_first_name) = (0, String::new(), true);
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => in_first_name = true,
                c if depth == 0 && in_first_name && is_name(c) => name.push(c),
                _ if depth == 0 && in_first_name && !name.is_empty() => {
                    names.insert(std::mem::take(&mut name));
                    in_first_name = false;
                }
                _ => {}
            }
        }
        if !name.is_empty() {
            names.insert(name);
        }
    }
    names
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            return Some(path[start..].iter().cloned().chain([node.to_owned()]).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for entry in std::fs::read_dir(crates()).unwrap().map(Result::unwrap) {
        let src = entry.path().join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &files {
            let module = top_module(&src, file);
            let text = std::fs::read_to_string(file).unwrap();
            let uses = graph.entry(module.clone()).or_default();
            uses.extend(crate_references(&text).into_iter().filter(|name| *name != module));
        }
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for uses in graph.values_mut() {
            uses.retain(|name| modules.contains(name));
        }
        assert_eq!(find_cycle(&graph), None, "an import cycle in {}", entry.path().display());
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = BTreeMap::from([
        ("token".to_owned(), BTreeSet::from(["client_auth".to_owned()])),
        ("client_auth".to_owned(), BTreeSet::from(["refresh".to_owned()])),
        ("refresh".to_owned(), BTreeSet::from(["token".to_owned()])),
    ]);
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(4));
    assert_eq!(
        crate_references("use crate::{a::{B, C}, c};\nx = crate::d::e();"),
        BTreeSet::from(["a", "c", "d"].map(String::from))
    );
}

#[test]
fn code_cites_only_what_the_repository_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("integration-tests/tests"), &mut files);
    files.push(root.join("README.md"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let spec = ["SPEC", " §"].concat();
        let shared = ["../", "shared/"].concat();
        assert!(
            !text.contains(&spec) && !text.contains(&shared),
            "{} cites a file outside the repository",
            file.display()
        );
    }
}

#[test]
fn docs_name_only_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The pages, not what they show (docs/images).
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    pages.push(root.join("README.md"));
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for start in ["crates/", "integration-tests/"] {
            for (at, _) in text.match_indices(start) {
                let path: String =
                    text[at..].chars().take_while(|c| c.is_alphanumeric() || "_-/.".contains(*c)).collect();
                let path = path.trim_end_matches('.');
                if path.ends_with(".rs") {
                    assert!(root.join(path).is_file(), "{} names {path}, which does not exist", page.display());
                }
            }
        }
    }
}
