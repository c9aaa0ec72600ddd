//! Lowering `dns_targets` and each domain's `dns`: which name server a zone
//! is pushed to, how mailc talks to it, and how much of the zone it owns.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use super::{DnsTarget, Domain, Owns, Push, TargetKind, TsigAlgorithm, names};
use crate::diag::{Code, Diagnostic, Diagnostics, suggest};
use crate::model::validate::dkim::unsafe_path;
use crate::spec::{self, DnsTargetKind, Entries, Sp};

/// The DNS port (RFC 1035 §4.2).
const DNS_PORT: u16 = 53;

/// PowerDNS's own name for its one server in the API's paths.
const POWERDNS_SERVER_ID: &str = "localhost";

/// The spec's DNS targets, by name. A target with a problem is reported
/// and left out of the map; the set names every target written, so a domain
/// naming a broken one gets no second diagnostic.
pub fn targets(
    targets: &Entries<spec::DnsTarget>,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, DnsTarget>, BTreeSet<String>) {
    let mut out = BTreeMap::new();
    let mut written = BTreeSet::new();
    for (key, t) in targets.iter() {
        let name = key.value.clone();
        if !written.insert(name.clone()) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateKey,
                    key.span,
                    format!("DNS target `{name}` is defined twice"),
                )
                .label("second time")
                .help("give each target its own name"),
            );
            continue;
        }
        let kind = match t.kind.as_ref().map(|k| k.value) {
            Some(DnsTargetKind::Rfc2136) => rfc2136(t, diags),
            Some(DnsTargetKind::Powerdns) => powerdns(t, diags),
            // Reported while reading.
            None => None,
        };
        if let Some(kind) = kind {
            out.insert(name.clone(), DnsTarget { name, kind });
        }
    }
    (out, written)
}

fn bad(diags: &mut Diagnostics, at: &Sp<String>, message: String, label: &str, help: &str) {
    diags.push(
        Diagnostic::error(Code::DnsTarget, at.span, message)
            .label(label)
            .help(help),
    );
}

fn rfc2136(t: &spec::DnsTarget, diags: &mut Diagnostics) -> Option<TargetKind> {
    let (server, key, file) = (
        t.server.as_ref()?,
        t.tsig_key.as_ref()?,
        t.tsig_secret_file.as_ref()?,
    );
    let addr = match server.value.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => match server.value.parse::<IpAddr>() {
            Ok(ip) => Some(SocketAddr::new(ip, DNS_PORT)),
            Err(_) => {
                bad(
                    diags,
                    server,
                    format!("`{}` is not a name server address", server.value),
                    "not IP or IP:PORT",
                    "write the primary's IP address, with `:PORT` when it is not 53, like `192.0.2.53` or `[2001:db8::53]:5353`",
                );
                None
            }
        },
    };
    let key_name = match names::dns_name(key.value.trim_end_matches('.')) {
        Ok(n) => Some(n),
        Err(why) => {
            bad(
                diags,
                key,
                format!("`{}` is not a TSIG key name: {why}", key.value),
                "invalid key name",
                "write the key's name as the server knows it, like `mailc-key`",
            );
            None
        }
    };
    let file_ok = secret_path(diags, file);
    let algorithm = t
        .tsig_algorithm
        .as_ref()
        .map_or(TsigAlgorithm::HmacSha256, |a| a.value);
    Some(TargetKind::Rfc2136 {
        server: addr?,
        key_name: key_name?,
        algorithm,
        secret_file: file_ok?,
    })
}

fn powerdns(t: &spec::DnsTarget, diags: &mut Diagnostics) -> Option<TargetKind> {
    let (url, file) = (t.url.as_ref()?, t.api_key_file.as_ref()?);
    let base = url.value.trim_end_matches('/');
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"));
    let url_ok = match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(['?', '#', '@', ' ']) => {
            Some(base.to_string())
        }
        _ => {
            bad(
                diags,
                url,
                format!("`{}` is not a PowerDNS API URL", url.value),
                "not http(s)://HOST:PORT",
                "write the API's base URL, like `http://127.0.0.1:8081` or `https://dns.example.net:8081`",
            );
            None
        }
    };
    let server_id = match &t.server_id {
        None => Some(POWERDNS_SERVER_ID.to_string()),
        Some(id)
            if !id.value.is_empty()
                && id
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) =>
        {
            Some(id.value.clone())
        }
        Some(id) => {
            bad(
                diags,
                id,
                format!("`{}` is not a PowerDNS server id", id.value),
                "invalid server id",
                "PowerDNS calls its server `localhost`; leave `server_id` out unless yours is named otherwise",
            );
            None
        }
    };
    let file_ok = secret_path(diags, file);
    Some(TargetKind::PowerDns {
        url: url_ok?,
        server_id: server_id?,
        api_key_file: file_ok?,
    })
}

/// A secret file's path, checked like a DKIM key's.
fn secret_path(diags: &mut Diagnostics, file: &Sp<String>) -> Option<String> {
    match unsafe_path(&file.value) {
        None => Some(file.value.clone()),
        Some(why) => {
            bad(
                diags,
                file,
                format!("`{}` is not a usable secret file path: {why}", file.value),
                "unsafe path",
                "use a path relative to the spec, of letters, digits and `. _ - /`, like `keys/mailc-key.secret`",
            );
            None
        }
    }
}

/// Each domain's `dns` (merged field by field with the default's) into its
/// [`Push`]. A target inherited from `defaults` leaves out the domains whose
/// zone the spec does not publish; a domain's own target on such a domain
/// is an error.
pub fn domains(
    spec_domains: &Entries<spec::Domain>,
    defaults: &spec::Defaults,
    (targets, written): (&BTreeMap<String, DnsTarget>, &BTreeSet<String>),
    domains: &mut BTreeMap<String, Domain>,
    diags: &mut Diagnostics,
) {
    let def = defaults.dns.as_ref();
    for (key, d) in spec_domains.iter() {
        let own = d.own.dns.as_ref();
        let target = own
            .and_then(|o| o.target.as_ref())
            .or_else(|| def.and_then(|x| x.target.as_ref()));
        let owns = own
            .and_then(|o| o.owns.as_ref())
            .or_else(|| def.and_then(|x| x.owns.as_ref()))
            .map_or(Owns::Mail, |o| o.value);
        let Some(target) = target else { continue };
        let Ok(name) = names::domain(&key.value) else {
            continue;
        };
        let Some(domain) = domains.get_mut(&name) else {
            continue;
        };
        if !targets.contains_key(&target.value) {
            if written.contains(&target.value) {
                continue;
            }
            let mut diag = Diagnostic::error(
                Code::DnsTargetUnknown,
                target.span,
                format!("no DNS target is named `{}`", target.value),
            )
            .label("unknown target");
            diag = match suggest(&target.value, targets.keys().map(String::as_str)) {
                Some(s) => diag.help(format!("did you mean `{s}`?")),
                None if targets.is_empty() => diag.help(
                    "define it under `dns_targets` (an `rfc2136` server or a `powerdns` API)",
                ),
                None => diag.help(format!(
                    "the spec's DNS targets are: {}",
                    targets
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            diags.push(diag);
            continue;
        }
        if !domain.zone {
            // A target from `defaults` is for the zones this spec publishes.
            if own.and_then(|o| o.target.as_ref()).is_none() {
                continue;
            }
            let mut diag = Diagnostic::error(
                Code::DnsUnpublished,
                target.span,
                format!(
                    "the zone of `{name}` is pushed to `{}`, but `zone: false` says this spec does not publish it",
                    target.value
                ),
            )
            .label("pushed here")
            .help("remove `zone: false`, or leave the domain's `dns` target out");
            if let Some(z) = &d.zone {
                diag = diag.with(z.span, "not published");
            }
            diags.push(diag);
            continue;
        }
        domain.push = Some(Push {
            target: target.value.clone(),
            owns,
        });
    }
}
