//! Warnings about mail that will not arrive or will not pass, which need the
//! whole model: an MX host on an address the internet cannot reach, mail
//! forwarded outside without SRS, a backup MX of an outside primary that
//! knows no recipient. They run only on a spec without errors, so a typo
//! never brings a train of them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::spec::{self, MxEntry, Sp, Spec, UnknownRecipients};

use super::{Domain, Host, Role, Unknown, names};

pub(super) fn check(
    spec: &Spec,
    hosts: &BTreeMap<String, Host>,
    domains: &BTreeMap<String, Domain>,
    diags: &mut Diagnostics,
) {
    let written: BTreeMap<String, (&Sp<String>, &spec::Domain)> = spec
        .domains
        .iter()
        .filter_map(|(k, d)| Some((names::domain(&k.value).ok()?, (k, d))))
        .collect();
    unreachable_mx(spec, hosts, domains, diags);
    for d in domains.values() {
        let Some((key, w)) = written.get(&d.name) else {
            continue;
        };
        // An explicit `srs: false` says the forwards keep their sender on purpose.
        let said = w.own.srs.is_some() || spec.defaults.as_ref().is_some_and(|x| x.srs.is_some());
        if !said {
            forward_without_srs(d, key, w, diags);
        }
        backup_accepts_nothing(hosts, d, key, w, diags);
    }
}

/// Why an address cannot be an MX's, or `None` when it may be public.
fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (10, _) => Some("private (RFC 1918)"),
        (172, 16..=31) => Some("private (RFC 1918)"),
        (192, 168) => Some("private (RFC 1918)"),
        (127, _) => Some("loopback (RFC 1122)"),
        (169, 254) => Some("link-local (RFC 3927)"),
        (100, 64..=127) => Some("shared carrier-grade NAT space (RFC 6598)"),
        (0, _) => Some("unspecified (RFC 1122)"),
        _ => None,
    }
}

fn private_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback (RFC 4291)")
    } else if ip.is_unspecified() {
        Some("unspecified (RFC 4291)")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique local address (RFC 4193)")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local (RFC 4291)")
    } else {
        None
    }
}

/// A host of ours in an MX list on an address other servers cannot reach.
fn unreachable_mx(
    spec: &Spec,
    hosts: &BTreeMap<String, Host>,
    domains: &BTreeMap<String, Domain>,
    diags: &mut Diagnostics,
) {
    // The first domain (by name) that lists each host.
    let mut listed: BTreeMap<&str, &str> = BTreeMap::new();
    for d in domains.values() {
        for m in &d.mx {
            if let Some(k) = &m.host {
                listed.entry(k.as_str()).or_insert(d.name.as_str());
            }
        }
    }
    let Some(written) = &spec.hosts else { return };
    for (key, h) in written.iter() {
        let Some(host) = hosts.get(&key.value) else {
            continue;
        };
        let Some(domain) = listed.get(key.value.as_str()) else {
            continue;
        };
        let v4 = private_v4(host.ipv4)
            .zip(h.ipv4.as_ref())
            .map(|(w, s)| (w, s, host.ipv4.to_string()));
        let v6 = host
            .ipv6
            .and_then(private_v6)
            .zip(h.ipv6.as_ref())
            .map(|(w, s)| (w, s, host.ipv6.map(|a| a.to_string()).unwrap_or_default()));
        for (why, span, addr) in v4.into_iter().chain(v6) {
            diags.push(
                Diagnostic::warning(
                    Code::MxPrivateAddress,
                    span.span,
                    format!(
                        "`{}` is an MX host (of `{domain}`), but `{addr}` is {why}: mail from the internet cannot reach it there",
                        key.value
                    ),
                )
                .label("not reachable from outside")
                .help("give the host its public address (the one other servers connect to); a host behind NAT is listed with the address of the NAT's public side"),
            );
        }
    }
}

/// Mail forwarded outside keeps its sender: the receiver's SPF check fails,
/// and a sender whose DMARC policy is `quarantine` or `reject` sees it
/// filed as spam or refused unless a DKIM signature survives.
fn forward_without_srs(d: &Domain, key: &Sp<String>, w: &spec::Domain, diags: &mut Diagnostics) {
    if d.srs || d.local_host().is_none() {
        return;
    }
    let forwarders: Vec<&str> = d
        .recipients
        .iter()
        .filter(|(_, r)| !r.target.external.is_empty())
        .map(|(l, _)| l.as_str())
        .collect();
    let catch_all =
        matches!(&d.unknown, Unknown::Forward { target } if !target.external.is_empty());
    if forwarders.is_empty() && !catch_all {
        return;
    }
    // The first alias that forwards outside, else the catch-all.
    let span = w
        .aliases
        .iter()
        .find(|(k, _)| forwarders.iter().any(|l| k.value.eq_ignore_ascii_case(l)))
        .map(|(k, _)| k.span)
        .or_else(|| {
            w.own
                .unknown_recipients
                .as_ref()
                .filter(|u| matches!(u.value, UnknownRecipients::Forward(_)))
                .map(|u| u.span)
        })
        .unwrap_or(key.span);
    let what = match forwarders.first() {
        Some(l) => format!("`{l}@{}`", d.name),
        None => "the catch-all".to_string(),
    };
    diags.push(
        Diagnostic::warning(
            Code::ForwardWithoutSrs,
            span,
            format!(
                "{what} forwards mail to outside addresses, but `{}` has no SRS: the next server's SPF check fails for it, and mail from senders whose DMARC policy is `quarantine` or `reject` may be filed as spam or refused",
                d.name
            ),
        )
        .label("forwards outside")
        .help_in(
            format!("set `srs: true` on `{}` (or under `defaults`); `srs: false` keeps the senders as they are and silences this", d.name),
            format!("write `domain {} srs=#true {{ … }}` (or `srs #true` in `defaults`); `srs=#false` keeps the senders as they are and silences this", d.name),
        ),
    );
}

/// A backup MX passes on only what it knows the primary accepts. With the
/// primary outside the spec and no recipient declared, it refuses all.
fn backup_accepts_nothing(
    hosts: &BTreeMap<String, Host>,
    d: &Domain,
    key: &Sp<String>,
    w: &spec::Domain,
    diags: &mut Diagnostics,
) {
    if !d.recipients.is_empty() || d.unknown != Unknown::Reject {
        return;
    }
    for (k, role) in &d.roles {
        let Role::Backup { primary } = role else {
            continue;
        };
        if hosts.values().any(|h| h.hostname == *primary) {
            continue;
        }
        let hostname = hosts.get(k).map(|h| h.hostname.as_str()).unwrap_or("");
        let span =
            w.mx.as_ref()
                .and_then(|mx| {
                    mx.value.iter().map(MxEntry::host).find(|h| {
                        h.value == *k || names::fqdn(&h.value).is_ok_and(|n| n == hostname)
                    })
                })
                .map_or(key.span, |h| h.span);
        diags.push(
            Diagnostic::warning(
                Code::BackupAcceptsNothing,
                span,
                format!(
                    "`{k}` is a backup MX of `{}` for `{primary}`, but the domain declares no recipient: it refuses every address",
                    d.name
                ),
            )
            .label("accepts nothing")
            .help_in(
                format!(
                    "to accept every address and pass it on, write `unknown_recipients: {{relay: {primary}}}` (the primary decides; what it refuses bounces from here)"
                ),
                format!(
                    "to accept every address and pass it on, write `unknown-recipients relay=\"{primary}\"` (the primary decides; what it refuses bounces from here)"
                ),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{private_v4, private_v6};

    #[test]
    fn addresses_an_mx_cannot_have() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.0.9",
            "100.64.0.1",
            "100.127.255.254",
        ] {
            assert!(private_v4(a.parse().unwrap()).is_some(), "{a}");
        }
        for a in ["203.0.113.10", "172.32.0.1", "100.128.0.1", "8.8.8.8"] {
            assert!(private_v4(a.parse().unwrap()).is_none(), "{a}");
        }
        for a in ["::1", "fd00::5", "fc00::1", "fe80::1", "febf::1"] {
            assert!(private_v6(a.parse().unwrap()).is_some(), "{a}");
        }
        for a in ["2001:db8::10", "2a00:1450::1", "fec0::1"] {
            assert!(private_v6(a.parse().unwrap()).is_none(), "{a}");
        }
    }
}
