//! Lowering `outbound_relays` and each host's `outbound_relay`: the smart
//! hosts outbound mail leaves through, and which one a sender's mail takes
//! (its address, then its domain, then the host's relay, else straight to
//! the recipient's MX).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::names;
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::model::validate::dkim::unsafe_path;
use crate::source::Span;
use crate::spec::{self, Entries, Sp};
use crate::vocab::RelayTls;

/// The SMTP submission port with implicit TLS (RFC 8314 §7.3).
pub const SUBMISSIONS_PORT: u16 = 465;
/// The message submission port, STARTTLS (RFC 6409 §3.1).
pub const SUBMISSION_PORT: u16 = 587;
/// The SMTP port (RFC 5321 §4.5.4.2).
pub const SMTP_PORT: u16 = 25;

/// A smart host. Its password is named, never held: backends read it from
/// its file through their context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relay {
    pub name: String,
    /// Lowercase A-label host name, or an IP address.
    pub host: String,
    pub port: u16,
    pub tls: RelayTls,
    pub auth: Option<RelayAuth>,
}

impl Relay {
    /// Whether `host` is an IP address (not looked up).
    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }
}

/// SMTP AUTH credentials for a relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelayAuth {
    pub username: String,
    /// As written in the spec (relative to its folder).
    pub password_file: String,
}

/// Which rule picked a relay for a sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayRule {
    /// The sender's address is among the relay's `senders`.
    Address,
    /// The sender's domain is among the relay's `senders`.
    Domain,
    /// The host's `outbound_relay`.
    Host,
}

/// The spec's relays and sender rules, lowered.
#[derive(Default)]
pub struct Lowered {
    pub relays: BTreeMap<String, Relay>,
    /// Sender address or domain (normalized) → relay name.
    pub senders: BTreeMap<String, String>,
    /// Every relay name written (a host naming a broken one hears nothing).
    written: BTreeMap<String, Span>,
}

/// Lowers `outbound_relays`. `domains` holds every domain of the spec
/// (A-labels): a sender rule must name one of them.
pub fn relays(
    relays: &Entries<spec::OutboundRelay>,
    domains: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> Lowered {
    let mut out = Lowered::default();
    let mut rule_at: BTreeMap<String, (Span, String)> = BTreeMap::new();
    for (key, r) in relays.iter() {
        let name = key.value.clone();
        if let Some(first) = out.written.insert(name.clone(), key.span) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateKey,
                    key.span,
                    format!("outbound relay `{name}` is defined twice"),
                )
                .label("second time")
                .with(first, "first time")
                .help("give each relay its own name"),
            );
            continue;
        }
        for s in &r.senders {
            let Some(sender) = sender(s, domains, diags) else {
                continue;
            };
            if let Some((first, other)) = rule_at.get(&sender) {
                diags.push(
                    Diagnostic::error(
                        Code::RelaySender,
                        s.span,
                        format!("sender `{sender}` is given to relays `{other}` and `{name}`"),
                    )
                    .label("second relay")
                    .with(*first, "first relay")
                    .help("a sender's mail leaves through one relay: keep it under one"),
                );
                continue;
            }
            rule_at.insert(sender.clone(), (s.span, name.clone()));
            out.senders.insert(sender, name.clone());
        }
        if let Some(relay) = relay(&name, r, diags) {
            out.relays.insert(name, relay);
        }
    }
    let logs_in = |name: &str| out.relays.get(name).is_some_and(|r| r.auth.is_some());
    for (sender, (span, name)) in &rule_at {
        let Some((_, domain)) = sender.split_once('@') else {
            continue;
        };
        if let Some((_, domain_relay)) = rule_at.get(domain)
            && out.relays.contains_key(name)
            && !logs_in(name)
            && logs_in(domain_relay)
        {
            // Postfix looks a login up by the sender's address, then its
            // domain: the domain's login would be offered to this relay.
            diags.push(
                Diagnostic::error(
                    Code::RelaySender,
                    *span,
                    format!(
                        "sender `{sender}` goes to relay `{name}`, which has no login, while its domain's relay `{domain_relay}` has one"
                    ),
                )
                .label("relay without a login")
                .help(format!(
                    "Postfix would offer `{domain_relay}`'s login to `{name}`; give `{name}` its own `username` and `password_file`, or send the address through `{domain_relay}`"
                )),
            );
        }
    }
    out
}

fn bad(diags: &mut Diagnostics, span: Span, message: String, label: &str, help: &str) {
    diags.push(
        Diagnostic::error(Code::RelayInvalid, span, message)
            .label(label)
            .help(help),
    );
}

/// Characters a relay user name may hold: visible ASCII but those that
/// separate fields in Postfix's and Exim's credential syntax.
fn username_ok(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 255
        && u.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, ':' | '^' | '$' | '\\' | '"' | '{' | '}' | '#')
        })
}

fn relay(name: &str, r: &spec::OutboundRelay, diags: &mut Diagnostics) -> Option<Relay> {
    let host = r.host.as_ref()?;
    let host_ok = match host.value.parse::<IpAddr>() {
        Ok(ip) => Some(ip.to_string()),
        Err(_) => match names::domain(&host.value) {
            Ok(h) => Some(h),
            Err(why) => {
                bad(
                    diags,
                    host.span,
                    format!("`{}` is not a relay host: {why}", host.value),
                    "not a host name or IP address",
                    "write the relay's host name or IP address alone, like `smtp.provider.example`; the port goes in `port`",
                );
                None
            }
        },
    };
    let tls = r.tls.as_ref().map_or(RelayTls::Starttls, |t| t.value);
    let port = match &r.port {
        Some(p) if p.value == 0 => {
            bad(
                diags,
                p.span,
                "port 0 is not a port".into(),
                "not a port",
                "leave `port` out for the usual port of `tls`, or write 1..65535",
            );
            None
        }
        Some(p) => Some(p.value),
        None => Some(match tls {
            RelayTls::Implicit => SUBMISSIONS_PORT,
            RelayTls::Starttls => SUBMISSION_PORT,
            RelayTls::Opportunistic => SMTP_PORT,
        }),
    };
    let auth = match (&r.username, &r.password_file) {
        (None, None) => Some(None),
        (Some(u), None) => {
            bad(
                diags,
                u.span,
                format!("relay `{name}` has a `username` but no `password_file`"),
                "no password",
                "add `password_file`, the file holding the password, relative to the spec",
            );
            None
        }
        (None, Some(f)) => {
            bad(
                diags,
                f.span,
                format!("relay `{name}` has a `password_file` but no `username`"),
                "no user name",
                "add `username`, the name the relay knows you by",
            );
            None
        }
        (Some(u), Some(f)) => {
            let mut ok = true;
            if !username_ok(&u.value) {
                ok = false;
                bad(
                    diags,
                    u.span,
                    "this relay user name cannot be written into the MTAs' credential tables"
                        .into(),
                    "unusable user name",
                    "a user name is 1 to 255 visible ASCII characters, without `: ^ $ \\ \" { } #`",
                );
            }
            if let Some(why) = unsafe_path(&f.value) {
                ok = false;
                bad(
                    diags,
                    f.span,
                    format!("`{}` is not a usable secret file path: {why}", f.value),
                    "unsafe path",
                    "use a path relative to the spec, of letters, digits and `. _ - /`, like `keys/relay.secret`",
                );
            }
            if tls == RelayTls::Opportunistic {
                ok = false;
                let at = r.tls.as_ref().map_or(u.span, |t| t.span);
                diags.push(
                    Diagnostic::error(
                        Code::RelayCleartextAuth,
                        at,
                        format!(
                            "relay `{name}` has credentials but does not require TLS: the password would cross the network in clear"
                        ),
                    )
                    .label("TLS not required")
                    .with(u.span, "credentials")
                    .help_in(
                        "write `tls: starttls` (port 587) or `tls: implicit` (port 465)",
                        "write `tls=starttls` (port 587) or `tls=implicit` (port 465)",
                    ),
                );
            }
            ok.then(|| {
                Some(RelayAuth {
                    username: u.value.clone(),
                    password_file: f.value.clone(),
                })
            })
        }
    };
    Some(Relay {
        name: name.to_string(),
        host: host_ok?,
        port: port?,
        tls,
        auth: auth?,
    })
}

/// A sender rule, normalized: `domain` or `local@domain`, of a domain of
/// the spec.
fn sender(s: &Sp<String>, domains: &BTreeSet<String>, diags: &mut Diagnostics) -> Option<String> {
    let (key, domain) = if s.value.contains('@') {
        match names::address(&s.value) {
            Ok((local, domain)) => (format!("{local}@{domain}"), domain),
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        Code::Address,
                        s.span,
                        format!("`{}` is not a valid sender address: {why}", s.value),
                    )
                    .label("invalid address")
                    .help("write a sender address like `news@example.com`, or a domain alone"),
                );
                return None;
            }
        }
    } else {
        match names::domain(&s.value) {
            Ok(d) => (d.clone(), d),
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        Code::DomainName,
                        s.span,
                        format!("`{}` is not a valid sender domain: {why}", s.value),
                    )
                    .label("invalid domain")
                    .help("write a domain of the spec, like `example.com`, or an address"),
                );
                return None;
            }
        }
    };
    if !domains.contains(&domain) {
        let mut d = Diagnostic::error(
            Code::RelaySender,
            s.span,
            format!("sender `{key}` is of domain `{domain}`, which the spec does not have"),
        )
        .label("not a domain of the spec");
        d = match suggest(&domain, domains.iter().map(String::as_str)) {
            Some(near) => d.help(format!("did you mean `{near}`? A relay's senders are domains of this spec and their addresses")),
            None => d.help_in(
                "a relay's senders are domains of this spec and their addresses; add the domain under `domains`, or drop the sender",
                "a relay's senders are domains of this spec and their addresses; add a `domain` node for it, or drop the sender",
            ),
        };
        diags.push(d);
        return None;
    }
    Some(key)
}

impl Lowered {
    /// A host's `outbound_relay`, checked against the relays written.
    pub fn host_relay(&self, r: &Sp<String>, diags: &mut Diagnostics) -> Option<String> {
        if self.written.contains_key(&r.value) {
            return self.relays.contains_key(&r.value).then(|| r.value.clone());
        }
        let mut d = Diagnostic::error(
            Code::RelayUnknown,
            r.span,
            format!("outbound relay `{}` is not defined", r.value),
        )
        .label("no such relay");
        d = match suggest(&r.value, self.written.keys().map(String::as_str)) {
            Some(near) => d.help(format!("did you mean `{near}`?")),
            None => d.help_in(
                "define it under `outbound_relays`, with its `host`",
                "define it with an `outbound-relay` node, with its `host=`",
            ),
        };
        diags.push(d);
        None
    }

    /// Warns about each relay no host and no sender uses.
    pub fn unused(&self, used_by_hosts: &BTreeSet<String>, diags: &mut Diagnostics) {
        let by_senders: BTreeSet<&String> = self.senders.values().collect();
        for (name, span) in &self.written {
            if !used_by_hosts.contains(name) && !by_senders.contains(name) {
                diags.push(
                    Diagnostic::warning(
                        Code::RelayUnused,
                        *span,
                        format!("outbound relay `{name}` is used by no host and no sender"),
                    )
                    .label("unused")
                    .help_in(
                        "name it in a host's `outbound_relay`, give it `senders`, or remove it",
                        "name it in a host's `outbound-relay=`, give it `senders`, or remove it",
                    ),
                );
            }
        }
    }
}

/// The relay a sender's mail leaves `host` through, and the rule that
/// picked it: the sender's address, then its domain, then the host's relay.
/// `None`: straight to the recipient domain's MX. A null sender (bounces)
/// follows the host's relay.
pub fn pick<'m>(
    model: &'m super::Model,
    host: &super::Host,
    sender: &str,
) -> Option<(&'m Relay, RelayRule)> {
    let sender = sender.to_ascii_lowercase();
    let by_rule = |key: &str| model.senders.get(key).and_then(|r| model.relays.get(r));
    if let Some((_, domain)) = sender.rsplit_once('@') {
        if let Some(r) = by_rule(&sender) {
            return Some((r, RelayRule::Address));
        }
        if let Some(r) = by_rule(domain) {
            return Some((r, RelayRule::Domain));
        }
    }
    let r = model.relays.get(host.relay.as_ref()?)?;
    Some((r, RelayRule::Host))
}

/// Which rule decided an outbound answer (`mailc route --from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundRule {
    /// The sender's address is among a relay's `senders`.
    Address,
    /// The sender's domain is among a relay's `senders`.
    Domain,
    /// The host's `outbound_relay`.
    Host,
    /// No relay: straight to the recipient domain's MX.
    Direct,
}

/// The answer of `mailc route --from SENDER`: which way mail from a sender
/// to outside addresses leaves one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outbound {
    /// Normalized; empty for the null sender.
    pub sender: String,
    pub host: String,
    /// The relay's name; `None` when mail goes straight to the MX.
    pub relay: Option<String>,
    /// `HOST:PORT` of the relay (IPv6 in brackets).
    pub next_hop: Option<String>,
    pub tls: Option<RelayTls>,
    /// Whether mailc logs in to the relay (SMTP AUTH).
    pub auth: bool,
    pub rule: OutboundRule,
}

impl Relay {
    /// `HOST:PORT`, an IPv6 address in brackets.
    pub fn next_hop(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Why a sender cannot be asked about: it is neither `<>` nor an address.
pub fn sender_syntax(sender: &str) -> Result<String, names::Reason> {
    let s = sender.trim_start_matches('<').trim_end_matches('>');
    if s.is_empty() {
        return Ok(String::new());
    }
    let (local, domain) = names::address(s)?;
    Ok(format!("{local}@{domain}"))
}

/// Which way mail from `sender` (normalized by [`sender_syntax`]) to an
/// outside address leaves host `host` (a key of `model.hosts`).
pub fn outbound(model: &super::Model, host: &super::Host, sender: &str) -> Outbound {
    let picked = pick(model, host, sender);
    Outbound {
        sender: sender.to_string(),
        host: host.key.clone(),
        relay: picked.map(|(r, _)| r.name.clone()),
        next_hop: picked.map(|(r, _)| r.next_hop()),
        tls: picked.map(|(r, _)| r.tls),
        auth: picked.is_some_and(|(r, _)| r.auth.is_some()),
        rule: match picked {
            None => OutboundRule::Direct,
            Some((_, RelayRule::Address)) => OutboundRule::Address,
            Some((_, RelayRule::Domain)) => OutboundRule::Domain,
            Some((_, RelayRule::Host)) => OutboundRule::Host,
        },
    }
}
