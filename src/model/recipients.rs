//! Recipient tables: every claimed local part expanded to the mailboxes and
//! outside addresses its mail reaches, each once; alias cycles found and named.
//!
//! Expansion is global, like Postfix's virtual alias rewriting: an alias may
//! point into another domain of the spec. Memoized, so a group used by many
//! aliases is expanded once (no quadratic step).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Expansion, Recipient, RecipientKind};
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::source::Span;

/// An alias target after parsing.
#[derive(Clone, Debug)]
pub enum Target {
    /// A local part of the same domain.
    Local(String),
    /// A full address (local, domain), normalized.
    Address(String, String),
}

impl Target {
    /// The target as a full address, written in `domain`.
    pub fn address(&self, domain: &str) -> String {
        match self {
            Target::Local(l) => format!("{l}@{domain}"),
            Target::Address(l, d) => format!("{l}@{d}"),
        }
    }
}

/// What one domain claims, ready for expansion.
#[derive(Debug, Default)]
pub struct Claims {
    /// Local part → (send-only, where declared).
    pub mailboxes: BTreeMap<String, (bool, Span)>,
    /// Local part → (the mailbox it belongs to, where declared).
    pub mailbox_aliases: BTreeMap<String, (String, Span)>,
    /// Local part → (targets with their spans, where declared).
    pub aliases: BTreeMap<String, (Vec<(Target, Span)>, Span)>,
    pub catch_all: Option<(Target, Span)>,
    /// Aliases with a target that could not be read (already reported).
    pub broken: Vec<String>,
    /// Whether an address of this domain that nobody claims is an error as a
    /// target (the domain's recipients are known here), or an outside address.
    pub closed: bool,
    /// The domain's `mailboxes` or `aliases` could not be read whole (that
    /// was reported): a target it does not claim is no news.
    pub incomplete: bool,
}

/// The resolved recipients of one domain.
pub struct Resolved {
    pub recipients: BTreeMap<String, Recipient>,
    pub catch_all: Option<Expansion>,
}

type NodeId = (String, String); // (domain, local part)

enum State {
    Visiting,
    Done(Expansion),
}

struct Resolver<'a> {
    domains: &'a BTreeMap<String, Claims>,
    diags: &'a mut Diagnostics,
    state: HashMap<NodeId, State>,
    stack: Vec<NodeId>,
    /// Aliases whose expansion met an error (a cycle, an unknown target):
    /// their emptiness is no news, so no warning follows.
    poisoned: HashSet<NodeId>,
}

/// Domains resolved by one thread: a hosting server has thousands.
const PART: usize = 250;

/// Expands every domain's claims.
///
/// Parts of [`PART`] domains are expanded on every core, each part with its
/// own memo: an alias chain that crosses parts is expanded in each. The cuts
/// do not depend on the machine, and a cycle is named from its smallest
/// member wherever it is found, so the diagnostics (sorted and deduplicated
/// later) are the same everywhere.
pub fn resolve(
    domains: &BTreeMap<String, Claims>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Resolved> {
    let all: Vec<(&String, &Claims)> = domains.iter().collect();
    let parts = crate::par::map_chunks(&all, PART, |part| {
        let mut found = Diagnostics::new();
        let mut r = Resolver {
            domains,
            diags: &mut found,
            state: HashMap::new(),
            stack: Vec::new(),
            poisoned: HashSet::new(),
        };
        for (name, claims) in domains {
            r.poisoned
                .extend(claims.broken.iter().map(|l| (name.clone(), l.clone())));
        }
        let done: Vec<(String, Resolved)> = part
            .iter()
            .map(|(name, claims)| ((*name).clone(), r.domain(name, claims)))
            .collect();
        (done, found)
    });
    let mut out = BTreeMap::new();
    for (done, found) in parts {
        out.extend(done);
        diags.append(found);
    }
    out
}

impl Resolver<'_> {
    /// The recipients and catch-all of one domain.
    fn domain(&mut self, name: &String, claims: &Claims) -> Resolved {
        let r = self;
        let mut recipients = BTreeMap::new();
        for (local, (send_only, _)) in &claims.mailboxes {
            let mut target = Expansion::default();
            if !send_only {
                target.mailboxes.insert(format!("{local}@{name}"));
            }
            recipients.insert(
                local.clone(),
                Recipient {
                    kind: RecipientKind::Mailbox,
                    target,
                    via: Vec::new(),
                },
            );
        }
        for (local, (mailbox, _)) in &claims.mailbox_aliases {
            let target = recipients
                .get(mailbox)
                .map(|m: &Recipient| m.target.clone())
                .unwrap_or_default();
            recipients.insert(
                local.clone(),
                Recipient {
                    kind: RecipientKind::MailboxAlias,
                    target,
                    via: vec![format!("{mailbox}@{name}")],
                },
            );
        }
        for (local, (targets, span)) in &claims.aliases {
            let target = r.alias(name, local);
            if target.is_empty() && !r.poisoned.contains(&(name.clone(), local.clone())) {
                let d = Diagnostic::warning(
                    Code::SendOnlyTarget,
                    *span,
                    format!("alias `{local}@{name}` leads only to send-only mailboxes: mail to it is refused"),
                )
                .label("receives nothing")
                .help("point it at a mailbox that receives mail, or remove it");
                r.diags.push(d);
            }
            recipients.insert(
                local.clone(),
                Recipient {
                    kind: RecipientKind::Alias,
                    target,
                    via: targets.iter().map(|(t, _)| t.address(name)).collect(),
                },
            );
        }
        let catch_all = claims.catch_all.as_ref().map(|(t, span)| {
            let (e, ok) = r.target(name, t, *span);
            if e.is_empty() && ok {
                let d = Diagnostic::error(
                    Code::CatchAllTarget,
                    *span,
                    format!("the catch-all of `{name}` leads only to send-only mailboxes"),
                )
                .label("receives nothing")
                .help(
                    "forward unknown recipients to a mailbox that receives mail, or use `reject`",
                );
                r.diags.push(d);
            }
            e
        });
        Resolved {
            recipients,
            catch_all,
        }
    }

    /// The expansion of alias `local@domain`.
    fn alias(&mut self, domain: &str, local: &str) -> Expansion {
        let id: NodeId = (domain.to_string(), local.to_string());
        match self.state.get(&id) {
            Some(State::Done(e)) => return e.clone(),
            Some(State::Visiting) => {
                self.report_cycle(&id);
                return Expansion::default();
            }
            None => {}
        }
        let Some((targets, _)) = self.domains.get(domain).and_then(|c| c.aliases.get(local)) else {
            return Expansion::default();
        };
        self.state.insert(id.clone(), State::Visiting);
        self.stack.push(id.clone());
        let mut out = Expansion::default();
        for (t, span) in targets {
            let (e, ok) = self.target(domain, t, *span);
            if !ok {
                self.poisoned.insert(id.clone());
            }
            out.mailboxes.extend(e.mailboxes);
            out.external.extend(e.external);
        }
        self.stack.pop();
        // A node that was part of a reported cycle stays "visiting" no more.
        self.state.insert(id, State::Done(out.clone()));
        out
    }

    /// The expansion of one target written in `domain`, and whether it
    /// resolved without an error.
    fn target(&mut self, domain: &str, t: &Target, span: Span) -> (Expansion, bool) {
        let e = self.target_inner(domain, t, span);
        let ok = match (&e, t) {
            (None, _) => false,
            // Nearly always: no alias met an error, and no key is built.
            _ if self.poisoned.is_empty() => true,
            (Some(_), Target::Local(l)) => {
                !self.poisoned.contains(&(domain.to_string(), l.clone()))
            }
            (Some(_), Target::Address(l, d)) => !self.poisoned.contains(&(d.clone(), l.clone())),
        };
        (e.unwrap_or_default(), ok)
    }

    fn target_inner(&mut self, domain: &str, t: &Target, span: Span) -> Option<Expansion> {
        let (local, dom, same_domain) = match t {
            Target::Local(l) => (l.as_str(), domain, true),
            Target::Address(l, d) => (l.as_str(), d.as_str(), d == domain),
        };
        let Some(claims) = self.domains.get(dom) else {
            let mut e = Expansion::default();
            e.external.insert(format!("{local}@{dom}"));
            return Some(e);
        };
        if let Some((send_only, _)) = claims.mailboxes.get(local) {
            let mut e = Expansion::default();
            if !send_only {
                e.mailboxes.insert(format!("{local}@{dom}"));
            }
            return Some(e);
        }
        if let Some((mailbox, _)) = claims.mailbox_aliases.get(local) {
            let mut e = Expansion::default();
            if claims
                .mailboxes
                .get(mailbox)
                .is_some_and(|(send_only, _)| !send_only)
            {
                e.mailboxes.insert(format!("{mailbox}@{dom}"));
            }
            return Some(e);
        }
        if claims.aliases.contains_key(local) {
            return Some(self.alias(dom, local));
        }
        if !same_domain && !claims.closed {
            let mut e = Expansion::default();
            e.external.insert(format!("{local}@{dom}"));
            return Some(e);
        }
        if claims.incomplete {
            return None;
        }
        let known = claims
            .mailboxes
            .keys()
            .chain(claims.mailbox_aliases.keys())
            .chain(claims.aliases.keys());
        let mut d = Diagnostic::error(
            Code::UnknownTarget,
            span,
            format!("`{local}@{dom}` is not a mailbox or alias of this spec"),
        )
        .label("unknown target");
        d = match suggest(local, known.map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "declare a mailbox or alias `{local}` in `{dom}`, or fix the typo"
            )),
        };
        self.diags.push(d);
        None
    }

    fn report_cycle(&mut self, id: &NodeId) {
        let start = self.stack.iter().position(|n| n == id).unwrap_or(0);
        let cycle: Vec<NodeId> = self.stack[start..].to_vec();
        self.poisoned.extend(cycle.iter().cloned());
        // Report each cycle once, from its smallest member.
        let first = cycle.iter().min().cloned().unwrap_or_else(|| id.clone());
        let rotated: Vec<&NodeId> = cycle
            .iter()
            .cycle()
            .skip_while(|n| **n != first)
            .take(cycle.len())
            .collect();
        let names: Vec<String> = rotated
            .iter()
            .map(|(d, l)| {
                if rotated.iter().all(|(d2, _)| d2 == d) {
                    format!("`{l}`")
                } else {
                    format!("`{l}@{d}`")
                }
            })
            .collect();
        let span_of = |(d, l): &NodeId| {
            self.domains
                .get(d)
                .and_then(|c| c.aliases.get(l))
                .map(|(_, s)| *s)
        };
        let mut diag = Diagnostic::error(
            Code::AliasCycle,
            span_of(&first).unwrap_or_default(),
            format!("aliases form a cycle: {} → {}", names.join(" → "), names[0]),
        )
        .label("the cycle starts here");
        for n in rotated.iter().skip(1) {
            if let Some(s) = span_of(n) {
                diag = diag.with(s, "and goes on here");
            }
        }
        diag = diag.help("point one of these aliases at a mailbox or an outside address");
        self.diags.push(diag);
    }
}
