//! What a mail server source (Postfix + Dovecot, docker-mailserver, cPanel)
//! says, in one shape: the host, each domain's role on it, its mailboxes,
//! aliases and unknown-recipient policy, domains that alias others, and
//! what the server does with each address it knows ([`Verdict`]s the
//! import then checks the spec against).

use std::collections::{BTreeMap, BTreeSet};

use super::accounts::Password;
use super::report::Finding;
use super::verify::Verdict;

/// One mail server, read.
#[derive(Clone, Debug, Default)]
pub struct MailSource {
    /// The source as shown in findings.
    pub label: String,
    pub hostname: Option<String>,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub stack: &'static str,
    pub domains: BTreeMap<String, MailDomain>,
    pub domain_aliases: Vec<DomainAlias>,
    /// What the server does with addresses: address → verdict and place.
    pub verdicts: Vec<(String, Verdict, String, Option<usize>)>,
    /// The smart host all outbound mail leaves through (Postfix's
    /// `relayhost`).
    pub relay: Option<crate::import::draft::Relay>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Final destination.
    Local,
    /// Accepts and relays to this server (`host[:port]`).
    RelayTo(String),
    /// Backup MX: relays to the domain's primary MX.
    Backup,
    /// Not this server's domain.
    Remote,
}

#[derive(Clone, Debug)]
pub struct MailDomain {
    pub role: Role,
    pub mailboxes: BTreeMap<String, SrcMailbox>,
    /// Local part → targets (full addresses).
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Local parts whose mail is accepted and thrown away.
    pub drops: BTreeSet<String>,
    pub unknown: SrcUnknown,
    /// Where the domain is declared.
    pub file: String,
    pub line: Option<usize>,
}

impl MailDomain {
    pub fn new(role: Role, file: &str, line: Option<usize>) -> MailDomain {
        MailDomain {
            role,
            mailboxes: BTreeMap::new(),
            aliases: BTreeMap::new(),
            drops: BTreeSet::new(),
            unknown: SrcUnknown::Reject,
            file: file.to_string(),
            line,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SrcMailbox {
    /// `None`: the password comes from elsewhere (a passwd-file).
    pub password: Option<Password>,
    pub quota: Option<String>,
    pub file: String,
    pub line: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrcUnknown {
    Reject,
    /// Accepted and thrown away.
    Drop,
    /// The catch-all's targets (full addresses).
    Forward(Vec<String>),
}

/// `alias` takes the addresses of `target`: `x@alias` is `x@target`.
#[derive(Clone, Debug)]
pub struct DomainAlias {
    pub alias: String,
    pub target: String,
    /// What happens to an address `target` does not know either.
    pub unknown: AliasUnknown,
    pub file: String,
    pub line: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasUnknown {
    /// As the target does with it (Exim follows the redirect at RCPT).
    AsTarget,
    /// Accepted, then bounced, unless the target has a catch-all (Postfix
    /// accepts the wildcard at RCPT and resolves later).
    BounceUnlessCatchAll,
}

/// An address of `domain` no source defines: what each source does with
/// unknown addresses is checked with it.
pub fn unknown_probe(domain: &str) -> String {
    format!("no-such-user@{domain}")
}

/// A source address the spec cannot hold.
pub fn unaccepted(file: &str, line: Option<usize>, address: &str) -> Finding {
    Finding::warning(
        file,
        line,
        format!("`{address}` is not an address the spec accepts: not carried over"),
    )
}

impl MailDomain {
    /// A forwarder of the source: `address` (local part `local`) to
    /// `targets`, itself left out. It becomes an alias, unless `local` is a
    /// mailbox: the spec keeps the mailbox only, and says so.
    pub fn forwarder(
        &mut self,
        (file, line): (&str, Option<usize>),
        address: &str,
        local: &str,
        targets: &[String],
        system: &str,
        findings: &mut Vec<Finding>,
    ) {
        let others: Vec<String> = targets.iter().filter(|t| **t != address).cloned().collect();
        if others.is_empty() {
            return;
        }
        if self.mailboxes.contains_key(local) {
            findings.push(
                Finding::warning(
                    file,
                    line,
                    format!(
                        "`{address}` is a mailbox that {system} also forwards (to {}); the spec keeps the mailbox only",
                        others.join(", ")
                    ),
                )
                .help("a mailbox has no forward in the spec; make the forward an alias of another name, or forward from the mail client"),
            );
            return;
        }
        self.aliases.insert(local.to_string(), others);
    }

    /// An address whose mail is accepted and thrown away; a mailbox stays
    /// a mailbox (the source keeps a copy there as well).
    pub fn drop(
        &mut self,
        (file, line): (&str, Option<usize>),
        address: &str,
        local: &str,
        system: &str,
        findings: &mut Vec<Finding>,
    ) {
        if self.mailboxes.contains_key(local) {
            findings.push(Finding::note(
                file,
                line,
                format!("`{address}` is a mailbox that {system} also sends to `:blackhole:`, which adds nothing; the spec keeps the mailbox"),
            ));
            return;
        }
        self.drops.insert(local.to_string());
    }
}

/// What the source does with each address, in `src.verdicts`, with the
/// unknown probe of each of its domains added; `verdict` gives `None` for
/// addresses it does not judge.
pub fn judge(
    src: &mut MailSource,
    mut places: BTreeMap<String, (String, Option<usize>)>,
    verdict: impl Fn(&str) -> Option<Verdict>,
) {
    for (d, md) in &src.domains {
        places
            .entry(unknown_probe(d))
            .or_insert((md.file.clone(), md.line));
    }
    for (addr, (f, l)) in places {
        if addr.starts_with('@') || crate::model::names::address(&addr).is_err() {
            continue;
        }
        if let Some(v) = verdict(&addr) {
            src.verdicts.push((addr, v, f, l));
        }
    }
}
