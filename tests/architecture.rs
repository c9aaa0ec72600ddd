//! Which way the rooms of `src/` depend on each other. Each top-level module
//! has a place in one order, lowest first; a module may name (`crate::X`)
//! only modules below it. An import that has to run back up for a while is
//! listed in [`KNOWN_UPWARD`] with the reason: an unlisted one fails this
//! test, and so does a listed one that has gone (so the list only shrinks).
//! CONTRIBUTING.md draws the same order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The rooms, lowest first.
const ORDER: &[&str] = &[
    // Leaves: text positions, limits, core spreading, hashes, reply texts,
    // mail rules, DKIM key material, the words spec and model share.
    "source",
    "limits",
    "par",
    "passwd",
    "reply",
    "rules",
    "dkim",
    "vocab",
    "diag",
    // The input language.
    "spec",
    // Formats shared by a writer and a reader: the embedded server's
    // manifest, the compiled files.
    "manifest",
    "ratelimit",
    "output",
    // The front half: lowering and checking.
    "model",
    // The back half.
    "backend",
    "plan",
    // What the last clean plan saw, to answer the next one by `stat`.
    "cache",
    "live",
    "expect",
    // The front half in one call, for every program and test.
    "compile",
    "diff",
    "import",
    // Programs: the policy service, the server, the command line.
    "policy",
    "serve",
    "cli",
];

/// Imports that run up the order today, `(from, to)`, and why.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

/// Every `crate::X` a module's code names (comments and string literals
/// left out), by top-level module.
fn edges(src: &Path) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            let from = first.to_string_lossy().trim_end_matches(".rs").to_string();
            if from == "lib" || from == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                for to in named_modules(line) {
                    if to != from {
                        out.entry((from.clone(), to)).or_default().push(format!(
                            "src/{}:{}",
                            rel.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The `X` of each `crate::X` in the code of one line.
fn named_modules(line: &str) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    // Drop string literals and a trailing comment.
    let mut plain = String::new();
    let mut in_str = false;
    let mut prev = ' ';
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            if c == '"' && prev != '\\' {
                in_str = false;
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            continue;
        }
        if c == '"' {
            in_str = true;
            prev = ' ';
            continue;
        }
        if c == '/' && chars.peek() == Some(&'/') {
            break;
        }
        plain.push(c);
    }
    let mut found = Vec::new();
    let mut rest = plain.as_str();
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|b| b.is_alphanumeric() || b == '_' || b == '$') {
            continue; // `$crate::` or a longer path segment
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

#[test]
fn imports_run_down_the_stages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: BTreeMap<&str, usize> = ORDER.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let known: BTreeSet<(&str, &str)> = KNOWN_UPWARD.iter().map(|(a, b, _)| (*a, *b)).collect();
    let mut problems = Vec::new();
    let mut seen_known = BTreeSet::new();
    let mut rooms = BTreeSet::new();
    for ((from, to), places) in edges(&src) {
        rooms.insert(from.clone());
        let (Some(&f), Some(&t)) = (rank.get(from.as_str()), rank.get(to.as_str())) else {
            problems.push(format!(
                "{from} → {to}: a room missing from ORDER in tests/architecture.rs (and from CONTRIBUTING.md) — {}",
                places[0]
            ));
            continue;
        };
        if t < f {
            continue;
        }
        if known.contains(&(from.as_str(), to.as_str())) {
            seen_known.insert((from, to));
            continue;
        }
        problems.push(format!(
            "{from} → {to} runs up the stages ({}): move what both need below both, or pass it in as data",
            places.join(", ")
        ));
    }
    for (a, b, _) in KNOWN_UPWARD {
        if !seen_known.contains(&(a.to_string(), b.to_string())) {
            problems.push(format!(
                "{a} → {b} no longer runs up the stages: remove it from KNOWN_UPWARD"
            ));
        }
    }
    for room in ORDER {
        let file = src.join(format!("{room}.rs"));
        if !file.is_file() && !src.join(room).is_dir() {
            problems.push(format!("ORDER names {room}, which is no room of src/"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn paths_are_read_from_code_only() {
    assert_eq!(named_modules("use crate::model::Spf;"), ["model"]);
    assert_eq!(
        named_modules("//! see [`crate::serve`]"),
        Vec::<String>::new()
    );
    assert_eq!(
        named_modules("let x = \"crate::plan\"; crate::diag::x() // crate::live"),
        ["diag"]
    );
    assert_eq!(named_modules("$crate::spec::x"), Vec::<String>::new());
}
