//! Typing the spanned tree into a [`Spec`]: known keys, value kinds, choices.
//!
//! Every problem is reported and reading carries on: a wrong value becomes
//! `None` (a placeholder later checks skip), so one mistake gives one
//! diagnostic, never a cascade. This room holds the reader and what every
//! section uses (known keys, required keys); `value.rs` types scalars and
//! lists, and one room per part of the spec reads it: `sections.rs` (the top
//! level and `defaults`), `hosts.rs`, `domain.rs`, `mailbox.rs`, `rules.rs`,
//! `expect.rs` (`tests`).

mod domain;
mod expect;
mod hosts;
mod mailbox;
mod rules;
mod sections;
mod value;

use super::tree::{Key, Node, Value};
use super::*;
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::limits;
use crate::source::{Dialect, Span};

use domain::DMARC_POLICIES;

/// Reads the whole document.
pub fn read(tree: &Node, dialect: Dialect, diags: &mut Diagnostics) -> Spec {
    let mut r = Reader { dialect, diags };
    r.spec(tree)
}

/// Reads a file the spec includes: its `domains`, and a report for each
/// other key (those belong in the main spec).
pub fn read_included(tree: &Node, dialect: Dialect, diags: &mut Diagnostics) -> Entries<Domain> {
    let mut r = Reader { dialect, diags };
    let entries = match &tree.value {
        Value::Map(entries) => entries,
        Value::Null => return Entries::default(),
        _ => {
            r.type_error(tree, "a map", "an included file");
            return Entries::default();
        }
    };
    let mut domains = Entries::default();
    for (k, v) in entries {
        let name = r.key_name(k).into_owned();
        if name == "domains" {
            domains.0.extend(r.domains(v).0);
            continue;
        }
        let shown = dialect.spell(&name);
        let d = match name.as_str() {
            "include" => Diagnostic::error(
                Code::Include,
                k.span,
                "an included file cannot include others".to_string(),
            )
            .label("include in an included file")
            .help("list these paths in the `include` of the main spec, beside this file's own"),
            _ => Diagnostic::error(
                Code::Include,
                k.span,
                format!("`{shown}` cannot be set in an included file"),
            )
            .label("only `domains` here")
            .help(format!(
                "an included file holds `domains` only; move `{shown}` to the main spec"
            )),
        };
        r.push(d);
    }
    domains
}

struct Reader<'d> {
    dialect: Dialect,
    diags: &'d mut Diagnostics,
}

/// The entries of one map being read, tracking which keys were consumed.
struct Fields<'n> {
    entries: &'n [(Key<'n>, Node<'n>)],
    used: Vec<bool>,
    /// Required keys found absent, with their report: sent by `finish`
    /// unless an unknown key of the map is a misspelling of the key.
    missing: Vec<(&'static str, Diagnostic)>,
}

impl<'d> Reader<'d> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The key in YAML spelling; borrowed unless KDL's `-` must become `_`
    /// (`take` asks this of every key it passes).
    fn key_name<'k>(&self, key: &'k Key<'_>) -> std::borrow::Cow<'k, str> {
        match self.dialect {
            Dialect::Kdl if key.name.contains('-') => key.name.replace('-', "_").into(),
            Dialect::Yaml | Dialect::Kdl => std::borrow::Cow::Borrowed(&*key.name),
        }
    }

    fn type_error(&mut self, node: &Node, expected: &str, what: &str) {
        let d = Diagnostic::error(
            Code::Type,
            node.span,
            format!("{what} must be {expected}, found {}", node.kind()),
        )
        .label(format!("expected {expected}"))
        .help(format!("write {what} as {expected}"));
        self.push(d);
    }

    fn fields<'n>(&mut self, node: &'n Node<'n>, what: &str) -> Option<Fields<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Fields {
                entries,
                used: vec![false; entries.len()],
                missing: Vec::new(),
            }),
            Value::Null => Some(Fields {
                entries: &[],
                used: Vec::new(),
                missing: Vec::new(),
            }),
            _ => {
                self.type_error(node, "a map", what);
                None
            }
        }
    }

    /// Takes key `name` (YAML spelling); a second occurrence is an error.
    fn take<'n>(&mut self, f: &mut Fields<'n>, name: &str) -> Option<&'n Node<'n>> {
        let mut found: Option<(usize, &'n Key)> = None;
        for (i, (key, _)) in f.entries.iter().enumerate() {
            if f.used[i] || self.key_name(key) != name {
                continue;
            }
            f.used[i] = true;
            match found {
                None => found = Some((i, key)),
                Some((_, first)) => {
                    let shown = self.dialect.spell(name);
                    let d = Diagnostic::error(
                        Code::DuplicateKey,
                        key.span,
                        format!("`{shown}` is given twice"),
                    )
                    .label("second time")
                    .with(first.span, "first time")
                    .help(format!("keep one `{shown}`; its values are not merged"));
                    self.push(d);
                }
            }
        }
        found.map(|(i, _)| &f.entries[i].1)
    }

    /// Reports the keys nobody took, and the required keys found absent —
    /// unless a key nobody took is a misspelling of one (that key's report
    /// says so: one typo, one error). Returns the known keys that unknown
    /// keys misspell: checks that depend on them stay quiet.
    fn finish(&mut self, f: Fields<'_>, known: &[&'static str], what: &str) -> Vec<&'static str> {
        let mut misspelt = Vec::new();
        let unknown: Vec<&Key> = f
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !f.used[*i])
            .map(|(_, (k, _))| k)
            .collect();
        for (name, d) in f.missing {
            if !unknown
                .iter()
                .any(|k| suggest(&self.key_name(k), [name]).is_some())
            {
                self.push(d);
            }
        }
        for key in unknown {
            let name = self.key_name(key);
            let spelled: Vec<String> = known.iter().map(|k| self.dialect.spell(k)).collect();
            let mut d = Diagnostic::error(
                Code::UnknownKey,
                key.span,
                format!("unknown key `{}` in {what}", key.name),
            )
            .label("not a key of the spec language");
            d = match suggest(&name, known.iter().copied()) {
                Some(s) => {
                    misspelt.push(s);
                    d.help(format!("did you mean `{}`?", self.dialect.spell(s)))
                }
                None => d.help(format!("the keys of {what} are: {}", quote_list(&spelled))),
            };
            self.push(d);
        }
        misspelt
    }

    /// Takes a required key; when it is absent, the report waits for
    /// `finish` (see there).
    fn required<'n>(
        &mut self,
        f: &mut Fields<'n>,
        name: &'static str,
        span: Span,
        what: &str,
        example: (&str, &str),
    ) -> Option<&'n Node<'n>> {
        let found = self.take(f, name);
        if found.is_none() {
            let d = self.missing_key(span, name, what, example);
            f.missing.push((name, d));
        }
        found
    }

    /// Reports a required key that is absent; `example` shows the fix in
    /// YAML and in KDL (where scalar fields are properties and list keys
    /// are nodes or arguments).
    fn missing(&mut self, span: Span, key: &str, what: &str, example: (&str, &str)) {
        let d = self.missing_key(span, key, what, example);
        self.push(d);
    }

    /// The report of an absent required key.
    fn missing_key(&self, span: Span, key: &str, what: &str, example: (&str, &str)) -> Diagnostic {
        let key = self.dialect.spell(key);
        let example = match self.dialect {
            Dialect::Yaml => example.0,
            Dialect::Kdl => example.1,
        };
        Diagnostic::error(Code::MissingKey, span, format!("{what} has no `{key}`"))
            .label(format!("`{key}` is required here"))
            .help(if example.contains('`') {
                example.to_string()
            } else {
                format!("add `{example}`")
            })
    }
}

/// Whether every entry of the map `node` was read into `read`: a map that
/// is not one, or an entry dropped for an error, leaves what it names
/// unknown to later checks.
fn complete<T>(node: &Node, read: &Option<Entries<T>>) -> bool {
    match (&node.value, read) {
        (Value::Map(entries), Some(read)) => entries.len() == read.len(),
        (_, Some(_)) => true,
        (_, None) => false,
    }
}

/// `a`, `b` and `c` → "`a`, `b`, `c`".
fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
