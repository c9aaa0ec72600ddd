//! What an included spec file shares with the rest of the spec, as the
//! cache records it: the domains of the spec its text names. A file names
//! the domains it defines, and every domain it refers to — an alias or
//! forward into it, an SPF include, a DMARC report address, a backup or
//! catch-all target — since every such reference is written as a domain
//! name or an address. Read lexically, as an over-approximation: every run
//! of name characters holding a dot counts, so nothing a file refers to is
//! missed, whatever key it stands under; a run that only looks like a name
//! (part of a password hash) names no domain of the spec and costs nothing.
//!
//! Two files are related when they name a common domain, or one names a
//! domain below or above one the other names (a zone and its subdomain).
//! A change to a file can affect only the files related to it, and
//! transitively those related to them: [`Domains::touched`] gives the
//! relation, the caller closes it.

use std::collections::{BTreeSet, HashMap, HashSet};

/// The domains a spec defines, to look names up in.
pub struct Domains<'a> {
    names: HashSet<&'a str>,
    /// For a name above some defined domains (with a dot in it), those
    /// domains: `example.com` → `mail.example.com`.
    below: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Domains<'a> {
    pub fn new(domains: impl IntoIterator<Item = &'a str>) -> Domains<'a> {
        let names: HashSet<&str> = domains.into_iter().collect();
        let mut below: HashMap<&str, Vec<&str>> = HashMap::new();
        for &d in &names {
            let mut rest = d;
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.contains('.') {
                    break;
                }
                below.entry(parent).or_default().push(d);
                rest = parent;
            }
        }
        Domains { names, below }
    }

    /// The defined domains `text` names, or is related to by a name above
    /// or below them.
    pub fn touched(&self, text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut lower = String::new();
        for token in tokens(text) {
            lower.clear();
            let name: &str = if token.is_ascii() {
                if token.bytes().any(|b| b.is_ascii_uppercase()) {
                    lower.push_str(&token.to_ascii_lowercase());
                    &lower
                } else {
                    token
                }
            } else {
                // As the model names a domain: its A-label form.
                match idna::domain_to_ascii(token) {
                    Ok(a) => {
                        lower = a;
                        &lower
                    }
                    Err(_) => continue,
                }
            };
            self.related(name, &mut found);
        }
        found
    }

    fn related(&self, name: &str, found: &mut BTreeSet<String>) {
        // The name itself and every name above it.
        let mut rest = name;
        loop {
            if let Some(d) = self.names.get(rest) {
                found.insert((*d).to_string());
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => break,
            }
        }
        // Defined domains below it.
        if let Some(ds) = self.below.get(name) {
            found.extend(ds.iter().map(|d| (*d).to_string()));
        }
    }
}

/// Runs of name characters (letters, digits, `-`, `_`, `.`, anything not
/// ASCII) that hold a dot, with leading and trailing dots trimmed.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let name_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || !c.is_ascii();
    text.split(move |c: char| !name_char(c))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touched(domains: &[&str], text: &str) -> Vec<String> {
        Domains::new(domains.iter().copied())
            .touched(text)
            .into_iter()
            .collect()
    }

    #[test]
    fn a_file_names_what_it_defines_and_refers_to() {
        let ds = ["a.example", "b.example", "c.example", "sub.c.example"];
        let text = "domains:\n  a.example:\n    aliases: {x: [y, Z@B.Example]}\n    \
                    spf: {include: [_spf.sub.c.example]}\n    hash: \"$6$x.a.example/q\"\n";
        assert_eq!(
            touched(&ds, text),
            ["a.example", "b.example", "c.example", "sub.c.example"]
        );
        // A name above a defined domain relates to it; an outside one to none.
        assert_eq!(
            touched(&ds, "rua: mailto:r@c.example."),
            ["c.example", "sub.c.example"]
        );
        assert_eq!(
            touched(&["mail.corp.example"], "corp.example"),
            ["mail.corp.example"]
        );
        assert!(touched(&ds, "x@elsewhere.test, example, a-example").is_empty());
    }

    #[test]
    fn names_beyond_ascii_are_read_as_their_a_label() {
        let ds = ["xn--bcher-kva.example"];
        assert_eq!(touched(&ds, "domain bücher.example {"), ds);
    }
}
