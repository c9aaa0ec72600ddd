//! One domain's own checks: its zone data (TTL, name servers, hostmaster),
//! then routing (`mx.rs`), recipients (`mailboxes.rs`) and DNS records
//! (`dns.rs`), assembled into a `Domain`.

use super::*;

impl Builder<'_> {
    /// One domain's own checks: they read the spec, the hosts and the key
    /// files, never another domain.
    pub(super) fn domain(
        &mut self,
        name: &str,
        key_span: Span,
        d: &spec::Domain,
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> Pending {
        let def = self.defaults;
        let ttl = self.ttl(d.own.ttl.as_ref().or(def.ttl.as_ref()));
        let zone = d.zone.as_ref().is_none_or(|z| z.value);
        let mail = d.mail.as_ref().is_none_or(|m| m.value);
        let nameservers = self.nameservers(d.own.nameservers.as_ref().or(def.nameservers.as_ref()));
        let hostmaster = d
            .own
            .hostmaster
            .as_ref()
            .or(def.hostmaster.as_ref())
            .and_then(|h| match names::address(&h.value) {
                Ok((l, dom)) => Some(format!("{l}@{dom}")),
                Err(why) => {
                    self.err(
                        Code::Address,
                        h.span,
                        format!("`{}` is not a valid hostmaster address: {why}", h.value),
                        "invalid address",
                        "write the zone contact's address, like `hostmaster@example.com`".into(),
                    );
                    None
                }
            });
        if zone {
            // A key misspelt in the domain or its defaults is reported there.
            let mut missing = Vec::new();
            if d.own.nameservers.is_none()
                && def.nameservers.is_none()
                && !broken(d, def, "nameservers")
            {
                missing.push("`nameservers`");
            }
            if d.own.hostmaster.is_none()
                && def.hostmaster.is_none()
                && !broken(d, def, "hostmaster")
            {
                missing.push("`hostmaster`");
            }
            if !missing.is_empty() {
                self.err(
                    Code::Nameservers,
                    key_span,
                    format!("the zone of `{name}` is published, but it has no {}", missing.join(" and ")),
                    "zone without SOA/NS data",
                    "set `nameservers` and `hostmaster` under `defaults` (or on this domain), or `zone: false` if this spec does not publish its DNS".into(),
                );
            }
            if let Some(ns) = d.own.nameservers.as_ref().or(def.nameservers.as_ref())
                && ns.is_empty()
            {
                self.err(
                    Code::Nameservers,
                    key_span,
                    format!("the zone of `{name}` has an empty `nameservers` list"),
                    "zone without NS records",
                    "list at least one (RFC 1034 asks for two) name servers".into(),
                );
            }
        }

        let (mx, roles) = self.routes(name, key_span, d, hosts);
        let services: BTreeSet<Service> = match &d.services {
            Some(list) => list.value.iter().map(|s| s.value).collect(),
            None => DEFAULT_SERVICES.into_iter().collect(),
        };

        let r = self.recipients(name, d, &services, hosts, &roles, mail);
        let p = self.policies(name, key_span, d, hosts, &mx, &roles, zone, inputs);
        let srs = d
            .own
            .srs
            .as_ref()
            .or(def.srs.as_ref())
            .is_some_and(|s| s.value);

        let domain = Domain {
            name: name.to_string(),
            ttl,
            zone,
            mail,
            nameservers,
            hostmaster,
            mx,
            roles,
            spf: p.spf,
            dkim: p.dkim,
            dmarc: p.dmarc,
            mta_sts: p.mta_sts,
            tls_rpt: p.tls_rpt,
            mailboxes: r.mailboxes,
            recipients: BTreeMap::new(),
            unknown: r.unknown,
            catch_all: r.catch_all,
            srs,
            records: p.records,
            push: None,
            services,
            limits: crate::model::limits::domain(d.own.limits.as_ref(), self.diags),
        };
        let srs_span = d.own.srs.as_ref().filter(|s| s.value).map(|s| s.span);
        Pending {
            domain,
            claims: r.claims,
            srs_span,
            forwards: r.forwards,
            spf: p.published,
        }
    }

    fn ttl(&mut self, t: Option<&Sp<u32>>) -> u32 {
        match t {
            None => DEFAULT_TTL,
            Some(t) => match ttl_error(t) {
                Some(d) => {
                    self.diags.push(d);
                    DEFAULT_TTL
                }
                None => t.value,
            },
        }
    }

    fn nameservers(&mut self, ns: Option<&Vec<Sp<String>>>) -> Vec<String> {
        let mut out = Vec::new();
        for n in ns.into_iter().flatten() {
            match names::fqdn(&n.value) {
                Ok(name) if !out.contains(&name) => out.push(name),
                Ok(_) => {}
                Err(why) => self.err(
                    Code::HostName,
                    n.span,
                    format!("`{}` is not a valid name server: {why}", n.value),
                    "invalid name server",
                    "write the server's fully qualified name, like `ns1.example.net`".into(),
                ),
            }
        }
        out
    }
}
