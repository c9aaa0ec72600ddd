//! SORT and THREAD (RFC 5256) with the DISPLAY sort keys (RFC 5957): the
//! order and threads of the messages a SEARCH found, from what their
//! headers say.
//!
//! Threads are bounded like message parts: a tree nested deeper than
//! [`MAX_THREAD_DEPTH`] goes on as a flat list of its messages, so a
//! hostile chain of References costs no recursion.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;

use imap_types::core::{Vec1, Vec2};
use imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_types::extensions::thread::Thread;

use super::message::Parsed;

/// How deep a THREAD answer nests before the rest is listed flat.
pub const MAX_THREAD_DEPTH: usize = 100;

/// What SORT and THREAD know of one message.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// The number answered with: sequence number or UID.
    pub id: u32,
    pub arrival: i64,
    pub size: u64,
    /// The Date header in seconds (UTC), or the arrival when it has none
    /// that reads (RFC 5256 §2.2).
    pub sent: i64,
    /// The base subject (RFC 5256 §2.1), uppercase.
    pub subject: String,
    /// Whether the subject was a reply or forward (`Re:`, `Fwd:`, …).
    pub reply: bool,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub display_from: String,
    pub display_to: String,
    pub message_id: Option<String>,
    /// References, or else the first In-Reply-To.
    pub references: Vec<String>,
}

impl Keys {
    /// The keys of a parsed message.
    pub fn of(p: &Parsed, id: u32, arrival: i64, size: u64) -> Keys {
        let mut k = Keys {
            id,
            arrival,
            size,
            sent: arrival,
            ..Keys::default()
        };
        let Some(m) = &p.msg else {
            return k;
        };
        if let Some(d) = m.date().filter(|d| d.is_valid()) {
            k.sent = d.to_timestamp();
        }
        let (subject, reply) = base_subject(m.subject().unwrap_or(""));
        // Compared as i;unicode-casemap does (RFC 5051): case folded up.
        k.subject = subject.to_uppercase();
        k.reply = reply;
        let first = |a: Option<&mail_parser::Address>| {
            // A group's first entry is its name (as in ENVELOPE).
            if let Some(mail_parser::Address::Group(g)) = a
                && let Some(name) = g.first().and_then(|g| g.name.as_deref())
            {
                let n = name.trim().to_uppercase();
                return (n.clone(), n);
            }
            let a = a.and_then(|a| a.first());
            let addr = a.and_then(|a| a.address.as_deref()).unwrap_or("");
            let local = addr.rsplit_once('@').map_or(addr, |(l, _)| l);
            // RFC 5957 §2: the display name, or else the address.
            let display = a
                .and_then(|a| a.name.as_deref())
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(addr);
            (local.to_uppercase(), display.trim().to_uppercase())
        };
        (k.from, k.display_from) = first(m.from());
        (k.to, k.display_to) = first(m.to());
        k.cc = first(m.cc()).0;
        k.message_id = m.message_id().map(str::to_string);
        k.references = m
            .references()
            .as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if k.references.is_empty()
            && let Some(first) = m.in_reply_to().as_text_list().and_then(|l| l.first())
        {
            k.references.push(first.to_string());
        }
        k
    }
}

/// RFC 5256 §2.1: the subject without `Re:`/`Fwd:` leaders, `[blob]`
/// prefixes, `(fwd)` trailers and `[fwd: …]` wrappers, blanks collapsed,
/// lowercase; and whether any of those marked it a reply or forward.
pub fn base_subject(subject: &str) -> (String, bool) {
    let mut s: String = subject
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let mut reply = false;
    loop {
        // (2) trailers
        loop {
            let t = s.trim_end();
            if let Some(rest) = t.strip_suffix("(fwd)") {
                s = rest.to_string();
                reply = true;
            } else {
                s = t.to_string();
                break;
            }
        }
        // (3)-(5) leaders and blobs, until nothing changes
        loop {
            let before = s.clone();
            s = s.trim_start().to_string();
            if let Some(rest) = strip_leader(&s) {
                s = rest;
                reply = true;
            }
            if let Some(rest) = strip_blob(&s)
                && !rest.trim().is_empty()
            {
                s = rest;
            }
            if s == before {
                break;
            }
        }
        // (6) a `[fwd: …]` wrapper
        if s.starts_with("[fwd:") && s.ends_with(']') {
            s = s["[fwd:".len()..s.len() - 1].to_string();
            reply = true;
            continue;
        }
        return (s.trim().to_string(), reply);
    }
}

/// `*blob ("re" / "fw" / "fwd") [blob] ":"` at the start: the rest.
fn strip_leader(s: &str) -> Option<String> {
    let mut rest = s.to_string();
    while let Some(r) = strip_blob(&rest) {
        rest = r;
    }
    let after = ["fwd", "fw", "re"]
        .iter()
        .find_map(|w| rest.strip_prefix(w))?
        .trim_start();
    let after = strip_blob(after).unwrap_or_else(|| after.to_string());
    after.strip_prefix(':').map(str::to_string)
}

/// A leading `[…]` (no brackets inside) and the blanks after it: the rest.
fn strip_blob(s: &str) -> Option<String> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(['[', ']'])?;
    let rest = inner[end..].strip_prefix(']')?;
    Some(rest.trim_start().to_string())
}

/// SORT: `keys` in the order the criteria give; ties keep their order
/// (sequence order).
pub fn sort(keys: &mut [Keys], criteria: &[SortCriterion]) {
    keys.sort_by(|a, b| order(a, b, criteria));
}

/// Whether `a` sorts before `b`, ties broken by id (RFC 5256 §3: by
/// sequence number, which UIDs follow): where `b` goes in a sorted list.
pub fn before(a: &Keys, b: &Keys, criteria: &[SortCriterion]) -> bool {
    order(a, b, criteria).then(a.id.cmp(&b.id)).is_lt()
}

fn order(a: &Keys, b: &Keys, criteria: &[SortCriterion]) -> std::cmp::Ordering {
    for c in criteria {
        let o = match c.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Cc => a.cc.cmp(&b.cc),
            SortKey::Date => a.sent.cmp(&b.sent),
            SortKey::From => a.from.cmp(&b.from),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Subject => a.subject.cmp(&b.subject),
            SortKey::To => a.to.cmp(&b.to),
            SortKey::DisplayFrom => a.display_from.cmp(&b.display_from),
            SortKey::DisplayTo => a.display_to.cmp(&b.display_to),
        };
        let o = if c.reverse { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// A thread being built: a message (or none, a dummy) and its children.
#[derive(Clone, Debug, Default)]
struct Node {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// The tree of nodes, arena-allocated.
struct Tree<'k> {
    nodes: Vec<Node>,
    keys: &'k [Keys],
}

impl Tree<'_> {
    fn is_ancestor(&self, maybe: usize, of: usize) -> bool {
        let mut at = Some(of);
        let mut steps = 0;
        while let Some(n) = at {
            if n == maybe {
                return true;
            }
            at = self.nodes[n].parent;
            steps += 1;
            if steps > self.nodes.len() {
                return true;
            }
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            self.nodes[p].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.unlink(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The date a node sorts by: its message's, or its first child's.
    fn date(&self, n: usize) -> (i64, u32) {
        let mut at = n;
        loop {
            if let Some(m) = self.nodes[at].msg {
                return (self.keys[m].sent, self.keys[m].id);
            }
            match self.nodes[at].children.first() {
                Some(&c) => at = c,
                None => return (i64::MAX, u32::MAX),
            }
        }
    }

    fn sort_children(&mut self, n: usize) {
        let mut c = std::mem::take(&mut self.nodes[n].children);
        c.sort_by_key(|&x| self.date(x));
        self.nodes[n].children = c;
    }

    /// The subject a root thread is grouped by.
    fn subject(&self, n: usize) -> Option<(&str, bool)> {
        let m = self.nodes[n].msg.or_else(|| {
            self.nodes[n]
                .children
                .first()
                .and_then(|&c| self.nodes[c].msg)
        })?;
        Some((self.keys[m].subject.as_str(), self.keys[m].reply))
    }
}

/// THREAD=ORDEREDSUBJECT (RFC 5256 §3): messages grouped by base subject,
/// each group's first (by sent date) the parent of the rest.
pub fn ordered_subject(keys: &[Keys]) -> Vec<Thread> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        (keys[a].subject.as_str(), keys[a].sent, keys[a].id).cmp(&(
            keys[b].subject.as_str(),
            keys[b].sent,
            keys[b].id,
        ))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if keys[g[0]].subject == keys[i].subject => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups.sort_by_key(|g| (keys[g[0]].sent, keys[g[0]].id));
    groups
        .into_iter()
        .filter_map(|g| {
            let id = |i: usize| NonZeroU32::new(keys[i].id).unwrap_or(NonZeroU32::MIN);
            let leaf = |i: usize| Thread::Members {
                prefix: Vec1::from(id(i)),
                answers: None,
            };
            match g.len() {
                1 | 2 => Vec1::try_from(g.iter().map(|&i| id(i)).collect::<Vec<_>>())
                    .ok()
                    .map(|prefix| Thread::Members {
                        prefix,
                        answers: None,
                    }),
                _ => Some(Thread::Members {
                    prefix: Vec1::from(id(g[0])),
                    answers: Vec2::try_from(g[1..].iter().map(|&i| leaf(i)).collect::<Vec<_>>())
                        .ok(),
                }),
            }
        })
        .collect()
}

/// THREAD=REFERENCES (RFC 5256 §3): threads from Message-ID, References
/// and In-Reply-To, then merged by base subject.
pub fn references(keys: &[Keys]) -> Vec<Thread> {
    let mut tree = Tree {
        nodes: Vec::new(),
        keys,
    };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut node_for = |tree: &mut Tree, id: &str| -> usize {
        *by_id.entry(id.to_string()).or_insert_with(|| {
            tree.nodes.push(Node::default());
            tree.nodes.len() - 1
        })
    };
    for (i, k) in keys.iter().enumerate() {
        // (1) A missing or repeated Message-ID gets one of its own.
        let own = match &k.message_id {
            Some(id) => {
                let n = node_for(&mut tree, id);
                if tree.nodes[n].msg.is_some() {
                    tree.nodes.push(Node::default());
                    tree.nodes.len() - 1
                } else {
                    n
                }
            }
            None => {
                tree.nodes.push(Node::default());
                tree.nodes.len() - 1
            }
        };
        tree.nodes[own].msg = Some(i);
        // (1A) Each reference the parent of the next, unless linked already
        // or a loop would result.
        let mut prev: Option<usize> = None;
        for r in &k.references {
            let n = node_for(&mut tree, r);
            if let Some(p) = prev
                && tree.nodes[n].parent.is_none()
                && p != n
                && !tree.is_ancestor(n, p)
            {
                tree.link(p, n);
            }
            prev = Some(n);
        }
        // (1B) The last reference is the message's parent.
        match prev {
            Some(p) if p != own && !tree.is_ancestor(own, p) => tree.link(p, own),
            _ => tree.unlink(own),
        }
    }
    // (2) The roots.
    let mut roots: Vec<usize> = (0..tree.nodes.len())
        .filter(|&n| tree.nodes[n].parent.is_none())
        .collect();
    // (4) Prune dummies: an empty one goes; one with children gives them
    // to its parent, except at the root with more than one child.
    let mut stack: Vec<usize> = roots.clone();
    while let Some(n) = stack.pop() {
        let kids = tree.nodes[n].children.clone();
        stack.extend(kids.iter().copied());
        for c in kids {
            if tree.nodes[c].msg.is_none() {
                let grand = std::mem::take(&mut tree.nodes[c].children);
                let at = tree.nodes[n]
                    .children
                    .iter()
                    .position(|&x| x == c)
                    .unwrap_or(0);
                tree.nodes[n].children.remove(at);
                tree.nodes[c].parent = None;
                for (j, g) in grand.iter().enumerate() {
                    tree.nodes[*g].parent = Some(n);
                    tree.nodes[n].children.insert(at + j, *g);
                }
            }
        }
    }
    let mut kept = Vec::new();
    for r in roots.drain(..) {
        if tree.nodes[r].msg.is_some() {
            kept.push(r);
            continue;
        }
        let kids = tree.nodes[r].children.clone();
        match kids.len() {
            0 => {}
            1 => {
                tree.nodes[kids[0]].parent = None;
                tree.nodes[r].children.clear();
                kept.push(kids[0]);
            }
            _ => kept.push(r),
        }
    }
    let mut roots = kept;
    // (6) Children by date, at every level (done before grouping so a
    // dummy's date is its first child's).
    let mut stack = roots.clone();
    while let Some(n) = stack.pop() {
        tree.sort_children(n);
        stack.extend(tree.nodes[n].children.iter().copied());
    }
    // (5) Group the roots by base subject.
    let mut table: BTreeMap<String, usize> = BTreeMap::new();
    for &r in &roots {
        let Some((subject, reply)) = tree.subject(r) else {
            continue;
        };
        if subject.is_empty() {
            continue;
        }
        let better = match table.get(subject) {
            None => true,
            Some(&old) => {
                let old_dummy = tree.nodes[old].msg.is_none();
                let this_dummy = tree.nodes[r].msg.is_none();
                let old_reply = tree.subject(old).is_some_and(|s| s.1);
                !old_dummy && (this_dummy || (old_reply && !reply))
            }
        };
        if better {
            table.insert(subject.to_string(), r);
        }
    }
    let mut merged: Vec<usize> = Vec::new();
    let mut replaced: HashMap<usize, usize> = HashMap::new();
    for &r in &roots {
        let Some((subject, reply)) = tree.subject(r).map(|(s, x)| (s.to_string(), x)) else {
            merged.push(r);
            continue;
        };
        let Some(&t) = table.get(&subject).filter(|_| !subject.is_empty()) else {
            merged.push(r);
            continue;
        };
        if t == r {
            merged.push(r);
            continue;
        }
        let t = *replaced.get(&t).unwrap_or(&t);
        let t_dummy = tree.nodes[t].msg.is_none();
        let r_dummy = tree.nodes[r].msg.is_none();
        let t_reply = tree.subject(t).is_some_and(|s| s.1);
        if t_dummy && r_dummy {
            for c in std::mem::take(&mut tree.nodes[r].children) {
                tree.nodes[c].parent = None;
                tree.link(t, c);
            }
        } else if t_dummy || (reply && !t_reply) {
            tree.link(t, r);
        } else {
            // Both non-replies (or both replies): siblings under a dummy
            // that takes the thread's place.
            tree.nodes.push(Node::default());
            let d = tree.nodes.len() - 1;
            tree.link(d, t);
            tree.link(d, r);
            replaced.insert(t, d);
            if let Some(slot) = merged.iter_mut().find(|x| **x == t) {
                *slot = d;
            }
            if let Some(v) = table.get_mut(&subject) {
                *v = d;
            }
        }
        tree.sort_children(*replaced.get(&t).unwrap_or(&t));
    }
    roots = merged;
    // (6) The roots by date.
    roots.sort_by_key(|&r| tree.date(r));
    roots.iter().filter_map(|&r| answer(&tree, r, 0)).collect()
}

/// The THREAD answer for node `n` at `depth`.
fn answer(tree: &Tree, n: usize, depth: usize) -> Option<Thread> {
    let id = |m: usize| NonZeroU32::new(tree.keys[m].id).unwrap_or(NonZeroU32::MIN);
    let mut prefix = Vec::new();
    let mut at = n;
    loop {
        let node = &tree.nodes[at];
        if let Some(m) = node.msg {
            prefix.push(id(m));
        }
        if node.children.len() == 1 && node.msg.is_some() {
            at = node.children[0];
            continue;
        }
        break;
    }
    let children = &tree.nodes[at].children;
    if depth >= MAX_THREAD_DEPTH {
        // Too deep: the rest of the tree, flat, in date order.
        let mut rest = Vec::new();
        let mut stack: Vec<usize> = children.iter().rev().copied().collect();
        while let Some(c) = stack.pop() {
            if let Some(m) = tree.nodes[c].msg {
                rest.push(id(m));
            }
            stack.extend(tree.nodes[c].children.iter().rev().copied());
        }
        prefix.extend(rest);
        return Vec1::try_from(prefix).ok().map(|prefix| Thread::Members {
            prefix,
            answers: None,
        });
    }
    let answers: Vec<Thread> = children
        .iter()
        .filter_map(|&c| answer(tree, c, depth + 1))
        .collect();
    match (Vec1::try_from(prefix), answers.len()) {
        (Ok(prefix), 0) => Some(Thread::Members {
            prefix,
            answers: None,
        }),
        (Ok(prefix), 1) => {
            // A single child of a dummy's promotion: keep it flat.
            let mut p = prefix.into_inner();
            if let Some(Thread::Members { prefix: more, .. }) = answers.into_iter().next() {
                p.extend(more.into_inner());
            }
            Vec1::try_from(p).ok().map(|prefix| Thread::Members {
                prefix,
                answers: None,
            })
        }
        (Ok(prefix), _) => Some(Thread::Members {
            prefix,
            answers: Vec2::try_from(answers).ok(),
        }),
        (Err(_), 0) => None,
        (Err(_), 1) => answers.into_iter().next(),
        (Err(_), _) => Vec2::try_from(answers)
            .ok()
            .map(|answers| Thread::Nested { answers }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        assert_eq!(base_subject("Re: hello"), ("hello".into(), true));
        assert_eq!(
            base_subject("RE: [list] Fwd:  Hello   World (fwd)"),
            ("hello world".into(), true)
        );
        assert_eq!(base_subject("[fwd: hello]"), ("hello".into(), true));
        assert_eq!(base_subject("[blob] hello"), ("hello".into(), false));
        assert_eq!(base_subject("[only]"), ("[only]".into(), false));
        assert_eq!(base_subject("Re[2]: x"), ("x".into(), true));
        assert_eq!(base_subject(""), (String::new(), false));
    }

    fn k(id: u32, sent: i64, subject: &str, mid: &str, refs: &[&str]) -> Keys {
        let (subject, reply) = base_subject(subject);
        Keys {
            id,
            sent,
            subject,
            reply,
            message_id: Some(mid.into()),
            references: refs.iter().map(|s| s.to_string()).collect(),
            ..Keys::default()
        }
    }

    fn show(t: &[Thread]) -> String {
        t.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn threads_by_references() {
        let keys = vec![
            k(1, 1, "a", "a@x", &[]),
            k(2, 2, "Re: a", "b@x", &["a@x"]),
            k(3, 3, "Re: a", "c@x", &["a@x"]),
            k(4, 4, "other", "d@x", &[]),
            k(5, 5, "Re: a", "e@x", &["a@x", "c@x"]),
        ];
        assert_eq!(show(&references(&keys)), "(1 (2)(3 5))(4)");
        assert_eq!(show(&ordered_subject(&keys)), "(1 (2)(3)(5))(4)");
        // A chain far deeper than the limit answers flat past it.
        let deep: Vec<Keys> = (1..=500u32)
            .map(|i| {
                let refs: Vec<String> = if i > 1 {
                    vec![format!("{}@x", i - 1)]
                } else {
                    vec![]
                };
                let r: Vec<&str> = refs.iter().map(String::as_str).collect();
                k(i, i64::from(i), "deep", &format!("{i}@x"), &r)
            })
            .collect();
        let t = references(&deep);
        assert_eq!(t.len(), 1);
    }
}
