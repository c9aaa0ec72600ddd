//! A simulation of Postfix's address resolution (address classes,
//! transports, virtual alias expansion): what Postfix would do with a
//! recipient, to compare with what the draft spec does.

use super::*;

/// How Postfix treats a domain (ADDRESS_CLASS_README).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// `mydestination`: local(8), Unix accounts and aliases(5).
    Local,
    VirtualAlias,
    VirtualMailbox,
    Relay,
    /// Not the server's: delivered by MX lookup.
    Default,
}

/// Where a transport entry sends a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Local delivery (LMTP to Dovecot, virtual(8)).
    Deliver,
    /// SMTP to this next hop.
    Relay(String),
    Error,
    Discard,
}

/// A transport(5) value.
pub(in crate::import) fn transport(value: &str) -> Transport {
    let (kind, next) = value.split_once(':').unwrap_or((value, ""));
    match kind {
        "error" | "retry" => Transport::Error,
        "discard" => Transport::Discard,
        "smtp" | "relay" | "" if !next.is_empty() => {
            Transport::Relay(crate::import::verify::hop(next))
        }
        _ => Transport::Deliver,
    }
}

/// What this Postfix does with an address.
pub struct Sim {
    pub classes: BTreeMap<String, Class>,
    /// virtual_alias_maps: key → targets.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// virtual_mailbox_maps keys.
    pub mailboxes: BTreeSet<String>,
    pub relay_recipients: Option<BTreeSet<String>>,
    pub transports: BTreeMap<String, Transport>,
    pub myorigin: String,
}

impl Sim {
    pub(in crate::import) fn class(&self, domain: &str) -> Class {
        self.classes.get(domain).cloned().unwrap_or(Class::Default)
    }

    pub(in crate::import) fn domain_of(addr: &str) -> &str {
        addr.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// Key, then the `@domain` wildcard (virtual(5), TABLE SEARCH ORDER).
    pub(in crate::import) fn lookup<'a, T>(
        table: &'a BTreeMap<String, T>,
        addr: &str,
    ) -> Option<&'a T> {
        table
            .get(addr)
            .or_else(|| table.get(&format!("@{}", Self::domain_of(addr))))
    }

    pub(in crate::import) fn in_set(set: &BTreeSet<String>, addr: &str) -> bool {
        set.contains(addr) || set.contains(&format!("@{}", Self::domain_of(addr)))
    }

    /// The final addresses cleanup(8) makes of `addr`.
    pub(in crate::import) fn expand(
        &self,
        addr: &str,
        depth: usize,
        out: &mut Vec<String>,
    ) -> Result<(), ()> {
        if depth > 100 {
            return Err(());
        }
        let Some(targets) = Self::lookup(&self.aliases, addr) else {
            out.push(addr.to_string());
            return Ok(());
        };
        let local = addr.rsplit_once('@').map_or(addr, |(l, _)| l);
        for (i, t) in targets.iter().enumerate() {
            let t = t.to_ascii_lowercase();
            // `@otherdomain` in first place: the same user there.
            let t = if i == 0 && t.starts_with('@') {
                format!("{local}{t}")
            } else if !t.contains('@') {
                format!("{t}@{}", self.myorigin)
            } else {
                t
            };
            if t == addr {
                out.push(t);
            } else {
                self.expand(&t, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// The verdict on `addr`, as an unauthenticated client sends it to
    /// port 25; `None` for local(8) domains, which mailc does not model.
    pub fn verdict(&self, addr: &str) -> Option<Verdict> {
        let domain = Self::domain_of(addr);
        let class = self.class(domain);
        let alias_hit = Self::lookup(&self.aliases, addr).is_some();
        let accepted = match class {
            Class::Local => return None,
            Class::Default => return Some(Verdict::Remote),
            Class::VirtualAlias => alias_hit,
            Class::VirtualMailbox => alias_hit || Self::in_set(&self.mailboxes, addr),
            Class::Relay => self
                .relay_recipients
                .as_ref()
                .is_none_or(|s| alias_hit || Self::in_set(s, addr)),
        };
        if !accepted {
            return Some(Verdict::Refuse);
        }
        let mut leaves = Vec::new();
        if self.expand(addr, 0, &mut leaves).is_err() {
            return Some(Verdict::Other(
                "loops in its aliases (Postfix bounces it)".into(),
            ));
        }
        let mut mailboxes = BTreeSet::new();
        let mut forward = BTreeSet::new();
        let mut bounced = BTreeSet::new();
        let mut relays = BTreeSet::new();
        let mut discarded = false;
        for leaf in leaves {
            let d = Self::domain_of(&leaf).to_string();
            match (self.class(&d), self.transports.get(&d)) {
                (_, Some(Transport::Error)) => {
                    bounced.insert(leaf);
                }
                (_, Some(Transport::Discard)) => discarded = true,
                (
                    Class::Relay | Class::VirtualMailbox | Class::VirtualAlias,
                    Some(Transport::Relay(h)),
                ) => {
                    relays.insert(h.clone());
                }
                (Class::VirtualMailbox, _) if Self::in_set(&self.mailboxes, &leaf) => {
                    mailboxes.insert(leaf);
                }
                (Class::VirtualMailbox | Class::VirtualAlias, _) => {
                    bounced.insert(leaf);
                }
                (Class::Relay, _) => {
                    relays.insert(String::new());
                }
                (Class::Local, _) => return None,
                (Class::Default, _) => {
                    forward.insert(leaf);
                }
            }
        }
        let kinds = [
            !mailboxes.is_empty() || !forward.is_empty(),
            !bounced.is_empty(),
            !relays.is_empty(),
            discarded,
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Some(Verdict::Other(format!(
                "splits it: delivered to {mailboxes:?}, forwarded to {forward:?}, bounced for {bounced:?}, relayed to {relays:?}"
            )));
        }
        Some(if !bounced.is_empty() {
            Verdict::Bounce
        } else if discarded {
            Verdict::Discard
        } else if let Some(h) = relays.into_iter().next() {
            if h.is_empty() {
                Verdict::Other("relays it by MX lookup".into())
            } else {
                Verdict::Relay(h)
            }
        } else {
            Verdict::Deliver { mailboxes, forward }
        })
    }
}
