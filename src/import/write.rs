//! Prints a [`Draft`] as a spec, in YAML or KDL (docs/spec.md): sorted,
//! grouped as the reference groups keys, values quoted only where the
//! dialect needs it, and a comment only where a value needs the reader's
//! attention (a placeholder, a mailbox nobody can log in to).

use std::fmt::Write as _;

use super::draft::{Draft, Host, Mailbox, Mx, Unknown};
use crate::model::route::{Outcome, Route};
pub use crate::source::{kdl_quoted, kdl_str};

/// What the header says the spec was made from.
pub struct Header<'a> {
    pub sources: &'a [String],
}

/// Defaults shared by every published domain.
struct Shared {
    nameservers: Vec<String>,
    hostmaster: Option<String>,
}

fn shared(d: &Draft) -> Shared {
    let published: Vec<_> = d.domains.values().filter(|x| x.published).collect();
    let same = |f: &dyn Fn(&super::draft::Domain) -> String| {
        published.first().is_some_and(|first| {
            let v = f(first);
            published.iter().all(|x| f(x) == v)
        })
    };
    let ns =
        same(&|x| x.nameservers.join(" ")) && published.iter().all(|x| !x.nameservers.is_empty());
    let hm = same(&|x| x.hostmaster.clone().unwrap_or_default())
        && published.iter().all(|x| x.hostmaster.is_some());
    Shared {
        nameservers: if ns {
            published[0].nameservers.clone()
        } else {
            Vec::new()
        },
        hostmaster: if hm {
            published[0].hostmaster.clone()
        } else {
            None
        },
    }
}

/// An address as a target of `domain`: its local part when it is in that
/// domain, else the full address.
fn target(addr: &str, domain: &str) -> String {
    match addr.rsplit_once('@') {
        Some((l, d)) if d == domain => l.to_string(),
        _ => addr.to_string(),
    }
}

/// MX entries are written bare when their priorities are the defaults
/// (10, 20, …, in list order).
fn default_priorities(mx: &[Mx]) -> bool {
    mx.iter()
        .enumerate()
        .all(|(i, m)| usize::from(m.priority) == 10 * (i + 1))
}

fn placeholder_note(h: &Host) -> Option<&'static str> {
    h.placeholder
        .then_some("placeholder: the sources do not say this host's public address; set it")
}

const LOCKED_NOTE: &str = "no password in the source: nobody can log in until one is set";

/// What the `tests` section says, above its items.
const TESTS_NOTE: [&str; 3] = [
    "What the source servers do with each address they name, and with an",
    "unknown address of each domain, where this spec does the same: `mailc test`",
    "checks it; `mailc test --live HOST=ADDRESS` asks a running server.",
];

/// One route test as the spec writes it.
struct TestLine {
    address: String,
    /// Named when the spec has several hosts.
    host: Option<String>,
    /// The outcome as (key, values); a flag outcome has no values.
    outcome: Vec<(&'static str, Vec<String>)>,
}

fn test_parts(r: &Route, hosts: usize) -> TestLine {
    let domain = r.address.rsplit_once('@').map_or("", |(_, d)| d);
    let outcome = match r.outcome {
        Outcome::Deliver | Outcome::Forward => {
            let mut o = Vec::new();
            if !r.mailboxes.is_empty() {
                o.push((
                    "deliver",
                    r.mailboxes.iter().map(|m| target(m, domain)).collect(),
                ));
            }
            if !r.forward.is_empty() {
                o.push(("forward", r.forward.clone()));
            }
            o
        }
        Outcome::Relay => vec![("relay", vec![r.next_hop.clone().unwrap_or_default()])],
        Outcome::Reject => vec![("reject", Vec::new())],
        Outcome::Bounce => vec![("bounce", Vec::new())],
        Outcome::Drop => vec![("drop", Vec::new())],
        Outcome::Remote => vec![("remote", Vec::new())],
    };
    TestLine {
        address: r.address.clone(),
        host: (hosts > 1).then(|| r.host.clone()),
        outcome,
    }
}

fn sorted_tests(d: &Draft) -> Vec<&Route> {
    let mut t: Vec<&Route> = d.tests.iter().collect();
    t.sort_by(|a, b| (&a.address, &a.host).cmp(&(&b.address, &b.host)));
    t
}

// ---------------------------------------------------------------- YAML

/// A YAML scalar: plain when it reads back as the same string, else
/// single-quoted.
pub fn yaml_str(s: &str) -> String {
    if plain_yaml(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn plain_yaml(s: &str) -> bool {
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.@+/-".contains(c));
    let lower = s.to_ascii_lowercase();
    let reserved = matches!(
        lower.as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
    );
    first_ok && rest_ok && !reserved && !looks_numeric(s)
}

/// Whether YAML 1.2 (or 1.1) could read `s` as a number.
fn looks_numeric(s: &str) -> bool {
    let t = s.trim_start_matches(['+', '-']);
    if t.parse::<f64>().is_ok() {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    (lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b"))
        || (t.starts_with(|c: char| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_digit() || c == '_' || c == ':'))
}

fn yaml_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| yaml_str(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn yaml(d: &Draft, h: &Header) -> String {
    let mut o = String::new();
    let sh = shared(d);
    let _ = writeln!(
        o,
        "# Written by `mailc import` from {}.",
        h.sources.join(", ")
    );
    o.push_str("version: 1\n");
    if !sh.nameservers.is_empty() || sh.hostmaster.is_some() {
        o.push_str("defaults:\n");
        if !sh.nameservers.is_empty() {
            let _ = writeln!(o, "  nameservers: {}", yaml_list(&sh.nameservers));
        }
        if let Some(hm) = &sh.hostmaster {
            let _ = writeln!(o, "  hostmaster: {}", yaml_str(hm));
        }
    }
    if d.hosts.is_empty() {
        o.push_str("hosts: {}\n");
    } else {
        o.push_str("hosts:\n");
        for host in d.hosts.values() {
            let _ = writeln!(o, "  {}:", yaml_str(&host.key));
            let _ = writeln!(o, "    hostname: {}", yaml_str(&host.hostname));
            let _ = write!(o, "    ipv4: {}", yaml_str(&host.ipv4));
            match placeholder_note(host) {
                Some(n) => {
                    let _ = writeln!(o, "   # {n}");
                }
                None => o.push('\n'),
            }
            if let Some(v6) = &host.ipv6 {
                let _ = writeln!(o, "    ipv6: '{v6}'");
            }
            let _ = writeln!(o, "    stack: {}", host.stack);
            if let Some(r) = &host.relay {
                let _ = writeln!(o, "    outbound_relay: {}", yaml_str(r));
            }
        }
    }
    if !d.relays.is_empty() {
        o.push_str("outbound_relays:\n");
        for (name, r) in &d.relays {
            let _ = writeln!(
                o,
                "  {}: {{host: {}, port: {}, tls: {}}}",
                yaml_str(name),
                yaml_str(&r.host),
                r.port,
                r.tls
            );
        }
    }
    if d.domains.is_empty() {
        yaml_tests(&mut o, d);
        return o;
    }
    o.push_str("domains:\n");
    for dom in d.domains.values() {
        let name = &dom.name;
        let _ = writeln!(o, "  {}:", yaml_str(name));
        if !dom.published {
            o.push_str("    zone: false                     # no zone file of it was imported\n");
        }
        if let Some(t) = dom.ttl {
            let _ = writeln!(o, "    ttl: {t}");
        }
        if dom.published && sh.nameservers.is_empty() && !dom.nameservers.is_empty() {
            let _ = writeln!(o, "    nameservers: {}", yaml_list(&dom.nameservers));
        }
        if dom.published
            && sh.hostmaster.is_none()
            && let Some(hm) = &dom.hostmaster
        {
            let _ = writeln!(o, "    hostmaster: {}", yaml_str(hm));
        }
        if !dom.routing.is_empty() {
            let parts: Vec<String> = dom
                .routing
                .iter()
                .map(|(k, v)| format!("{}: {v}", yaml_str(k)))
                .collect();
            let _ = writeln!(o, "    routing: {{{}}}", parts.join(", "));
        }
        let mx = dom.mx.clone().unwrap_or_default();
        if default_priorities(&mx) {
            let hosts: Vec<String> = mx.iter().map(|m| m.host.clone()).collect();
            let _ = writeln!(o, "    mx: {}", yaml_list(&hosts));
        } else {
            o.push_str("    mx:\n");
            for m in &mx {
                let _ = writeln!(
                    o,
                    "      - {{host: {}, priority: {}}}",
                    yaml_str(&m.host),
                    m.priority
                );
            }
        }
        if let Some(record) = dom.spf.as_ref().and_then(|s| s.record.as_ref()) {
            let _ = writeln!(o, "    spf: {{record: {}}}", yaml_str(record));
        } else if let Some(spf) = &dom.spf {
            let mut parts = Vec::new();
            if !spf.include.is_empty() {
                parts.push(format!("include: {}", yaml_list(&spf.include)));
            }
            if !spf.ip4.is_empty() {
                parts.push(format!("ip4: {}", yaml_list(&spf.ip4)));
            }
            if !spf.ip6.is_empty() {
                parts.push(format!("ip6: {}", yaml_list(&spf.ip6)));
            }
            parts.push(format!("all: {}", yaml_str(&spf.all)));
            let _ = writeln!(o, "    spf: {{{}}}", parts.join(", "));
        }
        if !dom.dkim.is_empty() {
            o.push_str("    dkim:\n");
            for k in &dom.dkim {
                let _ = writeln!(o, "      - selector: {}", yaml_str(&k.selector));
                if k.ed25519 {
                    o.push_str("        algorithm: ed25519\n");
                }
                let _ = writeln!(o, "        public_key: {}", yaml_str(&k.public_key));
            }
        }
        if let Some(m) = &dom.dmarc {
            let mut parts = vec![format!("policy: {}", m.policy)];
            if let Some(sp) = &m.subdomain_policy {
                parts.push(format!("subdomain_policy: {sp}"));
            }
            if !m.rua.is_empty() {
                parts.push(format!("rua: {}", yaml_list(&m.rua)));
            }
            if !m.ruf.is_empty() {
                parts.push(format!("ruf: {}", yaml_list(&m.ruf)));
            }
            if let Some(a) = &m.adkim {
                parts.push(format!("adkim: {a}"));
            }
            if let Some(a) = &m.aspf {
                parts.push(format!("aspf: {a}"));
            }
            if let Some(p) = m.pct {
                parts.push(format!("pct: {p}"));
            }
            let _ = writeln!(o, "    dmarc: {{{}}}", parts.join(", "));
        }
        if let Some(rua) = &dom.tls_rpt {
            let _ = writeln!(o, "    tls_rpt: {{rua: {}}}", yaml_list(rua));
        }
        if !dom.mailboxes.is_empty() {
            o.push_str("    mailboxes:\n");
            for (local, m) in &dom.mailboxes {
                let _ = writeln!(o, "      {}:", yaml_str(local));
                yaml_mailbox(&mut o, m);
            }
        }
        if !dom.aliases.is_empty() || !dom.drops.is_empty() {
            o.push_str("    aliases:\n");
            for (local, targets) in aliases(dom) {
                let v = match targets {
                    None => "{drop: true}".to_string(),
                    Some(targets) => {
                        let t: Vec<String> = targets.iter().map(|a| target(a, name)).collect();
                        if t.len() == 1 {
                            yaml_str(&t[0])
                        } else {
                            yaml_list(&t)
                        }
                    }
                };
                let _ = writeln!(o, "      {}: {v}", yaml_str(local));
            }
        }
        match &dom.unknown {
            Unknown::Reject => {}
            Unknown::Bounce => o.push_str("    unknown_recipients: bounce\n"),
            Unknown::Drop => o.push_str("    unknown_recipients: drop\n"),
            Unknown::Forward(t) => {
                let _ = writeln!(
                    o,
                    "    unknown_recipients: {{forward: {}}}",
                    yaml_str(&target(t, name))
                );
            }
            Unknown::Relay(h) => {
                let _ = writeln!(o, "    unknown_recipients: {{relay: {}}}", yaml_str(h));
            }
        }
        if !dom.records.is_empty() {
            o.push_str("    records:\n");
            for r in &dom.records {
                let ttl = r.ttl.map(|t| format!(", ttl: {t}")).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      - {{name: {}, type: {}, value: {}{ttl}}}",
                    yaml_str(&r.name),
                    r.rtype,
                    yaml_str(&r.value)
                );
            }
        }
    }
    yaml_tests(&mut o, d);
    o
}

fn yaml_tests(o: &mut String, d: &Draft) {
    if d.tests.is_empty() {
        return;
    }
    o.push_str("tests:\n");
    for line in TESTS_NOTE {
        let _ = writeln!(o, "  # {line}");
    }
    for r in sorted_tests(d) {
        let TestLine {
            address,
            host,
            outcome,
        } = test_parts(r, d.hosts.len());
        let mut parts = vec![format!("address: {}", yaml_str(&address))];
        if let Some(h) = host {
            parts.push(format!("host: {}", yaml_str(&h)));
        }
        for (key, values) in outcome {
            parts.push(match key {
                "deliver" | "forward" => format!("{key}: {}", yaml_list(&values)),
                "relay" => format!("relay: {}", yaml_str(&values[0])),
                _ => format!("{key}: true"),
            });
        }
        let _ = writeln!(o, "  - {{{}}}", parts.join(", "));
    }
}

fn kdl_tests(o: &mut String, d: &Draft) {
    if d.tests.is_empty() {
        return;
    }
    for line in TESTS_NOTE {
        let _ = writeln!(o, "// {line}");
    }
    o.push_str("tests {\n");
    for r in sorted_tests(d) {
        let TestLine {
            address,
            host,
            outcome,
        } = test_parts(r, d.hosts.len());
        let _ = write!(o, "    address {}", kdl_str(&address));
        if let Some(h) = host {
            let _ = write!(o, " host={}", kdl_str(&h));
        }
        let mut children = Vec::new();
        for (key, values) in outcome {
            match key {
                "deliver" | "forward" => children.push(format!("{key} {}", kdl_args(&values))),
                "relay" => {
                    let _ = write!(o, " relay={}", kdl_quoted(&values[0]));
                }
                _ => {
                    let _ = write!(o, " {key}=#true");
                }
            }
        }
        if children.is_empty() {
            o.push('\n');
        } else {
            let _ = writeln!(o, " {{ {} }}", children.join("; "));
        }
    }
    o.push_str("}\n");
}

fn yaml_mailbox(o: &mut String, m: &Mailbox) {
    let _ = write!(o, "        password: {}", yaml_str(&m.password));
    if m.locked {
        let _ = write!(o, "   # {LOCKED_NOTE}");
    }
    o.push('\n');
    if let Some(q) = &m.quota {
        let _ = writeln!(o, "        quota: {}", yaml_str(q));
    }
    if m.send_only {
        o.push_str("        send_only: true\n");
    }
}

// ---------------------------------------------------------------- KDL

fn kdl_args(items: &[String]) -> String {
    items
        .iter()
        .map(|s| kdl_str(s))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn kdl(d: &Draft, h: &Header) -> String {
    let mut o = String::new();
    let sh = shared(d);
    let _ = writeln!(
        o,
        "// Written by `mailc import` from {}.",
        h.sources.join(", ")
    );
    o.push_str("version 1\n");
    if !sh.nameservers.is_empty() || sh.hostmaster.is_some() {
        o.push_str("defaults");
        if let Some(hm) = &sh.hostmaster {
            let _ = write!(o, " hostmaster={}", kdl_str(hm));
        }
        if sh.nameservers.is_empty() {
            o.push('\n');
        } else {
            let _ = writeln!(o, " {{\n    nameservers {}\n}}", kdl_args(&sh.nameservers));
        }
    }
    if d.hosts.is_empty() {
        o.push_str("hosts\n");
    }
    for host in d.hosts.values() {
        let _ = write!(
            o,
            "host {} hostname={} ipv4={}",
            kdl_str(&host.key),
            kdl_str(&host.hostname),
            kdl_quoted(&host.ipv4)
        );
        if let Some(v6) = &host.ipv6 {
            let _ = write!(o, " ipv6={}", kdl_quoted(v6));
        }
        let _ = write!(o, " stack={}", host.stack);
        if let Some(r) = &host.relay {
            let _ = write!(o, " outbound-relay={}", kdl_str(r));
        }
        match placeholder_note(host) {
            Some(n) => {
                let _ = writeln!(o, "   // {n}");
            }
            None => o.push('\n'),
        }
    }
    for (name, r) in &d.relays {
        let _ = writeln!(
            o,
            "outbound-relay {} host={} port={} tls={}",
            kdl_str(name),
            kdl_quoted(&r.host),
            r.port,
            r.tls
        );
    }
    for dom in d.domains.values() {
        let name = &dom.name;
        let _ = write!(o, "domain {}", kdl_str(name));
        if !dom.published {
            o.push_str(" zone=#false");
        }
        if let Some(t) = dom.ttl {
            let _ = write!(o, " ttl={t}");
        }
        if dom.published
            && sh.hostmaster.is_none()
            && let Some(hm) = &dom.hostmaster
        {
            let _ = write!(o, " hostmaster={}", kdl_str(hm));
        }
        o.push_str(" {");
        if !dom.published {
            o.push_str("   // no zone file of it was imported");
        }
        o.push('\n');
        if dom.published && sh.nameservers.is_empty() && !dom.nameservers.is_empty() {
            let _ = writeln!(o, "    nameservers {}", kdl_args(&dom.nameservers));
        }
        if !dom.routing.is_empty() {
            let parts: Vec<String> = dom
                .routing
                .iter()
                .map(|(k, v)| format!("{}={v}", kdl_str(k)))
                .collect();
            let _ = writeln!(o, "    routing {}", parts.join(" "));
        }
        let mx = dom.mx.clone().unwrap_or_default();
        if mx.is_empty() {
            o.push_str("    mx\n");
        } else if default_priorities(&mx) {
            let hosts: Vec<String> = mx.iter().map(|m| m.host.clone()).collect();
            let _ = writeln!(o, "    mx {}", kdl_args(&hosts));
        } else {
            for m in &mx {
                let _ = writeln!(o, "    mx {} priority={}", kdl_str(&m.host), m.priority);
            }
        }
        if let Some(record) = dom.spf.as_ref().and_then(|s| s.record.as_ref()) {
            let _ = writeln!(o, "    spf record={}", kdl_quoted(record));
        } else if let Some(spf) = &dom.spf {
            let _ = write!(o, "    spf all={}", kdl_quoted(&spf.all));
            let mut lists = Vec::new();
            for (key, items) in [
                ("include", &spf.include),
                ("ip4", &spf.ip4),
                ("ip6", &spf.ip6),
            ] {
                if !items.is_empty() {
                    let quoted: Vec<String> = items.iter().map(|s| kdl_quoted(s)).collect();
                    lists.push(format!("{key} {}", quoted.join(" ")));
                }
            }
            if lists.is_empty() {
                o.push('\n');
            } else {
                let _ = writeln!(o, " {{ {} }}", lists.join("; "));
            }
        }
        for k in &dom.dkim {
            let _ = write!(o, "    dkim {}", kdl_str(&k.selector));
            if k.ed25519 {
                o.push_str(" algorithm=ed25519");
            }
            let _ = writeln!(o, " public-key={}", kdl_quoted(&k.public_key));
        }
        if let Some(m) = &dom.dmarc {
            let _ = write!(o, "    dmarc policy={}", m.policy);
            if let Some(sp) = &m.subdomain_policy {
                let _ = write!(o, " subdomain-policy={sp}");
            }
            if let Some(a) = &m.adkim {
                let _ = write!(o, " adkim={a}");
            }
            if let Some(a) = &m.aspf {
                let _ = write!(o, " aspf={a}");
            }
            if let Some(p) = m.pct {
                let _ = write!(o, " pct={p}");
            }
            let mut lists = Vec::new();
            for (key, items) in [("rua", &m.rua), ("ruf", &m.ruf)] {
                if !items.is_empty() {
                    let quoted: Vec<String> = items.iter().map(|s| kdl_quoted(s)).collect();
                    lists.push(format!("{key} {}", quoted.join(" ")));
                }
            }
            if lists.is_empty() {
                o.push('\n');
            } else {
                let _ = writeln!(o, " {{ {} }}", lists.join("; "));
            }
        }
        if let Some(rua) = &dom.tls_rpt {
            let quoted: Vec<String> = rua.iter().map(|s| kdl_quoted(s)).collect();
            let _ = writeln!(o, "    tls-rpt {{ rua {} }}", quoted.join(" "));
        }
        for (local, m) in &dom.mailboxes {
            let _ = write!(
                o,
                "    mailbox {} password={}",
                kdl_str(local),
                kdl_quoted(&m.password)
            );
            if let Some(q) = &m.quota {
                let _ = write!(o, " quota={}", kdl_quoted(q));
            }
            if m.send_only {
                o.push_str(" send-only=#true");
            }
            if m.locked {
                let _ = write!(o, "   // {LOCKED_NOTE}");
            }
            o.push('\n');
        }
        for (local, targets) in aliases(dom) {
            match targets {
                None => {
                    let _ = writeln!(o, "    alias {} drop=#true", kdl_str(local));
                }
                Some(targets) => {
                    let t: Vec<String> = targets.iter().map(|a| target(a, name)).collect();
                    let _ = writeln!(o, "    alias {} {}", kdl_str(local), kdl_args(&t));
                }
            }
        }
        match &dom.unknown {
            Unknown::Reject => {}
            Unknown::Bounce => o.push_str("    unknown-recipients bounce\n"),
            Unknown::Drop => o.push_str("    unknown-recipients drop\n"),
            Unknown::Forward(t) => {
                let _ = writeln!(
                    o,
                    "    unknown-recipients forward={}",
                    kdl_str(&target(t, name))
                );
            }
            Unknown::Relay(h) => {
                let _ = writeln!(o, "    unknown-recipients relay={}", kdl_quoted(h));
            }
        }
        for r in &dom.records {
            let _ = write!(
                o,
                "    record {} {} {}",
                kdl_str(&r.name),
                r.rtype,
                kdl_quoted(&r.value)
            );
            if let Some(t) = r.ttl {
                let _ = write!(o, " ttl={t}");
            }
            o.push('\n');
        }
        o.push_str("}\n");
    }
    kdl_tests(&mut o, d);
    o
}

/// A domain's aliases and drops in local-part order: the targets of each
/// alias, `None` for one that drops.
fn aliases(dom: &super::draft::Domain) -> std::collections::BTreeMap<&str, Option<&Vec<String>>> {
    dom.aliases
        .iter()
        .map(|(l, t)| (l.as_str(), Some(t)))
        .chain(dom.drops.iter().map(|l| (l.as_str(), None)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quoting() {
        for plain in [
            "example.com",
            "mx1",
            "_spf.google.com",
            "a@b.c",
            "192.0.2.0/24",
            "2G",
            "203.0.113.10",
        ] {
            assert_eq!(yaml_str(plain), plain);
        }
        for quoted in [
            "-all",
            "~all",
            "1.5",
            "1234",
            "yes",
            "No",
            "2001:db8::1",
            "{X}y",
            "a b",
            "it's",
            "",
            "@",
            "*.dev",
            "0x1f",
        ] {
            assert!(yaml_str(quoted).starts_with('\''), "{quoted}");
        }
        assert_eq!(yaml_str("it's"), "'it''s'");
    }

    #[test]
    fn kdl_quoting() {
        for bare in [
            "example.com",
            "mx1",
            "_dmarc",
            "hostmaster@example.com",
            "a.smith",
        ] {
            assert_eq!(kdl_str(bare), bare);
        }
        for quoted in ["1and1.example", "@", "true", "a/b", "-all", "x=y", "a\"b"] {
            assert!(kdl_str(quoted).starts_with('"'), "{quoted}");
        }
        assert_eq!(kdl_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
