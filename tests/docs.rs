//! The repository documents itself: no tracked file points at a document
//! outside the repository: every reference goes into `docs/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::root;

/// Every file of the repository: `git ls-files` in a checkout, else every
/// file below the root except build output and hidden folders.
fn tracked_files() -> Vec<PathBuf> {
    let root = root();
    if let Ok(out) = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        && out.status.success()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.is_file())
            .collect();
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') && name != ".ci" || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, files);
        } else {
            files.push(p);
        }
    }
}

/// Names of documents that live outside the repository. Spelled in pieces
/// so that this file does not match itself.
fn outside_names() -> Vec<String> {
    let mut v = vec![format!("..{}shared", '/')];
    for name in ["SPEC", "CLI", "ORACLES", "STYLE", "CRATES"] {
        v.push(format!("{name}{}md", '.'));
    }
    v
}

/// `shared/` followed by capitals and `.md`, as `git grep 'shared/[A-Z]*\.md'` finds.
fn mentions_shared_doc(line: &str) -> bool {
    let pat = format!("shared{}", '/');
    line.match_indices(&pat).any(|(i, _)| {
        let rest = &line[i + pat.len()..];
        let caps = rest.bytes().take_while(u8::is_ascii_uppercase).count();
        rest[caps..].starts_with(".md")
    })
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let names = outside_names();
    let mut found = Vec::new();
    for path in tracked_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary files
        };
        for (n, line) in text.lines().enumerate() {
            if names.iter().any(|w| line.contains(w.as_str())) || mentions_shared_doc(line) {
                found.push(format!(
                    "{}:{}: {}",
                    path.strip_prefix(root()).unwrap_or(&path).display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these lines point at documents outside the repository; \
         point at the page of docs/ that holds the facts instead:\n{}",
        found.join("\n")
    );
}
