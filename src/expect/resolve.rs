//! Resolving `tests` against the model: addresses normalized, host keys and
//! hostnames to host keys, local parts completed with the address's domain,
//! DNS tests' domains found among the spec's. The shape of each test (one
//! subject, one outcome, its own kind's keys) was checked by the reader.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{At, DnsFact, DnsTest, Expectation, Fate, Kind, RouteTest};
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::model::{Model, names};
use crate::spec::{Reject, Sp, Test};

/// Resolves every test; problems go to `diags`, and a test with one is left out.
pub fn resolve(tests: &[Test], model: &Model, diags: &mut Diagnostics) -> Vec<Expectation> {
    let mut r = Resolver { model, diags };
    tests
        .iter()
        .filter_map(|t| {
            let kind = match (&t.address, &t.domain) {
                (Some(a), None) => r.route(t, a).map(Kind::Route),
                (None, Some(d)) => r.dns(t, d).map(Kind::Dns),
                _ => None,
            }?;
            Some(Expectation {
                at: At(t.span),
                kind,
            })
        })
        .collect()
}

struct Resolver<'a> {
    model: &'a Model,
    diags: &'a mut Diagnostics,
}

impl Resolver<'_> {
    fn route(&mut self, t: &Test, a: &Sp<String>) -> Option<RouteTest> {
        let (local, domain) = match names::address(&a.value) {
            Ok(x) => x,
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::Address,
                        a.span,
                        format!("`{}` is not an address: {why}", a.value),
                    )
                    .label("not an address")
                    .help("write the recipient as `local@domain`, like `info@example.com`"),
                );
                return None;
            }
        };
        let mut ok = true;
        let mut hosts = Vec::new();
        for h in t.host.iter().flat_map(|h| &h.value) {
            match self.host(h) {
                Some(k) => hosts.push(k),
                None => ok = false,
            }
        }
        hosts.sort();
        hosts.dedup();
        if t.host.is_none() && self.model.hosts.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::TestInvalid,
                    a.span,
                    format!("the spec has no hosts to route `{}` on", a.value),
                )
                .label("no host to test")
                .help("route tests check what our hosts do with mail; define the mail servers under `hosts`"),
            );
            return None;
        }
        let (fate, fate_at) = if t.deliver.is_some() || t.forward.is_some() {
            let mut set = |list: &Option<Sp<Vec<Sp<String>>>>| -> BTreeSet<String> {
                list.iter()
                    .flat_map(|l| &l.value)
                    .filter_map(|x| {
                        let r = self.recipient(x, &domain);
                        ok &= r.is_some();
                        r
                    })
                    .collect()
            };
            let mailboxes = set(&t.deliver);
            let forward = set(&t.forward);
            let at = t.deliver.as_ref().or(t.forward.as_ref()).map(|l| l.span)?;
            (Fate::Deliver { mailboxes, forward }, at)
        } else if let Some(hop) = &t.relay {
            (
                Fate::Relay {
                    hop: self.hop(hop)?,
                },
                hop.span,
            )
        } else if let Some(rej) = &t.reject {
            let reply = match &rej.value {
                Reject::Any => None,
                Reject::Reply(code) => Some(self.reply_code(code, rej.span)?),
            };
            (Fate::Reject { reply }, rej.span)
        } else if let Some(b) = &t.bounce {
            (Fate::Bounce, b.span)
        } else if let Some(b) = &t.drop {
            (Fate::Drop, b.span)
        } else {
            (Fate::Remote, t.remote.as_ref()?.span)
        };
        ok.then(|| RouteTest {
            address: format!("{local}@{domain}"),
            address_at: At(a.span),
            hosts,
            fate,
            fate_at: At(fate_at),
        })
    }

    /// A host key or hostname of the spec, as its key.
    fn host(&mut self, h: &Sp<String>) -> Option<String> {
        let model = self.model;
        if model.hosts.contains_key(&h.value) {
            return Some(h.value.clone());
        }
        let name = names::fqdn(h.value.strip_suffix('.').unwrap_or(&h.value)).ok();
        if let Some(host) = model
            .hosts
            .values()
            .find(|x| Some(&x.hostname) == name.as_ref())
        {
            return Some(host.key.clone());
        }
        let help = match suggest(&h.value, model.hosts.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if model.hosts.is_empty() => {
                "the spec has no hosts; a route test needs one to run on".to_string()
            }
            None => format!(
                "name a host by its key or hostname: {}",
                model
                    .hosts
                    .values()
                    .map(|x| format!("`{}` ({})", x.key, x.hostname))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.diags.push(
            Diagnostic::error(
                Code::UnknownHost,
                h.span,
                format!("`{}` is not a host of this spec", h.value),
            )
            .label("unknown host")
            .help(help),
        );
        None
    }

    /// A mailbox or forward target: a full address, or a local part of the
    /// tested address's domain.
    fn recipient(&mut self, x: &Sp<String>, domain: &str) -> Option<String> {
        let r = if x.value.contains('@') {
            names::address(&x.value).map(|(l, d)| format!("{l}@{d}"))
        } else {
            names::local_part(&x.value).map(|l| format!("{l}@{domain}"))
        };
        match r {
            Ok(a) => Some(a),
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::Address,
                        x.span,
                        format!("`{}` is not an address or local part: {why}", x.value),
                    )
                    .label("not an address")
                    .help("write a local part of the tested address's domain (`alice`) or a full address (`alice@example.com`)"),
                );
                None
            }
        }
    }

    /// A relay's next hop as `mailc route` shows it: our host's hostname,
    /// or `NAME[:PORT]` lowercased (`:25` left out).
    fn hop(&mut self, hop: &Sp<String>) -> Option<String> {
        let parsed = names::host_port(&hop.value).and_then(|(name, port)| {
            let name = match self.model.hosts.get(&name) {
                Some(h) => h.hostname.clone(),
                None => names::fqdn(name.strip_suffix('.').unwrap_or(&name))?,
            };
            Ok(match port {
                Some(p) if p != 25 => format!("{name}:{p}"),
                _ => name,
            })
        });
        match parsed {
            Ok(h) => Some(h),
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::TestInvalid,
                        hop.span,
                        format!("`{}` is not a server to relay to: {why}", hop.value),
                    )
                    .label("not a host key or HOST[:PORT]")
                    .help("name a host key of the spec (`mx1`) or a server, `mail.example.net` or `mail.example.net:2525`"),
                );
                None
            }
        }
    }

    /// `550`, or `550 5.1.1`: a reply code (RFC 5321 §4.2), optionally with
    /// an enhanced status code (RFC 3463).
    fn reply_code(&mut self, code: &str, span: crate::source::Span) -> Option<String> {
        let mut words = code.split(' ');
        let basic = words.next().unwrap_or("");
        let enhanced = words.next();
        let basic_ok = basic.len() == 3
            && basic.bytes().all(|b| b.is_ascii_digit())
            && matches!(basic.as_bytes()[0], b'4' | b'5');
        let enhanced_ok = enhanced.is_none_or(|e| {
            let parts: Vec<&str> = e.split('.').collect();
            parts.len() == 3
                && parts[0] == &basic[..1]
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        });
        if basic_ok && enhanced_ok && words.next().is_none() {
            return Some(code.to_string());
        }
        self.diags.push(
            Diagnostic::error(
                Code::TestInvalid,
                span,
                format!("`{code}` is not a refusal's reply code"),
            )
            .label("expected `5XX` or `5XX 5.X.X`")
            .help("write the reply code, optionally with its enhanced status code: `550` or `550 5.1.1` (or `true` for any refusal)"),
        );
        None
    }

    fn dns(&mut self, t: &Test, d: &Sp<String>) -> Option<DnsTest> {
        let model = self.model;
        let name = names::domain(&d.value).ok();
        let Some(domain) = name.filter(|n| model.domains.contains_key(n)) else {
            let mut diag = Diagnostic::error(
                Code::TestInvalid,
                d.span,
                format!("`{}` is not a domain of this spec", d.value),
            )
            .label("unknown domain");
            diag = match suggest(&d.value, model.domains.keys().map(String::as_str)) {
                Some(s) => diag.help(format!("did you mean `{s}`?")),
                None => diag.help("DNS tests check the records this spec gives its own domains"),
            };
            self.diags.push(diag);
            return None;
        };
        let mut ok = true;
        let mut facts = Vec::new();
        if let Some(mx) = &t.mx {
            let mut set = Vec::new();
            for e in &mx.value {
                let host = e.host();
                let name = if let Some(h) = model.hosts.get(&host.value) {
                    Some(h.hostname.clone())
                } else if host.value.contains('.') {
                    match names::fqdn(host.value.strip_suffix('.').unwrap_or(&host.value)) {
                        Ok(n) => Some(n),
                        Err(why) => {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::HostName,
                                    host.span,
                                    format!("`{}` is not a host name: {why}", host.value),
                                )
                                .label("invalid name")
                                .help("write an exchange as a host key (`mx1`) or a full name (`aspmx.l.google.com`)"),
                            );
                            None
                        }
                    }
                } else {
                    self.host(host)
                        .and_then(|k| model.hosts.get(&k).map(|h| h.hostname.clone()))
                };
                match name {
                    Some(n) => set.push((e.priority().map(|p| p.value), n)),
                    None => ok = false,
                }
            }
            set.sort();
            set.dedup();
            facts.push((DnsFact::Mx(set), At(mx.span)));
        }
        for (list, allows) in [(&t.spf_allows, true), (&t.spf_denies, false)] {
            for ip in list.iter().flat_map(|l| &l.value) {
                match ip.value.parse::<IpAddr>() {
                    Ok(a) => facts.push((
                        if allows {
                            DnsFact::SpfAllows(a)
                        } else {
                            DnsFact::SpfDenies(a)
                        },
                        At(ip.span),
                    )),
                    Err(_) => {
                        ok = false;
                        self.diags.push(
                            Diagnostic::error(
                                Code::IpAddress,
                                ip.span,
                                format!("`{}` is not an IP address", ip.value),
                            )
                            .label("not an address")
                            .help("SPF tests take one sending address each, like `203.0.113.10` or `2001:db8::10`"),
                        );
                    }
                }
            }
        }
        if let Some(p) = &t.dmarc_at_least {
            facts.push((DnsFact::DmarcAtLeast(p.value), At(p.span)));
        }
        ok.then_some(DnsTest {
            domain,
            domain_at: At(d.span),
            facts,
        })
    }
}
