//! What a domain publishes in DNS beside its MX and zone data: SPF, DKIM,
//! DMARC, MTA-STS, TLS-RPT and the spec's own records, checked against the
//! names mailc writes.

use super::*;

/// A domain's DNS policies, as [`Builder::policies`] checked them.
pub(super) struct Policies {
    pub spf: Spf,
    pub dkim: Vec<DkimKey>,
    pub dmarc: Option<Dmarc>,
    pub mta_sts: Option<MtaSts>,
    pub tls_rpt: Option<TlsRpt>,
    pub records: Vec<UserRecord>,
    /// The SPF records the domain publishes, for the lookups counted
    /// across records.
    pub published: Vec<validate::spf::Published>,
}

impl Builder<'_> {
    /// The domain's DNS policies and own records, checked; `zone`: whether
    /// the zone is published.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn policies(
        &mut self,
        name: &str,
        key_span: Span,
        d: &spec::Domain,
        hosts: &[HostEntry],
        mx: &[Mx],
        roles: &BTreeMap<String, Role>,
        zone: bool,
        inputs: &Inputs<'_>,
    ) -> Policies {
        let def = self.defaults;
        let local_hosts: Vec<&HostEntry> = hosts
            .iter()
            .filter(|h| roles.get(&h.key) == Some(&Role::Local))
            .collect();
        let ip4: Vec<Ipv4Addr> = local_hosts.iter().map(|h| h.ipv4).collect();
        let ip6: Vec<std::net::Ipv6Addr> = local_hosts.iter().filter_map(|h| h.ipv6).collect();
        let (spf, spf_span) = self.spf(name, d, &ip4, &ip6, mx.is_empty());
        let mut published = vec![validate::spf::Published {
            name: name.to_string(),
            terms: spf.terms.clone(),
            span: spf_span,
        }];
        let dkim = validate::dkim::check(
            name,
            &d.dkim,
            inputs.key_files,
            inputs.missing_keys,
            self.diags,
        );
        let dmarc = validate::policy::dmarc(d.own.dmarc.as_ref(), def.dmarc.as_ref(), self.diags);
        if dmarc.is_none()
            && zone
            && d.own.dmarc.is_none()
            && def.dmarc.is_none()
            && !broken(d, def, "dmarc")
        {
            self.diags.push(
                Diagnostic::warning(Code::DmarcMissing, key_span, format!("`{name}` publishes no DMARC record"))
                    .label("no DMARC")
                    .help("add `dmarc: {policy: none, rua: [\"mailto:dmarc@DOMAIN\"]}` to start collecting reports"),
            );
        }
        let mta_sts = validate::policy::mta_sts(
            d.own.mta_sts.as_ref(),
            def.mta_sts.as_ref(),
            mx.is_empty(),
            self.diags,
        );
        let tls_rpt =
            validate::policy::tls_rpt(d.own.tls_rpt.as_ref(), def.tls_rpt.as_ref(), self.diags);
        let reserved = reserved(
            name,
            &dkim,
            dmarc.is_some(),
            mta_sts.is_some(),
            tls_rpt.is_some(),
            mx,
            hosts,
            roles,
        );
        let records =
            validate::records::check(name, &d.records, &reserved, &mut published, self.diags);
        Policies {
            spf,
            dkim,
            dmarc,
            mta_sts,
            tls_rpt,
            records,
            published,
        }
    }

    fn spf(
        &mut self,
        name: &str,
        d: &spec::Domain,
        ip4: &[Ipv4Addr],
        ip6: &[std::net::Ipv6Addr],
        null_mx: bool,
    ) -> (Spf, Span) {
        let own = d.own.spf.as_ref();
        let def = self.defaults.spf.as_ref();
        // The whole record: the domain's own, or the defaults' where the
        // domain gives no SPF key of its own.
        let own_keys = own.is_some_and(spec::Spf::has_terms);
        let record = own.and_then(|s| s.record.as_ref()).or_else(|| {
            (!own_keys)
                .then(|| def.and_then(|s| s.record.as_ref()))
                .flatten()
        });
        if let Some(r) = record {
            return (validate::spf::record(name, r, self.diags), r.span);
        }
        let list = |g: fn(&spec::Spf) -> Option<&Vec<Sp<String>>>| -> &[Sp<String>] {
            own.and_then(g)
                .or_else(|| def.and_then(g))
                .map_or(&[], Vec::as_slice)
        };
        // `redirect` and `all` end the record: the domain's own ending
        // wins over the default's.
        let (redirect, all) = ending(own)
            .or_else(|| ending(def))
            .unwrap_or((None, SpfAll::Fail));
        let input = validate::spf::Input {
            include: list(|s| s.include.as_ref()),
            ip4: list(|s| s.ip4.as_ref()),
            ip6: list(|s| s.ip6.as_ref()),
            a: list(|s| s.a.as_ref()),
            mx: list(|s| s.mx.as_ref()),
            ptr: list(|s| s.ptr.as_ref()),
            exists: list(|s| s.exists.as_ref()),
            redirect,
            all,
            span: own.or(def).map_or(Span::default(), |s| s.span),
        };
        let span = input.span;
        (
            validate::spf::check(name, &input, (ip4, ip6), null_mx, self.diags),
            span,
        )
    }
}

/// How an `spf` map ends the record: `redirect=` (then no `all`) or `all`.
fn ending(s: Option<&spec::Spf>) -> Option<(Option<&Sp<String>>, SpfAll)> {
    s.and_then(|s| match (&s.redirect, &s.all) {
        (Some(r), _) => Some((Some(r), SpfAll::Fail)),
        (None, Some(a)) => Some((None, a.value)),
        (None, None) => None,
    })
}

/// The names mailc writes into a zone, for the collision check.
#[allow(clippy::too_many_arguments)]
fn reserved(
    domain: &str,
    dkim: &[DkimKey],
    dmarc: bool,
    mta_sts: bool,
    tls_rpt: bool,
    mx: &[Mx],
    hosts: &[HostEntry],
    roles: &BTreeMap<String, Role>,
) -> Reserved {
    let mut r = Reserved::default();
    for k in dkim {
        r.names.insert(
            format!("{}._domainkey", k.selector),
            format!("the DKIM key `{}`", k.selector),
        );
    }
    if dmarc {
        r.names
            .insert("_dmarc".into(), "the DMARC record (set `dmarc`)".into());
    }
    if mta_sts {
        r.names.insert(
            "_mta-sts".into(),
            "the MTA-STS record (set `mta_sts`)".into(),
        );
        // With no host of ours to serve the policy, mailc writes no address
        // for `mta-sts` and the spec may point it elsewhere.
        if !hosts.is_empty() {
            r.names
                .insert("mta-sts".into(), "the MTA-STS policy host".into());
        }
    }
    if tls_rpt {
        r.names.insert(
            "_smtp._tls".into(),
            "the TLS-RPT record (set `tls_rpt`)".into(),
        );
    }
    if !mx.is_empty() && roles.values().any(|x| *x == Role::Local) {
        for s in crate::model::services::ALL {
            r.names.insert(
                s.srv.into(),
                "the mail-client SRV records mailc writes (RFC 6186)".into(),
            );
        }
    }
    let suffix = format!(".{domain}");
    let relative = |n: &str| {
        if n == domain {
            Some("@".to_string())
        } else {
            n.strip_suffix(&suffix).map(str::to_string)
        }
    };
    for h in hosts {
        if let Some(rel) = relative(&h.hostname) {
            r.host_names.insert(
                rel,
                format!("the address of host `{}`, which mailc writes", h.key),
            );
        }
    }
    for m in mx {
        if let Some(rel) = relative(&m.hostname) {
            r.mx_targets.insert(rel);
        }
    }
    r
}
