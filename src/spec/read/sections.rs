//! The spec's top level: its sections, `domains` as a map, and `defaults`
//! (the keys a domain inherits, and the send limits).

use super::*;

impl<'d> Reader<'d> {
    pub(super) fn spec(&mut self, node: &Node) -> Spec {
        let mut spec = Spec::default();
        let Some(mut f) = self.fields(node, "the spec") else {
            return spec;
        };
        match self.take(&mut f, "version") {
            Some(n) => spec.version = self.int(n, "`version`", "1"),
            None => {
                let d = self.missing_key(
                    node.span,
                    "version",
                    "the spec",
                    ("version: 1", "version 1"),
                );
                f.missing.push(("version", d));
            }
        }
        if let Some(n) = self.take(&mut f, "include") {
            spec.include = self.strings(n, "an included path").unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "defaults") {
            spec.defaults = self.defaults(n);
        }
        match self.take(&mut f, "hosts") {
            Some(n) => {
                spec.hosts = self.entries(n, "`hosts`", |r, k, v| Some(r.host(k, v)));
                if !complete(n, &spec.hosts) {
                    spec.broken.push("hosts");
                }
            }
            None => {
                let d = self.missing_key(
                    node.span,
                    "hosts",
                    "the spec",
                    (
                        "hosts: {}",
                        "add a `host` node, like `host mx1 hostname=\"mx1.example.com\" ipv4=\"203.0.113.10\" stack=postfix-dovecot`, or an empty `hosts` node",
                    ),
                );
                f.missing.push(("hosts", d));
                spec.hosts = Some(Entries::default());
            }
        }
        if let Some(n) = self.take(&mut f, "domains") {
            spec.domains = self.domains(n);
        }
        if let Some(n) = self.take(&mut f, "dns_targets") {
            spec.dns_targets = self
                .entries(n, "`dns_targets`", |r, k, v| Some(r.dns_target(k, v)))
                .unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "outbound_relays") {
            spec.outbound_relays = self
                .entries(n, "`outbound_relays`", |r, k, v| {
                    Some(r.outbound_relay(k, v))
                })
                .unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "tests") {
            spec.tests = self.items(n).iter().filter_map(|n| self.test(n)).collect();
        }
        let misspelt = self.finish(
            f,
            &[
                "version",
                "include",
                "defaults",
                "hosts",
                "domains",
                "dns_targets",
                "outbound_relays",
                "tests",
            ],
            "the spec",
        );
        spec.broken.extend(misspelt);
        spec
    }

    /// The domains, read on every core (a hosting spec has thousands; each
    /// is read on its own). Diagnostics are merged, and sorted later.
    pub(super) fn domains(&mut self, node: &Node) -> Entries<Domain> {
        let Value::Map(entries) = &node.value else {
            return self
                .entries(node, "`domains`", |r, k, v| Some(r.domain(k, v)))
                .unwrap_or_default();
        };
        let dialect = self.dialect;
        let parts = crate::par::map_chunks(entries, 256, |part| {
            let mut found = Diagnostics::new();
            let mut r = Reader {
                dialect,
                diags: &mut found,
            };
            let read: Vec<(Sp<String>, Domain)> = part
                .iter()
                .filter_map(|(k, v)| {
                    let key = r.key(k)?;
                    let domain = r.domain(&key, v);
                    Some((key, domain))
                })
                .collect();
            (read, found)
        });
        let mut all = Vec::with_capacity(entries.len());
        for (read, found) in parts {
            all.extend(read);
            self.diags.append(found);
        }
        Entries(all)
    }

    pub(super) fn defaults(&mut self, node: &Node) -> Option<Defaults> {
        let mut f = self.fields(node, "`defaults`")?;
        let mut d = Defaults::default();
        self.inherited(&mut f, &mut d);
        d.broken = self.finish(f, DEFAULTS_KEYS, "`defaults`");
        Some(d)
    }

    /// The keys `defaults` and a domain share.
    pub(super) fn inherited(&mut self, f: &mut Fields<'_>, d: &mut Defaults) {
        if let Some(n) = self.take(f, "ttl") {
            d.ttl = self.int(n, "`ttl`", "0..=2147483647");
        }
        if let Some(n) = self.take(f, "unknown_recipients") {
            d.unknown_recipients = self.unknown_recipients(n);
        }
        if let Some(n) = self.take(f, "spf") {
            d.spf = self.spf(n);
        }
        if let Some(n) = self.take(f, "dmarc") {
            d.dmarc = self.dmarc(n);
        }
        if let Some(n) = self.take(f, "mta_sts") {
            d.mta_sts = self.mta_sts(n);
        }
        if let Some(n) = self.take(f, "tls_rpt") {
            d.tls_rpt = self.tls_rpt(n);
        }
        if let Some(n) = self.take(f, "quota") {
            d.quota = self.string(n, "`quota`");
        }
        if let Some(n) = self.take(f, "nameservers") {
            d.nameservers = self.strings(n, "a nameserver");
        }
        if let Some(n) = self.take(f, "hostmaster") {
            d.hostmaster = self.string(n, "`hostmaster`");
        }
        if let Some(n) = self.take(f, "srs") {
            d.srs = self.bool(n, "`srs`");
        }
        if let Some(n) = self.take(f, "dns") {
            d.dns = self.dns_push(n);
        }
        if let Some(n) = self.take(f, "limits") {
            d.limits = self.send_limits(n);
        }
    }

    pub(super) fn send_limits(&mut self, node: &Node) -> Option<SendLimits> {
        let mut f = self.fields(node, "`limits`")?;
        let mut l = SendLimits {
            span: node.span,
            ..SendLimits::default()
        };
        if let Some(n) = self.take(&mut f, "messages_per_hour") {
            l.messages_per_hour = self.int(n, "`messages_per_hour`", "1..=4294967295");
        }
        if let Some(n) = self.take(&mut f, "recipients_per_hour") {
            l.recipients_per_hour = self.int(n, "`recipients_per_hour`", "1..=4294967295");
        }
        self.finish(f, LIMITS_KEYS, "`limits`");
        Some(l)
    }
}

const DEFAULTS_KEYS: &[&str] = &[
    "ttl",
    "unknown_recipients",
    "spf",
    "dmarc",
    "mta_sts",
    "tls_rpt",
    "quota",
    "nameservers",
    "hostmaster",
    "srs",
    "dns",
    "limits",
];

const LIMITS_KEYS: &[&str] = &["messages_per_hour", "recipients_per_hour"];
