//! The `hosts` section: host keys, hostnames and addresses, and the
//! diagnostic for a host key named elsewhere that is no host of the spec.

use super::*;

impl Builder<'_> {
    pub(super) fn hosts(&mut self, hosts: &Entries<spec::Host>) -> Vec<HostEntry> {
        let mut out: Vec<HostEntry> = Vec::new();
        let mut hostnames: BTreeMap<String, Span> = BTreeMap::new();
        for (key, h) in hosts.iter() {
            let k = match names::host_key(&key.value) {
                Ok(k) => k,
                Err(why) => {
                    let fix = key
                        .value
                        .to_ascii_lowercase()
                        .replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-'), "-");
                    self.err(
                        Code::HostKey,
                        key.span,
                        format!("`{}` is not a valid host key: {why}", key.value),
                        "invalid host key",
                        format!("host keys name hosts inside the spec; try `{fix}` and put the FQDN in `hostname`"),
                    );
                    key.value.clone()
                }
            };
            if let Some(first) = out.iter().find(|e| e.key == k) {
                let first = first.span;
                self.diags.push(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        key.span,
                        format!("host `{k}` is defined twice"),
                    )
                    .label("second definition")
                    .with(first, "first definition")
                    .help("give each host its own key"),
                );
                continue;
            }
            let hostname = h.hostname.as_ref().and_then(|n| match names::fqdn(&n.value) {
                Ok(name) => {
                    if let Some(first) = hostnames.insert(name.clone(), n.span) {
                        self.diags.push(
                            Diagnostic::error(Code::DuplicateHostname, n.span, format!("two hosts have the hostname `{name}`"))
                                .label("second host")
                                .with(first, "first host")
                                .help("each host is one machine with its own name; merge them or rename one"),
                        );
                    }
                    Some(name)
                }
                Err(why) => {
                    self.err(
                        Code::HostName,
                        n.span,
                        format!("`{}` is not a valid hostname: {why}", n.value),
                        "invalid hostname",
                        "use the host's fully qualified name, like `mx1.example.com`".into(),
                    );
                    None
                }
            });
            let ipv4 = h.ipv4.as_ref().and_then(|ip| {
                self.ip(
                    ip,
                    names::ipv4,
                    "IPv4",
                    "203.0.113.10",
                    ("ipv6", names::ipv6(&ip.value).is_ok()),
                )
            });
            let ipv6 = h.ipv6.as_ref().and_then(|ip| {
                self.ip(
                    ip,
                    names::ipv6,
                    "IPv6",
                    "2001:db8::10",
                    ("ipv4", names::ipv4(&ip.value).is_ok()),
                )
            });
            out.push(HostEntry {
                hostname: hostname.unwrap_or_else(|| format!("{k}.invalid")),
                key: k,
                span: key.span,
                ipv4: ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED),
                ipv6,
                stack: h.stack.as_ref().map_or(Stack::Embedded, |s| s.value),
            });
        }
        out
    }

    /// An address of the host; `other` is the key of the other family and
    /// whether the value is an address of that family (written under the
    /// wrong key).
    fn ip<T>(
        &mut self,
        ip: &Sp<String>,
        parse: fn(&str) -> Result<T, String>,
        kind: &str,
        example: &str,
        other: (&str, bool),
    ) -> Option<T> {
        match parse(&ip.value) {
            Ok(a) => Some(a),
            Err(_) if other.1 => {
                let (key, v) = (other.0, &ip.value);
                let other_kind = if key == "ipv6" { "IPv6" } else { "IPv4" };
                self.diags.push(
                    Diagnostic::error(
                        Code::IpAddress,
                        ip.span,
                        format!("`{v}` is an {other_kind} address, not an {kind} one"),
                    )
                    .label(format!("an {other_kind} address"))
                    .help_in(
                        format!("write it under `{key}:` (`{key}: \"{v}\"`)"),
                        format!("write it as `{key}=\"{v}\"`"),
                    ),
                );
                None
            }
            Err(why) => {
                self.err(
                    Code::IpAddress,
                    ip.span,
                    format!("`{}` is not a valid {kind} address: {why}", ip.value),
                    "invalid address",
                    format!("write it like `{example}`"),
                );
                None
            }
        }
    }

    /// Reports a host key that names no host; `taken` are the keys the same
    /// list gives already (never suggested).
    pub(super) fn unknown_host(
        &mut self,
        h: &Sp<String>,
        hosts: &[HostEntry],
        taken: &[&str],
        place: &str,
    ) {
        if self.hosts_broken {
            return; // `hosts` was reported; this host may be in it
        }
        let mut d = Diagnostic::error(
            Code::UnknownHost,
            h.span,
            format!("`{}` in {place} is not a host of this spec", h.value),
        )
        .label("unknown host");
        let free = hosts
            .iter()
            .map(|x| x.key.as_str())
            .filter(|k| !taken.contains(k));
        d = match suggest(&h.value, free) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if hosts.is_empty() => {
                d.help("define it under `hosts`, or write an outside MX as an FQDN")
            }
            None => d.help(format!(
                "define it under `hosts` (the hosts are {}), or write an outside host as an FQDN",
                hosts
                    .iter()
                    .map(|x| format!("`{}`", x.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.diags.push(d);
    }
}
