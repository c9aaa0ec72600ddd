//! The repository documents itself: no tracked file points at a document
//! outside the repository: every reference goes into `docs/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Temp, root};

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

// ---- Spec snippets: every `yaml` and `kdl` block of the pages is compiled ----
//
// A block's info string is the dialect, then words:
// - none: the block is a whole spec;
// - `fragment`: the block gives some top-level parts (`version`, `defaults`,
//   `hosts`, `domains`; in KDL `version`, `defaults`, `host`, `domain`
//   nodes), and the test adds the others from [`BASE_YAML`] / [`BASE_KDL`];
// - `error=CODE`: the spec must be refused with that diagnostic code;
// - `case=NAME`: the block is `tests/cases/NAME/mailc.{yaml,kdl}`, byte for byte.
//
// A `yaml` block directly followed by a `kdl` block (nothing but prose
// between them) is a pair: both must give the same model (or the same error).

/// What a fragment is completed with, part by part.
const BASE_YAML: [(&str, &str); 4] = [
    ("version", "version: 1\n"),
    (
        "defaults",
        "defaults:\n  nameservers: [ns1.dns-host.example, ns2.dns-host.example]\n  hostmaster: hostmaster@example.com\n",
    ),
    (
        "hosts",
        "hosts:\n  mx1: {hostname: mx1.example.com, ipv4: 203.0.113.10, stack: postfix-dovecot}\n  mx2: {hostname: mx2.example.net, ipv4: 198.51.100.7, stack: exim-dovecot}\n",
    ),
    ("domains", "domains:\n  example.com: {mx: [mx1]}\n"),
];

const BASE_KDL: [(&str, &str); 4] = [
    ("version", "version 1\n"),
    (
        "defaults",
        "defaults hostmaster=hostmaster@example.com {\n    nameservers ns1.dns-host.example ns2.dns-host.example\n}\n",
    ),
    (
        "host",
        "host mx1 hostname=mx1.example.com ipv4=\"203.0.113.10\" stack=postfix-dovecot\nhost mx2 hostname=mx2.example.net ipv4=\"198.51.100.7\" stack=exim-dovecot\n",
    ),
    ("domain", "domain example.com {\n    mx mx1\n}\n"),
];

#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    dialect: mailc::source::Dialect,
    words: Vec<String>,
    text: String,
    /// The `yaml` block this `kdl` block pairs with.
    pairs_with: Option<usize>,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
    fn word(&self, key: &str) -> Option<&str> {
        self.words
            .iter()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
    }
    fn has(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }
}

/// The `yaml` and `kdl` blocks of a Markdown page, paired.
fn spec_blocks(page: &str) -> Vec<Block> {
    use mailc::source::Dialect;
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let mut blocks: Vec<Block> = Vec::new();
    let mut lines = text.lines().enumerate();
    // The index of the last block, and whether only prose followed it.
    let mut last_yaml: Option<usize> = None;
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace().map(str::to_string);
        let lang = words.next().unwrap_or_default();
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        let dialect = match lang.as_str() {
            "yaml" => Dialect::Yaml,
            "kdl" => Dialect::Kdl,
            _ => {
                last_yaml = None;
                continue;
            }
        };
        let pairs_with = match dialect {
            Dialect::Kdl => last_yaml.take(),
            Dialect::Yaml => None,
        };
        blocks.push(Block {
            file: page.to_string(),
            line: n + 1,
            dialect,
            words: words.collect(),
            text: body,
            pairs_with,
        });
        if dialect == Dialect::Yaml {
            last_yaml = Some(blocks.len() - 1);
        }
    }
    blocks
}

/// The top-level parts a fragment gives.
fn parts_of(b: &Block) -> Vec<String> {
    b.text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '/', '}', '-']) && !l.trim().is_empty())
        .filter_map(|l| {
            let end = l.find([':', ' ', '{']).unwrap_or(l.len());
            Some(l[..end].to_string()).filter(|w| !w.is_empty())
        })
        .collect()
}

/// The whole spec a block stands for.
fn whole_spec(b: &Block) -> String {
    if !b.has("fragment") {
        return b.text.clone();
    }
    let given = parts_of(b);
    let base = match b.dialect {
        mailc::source::Dialect::Yaml => &BASE_YAML,
        mailc::source::Dialect::Kdl => &BASE_KDL,
    };
    let mut spec = String::new();
    let mut added_own = false;
    for (part, text) in base {
        if given.iter().any(|g| g == part) {
            if !added_own {
                spec.push_str(&b.text);
                added_own = true;
            }
        } else {
            spec.push_str(text);
        }
    }
    if !added_own {
        spec.push_str(&b.text);
    }
    spec
}

/// Compiles a spec the way `mailc validate` does (every key file present):
/// the model, or the codes of the errors.
fn compile(
    name: &str,
    text: &str,
    dialect: mailc::source::Dialect,
) -> Result<mailc::model::Model, Vec<String>> {
    use mailc::diag::Severity;
    let source = mailc::source::Source::new(name, text.to_string(), dialect);
    let compiled = mailc::compile::compile(source, &mailc::compile::Inputs::text_only());
    let errors: Vec<mailc::diag::Diagnostic> = compiled
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    match compiled.model {
        Some(m) if errors.is_empty() => Ok(m),
        _ => Err(errors
            .iter()
            .map(|d| format!("{}: {}", d.code.as_str(), d.message))
            .collect()),
    }
}

/// Checks every block of `page`; returns the number of blocks and of pairs.
fn check_page(page: &str) -> (usize, usize) {
    let blocks = spec_blocks(page);
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for b in &blocks {
        if let Some(case) = b.word("case") {
            let ext = match b.dialect {
                mailc::source::Dialect::Yaml => "yaml",
                mailc::source::Dialect::Kdl => "kdl",
            };
            let file = root().join(format!("tests/cases/{case}/mailc.{ext}"));
            let want = std::fs::read_to_string(&file).unwrap_or_default();
            if want != b.text {
                failures.push(format!(
                    "{}: differs from {} (the case is what the tests compile; copy it)",
                    b.at(),
                    file.display()
                ));
            }
            results.push(None);
            continue;
        }
        let spec = whole_spec(b);
        let result = compile(&b.at(), &spec, b.dialect);
        match (b.word("error"), &result) {
            (None, Err(errors)) => failures.push(format!(
                "{}: not a valid spec:\n{}\n--- as compiled:\n{spec}",
                b.at(),
                errors.join("\n")
            )),
            (Some(code), Ok(_)) => failures.push(format!(
                "{}: should be refused with {code}, but is valid",
                b.at()
            )),
            (Some(code), Err(errors))
                if !errors.iter().any(|e| e.starts_with(&format!("{code}:"))) =>
            {
                failures.push(format!(
                    "{}: should be refused with {code}, got:\n{}",
                    b.at(),
                    errors.join("\n")
                ))
            }
            _ => {}
        }
        results.push(Some(result));
    }
    let mut pairs = 0;
    for (i, b) in blocks.iter().enumerate() {
        let Some(y) = b.pairs_with else { continue };
        pairs += 1;
        if blocks[y].words != b.words {
            failures.push(format!(
                "{} pairs with {} but their info words differ",
                b.at(),
                blocks[y].at()
            ));
            continue;
        }
        match (&results[y], &results[i]) {
            (Some(Ok(a)), Some(Ok(k))) if a != k => failures.push(format!(
                "{} (YAML) and {} (KDL) give different models",
                blocks[y].at(),
                b.at()
            )),
            (Some(Err(a)), Some(Err(k))) => {
                let codes = |e: &Vec<String>| {
                    e.iter()
                        .map(|s| s.split(':').next().unwrap_or("").to_string())
                        .collect::<std::collections::BTreeSet<_>>()
                };
                if codes(a) != codes(k) {
                    failures.push(format!(
                        "{} and {} are refused differently:\n{}\n---\n{}",
                        blocks[y].at(),
                        b.at(),
                        a.join("\n"),
                        k.join("\n")
                    ));
                }
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    (blocks.len(), pairs)
}

#[test]
fn readme_specs_compile() {
    let (blocks, _) = check_page("README.md");
    assert!(blocks >= 1, "the README shows no spec");
}

#[test]
fn spec_page_snippets_compile_in_both_dialects() {
    let (blocks, pairs) = check_page("docs/spec.md");
    assert!(blocks >= 20, "docs/spec.md shows only {blocks} specs");
    // Every YAML block has its KDL twin, and the other way round.
    let unpaired: Vec<String> = {
        let all = spec_blocks("docs/spec.md");
        let paired: std::collections::BTreeSet<usize> = all
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.pairs_with.map(|y| [i, y]))
            .flatten()
            .collect();
        all.iter()
            .enumerate()
            .filter(|(i, _)| !paired.contains(i))
            .map(|(_, b)| b.at())
            .collect()
    };
    assert!(
        unpaired.is_empty(),
        "blocks without their other dialect right after (YAML, then KDL): {unpaired:?}"
    );
    assert!(pairs * 2 == blocks);
}

#[test]
fn spec_page_lists_every_diagnostic_code() {
    let page = std::fs::read_to_string(root().join("docs/spec.md")).unwrap();
    let missing: Vec<&str> = mailc::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !page.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/spec.md, \"Diagnostics\", does not list: {missing:?}"
    );
}

// ---- contrib/: what deploy.md installs ----

#[test]
fn systemd_unit_passes_systemd_analyze() {
    let unit = std::fs::read_to_string(root().join("contrib/mailc-serve.service")).unwrap();
    let deploy = std::fs::read_to_string(root().join("docs/deploy.md")).unwrap();
    // The unit runs what deploy.md installs, where it installs it.
    for path in ["/usr/local/bin/mailc", "/etc/mailc/server/manifest.json"] {
        assert!(unit.contains(path), "the unit does not name {path}");
        assert!(
            deploy.contains(path.rsplit_once('/').unwrap().0),
            "deploy.md never names {path}"
        );
    }
    analyze_unit(&unit, "mailc-serve.service");
}

/// The unit of `mailc policy` emitted beside a Postfix host's files passes
/// the same checks.
#[test]
fn policy_unit_passes_systemd_analyze() {
    let unit = std::fs::read_to_string(
        root().join("tests/expected/limits/postfix/pf/mailc-policy.service"),
    )
    .unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/mailc policy "),
        "{unit}"
    );
    analyze_unit(&unit, "mailc-policy.service");
}

/// `systemd-analyze verify` without a complaint, and `security` at most 30.
fn analyze_unit(unit: &str, name: &str) {
    // systemd-analyze wants the program to exist: this build's binary stands in.
    let dir = Temp::new("unit");
    let file = dir.0.join(name);
    std::fs::write(
        &file,
        unit.replace("/usr/local/bin/mailc", env!("CARGO_BIN_EXE_mailc")),
    )
    .unwrap();
    let analyze = |args: &[&str]| {
        let out = Command::new("systemd-analyze")
            .args(args)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!("`systemd-analyze` is needed: run `bash .ci/install-oracles` (docs/testing.md): {e}")
            });
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // Exit 0 is not enough: systemd ignores unknown keys and bad values with
    // a line on stderr and still succeeds.
    let (ok, said) = analyze(&["verify", "--man=no"]);
    let complaints: Vec<&str> = said
        .lines()
        .filter(|l| {
            ["ignoring", "Ignoring", "Unknown", "Failed", "not safe"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect();
    assert!(
        ok && complaints.is_empty(),
        "systemd-analyze verify:\n{said}"
    );
    // The sandboxing stays tight: systemd's own exposure score (0-100, as
    // `--threshold` counts it) at most 30.
    let (ok, said) = analyze(&["security", "--offline=true", "--threshold=30"]);
    assert!(ok, "systemd-analyze security:\n{said}");
}
/// Relative links of a Markdown file: `](target)`, without `#anchor`.
fn relative_links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let end = rest.find(')')?;
            let target = rest[..end].split('#').next()?.to_string();
            (!target.is_empty() && !target.contains("://") && !target.starts_with("mailto:"))
                .then_some(target)
        })
        .collect()
}

#[test]
fn links_between_pages_lead_to_files() {
    let mut broken = Vec::new();
    for path in tracked_files() {
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for link in relative_links(&text) {
            let target = path.parent().unwrap().join(&link);
            if !target.exists() {
                broken.push(format!("{}: {link}", path.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every test `docs/features.md` names as `SUITE::NAME` is a test of
/// `tests/SUITE.rs`, so the page cannot point at a test that is gone.
#[test]
fn features_page_names_real_tests() {
    let page = std::fs::read_to_string(root().join("docs/features.md")).unwrap();
    let mut named = 0;
    let mut missing = Vec::new();
    for cell in page.split('`').skip(1).step_by(2) {
        let Some((suite, name)) = cell.split_once("::") else {
            continue;
        };
        if suite.is_empty() || !suite.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        named += 1;
        let file =
            std::fs::read_to_string(root().join(format!("tests/{suite}.rs"))).unwrap_or_default();
        if !file.contains(&format!("#[test]\nfn {name}(")) {
            missing.push(cell.to_string());
        }
    }
    assert!(named >= 40, "only {named} tests named");
    assert!(missing.is_empty(), "not tests: {missing:?}");
}

// ---- README: the terminal sessions it shows are what mailc prints ----

/// Runs the `console tested` blocks of the README: each `$ mailc ...` line
/// is run (from the repository root, or in an empty folder when the block
/// starts with `mailc init`, whose password comes from a pipe), and every
/// line shown under it must be among the lines it printed, in order (`…`
/// stands for lines left out).
#[test]
fn readme_sessions_are_what_mailc_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```console tested" {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push(body);
        }
    }
    assert!(blocks.len() >= 2, "the README shows no tested session");
    let mut failures = Vec::new();
    for block in blocks {
        // (command, shown lines)
        let mut steps: Vec<(&str, Vec<&str>)> = Vec::new();
        for line in block {
            match line.strip_prefix("$ ") {
                Some(cmd) => steps.push((cmd, Vec::new())),
                None if line.trim().is_empty() => {}
                None => steps
                    .last_mut()
                    .expect("output before the first command")
                    .1
                    .push(line),
            }
        }
        let scratch = Temp::new("readme");
        let dir = if steps
            .first()
            .is_some_and(|(c, _)| c.starts_with("mailc init"))
        {
            scratch.0.clone()
        } else {
            root()
        };
        for (cmd, shown) in steps {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            assert_eq!(words[0], "mailc", "README runs only mailc: `{cmd}`");
            let mut child = Command::new(env!("CARGO_BIN_EXE_mailc"))
                .args(&words[1..])
                .current_dir(&dir)
                .env("NO_COLOR", "1")
                .env("COLUMNS", "100")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            {
                use std::io::Write;
                let _ = child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(b"correct horse battery staple\n");
            }
            let out = child.wait_with_output().unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if !out.status.success() {
                failures.push(format!("`{cmd}` failed:\n{printed}"));
                continue;
            }
            let mut got = printed.lines().map(str::trim_end);
            for want in shown.iter().filter(|l| l.trim() != "…") {
                if !got.any(|g| g == want.trim_end()) {
                    failures.push(format!(
                        "`{cmd}`: the README shows\n  {want}\nwhich is not (in this order) in what it printed:\n{printed}"
                    ));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn readme_error_example_is_what_validate_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let spec = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README's spec");
    let shown = readme
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README's diagnostic");
    let dir = Temp::new("readme-error");
    std::fs::write(
        dir.0.join("mailc.yaml"),
        spec.replace("info: [alice, bob]", "info: [alcie, bob]"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailc"))
        .args(["validate", "--color", "never"])
        .current_dir(&dir.0)
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(shown),
        "the README's diagnostic is not what validate prints:\n{stderr}"
    );
}

/// Every valid spec the pages show (whole, or a fragment made whole)
/// conforms to the JSON Schema editors use, read as an editor reads it.
#[test]
fn page_specs_conform_to_the_schema() {
    let tmp = Temp::new("docs-schema");
    let mut files = Vec::new();
    let mut pages = vec!["README.md".to_string()];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(format!("docs/{}", p.file_name().unwrap().to_str().unwrap()));
        }
    }
    pages.sort();
    for page in &pages {
        for b in spec_blocks(page) {
            if b.dialect != mailc::source::Dialect::Yaml || b.word("error").is_some() {
                continue;
            }
            let spec = whole_spec(&b);
            if compile(&b.at(), &spec, b.dialect).is_err() {
                continue; // `check_page` reports it
            }
            let file = tmp.0.join(format!("{}.yaml", files.len()));
            std::fs::write(&file, format!("# {}\n{spec}", b.at())).unwrap();
            files.push(file);
        }
    }
    assert!(files.len() >= 10, "only {} specs on the pages", files.len());
    support::check_jsonschema(&files).unwrap();
}
