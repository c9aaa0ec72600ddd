//! Rules and the autoresponder of one mailbox written as a Sieve script
//! (RFC 5228) for Pigeonhole: what Dovecot runs at LMTP delivery, with the
//! same meaning [`super::engine`] gives them in `mailc serve`.
//!
//! The autoresponder comes first, so a rule that files, discards or stops
//! does not keep it from answering; the rules follow in the spec's order.

use std::collections::BTreeSet;

use super::{Action, Compare, Rule, Source, Test, Vacation};

/// The script of one mailbox: `None` when it has neither rules nor an
/// autoresponder.
pub fn script(address: &str, rules: &[Rule], vacation: Option<&Vacation>) -> Option<String> {
    if rules.is_empty() && vacation.is_none() {
        return None;
    }
    let mut need = BTreeSet::new();
    let mut body = String::new();
    if let Some(v) = vacation {
        need.insert("vacation");
        let mut dates = Vec::new();
        for (value, op) in [(&v.start, "ge"), (&v.end, "le")] {
            if let Some(d) = value {
                need.insert("date");
                need.insert("relational");
                dates.push(format!("currentdate :value \"{op}\" \"date\" {}", quote(d)));
            }
        }
        let mut cmd = format!("vacation :days {}", v.days);
        if let Some(s) = &v.subject {
            cmd.push_str(&format!(" :subject {}", quote(s)));
        }
        if !v.addresses.is_empty() {
            cmd.push_str(&format!(" :addresses {}", list(&v.addresses)));
        }
        cmd.push_str(&format!(" {};", quote(&v.text)));
        match dates.len() {
            0 => body.push_str(&format!("{cmd}\n")),
            1 => body.push_str(&format!("if {} {{\n  {cmd}\n}}\n", dates[0])),
            _ => body.push_str(&format!("if allof({}) {{\n  {cmd}\n}}\n", dates.join(", "))),
        }
    }
    for rule in rules {
        let tests: Vec<String> = rule.tests.iter().map(|t| test(t, &mut need)).collect();
        let actions: Vec<String> = rule.actions.iter().map(|a| action(a, &mut need)).collect();
        match tests.len() {
            0 => {
                for a in &actions {
                    body.push_str(&format!("{a}\n"));
                }
            }
            n => {
                let cond = if n == 1 {
                    tests[0].clone()
                } else {
                    let of = if rule.any { "anyof" } else { "allof" };
                    format!("{of}({})", tests.join(", "))
                };
                body.push_str(&format!("if {cond} {{\n"));
                for a in &actions {
                    body.push_str(&format!("  {a}\n"));
                }
                body.push_str("}\n");
            }
        }
    }
    let mut out = format!(
        "# Mail rules of {address}, written by mailc from the spec.\n\
         # Edit the spec and compile again: changes made here are overwritten.\n"
    );
    if !need.is_empty() {
        let need: Vec<String> = need.iter().map(|n| quote(n)).collect();
        out.push_str(&format!("require [{}];\n", need.join(", ")));
    }
    out.push_str(&body);
    Some(out)
}

fn test(t: &Test, need: &mut BTreeSet<&'static str>) -> String {
    match t {
        Test::Size { over, bytes } => {
            format!("size {} {bytes}", if *over { ":over" } else { ":under" })
        }
        Test::Text {
            source,
            compare,
            value,
        } => {
            let cmp = match compare {
                Compare::Contains => ":contains",
                Compare::Is => ":is",
                Compare::Matches => ":matches",
            };
            let v = match compare {
                // Only `*` is a wildcard: `?` and `\` are matched as
                // themselves (Pigeonhole 0.5 lets `a?c*` match `abd`).
                Compare::Matches => quote(&value.replace('\\', "\\\\").replace('?', "\\?")),
                _ => quote(value),
            };
            match source {
                Source::From => format!("address :all {cmp} \"from\" {v}"),
                Source::To => format!("address :all {cmp} [\"to\", \"cc\"] {v}"),
                Source::Sender => {
                    need.insert("envelope");
                    format!("envelope :all {cmp} \"from\" {v}")
                }
                Source::Header(name) => format!("header {cmp} {} {v}", quote(name)),
            }
        }
    }
}

fn action(a: &Action, need: &mut BTreeSet<&'static str>) -> String {
    match a {
        Action::FileInto { folder } => {
            need.insert("fileinto");
            need.insert("mailbox");
            format!("fileinto :create {};", quote(folder))
        }
        Action::Forward { to, copy: false } => format!("redirect {};", quote(to)),
        Action::Forward { to, copy: true } => {
            need.insert("copy");
            format!("redirect :copy {};", quote(to))
        }
        Action::Discard => "discard;".into(),
        Action::Reject { text } => {
            need.insert("reject");
            format!("reject {};", quote(text))
        }
        Action::Keep => "keep;".into(),
        Action::Stop => "stop;".into(),
    }
}

/// A quoted string (RFC 5228 §2.4.2): `"` and `\` escaped, newlines kept.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", q.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_rules_in_order_after_the_autoresponder() {
        let rules = vec![
            Rule {
                any: true,
                tests: vec![
                    Test::Text {
                        source: Source::Header("Subject".into()),
                        compare: Compare::Contains,
                        value: "say \"hi\"".into(),
                    },
                    Test::Size {
                        over: true,
                        bytes: 1024,
                    },
                ],
                actions: vec![
                    Action::FileInto {
                        folder: "Lists".into(),
                    },
                    Action::Stop,
                ],
            },
            Rule {
                any: false,
                tests: vec![],
                actions: vec![Action::Forward {
                    to: "b@example.org".into(),
                    copy: true,
                }],
            },
        ];
        let v = Vacation {
            subject: Some("Away".into()),
            text: "Back\nsoon".into(),
            start: Some("2026-12-20".into()),
            end: None,
            days: 7,
            addresses: vec!["a.smith@example.com".into()],
        };
        let s = script("alice@example.com", &rules, Some(&v)).unwrap();
        let body: Vec<&str> = s.lines().skip(2).collect();
        assert_eq!(
            body.join("\n"),
            "require [\"copy\", \"date\", \"fileinto\", \"mailbox\", \"relational\", \"vacation\"];\n\
             if currentdate :value \"ge\" \"date\" \"2026-12-20\" {\n  \
             vacation :days 7 :subject \"Away\" :addresses [\"a.smith@example.com\"] \"Back\nsoon\";\n}\n\
             if anyof(header :contains \"Subject\" \"say \\\"hi\\\"\", size :over 1024) {\n  \
             fileinto :create \"Lists\";\n  stop;\n}\n\
             redirect :copy \"b@example.org\";"
        );
        assert_eq!(script("a@b.example", &[], None), None);
    }
}
