//! `mailc check`'s SPF lookup count: each domain's live SPF record with
//! every `include` and `redirect` followed in DNS, outside the spec too;
//! the terms that query DNS are counted (at most 10) and so are the
//! lookups that find nothing (at most 2), RFC 7208 §4.6.4. Counted for the
//! worst case, every term evaluated, as a receiver does for mail from an
//! address that matches none.
//!
//! Pure: [`walk`] reads the answers gathered so far and says which
//! questions it still needs; [`super::run`] asks them, round by round.

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RecordType};

use super::compare::{Answer, Answers, Check, Status};
use super::expect::joined;
use crate::model::validate::spf::is_spf;
use crate::model::validate::spf::{MAX_LOOKUPS, MAX_VOID_LOOKUPS, lookups};

/// The check's name in the report.
pub const CHECK: &str = "SPF lookups";

/// Records followed below the domain's own, at most (RFC 7208 §4.6.4
/// bounds a real chain well below this).
const MAX_DEPTH: usize = MAX_LOOKUPS + 1;

/// What following one domain's SPF record found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// Terms that query DNS, over the whole chain.
    pub lookups: usize,
    /// The terms whose lookup found nothing (NXDOMAIN or no records).
    pub voids: Vec<String>,
    /// Each record counted: its name and its own lookups, in order.
    pub records: Vec<(String, usize)>,
    /// The way to the lookup past the limit: the domain, then the terms.
    pub over: Option<Vec<String>>,
    /// Terms not followed, and why.
    pub notes: Vec<String>,
    /// Questions still to ask before the count is complete.
    pub pending: BTreeSet<(Name, RecordType)>,
    /// Whether the domain has one SPF record to start from.
    pub found: bool,
}

fn abs(name: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).ok()
}

fn show(n: &Name) -> String {
    n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// The one SPF record at `name`, if the answers hold it.
fn spf_at(answers: &Answers, name: &Name) -> Option<Result<String, &'static str>> {
    match answers.get(name, RecordType::TXT)? {
        Answer::Records(r) => {
            let spf: Vec<String> = r.iter().filter_map(joined).filter(|t| is_spf(t)).collect();
            Some(match spf.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err("no SPF record"),
                _ => Err("more than one SPF record"),
            })
        }
        Answer::NoData | Answer::NxDomain => Some(Err("no SPF record")),
    }
}

/// Whether the answer to a question found nothing: `None` while unasked.
fn void(answers: &Answers, name: &Name, rtype: RecordType) -> Option<bool> {
    Some(match answers.get(name, rtype)? {
        Answer::Records(r) => r.is_empty(),
        Answer::NoData | Answer::NxDomain => true,
    })
}

/// Follows `apex`'s SPF record as far as `answers` go.
pub fn walk(apex: &Name, answers: &Answers) -> Walk {
    let mut w = Walk::default();
    match spf_at(answers, apex) {
        None => {
            w.pending.insert((apex.clone(), RecordType::TXT));
        }
        Some(Err(_)) => {}
        Some(Ok(record)) => {
            w.found = true;
            let mut path = vec![(show(apex), show(apex))];
            visit(apex, &record, answers, &mut w, &mut path);
        }
    }
    w
}

/// `path`: the way here, each step as shown (the domain, then the terms)
/// and the name it reached.
fn visit(
    name: &Name,
    record: &str,
    answers: &Answers,
    w: &mut Walk,
    path: &mut Vec<(String, String)>,
) {
    let terms: Vec<&str> = record.split_ascii_whitespace().skip(1).collect();
    let terms = lookups(&terms);
    w.records.push((show(name), terms.len()));
    for l in terms {
        w.lookups += 1;
        if w.lookups == MAX_LOOKUPS + 1 {
            let mut way: Vec<String> = path.iter().map(|(s, _)| s.clone()).collect();
            way.push(l.term.clone());
            w.over = Some(way);
        }
        if l.has_macro() {
            w.notes.push(format!(
                "`{}` holds a macro, known only when mail arrives: not followed",
                l.term
            ));
            continue;
        }
        let target = match l.target.as_deref().map(abs) {
            Some(Some(t)) => t,
            Some(None) => {
                w.notes.push(format!("`{}` names no valid domain", l.term));
                continue;
            }
            None => name.clone(),
        };
        let ask = |rtype: RecordType, w: &mut Walk| -> Option<bool> {
            let v = void(answers, &target, rtype);
            if v.is_none() {
                w.pending.insert((target.clone(), rtype));
            }
            v
        };
        match l.kind {
            "include" | "redirect" => match ask(RecordType::TXT, w) {
                None => {}
                Some(true) => w.voids.push(l.term.clone()),
                Some(false) => match spf_at(answers, &target) {
                    Some(Ok(inner)) => {
                        let t = show(&target);
                        if path.len() > MAX_DEPTH || path.iter().any(|(_, n)| *n == t) {
                            w.notes.push(format!(
                                "`{}` leads back into its own chain: not followed again",
                                l.term
                            ));
                        } else {
                            path.push((l.term.clone(), t));
                            visit(&target, &inner, answers, w, path);
                            path.pop();
                        }
                    }
                    Some(Err(why)) => w.notes.push(format!(
                        "`{}` finds {why} at `{}`: receivers answer permerror",
                        l.term,
                        show(&target)
                    )),
                    None => {}
                },
            },
            "a" => {
                let four = ask(RecordType::A, w);
                let six = ask(RecordType::AAAA, w);
                if four == Some(true) && six == Some(true) {
                    w.voids.push(l.term.clone());
                }
            }
            "mx" | "exists" => {
                let rtype = if l.kind == "mx" {
                    RecordType::MX
                } else {
                    RecordType::A
                };
                let found_nothing = ask(rtype, w) == Some(true);
                w.voids.extend(found_nothing.then(|| l.term.clone()));
            }
            // `ptr` asks about the sender's address, not a name of the record.
            _ => {}
        }
    }
}

/// The check for one domain, once its walk is complete.
pub fn check(domain: &str, apex: &Name, w: &Walk) -> Check {
    let over = w.lookups > MAX_LOOKUPS;
    let void_over = w.voids.len() > MAX_VOID_LOOKUPS;
    let counted = format!(
        "{} of {MAX_LOOKUPS} lookups, {} of {MAX_VOID_LOOKUPS} void, in {} record{}",
        w.lookups,
        w.voids.len(),
        w.records.len(),
        if w.records.len() == 1 { "" } else { "s" }
    );
    let mut detail = vec![counted];
    if let Some(way) = &w.over {
        detail.push(format!("lookup {} at {}", MAX_LOOKUPS + 1, way.join(" → ")));
    }
    if void_over {
        detail.push(format!("void: {}", w.voids.join(", ")));
    }
    detail.extend(w.notes.iter().cloned());
    let help = match (over, void_over) {
        (false, false) => None,
        (true, _) => Some(
            "receivers answer permerror past 10 lookups (RFC 7208 §4.6.4): replace includes with the `ip4`/`ip6` networks they stand for, or drop the ones no longer used"
                .to_string(),
        ),
        (false, true) => Some(
            "receivers may answer permerror past 2 lookups that find nothing (RFC 7208 §4.6.4): remove the terms that name domains without records"
                .to_string(),
        ),
    };
    Check {
        domain: domain.to_string(),
        check: CHECK.to_string(),
        name: show(apex),
        status: if over || void_over {
            Status::Drift
        } else {
            Status::InSync
        },
        live: w
            .records
            .iter()
            .map(|(n, c)| format!("{n}: {c} lookup{}", if *c == 1 { "" } else { "s" }))
            .collect(),
        expected: vec![format!(
            "at most {MAX_LOOKUPS} lookups, {MAX_VOID_LOOKUPS} void"
        )],
        detail: Some(detail.join("; ")),
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::TXT;

    fn n(s: &str) -> Name {
        abs(s).unwrap()
    }

    fn txt(a: &mut Answers, name: &str, text: &str) {
        a.insert(
            &n(name),
            RecordType::TXT,
            Answer::Records(vec![RData::TXT(TXT::new(vec![text.to_string()]))]),
        );
    }

    #[test]
    fn follows_the_chain_and_counts() {
        let mut a = Answers::default();
        txt(
            &mut a,
            "example.com",
            "v=spf1 mx a:gone.example.com include:_spf.example.net -all",
        );
        let w = walk(&n("example.com"), &a);
        assert_eq!(w.lookups, 3);
        assert!(
            w.pending
                .contains(&(n("_spf.example.net"), RecordType::TXT))
        );
        assert!(w.pending.contains(&(n("example.com"), RecordType::MX)));
        a.insert(&n("example.com"), RecordType::MX, Answer::NoData);
        a.insert(&n("gone.example.com"), RecordType::A, Answer::NxDomain);
        a.insert(&n("gone.example.com"), RecordType::AAAA, Answer::NxDomain);
        let many = "v=spf1 a:a.example a:b.example a:c.example a:d.example a:e.example a:f.example a:g.example a:h.example ~all";
        txt(&mut a, "_spf.example.net", many);
        let w = walk(&n("example.com"), &a);
        assert_eq!(w.lookups, 11);
        assert_eq!(w.voids, ["mx", "a:gone.example.com"]);
        assert_eq!(
            w.over.as_deref().unwrap(),
            ["example.com", "include:_spf.example.net", "a:h.example"]
        );
        let c = check("example.com", &n("example.com"), &w);
        assert_eq!(c.status, Status::Drift);
        assert!(
            c.detail
                .unwrap()
                .contains("lookup 11 at example.com → include:_spf.example.net → a:h.example")
        );
    }

    #[test]
    fn loops_and_macros_are_not_followed() {
        let mut a = Answers::default();
        txt(
            &mut a,
            "example.com",
            "v=spf1 exists:%{i}.x.example include:_a.example.com",
        );
        txt(&mut a, "_a.example.com", "v=spf1 redirect=example.com");
        let w = walk(&n("example.com"), &a);
        assert_eq!(w.lookups, 3);
        assert!(w.pending.is_empty());
        assert_eq!(w.notes.len(), 2, "{:?}", w.notes);
        assert_eq!(
            check("example.com", &n("example.com"), &w).status,
            Status::InSync
        );
    }
}
