//! mailc's KDL 2.0 reader (`spec::kdl::parser`) against two references:
//!
//! (a) the KDL 2.0 specification's own test cases, as shipped inside the
//!     `kdl` crate's package (`tests/test_cases/{input,expected_kdl}`, found
//!     through `cargo metadata`): every input named `*_fail.kdl` is refused,
//!     every other one is read, to the same document as the `kdl` crate
//!     reads, and — where an expected output exists — to the document that
//!     output describes;
//! (b) the `kdl` crate itself on random documents (generated from KDL's
//!     features, then mutated): both accept or both refuse, and what both
//!     accept is the same document — names, type annotations, arguments,
//!     properties in order, children.
//!
//! 256 random documents unless `PROPTEST_CASES` says otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mailc::spec::kdl::document::{self, Document};
use mailc::spec::kdl::parser::{self, SyntaxError};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A document without spans or formatting, comparable across readers.
#[derive(Clone, Debug, PartialEq)]
struct PNode {
    ty: Option<String>,
    name: String,
    args: Vec<(Option<String>, PValue)>,
    props: Vec<(String, Option<String>, PValue)>,
    children: Option<Vec<PNode>>,
}

#[derive(Clone, Debug, PartialEq)]
enum PValue {
    Str(String),
    Int(i128),
    /// The bits of the float, NaN made canonical.
    Float(u64),
    Bool(bool),
    Null,
}

fn float(f: f64) -> PValue {
    PValue::Float(if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    })
}

fn ours(doc: &Document) -> Vec<PNode> {
    fn value(v: &document::Value) -> PValue {
        match v {
            document::Value::String(s) => PValue::Str(s.to_string()),
            document::Value::Integer(i) => PValue::Int(*i),
            document::Value::Float(f) => float(*f),
            document::Value::Bool(b) => PValue::Bool(*b),
            document::Value::Null => PValue::Null,
        }
    }
    fn node(n: &document::Node) -> PNode {
        let ty = |t: &Option<document::Text>| t.as_ref().map(|t| t.value.to_string());
        PNode {
            ty: ty(&n.ty),
            name: n.name.value.to_string(),
            args: n.args().map(|e| (ty(&e.ty), value(&e.value))).collect(),
            props: n
                .props()
                .map(|e| {
                    let key = e
                        .name
                        .as_ref()
                        .map_or(String::new(), |k| k.value.to_string());
                    (key, ty(&e.ty), value(&e.value))
                })
                .collect(),
            children: n.children.as_ref().map(|c| c.iter().map(node).collect()),
        }
    }
    doc.nodes.iter().map(node).collect()
}

fn theirs(doc: &kdl::KdlDocument) -> Vec<PNode> {
    fn value(v: &kdl::KdlValue) -> PValue {
        match v {
            kdl::KdlValue::String(s) => PValue::Str(s.clone()),
            kdl::KdlValue::Integer(i) => PValue::Int(*i),
            kdl::KdlValue::Float(f) => float(*f),
            kdl::KdlValue::Bool(b) => PValue::Bool(*b),
            kdl::KdlValue::Null => PValue::Null,
        }
    }
    fn node(n: &kdl::KdlNode) -> PNode {
        PNode {
            ty: n.ty().map(|t| t.value().to_string()),
            name: n.name().value().to_string(),
            args: n
                .entries()
                .iter()
                .filter(|e| e.name().is_none())
                .map(|e| (e.ty().map(|t| t.value().to_string()), value(e.value())))
                .collect(),
            props: n
                .entries()
                .iter()
                .filter_map(|e| {
                    let key = e.name()?.value().to_string();
                    Some((key, e.ty().map(|t| t.value().to_string()), value(e.value())))
                })
                .collect(),
            children: n.children().map(|c| c.nodes().iter().map(node).collect()),
        }
    }
    doc.nodes().iter().map(node).collect()
}

/// The test suite's translation rules: the rightmost of repeated
/// properties, properties sorted, empty children blocks gone.
fn normalized(nodes: Vec<PNode>) -> Vec<PNode> {
    nodes
        .into_iter()
        .map(|mut n| {
            let mut props: BTreeMap<String, (Option<String>, PValue)> = BTreeMap::new();
            for (k, t, v) in n.props {
                props.insert(k, (t, v));
            }
            n.props = props.into_iter().map(|(k, (t, v))| (k, t, v)).collect();
            n.children = n.children.filter(|c| !c.is_empty()).map(normalized);
            n
        })
        .collect()
}

/// Every error span lies inside the text, on character boundaries.
fn spans_fit(text: &str, errors: &[SyntaxError]) -> Result<(), String> {
    for e in errors {
        let (start, end) = (e.span.start, e.span.end());
        if end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(format!("error span {:?} outside {text:?}: {e:?}", e.span));
        }
    }
    Ok(())
}

/// `tests/test_cases` of the `kdl` package this workspace resolved.
fn test_cases() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let manifest = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "kdl")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("the kdl package among the dependencies");
    let dir = Path::new(manifest)
        .parent()
        .expect("the package folder")
        .join("tests/test_cases");
    assert!(dir.join("input").is_dir(), "no test cases in {dir:?}");
    dir
}

#[test]
fn specification_test_cases() {
    let dir = test_cases();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir.join("input"))
        .expect("read the test cases")
        .map(|e| e.expect("a test case").path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    inputs.sort();
    assert!(inputs.len() > 300, "only {} test cases", inputs.len());
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(input).expect("a UTF-8 test case");
        let mine = parser::parse(&text);
        if name.ends_with("_fail.kdl") {
            invalid += 1;
            match mine {
                Ok(doc) => failures.push(format!("{name}: accepted, should fail: {doc:?}")),
                Err(errors) => {
                    if let Err(e) = spans_fit(&text, &errors) {
                        failures.push(format!("{name}: {e}"));
                    }
                }
            }
            continue;
        }
        valid += 1;
        let doc = match mine {
            Ok(doc) => ours(&doc),
            Err(e) => {
                failures.push(format!("{name}: refused: {e:#?}"));
                continue;
            }
        };
        match kdl::KdlDocument::parse_v2(&text) {
            Ok(reference) if theirs(&reference) != doc => failures.push(format!(
                "{name}: differs from the kdl crate:\n ours:   {doc:?}\n theirs: {:?}",
                theirs(&reference)
            )),
            Ok(_) => {}
            Err(e) => failures.push(format!("{name}: the kdl crate refuses it: {e:?}")),
        }
        let expected = dir.join("expected_kdl").join(&name);
        if let Ok(expected_text) = std::fs::read_to_string(&expected) {
            let want = kdl::KdlDocument::parse_v2(&expected_text)
                .map(|d| normalized(theirs(&d)))
                .expect("the expected output parses");
            if normalized(doc.clone()) != want {
                failures.push(format!(
                    "{name}: differs from the expected output:\n ours:     {:?}\n expected: {want:?}",
                    normalized(doc)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} test cases failed ({valid} valid, {invalid} invalid):\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// Draws from a list of random numbers, for the document generator.
struct Tape<'t> {
    draws: &'t [u32],
    at: usize,
}

impl Tape<'_> {
    fn below(&mut self, n: usize) -> usize {
        let d = self.draws.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        d as usize % n.max(1)
    }

    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.below(from.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &[
    "node",
    "a",
    "mx1",
    "-",
    "--x",
    ".md",
    "+.x",
    "a.b",
    "é",
    "x<y>",
    "a,b",
    "r",
    "_1",
    "a+b",
    "\"quoted name\"",
    "\"\"",
    "#\"raw\"#",
    "foo123~!@$%^&*.:'|?<>,`",
    "\u{1f600}",
    "-.-",
];
const STRINGS: &[&str] = &[
    "\"plain\"",
    "\"esc \\n\\t\\\\\\\"\\b\\f\\s\\r\"",
    "\"\\u{1F600}\\u{0}\\u{41}\"",
    "\"ws \\   escape\"",
    "\"line\\\n   continued\"",
    "#\"raw \\n\"#",
    "##\"raw \"# inside\"##",
    "#\"\"#",
    "\"\"\"\n    multi\n      line\n    \"\"\"",
    "\"\"\"\n  a\n\n \n  b\\n\n  \"\"\"",
    "#\"\"\"\n  raw \\ multi\n  \"\"\"#",
    "\"\"\"\n\"\"\"",
    "\"\"\"\n  foo \\\nbar\n  \\   \"\"\"",
    "\"a\u{a0}b\"",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "+7",
    "1_000",
    "12__",
    "0x1F",
    "0xdead_BEEF",
    "-0o17",
    "0b1010_",
    "1.5",
    "-0.0",
    "1e10",
    "1.5E-3",
    "2e+2",
    "1_0.0_1e1_0",
    "#inf",
    "#-inf",
    "#nan",
    "007",
    "170141183460469231731687303715884105727",
];
const KEYWORDS: &[&str] = &["#true", "#false", "#null"];
const SPACES: &[&str] = &[
    " ",
    "  ",
    "\t",
    "\u{a0}",
    "\u{3000}",
    " /* c */ ",
    "/* a /* nested */ b */ ",
    " \\\n  ",
    " \\ // c\n ",
    " \\\r\n",
];
const TYPES: &[&str] = &["(t)", "(u8)", "( t )", "(\"quoted\")", "(#\"r\"#)", "(t)  "];
const TERMINATORS: &[&str] = &[
    "\n",
    ";",
    "\r\n",
    " // comment\n",
    "\u{85}",
    "\u{2028}",
    "\u{c}",
    "\u{b}",
    "\r",
    ";\n",
];
/// Pieces a mutation inserts.
const FRAGMENTS: &[&str] = &[
    " ",
    "\n",
    ";",
    "{",
    "}",
    "(",
    ")",
    "=",
    "\"",
    "#",
    "/-",
    "/*",
    "*/",
    "//",
    "\\",
    "/- ",
    "\\\n",
    "#true",
    "true",
    "null",
    "1",
    "1.",
    ".5",
    "0x",
    "a",
    "é",
    "\u{feff}",
    "\u{200e}",
    "\u{7f}",
    "\u{0}",
    "\"\"\"",
    "#\"",
    "\"#",
    "[",
    "]",
    "(t)",
    "\u{a0}",
    "\r",
    "e",
    "_",
    "-",
    "+",
    "kdl-version",
    "\\u{",
    "\\/",
    "r\"x\"",
    "\\u{110000}",
    "\\u{D800}",
    "#-inf",
    "0b",
    "0o",
    "1e",
    "\t",
    "\u{2028}",
    "\"\"\"\n",
    "##",
    "\"#",
    "\u{85}",
    "x=",
    "=1",
    "/-{",
    "\\ ",
    "\\\n\\\n",
    "\\ //c\n",
    "\r\n",
    "\u{3000}",
    "\u{1680}",
];

fn value(t: &mut Tape) -> String {
    let pieces = match t.below(4) {
        0 => NAMES,
        1 => STRINGS,
        2 => NUMBERS,
        _ => KEYWORDS,
    };
    t.pick(pieces).to_string()
}

fn entry(t: &mut Tape) -> String {
    let mut out = String::new();
    if t.chance(10) {
        out.push_str("/-");
        if t.chance(30) {
            out.push_str(t.pick(SPACES));
        }
    }
    if t.chance(50) {
        out.push_str(t.pick(NAMES));
        out.push('=');
    }
    if t.chance(15) {
        out.push_str(t.pick(TYPES));
    }
    out.push_str(&value(t));
    out
}

fn node(t: &mut Tape, depth: usize, out: &mut String) {
    if t.chance(10) {
        out.push_str("/-");
        if t.chance(30) {
            out.push_str(t.pick(SPACES));
        }
    }
    if t.chance(15) {
        out.push_str(t.pick(TYPES));
    }
    out.push_str(t.pick(NAMES));
    for _ in 0..t.below(4) {
        out.push_str(t.pick(SPACES));
        out.push_str(&entry(t));
    }
    if depth < 3 && t.chance(35) {
        if t.chance(20) {
            out.push_str(" /-{ dropped 1 }");
        }
        out.push_str(if t.chance(50) { " {\n" } else { "{" });
        for _ in 0..t.below(4) {
            node(t, depth + 1, out);
        }
        out.push('}');
        if t.chance(10) {
            out.push_str(" /-{x}");
        }
    }
    out.push_str(t.pick(TERMINATORS));
}

/// A document of KDL's features, then up to four random edits.
fn document(draws: &[u32]) -> String {
    let mut t = Tape { draws, at: 0 };
    let mut out = String::new();
    if t.chance(5) {
        out.push('\u{feff}');
    }
    if t.chance(5) {
        out.push_str("/- kdl-version 2\n");
    }
    for _ in 0..t.below(5) {
        if t.chance(20) {
            out.push_str(t.pick(SPACES));
        }
        node(&mut t, 0, &mut out);
    }
    for _ in 0..t.below(5) {
        let boundaries: Vec<usize> = (0..=out.len())
            .filter(|&i| out.is_char_boundary(i))
            .collect();
        let at = boundaries[t.below(boundaries.len())];
        match t.below(3) {
            0 => out.insert_str(at, t.pick(FRAGMENTS)),
            1 => {
                let to = boundaries[t.below(boundaries.len())].max(at);
                let to = to.min(at + 1 + t.below(4));
                let to = (to..=out.len())
                    .find(|&i| out.is_char_boundary(i))
                    .unwrap_or(out.len());
                out.replace_range(at..to, "");
            }
            _ => {
                let (from, to) = (at, (at + t.below(12)).min(out.len()));
                if let Some(piece) = out.get(from..to) {
                    let piece = piece.to_string();
                    out.insert_str(at, &piece);
                }
            }
        }
    }
    out
}

fn config() -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 256;
    }
    c.failure_persistence = None;
    c
}

/// The `kdl` crate's reading of a document we accept. It refuses a
/// slashdashed node ended by `;` (`/-a; b`, kdl-org/kdl-rs#107; the grammar
/// allows it): where it stops at such a `;`, that `;` is read as the newline
/// it is equivalent to.
fn reference(text: &str) -> Result<kdl::KdlDocument, kdl::KdlError> {
    let mut text = text.to_string();
    loop {
        let result = kdl::KdlDocument::parse_v2(&text);
        let Err(e) = &result else { return result };
        let at = e.diagnostics.first().map(|d| d.span.offset());
        match at {
            Some(at)
                if text.as_bytes().get(at) == Some(&b';')
                    && text[..at].contains("/-")
                    && !text[..at].trim_end().ends_with("/-") =>
            {
                text.replace_range(at..at + 1, "\n");
            }
            _ => return result,
        }
    }
}

/// Our errors for what the `kdl` crate accepts against the specification:
/// U+007F, which it reads as an identifier or string character (the
/// specification's test case `unicode_delete_fail.kdl` refuses it); a bare
/// `-inf`, which it reads as a string (`inf` and `nan` it refuses, as does
/// `floating_point_keyword_identifier_strings_fail.kdl`); and a `/-` right
/// after a `/-` before an argument or property (`a /- /- b c`, which it
/// reads as `a`; a slashdash is followed by whitespace "other than other
/// slashdashes"); in a slashdashed node, a keyword run into what follows
/// (`/-a #falsex`, which it reads as a node `x`); anything but a children
/// block after a children block, where a slashdash is involved (`a {} /-b`,
/// `/-a {} b`: it reads a second node, with no terminator between); and a raw string opened by `#"""` with no newline after it
/// (`#"""r"#`, which it reads as the one-line `""r`; the specification's
/// `raw_string_just_quote_fail.kdl`: "`\"\"\"` MUST be followed by a newline").
fn crate_accepts(text: &str, e: &SyntaxError) -> bool {
    let at = &text[e.span.start..e.span.end()];
    let keyword = ["#true", "#false", "#null", "#inf", "#-inf", "#nan"];
    let from = &text[e.span.start..];
    let raw = from.trim_start_matches('#');
    let one_line_raw = raw.len() < from.len()
        && raw.starts_with("\"\"\"")
        && !raw[3..].starts_with([
            '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
        ]);
    at.starts_with('\u{7f}')
        || at == "-inf"
        || e.label == "slashdash again"
        || (e.label == "after the children" && text[..e.span.end()].contains("/-"))
        || one_line_raw
        || (e.label == "not a keyword" && keyword.iter().any(|k| at.starts_with(k)))
        || (e.label == "no space before"
            && keyword.iter().any(|k| text[..e.span.start].ends_with(k)))
}

/// Both readers accept `text`, to the same document, or both refuse it.
fn compare(text: &str) -> Result<(), String> {
    let mine = parser::parse(text);
    let theirs_doc = match mine {
        Ok(_) => reference(text),
        Err(_) => kdl::KdlDocument::parse_v2(text),
    };
    match (&mine, &theirs_doc) {
        (Ok(a), Ok(b)) if ours(a) == theirs(b) => Ok(()),
        (Ok(a), Ok(b)) => Err(format!(
            "different documents for {text:?}:\n ours:   {:?}\n theirs: {:?}",
            ours(a),
            theirs(b)
        )),
        (Err(errors), Err(_)) => spans_fit(text, errors),
        (Ok(a), Err(e)) => Err(format!(
            "we accept {text:?} ({:?}), the kdl crate refuses it: {e:?}",
            ours(a)
        )),
        (Err(errors), Ok(_)) if errors.iter().any(|e| crate_accepts(text, e)) => Ok(()),
        (Err(errors), Ok(b)) => Err(format!(
            "we refuse {text:?} ({errors:?}), the kdl crate reads {:?}",
            theirs(b)
        )),
    }
}

/// Text made of KDL's pieces in any order: mostly invalid.
fn soup() -> impl Strategy<Value = String> {
    let pieces: Vec<&'static str> = [
        NAMES,
        STRINGS,
        NUMBERS,
        KEYWORDS,
        SPACES,
        TYPES,
        TERMINATORS,
        FRAGMENTS,
    ]
    .concat();
    prop::collection::vec(prop::sample::select(pieces), 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn agrees_with_the_kdl_crate(draws in prop::collection::vec(any::<u32>(), 0..120)) {
        let text = document(&draws);
        if let Err(e) = compare(&text) {
            return Err(TestCaseError::fail(e));
        }
    }

    #[test]
    fn agrees_on_token_soup(text in soup()) {
        if let Err(e) = compare(&text) {
            return Err(TestCaseError::fail(e));
        }
    }
}
