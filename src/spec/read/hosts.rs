//! `hosts`, `outbound_relays` and `dns_targets`: the machines and services
//! the spec names.

use super::*;

impl<'d> Reader<'d> {
    pub(super) fn dns_push(&mut self, node: &Node) -> Option<DnsPush> {
        let mut f = self.fields(node, "`dns`")?;
        let mut d = DnsPush {
            span: node.span,
            ..DnsPush::default()
        };
        if let Some(n) = self.take(&mut f, "target") {
            d.target = self.string(n, "a DNS target's name");
        }
        if let Some(n) = self.take(&mut f, "owns") {
            d.owns = self.choice(n, "`owns`", &[("mail", Owns::Mail), ("zone", Owns::Zone)]);
        }
        self.finish(f, &["target", "owns"], "`dns`");
        Some(d)
    }

    pub(super) fn dns_target(&mut self, key: &Sp<String>, node: &Node) -> DnsTarget {
        let mut t = DnsTarget {
            span: node.span,
            ..DnsTarget::default()
        };
        let what = format!("DNS target `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return t;
        };
        if let Some(n) = self.required(
            &mut f,
            "type",
            key.span,
            &what,
            ("type: rfc2136", "type=rfc2136"),
        ) {
            t.kind = self.choice(
                n,
                "DNS target type",
                &[
                    ("rfc2136", DnsTargetKind::Rfc2136),
                    ("powerdns", DnsTargetKind::Powerdns),
                ],
            );
        }
        let kind = t.kind.as_ref().map(|k| k.value);
        let rfc2136 = kind != Some(DnsTargetKind::Powerdns);
        let powerdns = kind != Some(DnsTargetKind::Rfc2136);
        let mut known = vec!["type"];
        if rfc2136 {
            known.extend(["server", "tsig_key", "tsig_algorithm", "tsig_secret_file"]);
            let req = |k| kind == Some(DnsTargetKind::Rfc2136) && k != "tsig_algorithm";
            for (name, example) in [
                ("server", ("server: 192.0.2.53", "server=\"192.0.2.53\"")),
                ("tsig_key", ("tsig_key: mailc-key", "tsig-key=mailc-key")),
                (
                    "tsig_secret_file",
                    (
                        "tsig_secret_file: keys/mailc-key.secret",
                        "tsig-secret-file=\"keys/mailc-key.secret\"",
                    ),
                ),
                ("tsig_algorithm", ("", "")),
            ] {
                let n = if req(name) {
                    self.required(&mut f, name, key.span, &what, example)
                } else {
                    self.take(&mut f, name)
                };
                let Some(n) = n else { continue };
                match name {
                    "server" => t.server = self.string(n, "`server`"),
                    "tsig_key" => t.tsig_key = self.string(n, "`tsig_key`"),
                    "tsig_secret_file" => t.tsig_secret_file = self.string(n, "`tsig_secret_file`"),
                    _ => {
                        t.tsig_algorithm = self.choice(
                            n,
                            "TSIG algorithm",
                            &[
                                ("hmac-sha256", TsigAlgorithm::HmacSha256),
                                ("hmac-sha512", TsigAlgorithm::HmacSha512),
                            ],
                        )
                    }
                }
            }
        }
        if powerdns {
            known.extend(["url", "server_id", "api_key_file"]);
            let req = |k| kind == Some(DnsTargetKind::Powerdns) && k != "server_id";
            for (name, example) in [
                (
                    "url",
                    (
                        "url: http://127.0.0.1:8081",
                        "url=\"http://127.0.0.1:8081\"",
                    ),
                ),
                (
                    "api_key_file",
                    (
                        "api_key_file: keys/powerdns-api.key",
                        "api-key-file=\"keys/powerdns-api.key\"",
                    ),
                ),
                ("server_id", ("", "")),
            ] {
                let n = if req(name) {
                    self.required(&mut f, name, key.span, &what, example)
                } else {
                    self.take(&mut f, name)
                };
                let Some(n) = n else { continue };
                let v = self.string(n, &format!("`{name}`"));
                match name {
                    "url" => t.url = v,
                    "api_key_file" => t.api_key_file = v,
                    _ => t.server_id = v,
                }
            }
        }
        self.finish(f, &known, &what);
        t
    }

    pub(super) fn host(&mut self, key: &Sp<String>, node: &Node) -> Host {
        let mut h = Host::default();
        let what = format!("host `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return h;
        };
        if let Some(n) = self.required(
            &mut f,
            "hostname",
            key.span,
            &what,
            ("hostname: mx1.example.com", "hostname=\"mx1.example.com\""),
        ) {
            h.hostname = self.string(n, "`hostname`");
        }
        if let Some(n) = self.required(
            &mut f,
            "ipv4",
            key.span,
            &what,
            ("ipv4: 203.0.113.10", "ipv4=\"203.0.113.10\""),
        ) {
            h.ipv4 = self.string(n, "`ipv4`");
        }
        if let Some(n) = self.take(&mut f, "ipv6") {
            h.ipv6 = self.string(n, "`ipv6`");
        }
        if let Some(n) = self.required(
            &mut f,
            "stack",
            key.span,
            &what,
            ("stack: postfix-dovecot", "stack=postfix-dovecot"),
        ) {
            h.stack = self.choice(n, "stack", STACKS);
        }
        if let Some(n) = self.take(&mut f, "outbound_relay") {
            h.outbound_relay = self.string(n, "`outbound_relay`");
        }
        self.finish(
            f,
            &["hostname", "ipv4", "ipv6", "stack", "outbound_relay"],
            &what,
        );
        h
    }

    pub(super) fn outbound_relay(&mut self, key: &Sp<String>, node: &Node) -> OutboundRelay {
        let mut r = OutboundRelay {
            span: node.span,
            ..OutboundRelay::default()
        };
        let what = format!("outbound relay `{}`", key.value);
        let Some(mut f) = self.fields(node, &what) else {
            return r;
        };
        if let Some(n) = self.required(
            &mut f,
            "host",
            key.span,
            &what,
            ("host: smtp.provider.example", "host=smtp.provider.example"),
        ) {
            r.host = self.string(n, "`host`");
        }
        if let Some(n) = self.take(&mut f, "port") {
            r.port = self.int(n, "`port`", "1..=65535");
        }
        if let Some(n) = self.take(&mut f, "tls") {
            r.tls = self.choice(
                n,
                "`tls`",
                &[
                    ("starttls", RelayTls::Starttls),
                    ("implicit", RelayTls::Implicit),
                    ("opportunistic", RelayTls::Opportunistic),
                ],
            );
        }
        if let Some(n) = self.take(&mut f, "username") {
            r.username = self.string(n, "`username`");
        }
        if let Some(n) = self.take(&mut f, "password_file") {
            r.password_file = self.string(n, "`password_file`");
        }
        if let Some(n) = self.take(&mut f, "senders") {
            r.senders = self.strings(n, "a sender").unwrap_or_default();
        }
        self.finish(
            f,
            &[
                "host",
                "port",
                "tls",
                "username",
                "password_file",
                "senders",
            ],
            &what,
        );
        r
    }
}

const STACKS: &[(&str, Stack)] = &[
    ("postfix-dovecot", Stack::PostfixDovecot),
    ("exim-dovecot", Stack::EximDovecot),
    ("embedded", Stack::Embedded),
];
