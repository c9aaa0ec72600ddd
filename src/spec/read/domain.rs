//! One domain: its keys, routing and MX list, SPF, DKIM, DMARC, MTA-STS,
//! TLS-RPT, and its own DNS records.

use super::*;

impl<'d> Reader<'d> {
    pub(super) fn domain(&mut self, key: &Sp<String>, node: &Node) -> Domain {
        let mut d = Domain::default();
        let what = format!("domain `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return d;
        };
        if let Some(n) = self.take(&mut f, "routing") {
            d.routing = self.routing(n);
        }
        if let Some(n) = self.required(
            &mut f,
            "mx",
            key.span,
            &what,
            (
                "add `mx: [mx1]`, or `mx: []` for a domain that receives no mail",
                "add a child node `mx mx1`, or a bare `mx` for a domain that receives no mail",
            ),
        ) {
            d.mx = self.mx(n);
        }
        if let Some(n) = self.take(&mut f, "dkim") {
            d.dkim = self.items(n).iter().filter_map(|n| self.dkim(n)).collect();
        }
        let mut broken = Vec::new();
        if let Some(n) = self.take(&mut f, "mailboxes") {
            let read = self.entries(n, "`mailboxes`", |r, k, v| Some(r.mailbox(k, v)));
            if !complete(n, &read) {
                broken.push("mailboxes");
            }
            d.mailboxes = read.unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "aliases") {
            let read = self.entries(n, "`aliases`", |r, k, v| r.alias(k, v));
            if !complete(n, &read) {
                broken.push("aliases");
            }
            d.aliases = read.unwrap_or_default();
        }
        if let Some(n) = self.take(&mut f, "records") {
            d.records = self
                .items(n)
                .iter()
                .filter_map(|n| self.record(n))
                .collect();
        }
        if let Some(n) = self.take(&mut f, "zone") {
            d.zone = self.bool(n, "`zone`");
        }
        if let Some(n) = self.take(&mut f, "services") {
            d.services = self.services(n);
        }
        if let Some(n) = self.take(&mut f, "mail") {
            d.mail = self.bool(n, "`mail`");
        }
        self.inherited(&mut f, &mut d.own);
        broken.extend(self.finish(f, DOMAIN_KEYS, &what));
        d.own.broken = broken;
        d
    }

    /// A list of access protocols; each named once.
    pub(super) fn services(&mut self, node: &Node) -> Option<Sp<Vec<Sp<Service>>>> {
        let mut out: Vec<Sp<Service>> = Vec::new();
        for item in self.items(node) {
            let Some(s) = self.choice(item, "service", SERVICES) else {
                continue;
            };
            if let Some(first) = out.iter().find(|o| o.value == s.value) {
                let name = SERVICES
                    .iter()
                    .find(|(_, v)| *v == s.value)
                    .map_or("", |(n, _)| n);
                self.push(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        s.span,
                        format!("service `{name}` is listed twice"),
                    )
                    .label("listed again here")
                    .with(first.span, "first listed here")
                    .help(format!("remove one `{name}`")),
                );
                continue;
            }
            out.push(s);
        }
        Some(Sp::new(out, node.span))
    }

    pub(super) fn routing(&mut self, node: &Node) -> Option<Sp<Routing>> {
        match &node.value {
            Value::Map(_) => {
                let per_host = self.entries(node, "`routing`", |r, _, v| {
                    r.choice(v, "routing mode", MODES)
                })?;
                Some(Sp::new(Routing::PerHost(per_host), node.span))
            }
            _ => self
                .choice(node, "routing mode", MODES)
                .map(|m| Sp::new(Routing::All(m.value), m.span)),
        }
    }

    pub(super) fn mx(&mut self, node: &Node) -> Option<Sp<Vec<MxEntry>>> {
        let mut out = Vec::new();
        for item in self.items(node) {
            match &item.value {
                Value::Map(_) => {
                    let Some(mut f) = self.fields(item, "an MX entry") else {
                        continue;
                    };
                    let host = match self.take(&mut f, "host") {
                        Some(n) => self.string(n, "an MX host"),
                        None => {
                            self.missing(
                                item.span,
                                "host",
                                "this MX entry",
                                ("host: mx1", "add the host as the `mx` node's argument: `mx mx1 priority=10`"),
                            );
                            None
                        }
                    };
                    let priority = match self.take(&mut f, "priority") {
                        Some(n) => self.int(n, "an MX priority", "0..=65535"),
                        None => None,
                    };
                    self.finish(f, &["host", "priority"], "an MX entry");
                    if let Some(host) = host {
                        out.push(MxEntry::WithPriority(MxWithPriority { host, priority }));
                    }
                }
                _ => {
                    if let Some(h) = self.string(item, "an MX entry") {
                        out.push(MxEntry::Bare(h));
                    }
                }
            }
        }
        Some(Sp::new(out, node.span))
    }

    pub(super) fn spf(&mut self, node: &Node) -> Option<Spf> {
        let mut f = self.fields(node, "`spf`")?;
        let mut s = Spf {
            span: node.span,
            ..Spf::default()
        };
        if let Some(n) = self.take(&mut f, "include") {
            s.include = self.strings(n, "an SPF include");
        }
        if let Some(n) = self.take(&mut f, "ip4") {
            s.ip4 = self.strings(n, "an SPF ip4 network");
        }
        if let Some(n) = self.take(&mut f, "ip6") {
            s.ip6 = self.strings(n, "an SPF ip6 network");
        }
        if let Some(n) = self.take(&mut f, "a") {
            s.a = self.strings(n, "an SPF `a` name");
        }
        if let Some(n) = self.take(&mut f, "mx") {
            s.mx = self.strings(n, "an SPF `mx` name");
        }
        if let Some(n) = self.take(&mut f, "ptr") {
            s.ptr = self.strings(n, "an SPF `ptr` name");
        }
        if let Some(n) = self.take(&mut f, "exists") {
            s.exists = self.strings(n, "an SPF `exists` name");
        }
        if let Some(n) = self.take(&mut f, "redirect") {
            s.redirect = self.string(n, "an SPF redirect");
        }
        if let Some(n) = self.take(&mut f, "all") {
            s.all = self.choice(
                n,
                "SPF `all`",
                &[
                    ("-all", SpfAll::Fail),
                    ("~all", SpfAll::SoftFail),
                    ("?all", SpfAll::Neutral),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "record") {
            s.record = self.string(n, "an SPF record");
        }
        self.finish(
            f,
            &[
                "include", "ip4", "ip6", "a", "mx", "ptr", "exists", "redirect", "all", "record",
            ],
            "`spf`",
        );
        if let (Some(r), Some(a)) = (&s.redirect, &s.all) {
            self.push(
                Diagnostic::error(
                    Code::SpfTerm,
                    r.span,
                    "`redirect` hands the rest of the policy to another record: beside `all` it would never be used (RFC 7208 §6.1)".to_string(),
                )
                .label("redirect")
                .with(a.span, "`all` decides first")
                .help("keep `redirect` and remove `all` (the redirected record ends with its own), or remove `redirect`"),
            );
        }
        if let Some(r) = &s.record
            && s.has_terms()
        {
            let record = self.dialect.spell("record");
            self.push(
                Diagnostic::error(
                    Code::SpfRecord,
                    r.span,
                    format!("`{record}` gives the whole SPF record: it cannot stand beside the other SPF keys (`include`, `ip4`, `ip6`, `a`, `mx`, `ptr`, `exists`, `redirect`, `all`)"),
                )
                .label("the whole record")
                .help(format!("write those terms into the record, or remove `{record}` to let mailc write the record")),
            );
        }
        Some(s)
    }

    pub(super) fn dkim(&mut self, node: &Node) -> Option<Dkim> {
        let mut f = self.fields(node, "a DKIM key")?;
        let mut k = Dkim {
            span: node.span,
            ..Dkim::default()
        };
        if let Some(n) = self.required(
            &mut f,
            "selector",
            node.span,
            "this DKIM key",
            (
                "selector: s2026",
                "add the selector as the `dkim` node's argument, like `dkim s2026`",
            ),
        ) {
            k.selector = self.string(n, "a DKIM selector");
        }
        if let Some(n) = self.take(&mut f, "algorithm") {
            k.algorithm = self.choice(n, "DKIM algorithm", DKIM_ALGORITHMS);
        }
        if let Some(n) = self.take(&mut f, "private_key") {
            k.private_key = self.string(n, "`private_key`");
        }
        if let Some(n) = self.take(&mut f, "public_key") {
            k.public_key = self.string(n, "`public_key`");
        }
        if let Some(n) = self.take(&mut f, "sign") {
            k.sign = self.bool(n, "`sign`");
        }
        if let Some(n) = self.take(&mut f, "state") {
            k.state = self.choice(
                n,
                "DKIM key state",
                &[
                    ("published", DkimState::Published),
                    ("signing", DkimState::Signing),
                    ("retired", DkimState::Retired),
                    ("revoked", DkimState::Revoked),
                ],
            );
        }
        self.finish(
            f,
            &[
                "selector",
                "algorithm",
                "private_key",
                "public_key",
                "sign",
                "state",
            ],
            "a DKIM key",
        );
        Some(k)
    }

    pub(super) fn dmarc(&mut self, node: &Node) -> Option<Dmarc> {
        let mut f = self.fields(node, "`dmarc`")?;
        let mut d = Dmarc {
            span: node.span,
            ..Dmarc::default()
        };
        if let Some(n) = self.take(&mut f, "policy") {
            d.policy = self.choice(n, "DMARC policy", DMARC_POLICIES);
        }
        if let Some(n) = self.take(&mut f, "subdomain_policy") {
            d.subdomain_policy = self.choice(n, "DMARC policy", DMARC_POLICIES);
        }
        if let Some(n) = self.take(&mut f, "rua") {
            d.rua = self.strings(n, "a DMARC report address");
        }
        if let Some(n) = self.take(&mut f, "ruf") {
            d.ruf = self.strings(n, "a DMARC report address");
        }
        if let Some(n) = self.take(&mut f, "adkim") {
            d.adkim = self.choice(n, "DMARC alignment", ALIGNMENTS);
        }
        if let Some(n) = self.take(&mut f, "aspf") {
            d.aspf = self.choice(n, "DMARC alignment", ALIGNMENTS);
        }
        if let Some(n) = self.take(&mut f, "pct") {
            d.pct = self.int(n, "DMARC `pct`", "0..=100");
        }
        self.finish(
            f,
            &[
                "policy",
                "subdomain_policy",
                "rua",
                "ruf",
                "adkim",
                "aspf",
                "pct",
            ],
            "`dmarc`",
        );
        Some(d)
    }

    pub(super) fn mta_sts(&mut self, node: &Node) -> Option<MtaSts> {
        let mut f = self.fields(node, "`mta_sts`")?;
        let mut m = MtaSts {
            span: node.span,
            ..MtaSts::default()
        };
        if let Some(n) = self.take(&mut f, "mode") {
            m.mode = self.choice(
                n,
                "MTA-STS mode",
                &[
                    ("enforce", MtaStsMode::Enforce),
                    ("testing", MtaStsMode::Testing),
                    ("none", MtaStsMode::None),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "max_age") {
            m.max_age = self.int(n, "MTA-STS `max_age`", "0..=31557600");
        }
        self.finish(f, &["mode", "max_age"], "`mta_sts`");
        Some(m)
    }

    pub(super) fn tls_rpt(&mut self, node: &Node) -> Option<TlsRpt> {
        let mut f = self.fields(node, "`tls_rpt`")?;
        let mut t = TlsRpt {
            span: node.span,
            ..TlsRpt::default()
        };
        if let Some(n) = self.take(&mut f, "rua") {
            t.rua = self.strings(n, "a TLS-RPT report address");
        }
        self.finish(f, &["rua"], "`tls_rpt`");
        Some(t)
    }

    pub(super) fn record(&mut self, node: &Node) -> Option<Record> {
        let mut f = self.fields(node, "a record")?;
        let mut rec = Record {
            span: node.span,
            ..Record::default()
        };
        const KDL_RECORD: &str =
            "write it as `record NAME TYPE VALUE`, like `record www A \"203.0.113.20\"`";
        for (key, example) in [
            ("name", ("name: www", KDL_RECORD)),
            ("type", ("type: A", KDL_RECORD)),
            ("value", ("value: 203.0.113.20", KDL_RECORD)),
        ] {
            if let Some(n) = self.required(&mut f, key, node.span, "this record", example) {
                let v = self.string(n, &format!("a record's `{key}`"));
                match key {
                    "name" => rec.name = v,
                    "type" => rec.rtype = v,
                    _ => rec.value = v,
                }
            }
        }
        if let Some(n) = self.take(&mut f, "ttl") {
            rec.ttl = self.int(n, "a record's `ttl`", "0..=2147483647");
        }
        self.finish(f, &["name", "type", "value", "ttl"], "a record");
        Some(rec)
    }
}

const DOMAIN_KEYS: &[&str] = &[
    "routing",
    "mx",
    "spf",
    "dkim",
    "dmarc",
    "mta_sts",
    "tls_rpt",
    "mailboxes",
    "aliases",
    "unknown_recipients",
    "records",
    "srs",
    "zone",
    "services",
    "mail",
    "ttl",
    "quota",
    "nameservers",
    "hostmaster",
    "dns",
    "limits",
];

const SERVICES: &[(&str, Service)] = &[
    ("imap", Service::Imap),
    ("pop3", Service::Pop3),
    ("submission", Service::Submission),
];

const MODES: &[(&str, RoutingMode)] = &[
    ("auto", RoutingMode::Auto),
    ("local", RoutingMode::Local),
    ("remote", RoutingMode::Remote),
    ("backup", RoutingMode::Backup),
];

const DKIM_ALGORITHMS: &[(&str, DkimAlgorithm)] = &[
    ("rsa-2048", DkimAlgorithm::Rsa2048),
    ("rsa-3072", DkimAlgorithm::Rsa3072),
    ("rsa-4096", DkimAlgorithm::Rsa4096),
    ("ed25519", DkimAlgorithm::Ed25519),
];

pub(super) const DMARC_POLICIES: &[(&str, DmarcPolicy)] = &[
    ("none", DmarcPolicy::None),
    ("quarantine", DmarcPolicy::Quarantine),
    ("reject", DmarcPolicy::Reject),
];

const ALIGNMENTS: &[(&str, Alignment)] = &[("s", Alignment::S), ("r", Alignment::R)];
