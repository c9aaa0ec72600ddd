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
    /// `{drop: true}`: accepted and discarded.
    Drop,
}

impl Target {
    /// The target as a full address, written in `domain` (`None` for a
    /// drop, which has none).
    pub fn address(&self, domain: &str) -> Option<String> {
        match self {
            Target::Local(l) => Some(format!("{l}@{domain}")),
            Target::Address(l, d) => Some(format!("{l}@{d}")),
            Target::Drop => None,
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
    /// The domain's mail service is off (`mail: false`): an address of it
    /// is no target for another domain.
    pub mail_off: bool,
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

/// An alias being expanded: its targets, how far through them, and what
/// they gave so far.
struct Frame<'a> {
    id: NodeId,
    targets: &'a [(Target, Span)],
    next: usize,
    out: Expansion,
    /// A target met an error (a cycle, an unknown target).
    poisoned: bool,
}

impl Frame<'_> {
    fn merge(&mut self, e: &Expansion, ok: bool) {
        self.out.mailboxes.extend(e.mailboxes.iter().cloned());
        self.out.external.extend(e.external.iter().cloned());
        self.out.drop |= e.drop;
        if !ok {
            self.poisoned = true;
        }
    }
}

/// What one target needs: nothing more, or an alias expanded.
enum Step {
    Leaf(Expansion, bool),
    Alias(NodeId),
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

/// How many members of a cycle its diagnostic names and labels.
const CYCLE_NAMED: usize = 8;

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
    if let Some(d) = too_many(domains) {
        diags.push(d);
        return BTreeMap::new();
    }
    let all: Vec<(&String, &Claims)> = domains.iter().collect();
    // Gathered once: each part starts from a copy.
    let broken: HashSet<NodeId> = domains
        .iter()
        .flat_map(|(name, claims)| claims.broken.iter().map(|l| (name.clone(), l.clone())))
        .collect();
    let parts = crate::par::map_chunks(&all, PART, |part| {
        let mut found = Diagnostics::new();
        let mut r = Resolver {
            domains,
            diags: &mut found,
            state: HashMap::new(),
            stack: Vec::new(),
            poisoned: broken.clone(),
        };
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

/// What a target written in a domain is, for counting.
enum Kind<'d> {
    /// Expands to at most this many addresses (0 or 1).
    Leaf(usize),
    Alias(&'d str, &'d str),
}

/// How a target resolves, as [`Resolver::step`] and `target_inner` see it.
fn kind<'d>(domains: &'d BTreeMap<String, Claims>, domain: &'d str, t: &'d Target) -> Kind<'d> {
    let (local, dom, same) = match t {
        Target::Local(l) => (l.as_str(), domain, true),
        Target::Address(l, d) => (l.as_str(), d.as_str(), d == domain),
        Target::Drop => return Kind::Leaf(0),
    };
    let Some((dom, claims)) = domains.get_key_value(dom) else {
        return Kind::Leaf(1);
    };
    if claims.mailboxes.contains_key(local) || claims.mailbox_aliases.contains_key(local) {
        Kind::Leaf(1)
    } else if let Some((local, _)) = claims.aliases.get_key_value(local) {
        Kind::Alias(dom, local)
    } else {
        Kind::Leaf(usize::from(!same && !claims.closed))
    }
}

/// The expansions' size before they are built: every alias lists each
/// address it reaches, so nested aliases can make the tables quadratic in
/// the spec (a chain of 10,000 aliases, each adding one address, lists 50
/// million). Each alias's size is bounded by the sum of its targets' (no
/// more than every address of the spec), in one pass over the alias graph;
/// past [`crate::limits::ALIAS_ADDRESSES`] in all, the spec is refused at
/// its largest alias and nothing is expanded.
fn too_many(domains: &BTreeMap<String, Claims>) -> Option<Diagnostic> {
    let limit = crate::limits::ALIAS_ADDRESSES;
    // Every address an expansion can hold is a mailbox or a target written.
    let addresses: usize = domains
        .values()
        .map(|c| {
            c.mailboxes.len()
                + c.aliases.values().map(|(t, _)| t.len()).sum::<usize>()
                + usize::from(c.catch_all.is_some())
        })
        .sum();
    let mut bound: HashMap<(&str, &str), usize> = HashMap::new();
    let mut total = 0usize;
    let mut largest: Option<(usize, Span, &str, &str)> = None;
    for (domain, claims) in domains {
        for (local, (_, span)) in &claims.aliases {
            let b = alias_bound(domains, (domain, local), &mut bound, addresses);
            total = total.saturating_add(b);
            if largest.is_none_or(|(l, ..)| b > l) {
                largest = Some((b, *span, domain, local));
            }
        }
        if let Some((t, span)) = &claims.catch_all {
            let b = match kind(domains, domain, t) {
                Kind::Leaf(n) => n,
                Kind::Alias(d, l) => alias_bound(domains, (d, l), &mut bound, addresses),
            };
            total = total.saturating_add(b);
            if largest.is_none_or(|(l, ..)| b > l) {
                largest = Some((b, *span, domain, "*"));
            }
        }
    }
    if total <= limit {
        return None;
    }
    let (b, span, domain, local) = largest?;
    Some(
        Diagnostic::error(
            Code::AliasExpansion,
            span,
            format!(
                "the aliases of this spec would list up to {total} addresses in all, more than the {limit} mailc allows"
            ),
        )
        .label(format!("`{local}@{domain}` alone lists up to {b}"))
        .help(
            "an alias lists every address its nested aliases reach, so nesting large groups in many aliases multiplies them; nest less deeply, or split the spec",
        ),
    )
}

/// The bound on alias `id`'s expansion, depth-first with an explicit
/// stack; an alias met again on the path (a cycle, reported later) counts
/// nothing.
fn alias_bound<'d>(
    domains: &'d BTreeMap<String, Claims>,
    id: (&'d str, &'d str),
    bound: &mut HashMap<(&'d str, &'d str), usize>,
    addresses: usize,
) -> usize {
    if let Some(b) = bound.get(&id) {
        return *b;
    }
    let targets = |(d, l): (&'d str, &'d str)| -> &'d [(Target, Span)] {
        domains
            .get(d)
            .and_then(|c| c.aliases.get(l))
            .map_or(&[][..], |(t, _)| t.as_slice())
    };
    let mut on_path: HashSet<(&str, &str)> = HashSet::from([id]);
    // (alias, its targets, next target, sum so far)
    let mut stack = vec![(id, targets(id), 0usize, 0usize)];
    while let Some((node, ts, next, sum)) = stack.last_mut() {
        let Some((t, _)) = ts.get(*next) else {
            let (node, _, _, sum) = (*node, *ts, *next, *sum);
            stack.pop();
            on_path.remove(&node);
            let b = sum.min(addresses);
            bound.insert(node, b);
            if let Some((.., parent_sum)) = stack.last_mut() {
                *parent_sum = parent_sum.saturating_add(b);
            } else {
                return b;
            }
            continue;
        };
        *next += 1;
        match kind(domains, node.0, t) {
            Kind::Leaf(n) => *sum = sum.saturating_add(n),
            Kind::Alias(d, l) => {
                if let Some(b) = bound.get(&(d, l)) {
                    *sum = sum.saturating_add(*b);
                } else if on_path.insert((d, l)) {
                    stack.push(((d, l), targets((d, l)), 0, 0));
                }
            }
        }
    }
    0
}

impl<'a> Resolver<'a> {
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
                    via: targets
                        .iter()
                        .filter_map(|(t, _)| t.address(name))
                        .collect(),
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
    ///
    /// Depth-first with an explicit stack, not recursion: a chain of aliases
    /// as long as a spec can hold, or a cycle through all of them, costs
    /// memory on the heap in proportion, never the thread's stack.
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
        let Some(root) = self.frame(id) else {
            return Expansion::default();
        };
        let base = self.stack.len();
        let mut frames = vec![root];
        loop {
            let Some(frame) = frames.last_mut() else {
                return Expansion::default();
            };
            let next = frame.targets.get(frame.next).map(|(t, span)| (t, *span));
            frame.next += 1;
            let Some((t, span)) = next else {
                // Every target done: the alias is.
                let Some(done) = frames.pop() else {
                    return Expansion::default();
                };
                self.stack.truncate(base + frames.len());
                if done.poisoned {
                    self.poisoned.insert(done.id.clone());
                }
                let ok = !self.poisoned.contains(&done.id);
                match frames.last_mut() {
                    Some(parent) => {
                        parent.merge(&done.out, ok);
                        self.state.insert(done.id, State::Done(done.out));
                    }
                    None => {
                        self.state.insert(done.id, State::Done(done.out.clone()));
                        return done.out;
                    }
                }
                continue;
            };
            let domain = frame.id.0.clone();
            match self.step(&domain, t, span) {
                Step::Leaf(e, ok) => {
                    if let Some(frame) = frames.last_mut() {
                        frame.merge(&e, ok);
                    }
                }
                Step::Alias(child) => match self.state.get(&child) {
                    Some(State::Done(e)) => {
                        let ok = !self.poisoned.contains(&child);
                        let e = e.clone();
                        if let Some(frame) = frames.last_mut() {
                            frame.merge(&e, ok);
                        }
                    }
                    Some(State::Visiting) => {
                        self.report_cycle(&child);
                        if let Some(frame) = frames.last_mut() {
                            frame.poisoned = true;
                        }
                    }
                    None => {
                        if let Some(f) = self.frame(child) {
                            frames.push(f);
                        }
                    }
                },
            }
        }
    }

    /// Starts expanding alias `id`: marks it visiting and puts it on the
    /// path. `None` when there is no such alias.
    fn frame(&mut self, id: NodeId) -> Option<Frame<'a>> {
        let domains = self.domains;
        let (targets, _) = domains.get(&id.0).and_then(|c| c.aliases.get(&id.1))?;
        self.state.insert(id.clone(), State::Visiting);
        self.stack.push(id.clone());
        Some(Frame {
            id,
            targets,
            next: 0,
            out: Expansion::default(),
            poisoned: false,
        })
    }

    /// One target written in `domain`: expanded at once, or the alias to
    /// expand.
    fn step(&mut self, domain: &str, t: &Target, span: Span) -> Step {
        let (local, dom) = match t {
            Target::Local(l) => (l.as_str(), domain),
            Target::Address(l, d) => (l.as_str(), d.as_str()),
            Target::Drop => {
                let e = Expansion {
                    drop: true,
                    ..Expansion::default()
                };
                return Step::Leaf(e, true);
            }
        };
        // An address of a domain whose mail is off receives nothing; the
        // domain's own aliases are dropped with it.
        if self.domains.get(dom).is_some_and(|c| c.mail_off)
            && !self.domains.get(domain).is_some_and(|c| c.mail_off)
        {
            self.diags.push(
                Diagnostic::error(
                    Code::MailOffTarget,
                    span,
                    format!("`{local}@{dom}` is in `{dom}`, whose mail service is off (`mail: false`)"),
                )
                .label("receives nothing")
                .help(format!(
                    "point this at an address that receives mail, or turn the mail of `{dom}` back on"
                )),
            );
            return Step::Leaf(Expansion::default(), false);
        }
        // A mailbox (or its alias) wins over an alias of the same name,
        // which is an error reported elsewhere.
        if self.domains.get(dom).is_some_and(|c| {
            c.aliases.contains_key(local)
                && !c.mailboxes.contains_key(local)
                && !c.mailbox_aliases.contains_key(local)
        }) {
            return Step::Alias((dom.to_string(), local.to_string()));
        }
        let e = self.target_inner(domain, t, span);
        let ok = self.leaf_ok(domain, t, e.is_some());
        Step::Leaf(e.unwrap_or_default(), ok)
    }

    /// The expansion of one target written in `domain`, and whether it
    /// resolved without an error.
    fn target(&mut self, domain: &str, t: &Target, span: Span) -> (Expansion, bool) {
        match self.step(domain, t, span) {
            Step::Leaf(e, ok) => (e, ok),
            Step::Alias(child) => {
                let e = self.alias(&child.0, &child.1);
                (e, !self.poisoned.contains(&child))
            }
        }
    }

    /// Whether a target that is not an alias resolved without an error.
    fn leaf_ok(&self, domain: &str, t: &Target, found: bool) -> bool {
        match t {
            _ if !found => false,
            // Nearly always: no alias met an error, and no key is built.
            _ if self.poisoned.is_empty() => true,
            Target::Local(l) => !self.poisoned.contains(&(domain.to_string(), l.clone())),
            Target::Address(l, d) => !self.poisoned.contains(&(d.clone(), l.clone())),
            Target::Drop => true,
        }
    }

    fn target_inner(&mut self, domain: &str, t: &Target, span: Span) -> Option<Expansion> {
        let (local, dom, same_domain) = match t {
            Target::Local(l) => (l.as_str(), domain, true),
            Target::Address(l, d) => (l.as_str(), d.as_str(), d == domain),
            Target::Drop => {
                return Some(Expansion {
                    drop: true,
                    ..Expansion::default()
                });
            }
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
        // A cycle may run through every alias of a spec: the message names
        // the first few and counts the rest, and so do the labels.
        let one_domain = rotated.iter().all(|(d, _)| *d == rotated[0].0);
        let name = |(d, l): &NodeId| {
            if one_domain {
                format!("`{l}`")
            } else {
                format!("`{l}@{d}`")
            }
        };
        let mut path: Vec<String> = rotated.iter().take(CYCLE_NAMED).map(|n| name(n)).collect();
        if rotated.len() > CYCLE_NAMED {
            path.push(format!("… ({} aliases in all)", rotated.len()));
        }
        let span_of = |(d, l): &NodeId| {
            self.domains
                .get(d)
                .and_then(|c| c.aliases.get(l))
                .map(|(_, s)| *s)
        };
        let mut diag = Diagnostic::error(
            Code::AliasCycle,
            span_of(&first).unwrap_or_default(),
            format!(
                "aliases form a cycle: {} → {}",
                path.join(" → "),
                name(&first)
            ),
        )
        .label("the cycle starts here");
        for n in rotated.iter().skip(1).take(CYCLE_NAMED - 1) {
            if let Some(s) = span_of(n) {
                diag = diag.with(s, "and goes on here");
            }
        }
        diag = diag.help("point one of these aliases at a mailbox or an outside address");
        self.diags.push(diag);
    }
}
