//! Checks of a mailbox's rules and autoresponder: values (sizes, folders,
//! header names, dates, `days`), then, once every domain's recipients are
//! known, forwards to addresses of our own domains that name nothing and
//! forwards that lead back to where they came from through rules and
//! aliases.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names;
use crate::model::{Domain, Unknown};
use crate::rules::{self, Action, Compare, Rule, Source, Test, Vacation};
use crate::source::Span;
use crate::spec::{self, ActionKind, Field, RuleMatch, Sp};

/// A forward a rule makes, for the checks that need every domain.
#[derive(Clone, Debug)]
pub struct Forward {
    /// The mailbox whose rule forwards.
    pub from: String,
    /// The target, lowercase with an A-label domain.
    pub to: String,
    pub span: Span,
}

/// A mailbox's rules, resolved; forwards are listed in `forwards`.
pub fn rules(
    written: &[spec::Rule],
    mailbox: &str,
    domain: &str,
    forwards: &mut Vec<Forward>,
    diags: &mut Diagnostics,
) -> Vec<Rule> {
    let mut out = Vec::new();
    for r in written {
        let mut ok = true;
        let mut tests = Vec::new();
        if let Some(conds) = &r.conditions {
            if conds.value.is_empty() {
                diags.push(
                    Diagnostic::error(
                        Code::EmptyCondition,
                        conds.span,
                        "this rule's `if` lists no condition",
                    )
                    .label("empty condition")
                    .help("add a condition, or leave `if` out to apply the rule to every message"),
                );
                ok = false;
            }
            for c in &conds.value {
                match condition(c, diags) {
                    Some(t) => tests.push(t),
                    None => ok = false,
                }
            }
        }
        let Some(actions) = &r.actions else { continue };
        if actions.value.is_empty() {
            diags.push(
                Diagnostic::error(
                    Code::EmptyCondition,
                    actions.span,
                    "this rule's `then` lists no action",
                )
                .label("no action")
                .help("add what to do: fileinto, forward, reject, keep, discard or stop"),
            );
            ok = false;
        }
        let mut acts = Vec::new();
        for a in &actions.value {
            match action(a, mailbox, domain, forwards, diags) {
                Some(x) => acts.push(x),
                None => ok = false,
            }
        }
        if ok {
            out.push(Rule {
                any: r.match_.as_ref().is_some_and(|m| m.value == RuleMatch::Any),
                tests,
                actions: acts,
            });
        }
    }
    out
}

fn condition(c: &spec::Condition, diags: &mut Diagnostics) -> Option<Test> {
    let field = c.field.as_ref()?.value;
    let compare = c.compare.as_ref()?;
    let value = c.value.as_ref()?;
    if value.value.is_empty() {
        diags.push(
            Diagnostic::error(Code::EmptyCondition, value.span, "this condition compares with nothing")
                .label("empty value")
                .help("an empty value matches every message: give the text to look for, or leave the condition out"),
        );
        return None;
    }
    let compare_text = match compare.value {
        spec::Compare::Contains => Compare::Contains,
        spec::Compare::Is => Compare::Is,
        spec::Compare::Matches => Compare::Matches,
        spec::Compare::Over | spec::Compare::Under => {
            let Some(bytes) = rules::parse_size(&value.value) else {
                diags.push(
                    Diagnostic::error(Code::RuleValue, value.span, format!("`{}` is not a size", value.value))
                        .label("not a size")
                        .help("write a whole number of bytes, or one with `K`, `M` or `G` (`500K`, `10M`)"),
                );
                return None;
            };
            return Some(Test::Size {
                over: compare.value == spec::Compare::Over,
                bytes,
            });
        }
    };
    let source = match field {
        Field::From => Source::From,
        Field::To => Source::To,
        Field::Sender => Source::Sender,
        Field::Subject => Source::Header("Subject".into()),
        Field::Header => {
            let name = c.name.as_ref()?;
            // RFC 5322 §2.2: printable ASCII but `:`.
            if name.value.is_empty()
                || !name
                    .value
                    .bytes()
                    .all(|b| (0x21..0x7f).contains(&b) && b != b':')
            {
                diags.push(
                    Diagnostic::error(
                        Code::RuleValue,
                        name.span,
                        format!("`{}` is not a header name", name.value),
                    )
                    .label("not a header name")
                    .help(
                        "write the field's name without the colon, like `X-Spam-Flag` or `List-Id`",
                    ),
                );
                return None;
            }
            Source::Header(name.value.clone())
        }
        Field::Size => return None,
    };
    Some(Test::Text {
        source,
        compare: compare_text,
        value: value.value.clone(),
    })
}

fn action(
    a: &spec::Action,
    mailbox: &str,
    domain: &str,
    forwards: &mut Vec<Forward>,
    diags: &mut Diagnostics,
) -> Option<Action> {
    Some(match &a.kind {
        ActionKind::FileInto(f) => {
            if let Some(why) = rules::folder_problem(&f.value) {
                diags.push(
                    Diagnostic::error(
                        Code::RuleValue,
                        f.span,
                        format!(
                            "`{}` is not a folder name mailc can file into: {why}",
                            f.value
                        ),
                    )
                    .label("bad folder name")
                    .help("use printable ASCII, with `.` between levels: `Lists`, `Lists.Rust`"),
                );
                return None;
            }
            let folder = if f.value.eq_ignore_ascii_case("inbox") {
                "INBOX".to_string()
            } else {
                f.value.clone()
            };
            Action::FileInto { folder }
        }
        ActionKind::Forward { to, copy } => {
            let to = address(to, domain, diags)?;
            forwards.push(Forward {
                from: mailbox.to_string(),
                to: to.value.clone(),
                span: to.span,
            });
            Action::Forward {
                to: to.value,
                copy: *copy,
            }
        }
        ActionKind::Discard => Action::Discard,
        ActionKind::Keep => Action::Keep,
        ActionKind::Stop => Action::Stop,
        ActionKind::Reject(t) => {
            if t.value.trim().is_empty() {
                diags.push(
                    Diagnostic::error(
                        Code::RuleValue,
                        t.span,
                        "a reject needs a text for the sender",
                    )
                    .label("empty text")
                    .help("say why the message is refused"),
                );
                return None;
            }
            Action::Reject {
                text: t.value.trim_end().to_string(),
            }
        }
    })
}

/// An address written in a rule or the autoresponder: a full address, or a
/// local part of the mailbox's domain.
fn address(a: &Sp<String>, domain: &str, diags: &mut Diagnostics) -> Option<Sp<String>> {
    let full = if a.value.contains('@') {
        a.value.clone()
    } else {
        format!("{}@{domain}", a.value)
    };
    match names::address(&full) {
        Ok((l, d)) => Some(Sp::new(format!("{l}@{d}"), a.span)),
        Err(why) => {
            diags.push(
                Diagnostic::error(
                    Code::Address,
                    a.span,
                    format!("`{}` is not a valid address: {why}", a.value),
                )
                .label("invalid address")
                .help("write a full address (`bob@example.org`) or a local part of this domain"),
            );
            None
        }
    }
}

/// The autoresponder, resolved. `aliases` are the mailbox's own aliases
/// (full addresses): the addresses it answers for unless it names others.
pub fn vacation(
    v: &spec::Vacation,
    domain: &str,
    aliases: &[String],
    reject: Option<Span>,
    diags: &mut Diagnostics,
) -> Option<Vacation> {
    let mut ok = true;
    let text = v.text.as_ref()?;
    if text.value.trim().is_empty() {
        diags.push(
            Diagnostic::error(Code::Vacation, text.span, "the reply's text is empty")
                .label("empty text")
                .help("write what the reply says"),
        );
        ok = false;
    }
    let days = match &v.days {
        None => rules::DEFAULT_DAYS,
        Some(d) if (1..=rules::MAX_DAYS).contains(&d.value) => d.value,
        Some(d) => {
            diags.push(
                Diagnostic::error(Code::Vacation, d.span, format!("`days` is {}; it must be 1 to {}", d.value, rules::MAX_DAYS))
                    .label("out of range")
                    .help("RFC 5230 allows at least one day between replies to one sender; Dovecot allows at most 90"),
            );
            ok = false;
            rules::DEFAULT_DAYS
        }
    };
    let mut date = |d: &Option<Sp<String>>| -> Option<String> {
        let d = d.as_ref()?;
        if !rules::valid_date(&d.value) {
            diags.push(
                Diagnostic::error(
                    Code::Vacation,
                    d.span,
                    format!("`{}` is not a date", d.value),
                )
                .label("expected YYYY-MM-DD")
                .help("write the day as `2026-12-24`"),
            );
            ok = false;
            return None;
        }
        Some(d.value.clone())
    };
    let start = date(&v.start);
    let end = date(&v.end);
    if let (Some(s), Some(e), Some(es)) = (&start, &end, &v.end)
        && e < s
    {
        diags.push(
            Diagnostic::error(
                Code::Vacation,
                es.span,
                format!("`end` ({e}) is before `start` ({s})"),
            )
            .label("before start")
            .help("swap them, or correct one"),
        );
        ok = false;
    }
    if let Some(r) = reject {
        diags.push(
            Diagnostic::error(Code::Vacation, v.span, "this mailbox both rejects mail and answers it")
                .label("autoresponder")
                .with(r, "reject")
                .help("RFC 5230 §4.7: a message is either refused or answered; drop the `reject` or the `vacation`"),
        );
        ok = false;
    }
    let addresses: BTreeSet<String> = match &v.addresses {
        None => aliases.iter().cloned().collect(),
        Some(list) => list
            .iter()
            .filter_map(|a| {
                let r = address(a, domain, diags);
                if r.is_none() {
                    ok = false;
                }
                r.map(|s| s.value)
            })
            .collect(),
    };
    let subject = v.subject.as_ref().map(|s| s.value.clone());
    ok.then(|| Vacation {
        subject,
        // A YAML block ends in a newline, a KDL multi-line string not.
        text: text.value.trim_end().to_string(),
        start,
        end,
        days,
        addresses: addresses.into_iter().collect(),
    })
}

/// Forwards to addresses of our domains that name nothing, and forward
/// loops: a mailbox whose rules forward, through aliases and other
/// mailboxes' rules, back to itself.
pub fn forwards(domains: &BTreeMap<String, Domain>, all: &[Forward], diags: &mut Diagnostics) {
    // The mailboxes each forward reaches.
    let mut edges: BTreeMap<&str, Vec<(Vec<String>, &Forward)>> = BTreeMap::new();
    for f in all {
        let Some((local, dom)) = f.to.rsplit_once('@') else {
            continue;
        };
        let Some(d) = domains.get(dom) else {
            continue;
        };
        let from_off = f
            .from
            .rsplit_once('@')
            .and_then(|(_, fd)| domains.get(fd))
            .is_some_and(|fd| !fd.mail);
        if !d.mail && !from_off {
            diags.push(
                Diagnostic::error(
                    Code::MailOffTarget,
                    f.span,
                    format!(
                        "`{}` is in `{dom}`, whose mail service is off (`mail: false`)",
                        f.to
                    ),
                )
                .label("receives nothing")
                .help(format!(
                    "forward to an address that receives mail, or turn the mail of `{dom}` back on"
                )),
            );
            continue;
        }
        let reached: Vec<String> = match d.recipients.get(local) {
            Some(r) => r.target.mailboxes.iter().cloned().collect(),
            None => {
                match &d.unknown {
                    Unknown::Forward { target } => target.mailboxes.iter().cloned().collect(),
                    // Taken and discarded: nothing comes back.
                    Unknown::Drop => Vec::new(),
                    _ => {
                        diags.push(
                        Diagnostic::error(Code::RuleTarget, f.span, format!("`{}` is an address of `{dom}`, which has no such mailbox or alias", f.to))
                            .label("names nothing")
                            .help(format!("forward to a mailbox or alias of `{dom}`, or add `{local}` there")),
                    );
                        continue;
                    }
                }
            }
        };
        edges.entry(f.from.as_str()).or_default().push((reached, f));
    }
    // Depth-first search for a way back; each loop reported once, at the
    // forward of its smallest mailbox.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for (&start, outs) in &edges {
        for (reached, f) in outs {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut stack: Vec<(&str, Vec<&str>)> = reached
                .iter()
                .map(|m| (m.as_str(), vec![start, m.as_str()]))
                .collect();
            let mut found: Option<Vec<&str>> = None;
            while let Some((m, path)) = stack.pop() {
                if m == start {
                    found = Some(path);
                    break;
                }
                if !seen.insert(m) {
                    continue;
                }
                for (next, _) in edges.get(m).map(|v| v.as_slice()).unwrap_or_default() {
                    for n in next {
                        let mut p = path.clone();
                        p.push(n.as_str());
                        stack.push((n.as_str(), p));
                    }
                }
            }
            let Some(path) = found else { continue };
            let mut members: Vec<&str> = path[..path.len() - 1].to_vec();
            members.sort_unstable();
            members.dedup();
            if members.first() != Some(&start) || !reported.insert(members.join(",")) {
                continue;
            }
            diags.push(
                Diagnostic::error(Code::RuleLoop, f.span, format!("this forward leads back to `{start}`: {}", path.join(" → ")))
                    .label("forward loop")
                    .help("mail would go round until a server refuses it; remove one forward of the loop, or keep a copy without forwarding it back"),
            );
        }
    }
}
