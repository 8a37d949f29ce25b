//! The house keeps its rooms: read from the sources' own imports, no two modules of
//! `src/` import each other (directly or around a circle), the engine imports no front
//! end and not the configuration file, the front ends do not import the HTTP client, and
//! the configuration file imports nothing of the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path (`engine::commands::nav`) for each source file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            if name == "lib" || name == "main" {
                continue;
            }
            out.insert(name, path);
        }
    }
    out
}

/// Every path a file names after `crate::`, `super::` or one of its own submodules
/// (`nav::run` in `commands/mod.rs`), with `use` groups expanded. `super::*` (a test
/// module's glob of its own file) is not an import.
fn named_paths(text: &str, module: &str, children: &[String]) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let own: Vec<String> = module.split("::").map(str::to_string).collect();
    let parent: Vec<String> = own[..own.len().saturating_sub(1)].to_vec();
    // Inside the file's `mod tests { … }` (last, by habit), `super` is the file itself.
    let tests_at = code
        .find("\nmod tests {")
        .map(|b| code[..b].chars().count())
        .unwrap_or(usize::MAX);
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let child = children.iter().find(|c| {
            let word: String = chars[i..chars.len().min(i + c.len() + 2)].iter().collect();
            word == format!("{c}::")
        });
        let base = if starts_word && rest.starts_with("crate::") {
            i += 7;
            Some(Vec::new())
        } else if starts_word && rest.starts_with("super::*") {
            i += 8;
            None
        } else if starts_word && rest.starts_with("super::") {
            i += 7;
            Some(if i > tests_at {
                own.clone()
            } else {
                parent.clone()
            })
        } else if let Some(c) = child.filter(|_| starts_word) {
            i += c.len() + 2;
            let mut base = own.clone();
            base.push(c.clone());
            Some(base)
        } else {
            None
        };
        match base {
            Some(base) => i = path_at(&chars, i, base, &mut out),
            None => i += 1,
        }
    }
    out
}

/// Read `a::b::{c, d::e}` from `i`, pushing each full path; returns where it ended.
fn path_at(
    chars: &[char],
    mut i: usize,
    mut base: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > start {
            base.push(chars[start..i].iter().collect());
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            if chars.get(i) == Some(&'{') {
                i += 1;
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    match chars.get(i) {
                        Some('}') => return i + 1,
                        None => return i,
                        _ => {}
                    }
                    let before = i;
                    i = path_at(chars, i, base.clone(), out);
                    // `x as y`: skip the alias.
                    while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                        i += 1;
                    }
                    if i == before {
                        i += 1;
                    }
                }
            }
            continue;
        }
        if base.last().is_some_and(|l| l == "self") {
            base.pop();
        }
        out.push(base);
        return i;
    }
}

/// The import graph: module → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in &mods {
        let text = std::fs::read_to_string(file).expect("read");
        let children: Vec<String> = mods
            .keys()
            .filter_map(|m| m.strip_prefix(&format!("{name}::")))
            .filter(|rest| !rest.contains("::"))
            .map(str::to_string)
            .collect();
        let set = edges.entry(name.clone()).or_default();
        for path in named_paths(&text, name, &children) {
            // The longest prefix of the path that is a module is what it imports.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|p| mods.contains_key(p));
            if let Some(t) = target.filter(|t| t != name) {
                set.insert(t);
            }
        }
    }
    edges
}

#[test]
fn the_import_graph_is_read_from_the_sources() {
    let g = graph();
    // The reader itself: a few edges that must be there, so the checks below mean something.
    assert!(
        g["engine::commands"].contains("engine::commands::nav"),
        "{g:#?}"
    );
    assert!(g["tui::app"].contains("tui::layout"), "{g:#?}");
    assert!(g["engine::commands::nav"].contains("engine::session"));
    let text = "use crate::engine::{complete, words::{self, x as y}, Command};\nuse super::b::C;\nuse super::*;\nlet _ = kid::f();";
    let mut found = named_paths(text, "tui::a", &["kid".to_string()]);
    found.sort();
    assert_eq!(
        found,
        vec![
            vec!["engine".to_string(), "Command".into()],
            vec!["engine".to_string(), "complete".into()],
            vec!["engine".to_string(), "words".into()],
            vec!["engine".to_string(), "words".into(), "x".into()],
            vec!["tui".to_string(), "a".into(), "kid".into(), "f".into()],
            vec!["tui".to_string(), "b".into(), "C".into()],
        ]
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let g = graph();
    // Depth-first search for a back edge; the circle is reported whole.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| s == n) {
            let mut circle = stack[pos..].to_vec();
            circle.push(n.to_string());
            return Some(circle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(circle) = visit(n, &g, &mut Vec::new(), &mut done) {
            panic!("an import circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_rooms_keep_to_themselves() {
    let g = graph();
    let under = |m: &str, room: &str| m == room || m.starts_with(&format!("{room}::"));
    for (from, tos) in &g {
        for to in tos {
            let refused = (under(from, "engine")
                && (under(to, "tui") || under(to, "repl") || to == "config"))
                || ((under(from, "tui") || under(from, "repl")) && under(to, "vault"))
                || (from == "config" && under(to, "engine"));
            assert!(!refused, "{from} imports {to}");
        }
    }
}
