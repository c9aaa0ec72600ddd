//! The `domains` section as a whole: names and duplicates, each domain's
//! own checks spread over the cores, then what needs every domain (SPF
//! lookups across records, alias chains, SRS, forwards) and the domains
//! whose mail is off.

use super::*;

impl Builder<'_> {
    pub(super) fn domains(
        &mut self,
        domains: &Entries<spec::Domain>,
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> BTreeMap<String, Domain> {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
        let mut work: Vec<(String, Span, &spec::Domain)> = Vec::new();
        for (key, d) in domains.iter() {
            let name = match names::domain(&key.value) {
                Ok(n) if n.contains('.') => n,
                Ok(_) | Err(_) => {
                    let why = names::domain(&key.value)
                        .err()
                        .unwrap_or_else(|| "it is not fully qualified".into());
                    self.err(
                        Code::DomainName,
                        key.span,
                        format!("`{}` is not a valid domain name: {why}", key.value),
                        "invalid domain",
                        "write the domain as it appears in addresses, like `example.com` (IDN like `bücher.example` is fine)".into(),
                    );
                    continue;
                }
            };
            if let Some(first) = seen.insert(name.clone(), key.span) {
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateDomain,
                        key.span,
                        format!("domain `{name}` is defined twice"),
                    )
                    .label("second definition")
                    .with(first, "first definition")
                    .help("domains are compared case-insensitively, as A-labels; merge the two"),
                );
                continue;
            }
            work.push((name, key.span, d));
        }
        for (name, p) in self.each_domain(&work, hosts, inputs) {
            pending.insert(name, p);
        }
        let published: Vec<validate::spf::Published> = pending
            .values_mut()
            .flat_map(|p| std::mem::take(&mut p.spf))
            .collect();
        validate::spf::across(&published, self.diags);
        let claims: BTreeMap<String, Claims> = pending
            .iter_mut()
            .map(|(n, p)| (n.clone(), std::mem::take(&mut p.claims)))
            .collect();
        let mut resolved = recipients::resolve(&claims, self.diags);
        let forwards: Vec<validate::rules::Forward> = pending
            .values_mut()
            .flat_map(|p| std::mem::take(&mut p.forwards))
            .collect();
        let built: BTreeMap<String, Domain> = pending
            .into_iter()
            .map(|(name, mut p)| {
                if let Some(r) = resolved.remove(&name) {
                    p.domain.recipients = r.recipients;
                    if let (Unknown::Forward { target }, Some(e)) = (&mut p.domain.unknown, r.catch_all) {
                        *target = e;
                    }
                }
                if let Some(span) = p.srs_span {
                    let forwards = p.domain.recipients.values().any(|r| !r.target.external.is_empty())
                        || matches!(&p.domain.unknown, Unknown::Forward { target } if !target.external.is_empty());
                    if !forwards {
                        self.diags.push(
                            Diagnostic::warning(Code::SrsWithoutForward, span, format!("`srs` is on, but `{name}` forwards no mail to outside addresses"))
                                .label("nothing to rewrite")
                                .help("SRS only matters for mail forwarded elsewhere; remove `srs` or add the forwards"),
                        );
                    }
                }
                (name, p.domain)
            })
            .collect();
        if !claims.values().any(|c| c.incomplete) {
            validate::rules::forwards(&built, &forwards, self.diags);
        }
        let mut built = built;
        for d in built.values_mut().filter(|d| !d.mail) {
            switch_off(d);
        }
        built
    }

    /// Each domain's own checks, spread over the cores: they read only the
    /// spec, the hosts and the key files. Each part reports into its own
    /// list; the lists are merged here and sorted with the rest later, so
    /// the diagnostics do not depend on how the work was split.
    fn each_domain(
        &mut self,
        work: &[(String, Span, &spec::Domain)],
        hosts: &[HostEntry],
        inputs: &Inputs<'_>,
    ) -> Vec<(String, Pending)> {
        let (defaults, hosts_broken) = (self.defaults, self.hosts_broken);
        let parts = crate::par::map_chunks(work, 256, |part| {
            let mut diags = Diagnostics::new();
            let mut b = Builder {
                diags: &mut diags,
                defaults,
                hosts_broken,
            };
            let done: Vec<(String, Pending)> = part
                .iter()
                .map(|(name, span, d)| (name.clone(), b.domain(name, *span, d, hosts, inputs)))
                .collect();
            (done, diags)
        });
        let mut all = Vec::with_capacity(work.len());
        for (done, diags) in parts {
            self.diags.append(diags);
            all.extend(done);
        }
        all
    }
}

/// A domain whose mail service is off (`mail: false`), after every check
/// ran on it as written: it keeps its DNS records and its roles (its MX hosts
/// refuse its mail), and loses what would receive, log in or sign.
fn switch_off(d: &mut Domain) {
    d.mailboxes.clear();
    d.recipients.clear();
    d.unknown = Unknown::Reject;
    d.catch_all = None;
    d.srs = false;
    for k in &mut d.dkim {
        k.sign = false;
    }
}
