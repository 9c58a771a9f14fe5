//! The library's modules import one way (data → model → train → metrics/plot → run; the tutorial is in the crate din-teach):
//! this test reads every source file of `crates/din/src`, collects the `crate::MODULE` paths
//! each top-level module uses outside comments and `#[cfg(test)]` code, and fails on a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut paths = Vec::new();
    common::rust_files(src, &mut paths);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in paths {
        let rel = p.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&p).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let is_module = name.chars().next().is_some_and(|c| c.is_lowercase());
                if is_module && name != module && module != "lib" {
                    edges.entry(module.clone()).or_default().insert(name);
                }
            }
        }
    }
    edges
}

fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        u: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(u.to_string(), 1);
        path.push(u.to_string());
        for v in edges.get(u).into_iter().flatten() {
            match state.get(v.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == v).unwrap();
                    let mut c = path[start..].to_vec();
                    c.push(v.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(v, edges, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(u.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for u in edges.keys() {
        if !state.contains_key(u.as_str()) {
            if let Some(c) = visit(u, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_circles() {
    let edges = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        edges["train"].contains("model"),
        "the scan finds imports: {edges:?}"
    );
    assert!(
        !edges["model"].contains("train"),
        "model must not import train"
    );
    assert!(
        !edges["data"].contains("model"),
        "data must not import model"
    );
    assert_eq!(circle(&edges), None, "{edges:?}");
}

#[test]
fn the_check_finds_a_circle_when_there_is_one() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circle(&edges).unwrap(), ["a", "b", "c", "a"]);
    edges.get_mut("c").unwrap().clear();
    assert_eq!(circle(&edges), None);
}
