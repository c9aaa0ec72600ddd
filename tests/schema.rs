//! The JSON Schema editors use (`schemas/mailc.schema.json`, printed by
//! `mailc schema`) accepts what `mailc validate` accepts: every valid spec
//! conforms (checked as an editor would, by `check-jsonschema` reading the
//! YAML), and no spec the schema refuses is valid (checked on thousands of
//! variants of the valid specs, by Python's `jsonschema`). The schema may
//! accept more than `validate` (an alias target that names nothing has the
//! right shape), never less.

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};
use support::{check_jsonschema, root, schema_verdicts};

/// Whether `mailc validate` accepts `text` (YAML), every key file present:
/// `Err` with the error codes when not.
fn validate(text: &str) -> Result<(), Vec<String>> {
    use mailc::diag::Severity;
    let source = mailc::source::Source::new("t.yaml", text, mailc::source::Dialect::Yaml);
    let compiled = mailc::compile::compile(source, &mailc::compile::Inputs::text_only());
    let model = compiled.model;
    let errors: Vec<String> = compiled
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    match model {
        Some(_) if errors.is_empty() => Ok(()),
        _ => Err(errors),
    }
}

/// The YAML specs of the examples and test cases.
fn spec_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for parent in ["examples", "tests/cases"] {
        for entry in std::fs::read_dir(root().join(parent)).unwrap() {
            let f = entry.unwrap().path().join("mailc.yaml");
            if f.is_file() {
                files.push(f);
            }
        }
    }
    files.sort();
    files
}

/// A spec as mailc reads it, as JSON: the document tree of the YAML front end.
fn as_json(text: &str) -> Value {
    use mailc::spec::tree::{Node, Value as V};
    fn conv(n: &Node) -> Value {
        match &n.value {
            V::Null => Value::Null,
            V::Bool(b) => json!(b),
            V::Int(i) => i64::try_from(*i).map_or_else(|_| json!(i.to_string()), |i| json!(i)),
            V::Float(f) => json!(f),
            V::Str(s) => json!(s),
            V::Seq(items) => Value::Array(items.iter().map(conv).collect()),
            V::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.to_string(), conv(v)))
                    .collect(),
            ),
        }
    }
    conv(&mailc::spec::yaml::parse(text).expect("YAML"))
}

#[test]
fn every_valid_spec_conforms() {
    let mut files = spec_files();
    // The cases of `tests/invalid` that `validate` accepts (with warnings).
    let mut n_invalid = 0;
    for entry in std::fs::read_dir(root().join("tests/invalid")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml")
            && validate(&std::fs::read_to_string(&p).unwrap()).is_ok()
        {
            files.push(p);
            n_invalid += 1;
        }
    }
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert_eq!(validate(&text), Ok(()), "{} is not valid", f.display());
    }
    assert!(files.len() >= 12 && n_invalid >= 1, "{files:?}");
    // Main specs that include others (valid with their files: tests/include.rs).
    for entry in std::fs::read_dir(root().join("tests/split")).unwrap() {
        files.push(entry.unwrap().path().join("mailc.yaml"));
    }
    check_jsonschema(&files).unwrap();
}

#[test]
fn examples_name_the_schema_for_editors() {
    let examples: Vec<PathBuf> = spec_files()
        .into_iter()
        .filter(|f| f.starts_with(root().join("examples")))
        .collect();
    assert!(examples.len() >= 5);
    for f in examples {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or("");
        let rel = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: first line is {first:?}", f.display()));
        let schema = f.parent().unwrap().join(rel);
        assert!(
            rel.starts_with("..")
                && schema.canonicalize().ok()
                    == root().join("schemas/mailc.schema.json").canonicalize().ok(),
            "{}: `{rel}` is not the schema",
            f.display()
        );
    }
}

/// The maps whose keys are names the spec chooses, not keys of the language.
const ENTRY_MAPS: &[&str] = &["hosts", "domains", "mailboxes", "aliases", "dns_targets"];

/// The value at `path` (keys and indexes) inside `v`.
fn at<'a>(v: &'a Value, path: &[Value]) -> &'a Value {
    path.iter().fold(v, |at, step| match step {
        Value::String(k) => &at[k.as_str()],
        Value::Number(i) => &at[i.as_u64().unwrap() as usize],
        _ => unreachable!("a path holds keys and indexes"),
    })
}

/// The value at `path` (keys and indexes) inside `v`, to change it.
fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    let mut at = v;
    for step in path {
        at = match step {
            Value::String(k) => at.get_mut(k.as_str()).unwrap(),
            Value::Number(i) => at.get_mut(i.as_u64().unwrap() as usize).unwrap(),
            _ => unreachable!("a path holds keys and indexes"),
        };
    }
    at
}

/// Every variant of `doc` with one value replaced by a value of another
/// kind, one key removed, or one unknown key added.
fn variants(doc: &Value, shapes: &mut std::collections::BTreeSet<Vec<String>>) -> Vec<Value> {
    let replacements = [
        Value::Null,
        json!("x"),
        json!(7),
        json!(2.5),
        json!(true),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"x": 1}),
    ];
    let mut out = Vec::new();
    let mut paths = Vec::new();
    fn walk(v: &Value, at: &mut Vec<Value>, paths: &mut Vec<Vec<Value>>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    at.push(json!(k));
                    paths.push(at.clone());
                    walk(child, at, paths);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push(json!(i));
                    paths.push(at.clone());
                    walk(child, at, paths);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    walk(doc, &mut Vec::new(), &mut paths);
    // One path of each shape: `domains/*/mailboxes/*/password` stands for
    // every mailbox's password (of every spec), `mx/#` for every MX entry,
    // as long as the keys beside it are the same (a host without `ipv4` is
    // one thing with `ipv6` and another without).
    paths.retain(|path| {
        let mut shape = Vec::new();
        let mut parent = "";
        for step in path {
            shape.push(match step {
                Value::Number(_) => "#".to_string(),
                Value::String(_) if ENTRY_MAPS.contains(&parent) => "*".to_string(),
                Value::String(k) => k.clone(),
                _ => unreachable!(),
            });
            parent = step.as_str().unwrap_or("");
        }
        if let Some((_, up)) = path.split_last()
            && let Value::Object(m) = at(doc, up)
        {
            shape.push(format!("{:?}", m.keys().collect::<Vec<_>>()));
        }
        shapes.insert(shape)
    });
    for path in &paths {
        for r in &replacements {
            let mut d = doc.clone();
            *at_mut(&mut d, path) = r.clone();
            out.push(d);
        }
        // Without the key or item.
        let mut d = doc.clone();
        let (last, parent) = path.split_last().unwrap();
        match (at_mut(&mut d, parent), last) {
            (Value::Object(m), Value::String(k)) => {
                m.remove(k.as_str());
            }
            (Value::Array(a), Value::Number(i)) => {
                a.remove(i.as_u64().unwrap() as usize);
            }
            _ => unreachable!(),
        }
        out.push(d);
    }
    // An unknown key in every map.
    for path in std::iter::once(Vec::new()).chain(paths) {
        let mut d = doc.clone();
        if let Value::Object(m) = at_mut(&mut d, &path) {
            m.insert("zz_unknown".into(), json!(1));
            out.push(d);
        }
    }
    out
}

#[test]
fn what_the_schema_refuses_validate_refuses() {
    let mut docs = Vec::new();
    let mut shapes = std::collections::BTreeSet::new();
    for f in spec_files() {
        let doc = as_json(&std::fs::read_to_string(&f).unwrap());
        docs.extend(variants(&doc, &mut shapes));
    }
    let verdicts = schema_verdicts(&docs);
    let mut refused = 0;
    let mut wrong = Vec::new();
    for (doc, verdict) in docs.iter().zip(&verdicts) {
        let Some(why) = verdict else { continue };
        refused += 1;
        let text = serde_json::to_string(doc).unwrap();
        if validate(&text).is_ok() {
            wrong.push(format!("{why}\n  {text}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} variants the schema refuses are valid:\n{}",
        wrong.len(),
        docs.len(),
        wrong[..wrong.len().min(15)].join("\n")
    );
    assert!(refused > docs.len() / 4, "{refused} of {}", docs.len());
}
