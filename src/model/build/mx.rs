//! Where a domain's mail goes: its MX list and routing modes, decided per
//! host.

use super::*;

impl Builder<'_> {
    /// The domain's MX list, and the role each host of the spec plays for
    /// it.
    pub(super) fn routes(
        &mut self,
        name: &str,
        key_span: Span,
        d: &spec::Domain,
        hosts: &[HostEntry],
    ) -> (Vec<Mx>, BTreeMap<String, Role>) {
        let (mx, mx_spans) = self.mx(name, d.mx.as_ref(), hosts);
        let mx_list_span = d.mx.as_ref().map_or(key_span, |m| m.span);
        let modes = self.modes(name, d.routing.as_ref(), hosts);
        let infos: Vec<HostInfo<'_>> = hosts
            .iter()
            .map(|h| {
                let (mode, mode_span) = modes
                    .get(&h.key)
                    .copied()
                    .unwrap_or((RoutingMode::Auto, None));
                HostInfo {
                    key: &h.key,
                    hostname: &h.hostname,
                    mode,
                    mode_span,
                }
            })
            .collect();
        let roles = roles::decide(name, &mx, &mx_spans, mx_list_span, &infos, self.diags);
        (mx, roles)
    }

    fn mx(
        &mut self,
        domain: &str,
        mx: Option<&Sp<Vec<spec::MxEntry>>>,
        hosts: &[HostEntry],
    ) -> (Vec<Mx>, Vec<Span>) {
        let mut out: Vec<Mx> = Vec::new();
        let mut spans = Vec::new();
        let Some(mx) = mx else { return (out, spans) };
        for (i, e) in mx.value.iter().enumerate() {
            let h = e.host();
            let preference = match e.priority() {
                Some(p) => p.value,
                None => u16::try_from(10 * (i + 1)).unwrap_or(u16::MAX),
            };
            let entry = if h.value.contains('.') {
                match names::fqdn(&h.value) {
                    Ok(hostname) => {
                        let ours = hosts
                            .iter()
                            .find(|x| x.hostname == hostname)
                            .map(|x| x.key.clone());
                        Mx {
                            hostname,
                            preference,
                            host: ours,
                        }
                    }
                    Err(why) => {
                        self.err(
                            Code::HostName,
                            h.span,
                            format!("`{}` is not a valid MX host: {why}", h.value),
                            "invalid MX host",
                            "write a host key of this spec (`mx1`) or an outside FQDN (`aspmx.l.google.com`)".into(),
                        );
                        continue;
                    }
                }
            } else {
                match hosts.iter().find(|x| x.key == h.value) {
                    Some(x) => Mx {
                        hostname: x.hostname.clone(),
                        preference,
                        host: Some(x.key.clone()),
                    },
                    None => {
                        // A host the list names already is no suggestion.
                        let listed: Vec<&str> =
                            mx.value.iter().map(|e| e.host().value.as_str()).collect();
                        self.unknown_host(h, hosts, &listed, &format!("the MX list of `{domain}`"));
                        continue;
                    }
                }
            };
            if let Some(j) = out.iter().position(|m| m.hostname == entry.hostname) {
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateMx,
                        h.span,
                        format!("`{}` is listed twice in the MX list of `{domain}`", h.value),
                    )
                    .label("second time")
                    .with(spans[j], "first time")
                    .help("list each exchange once, with the preference it should have"),
                );
                continue;
            }
            out.push(entry);
            spans.push(h.span);
        }
        (out, spans)
    }

    fn modes(
        &mut self,
        domain: &str,
        routing: Option<&Sp<spec::Routing>>,
        hosts: &[HostEntry],
    ) -> BTreeMap<String, (RoutingMode, Option<Span>)> {
        let mut out = BTreeMap::new();
        match routing.map(|r| (&r.value, r.span)) {
            None => {}
            Some((spec::Routing::All(m), span)) => {
                for h in hosts {
                    out.insert(h.key.clone(), (*m, Some(span)));
                }
            }
            Some((spec::Routing::PerHost(map), _)) => {
                for (k, m) in map.iter() {
                    if hosts.iter().any(|h| h.key == k.value) {
                        out.insert(k.value.clone(), (m.value, Some(m.span)));
                    } else {
                        let given: Vec<&str> = map.iter().map(|(k, _)| k.value.as_str()).collect();
                        self.unknown_host(k, hosts, &given, &format!("the routing of `{domain}`"));
                    }
                }
            }
        }
        out
    }
}
