//! Writes a spec tree of YAML's shape as KDL, by the mapping docs/spec.md
//! gives ("KDL"): singular named nodes (`host mx1`, `domain`, `mailbox`,
//! `alias`, `dkim`, `record`, `dns-target`), scalars as properties, lists as
//! arguments, `_` spelled `-`. It speaks a help's YAML snippet in KDL
//! ([`help`]) and turns a YAML spec into the same spec in KDL.

use std::fmt::Write as _;

use crate::source::kdl_str;
use crate::spec::tree::{Node, Value};

/// The whole tree as a KDL document, one node per line, four spaces a level.
pub fn document(tree: &Node<'_>) -> String {
    let mut out = String::new();
    if let Value::Map(entries) = &tree.value {
        for line in nodes(entries, Layout::Lines(0)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A help with each YAML snippet between backticks spoken in KDL: a
/// `key: value` (flow maps and lists included), a bare flow map
/// (`{forward: alice}`, as properties), or a spec key written with `_`.
/// Everything else between backticks (commands, paths, DNS text) stays.
pub fn help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(&snippet(part).unwrap_or_else(|| part.to_string()));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// One snippet in KDL, or `None` when it is not spec text in YAML.
fn snippet(s: &str) -> Option<String> {
    if is_spec_key(s) {
        return Some(node_name(s));
    }
    let yamlish = s.starts_with('{') || s.contains(": ") || s.ends_with(':');
    if !yamlish {
        return None;
    }
    let tree = crate::spec::yaml::parse(s).ok()?;
    match &tree.value {
        Value::Map(entries) if s.starts_with('{') => Some(properties(entries)?),
        Value::Map(entries) => Some(nodes(entries, Layout::Inline).join("; ")),
        _ => None,
    }
}

/// A flow map of scalars as `key=value` properties.
fn properties(entries: &[(crate::spec::tree::Key<'_>, Node<'_>)]) -> Option<String> {
    let mut parts = Vec::new();
    for (k, v) in entries {
        parts.push(format!("{}={}", prop_name(&k.name), scalar(v)?));
    }
    Some(parts.join(" "))
}

/// Whether `s` is a key of the spec language that YAML writes with `_`
/// (KDL with `-`): every such key the schema names.
fn is_spec_key(s: &str) -> bool {
    static KEYS: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    s.contains('_')
        && KEYS
            .get_or_init(|| {
                let mut keys = std::collections::BTreeSet::new();
                let schema: serde_json::Value =
                    serde_json::from_str(&crate::spec::json_schema()).unwrap_or_default();
                collect_keys(&schema, &mut keys);
                keys
            })
            .contains(s)
}

fn collect_keys(v: &serde_json::Value, keys: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, inner) in o {
                if let ("properties", serde_json::Value::Object(props)) = (k.as_str(), inner) {
                    keys.extend(props.keys().filter(|p| p.contains('_')).cloned());
                }
                collect_keys(inner, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_keys(i, keys)),
        _ => {}
    }
}

/// How nested nodes are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// One node per line at this depth.
    Lines(usize),
    /// All on one line: `a; b { c }`.
    Inline,
}

impl Layout {
    fn deeper(self) -> Self {
        match self {
            Layout::Lines(d) => Layout::Lines(d + 1),
            Layout::Inline => Layout::Inline,
        }
    }
}

/// A YAML key as a KDL node name: the named maps become their singular node.
fn node_name(key: &str) -> String {
    match key {
        "dns_targets" => "dns-target".to_string(),
        _ => key.replace('_', "-"),
    }
}

fn prop_name(key: &str) -> String {
    kdl_str(&key.replace('_', "-"))
}

fn scalar(v: &Node<'_>) -> Option<String> {
    Some(match &v.value {
        Value::Str(s) => kdl_str(s),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => format!("#{b}"),
        Value::Null => "#null".to_string(),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

type Entries<'t, 'a> = &'t [(crate::spec::tree::Key<'a>, Node<'a>)];

/// The nodes a map's entries become.
fn nodes(entries: Entries<'_, '_>, layout: Layout) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in entries {
        entry(&k.name, v, layout, &mut out);
    }
    out
}

/// The nodes one entry becomes (a named map becomes one node per name).
fn entry(key: &str, v: &Node<'_>, layout: Layout, out: &mut Vec<String>) {
    match (key, &v.value) {
        (
            "hosts" | "domains" | "mailboxes" | "dns_targets" | "outbound_relays",
            Value::Map(named),
        ) => {
            let singular = match key {
                "hosts" => "host",
                "domains" => "domain",
                "mailboxes" => "mailbox",
                "outbound_relays" => "outbound-relay",
                _ => "dns-target",
            };
            if named.is_empty() {
                out.push(node_name(key));
            }
            for (name, body) in named {
                out.push(format!(
                    "{singular} {}{}",
                    kdl_str(&name.name),
                    self::body(body, &[], layout)
                ));
            }
        }
        ("aliases", Value::Map(named)) => {
            for (name, targets) in named {
                let head = format!("alias {}", kdl_str(&name.name));
                out.push(match &targets.value {
                    Value::Seq(items) => with_args(head, items),
                    // `{drop: true}`: `alias NAME drop=#true`.
                    Value::Map(_) => format!("{head}{}", self::body(targets, &[], layout)),
                    _ => match scalar(targets) {
                        Some(s) => format!("{head} {s}"),
                        None => head,
                    },
                });
            }
        }
        ("rules", Value::Seq(items)) => {
            out.extend(items.iter().map(|item| rule(item, layout.deeper())));
        }
        ("dkim" | "records" | "mx" | "tests", Value::Seq(items))
            if items.iter().any(|i| matches!(i.value, Value::Map(_))) =>
        {
            let lead: &[&str] = match key {
                "dkim" => &["selector"],
                "records" => &["name", "type", "value"],
                "mx" => &["host"],
                _ => &["address", "domain"],
            };
            let items: Vec<String> = items
                .iter()
                .map(|item| led(key, item, lead, layout.deeper()))
                .collect();
            if key == "tests" {
                out.push(format!("tests{}", block(items, layout)));
            } else {
                out.extend(items);
            }
        }
        (_, Value::Seq(items)) => out.push(with_args(node_name(key), items)),
        (_, Value::Map(_)) => out.push(format!("{}{}", node_name(key), body(v, &[], layout))),
        _ => out.push(format!(
            "{} {}",
            node_name(key),
            scalar(v).unwrap_or_default()
        )),
    }
}

/// An item of a list of maps whose leading fields are arguments
/// (`dkim s1 ...`, `record www A "..."`, `mx host priority=1`,
/// `address info@example.com ...`).
fn led(list: &str, item: &Node<'_>, lead: &[&str], layout: Layout) -> String {
    let Value::Map(entries) = &item.value else {
        return format!("{} {}", node_name(list), scalar(item).unwrap_or_default());
    };
    let mut head = match list {
        "records" => "record".to_string(),
        "tests" => String::new(),
        _ => node_name(list),
    };
    let mut used = Vec::new();
    for field in lead {
        if let Some((k, v)) = entries.iter().find(|(k, _)| k.name == *field) {
            if list == "tests" {
                head.push_str(&node_name(&k.name));
            }
            if let Some(s) = scalar(v) {
                let _ = write!(head, " {s}");
                used.push(*field);
            }
            if list == "tests" {
                break;
            }
        }
    }
    format!("{head}{}", body(item, &used, layout))
}

/// `{if: [...], match: any, then: [...]}` as `rule match=any { if { ... };
/// then { ... } }`: a condition is its field with the comparison as a
/// property (`header` names the header first), an action its name and value.
fn rule(item: &Node<'_>, layout: Layout) -> String {
    let Value::Map(entries) = &item.value else {
        return format!("rule {}", scalar(item).unwrap_or_default());
    };
    let mut props = String::new();
    let mut children = Vec::new();
    for (k, v) in entries {
        match (&*k.name, &v.value) {
            (part @ ("if" | "then"), Value::Seq(items)) => {
                let lines: Vec<String> = items.iter().map(|i| one_key(i, part == "if")).collect();
                children.push(match lines.is_empty() {
                    true => part.to_string(),
                    false => format!("{part}{}", block(lines, layout.deeper())),
                });
            }
            _ => match scalar(v) {
                Some(s) => {
                    let _ = write!(props, " {}={s}", prop_name(&k.name));
                }
                None => entry(&k.name, v, layout.deeper(), &mut children),
            },
        }
    }
    match children.is_empty() {
        true => format!("rule{props}"),
        false => format!("rule{props}{}", block(children, layout)),
    }
}

/// A one-key map of a rule (`{subject: {contains: X}}`, `{fileinto: F}`,
/// `{forward: {to: A, copy: true}}`) or a bare action (`stop`).
fn one_key(item: &Node<'_>, condition: bool) -> String {
    let Value::Map(entries) = &item.value else {
        return scalar(item).unwrap_or_default();
    };
    let mut nodes = Vec::new();
    for (k, v) in entries {
        let lead = if condition { "name" } else { "to" };
        let mut head = node_name(&k.name);
        if let Value::Map(inner) = &v.value {
            if let Some((_, first)) = inner.iter().find(|(ik, _)| ik.name == lead) {
                let _ = write!(head, " {}", scalar(first).unwrap_or_default());
            }
            nodes.push(format!("{head}{}", body(v, &[lead], Layout::Inline)));
        } else {
            nodes.push(format!("{head}{}", body(v, &[], Layout::Inline)));
        }
    }
    nodes.join("; ")
}

fn with_args(mut head: String, items: &[Node<'_>]) -> String {
    for item in items {
        match scalar(item) {
            Some(s) => {
                head.push(' ');
                head.push_str(&s);
            }
            None => {
                if let Value::Map(entries) = &item.value
                    && let Some(p) = properties(entries)
                {
                    head.push(' ');
                    head.push_str(&p);
                }
            }
        }
    }
    head
}

/// A map's scalars as properties, its lists and maps as child nodes,
/// leaving out the fields already written as arguments.
fn body(v: &Node<'_>, skip: &[&str], layout: Layout) -> String {
    let Value::Map(entries) = &v.value else {
        return match scalar(v) {
            Some(s) if !matches!(v.value, Value::Null) => format!(" {s}"),
            _ => String::new(),
        };
    };
    let mut props = String::new();
    let mut children = Vec::new();
    for (k, val) in entries {
        if skip.contains(&&*k.name) {
            continue;
        }
        match scalar(val) {
            Some(s) => {
                let _ = write!(props, " {}={s}", prop_name(&k.name));
            }
            None => entry(&k.name, val, layout.deeper(), &mut children),
        }
    }
    if children.is_empty() {
        props
    } else {
        format!("{props}{}", block(children, layout))
    }
}

/// Child nodes in braces.
fn block(children: Vec<String>, layout: Layout) -> String {
    match layout {
        Layout::Inline => format!(" {{ {} }}", children.join("; ")),
        Layout::Lines(depth) => {
            let pad = "    ".repeat(depth + 1);
            let mut s = String::from(" {\n");
            for c in children {
                let _ = writeln!(s, "{pad}{c}");
            }
            let _ = write!(s, "{}}}", "    ".repeat(depth));
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::help;

    #[test]
    fn helps_speak_kdl() {
        let cases = [
            ("add `version: 1`", "add `version 1`"),
            (
                "add `dmarc: {policy: none, rua: [\"mailto:dmarc@example.com\"]}` now",
                "add `dmarc policy=none { rua \"mailto:dmarc@example.com\" }` now",
            ),
            ("set `routing: {mx2: backup}`", "set `routing mx2=backup`"),
            (
                "add `private_key: keys/example.com/s1.key` and run `mailc dkim keygen`",
                "add `private-key \"keys/example.com/s1.key\"` and run `mailc dkim keygen`",
            ),
            ("remove `mta_sts`", "remove `mta-sts`"),
            ("remove `zone: false`", "remove `zone #false`"),
            ("under `dns_targets`", "under `dns-target`"),
            ("`{forward: alice}`", "`forward=alice`"),
            (
                "the `_dmarc` record, `v=DMARC1`",
                "the `_dmarc` record, `v=DMARC1`",
            ),
        ];
        for (yaml, kdl) in cases {
            assert_eq!(help(yaml), kdl, "{yaml}");
        }
    }
}
