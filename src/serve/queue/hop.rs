//! Where a recipient's mail goes next: a fixed next hop (an IP address or a
//! name to look up), or the recipient domain's MX hosts (RFC 5321 §5.1),
//! each turned into addresses to try in order. DNS goes through
//! hickory-resolver, aimed at `--resolver` when given.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::client::Candidate;
use crate::manifest::NextHop;

/// The SMTP port MX hosts listen on.
const SMTP_PORT: u16 = 25;
/// MX hosts tried per domain (RFC 5321 §5.1 asks for "a reasonable number").
const MAX_HOSTS: usize = 10;

/// Servers to try, or why there are none.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Hosts(Vec<Candidate>),
    /// Will not change: bounce (e.g. a null MX, RFC 7505).
    Permanent(String),
    /// DNS trouble: try again later.
    Temporary(String),
}

/// Makes the resolver: the given server (any port), else the system's.
pub fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, String> {
    let builder = match server {
        Some(sa) => {
            let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
            for c in &mut ns.connections {
                c.port = sa.port();
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?,
    };
    builder
        .build()
        .map_err(|e| format!("cannot make a DNS resolver: {e}"))
}

/// A host name or IP literal (`[::1]` too) with a port.
fn literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// The addresses of `name` (A and AAAA), as candidates on `port`.
/// `Ok(empty)` when the name has no address.
async fn addresses(
    resolver: &TokioResolver,
    name: &str,
    port: u16,
) -> Result<Vec<Candidate>, (bool, String)> {
    if let Some(ip) = literal(name) {
        return Ok(vec![Candidate {
            name: ip.to_string(),
            addr: SocketAddr::new(ip, port),
        }]);
    }
    match resolver.lookup_ip(fqdn(name)).await {
        Ok(l) => Ok(l
            .iter()
            .map(|ip| Candidate {
                name: name.trim_end_matches('.').to_string(),
                addr: SocketAddr::new(ip, port),
            })
            .collect()),
        Err(e) if e.is_nx_domain() => Err((true, format!("host {name} does not exist"))),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err((false, format!("cannot look up {name}: {e}"))),
    }
}

/// A fixed next hop: its address, or its name's addresses.
pub async fn next_hop(resolver: Option<&TokioResolver>, hop: &NextHop) -> Resolved {
    if let Some(ip) = literal(&hop.host) {
        return Resolved::Hosts(vec![Candidate {
            name: ip.to_string(),
            addr: SocketAddr::new(ip, hop.port),
        }]);
    }
    let Some(resolver) = resolver else {
        return Resolved::Temporary("no DNS resolver".into());
    };
    match addresses(resolver, &hop.host, hop.port).await {
        Ok(v) if v.is_empty() => Resolved::Temporary(format!("{} has no address", hop.host)),
        Ok(v) => Resolved::Hosts(v),
        // The hop comes from the manifest: a missing name is a
        // configuration problem someone can fix, not the sender's.
        Err((_, why)) => Resolved::Temporary(why),
    }
}

/// The servers of `domain` by MX lookup, best preference first.
pub async fn mx(resolver: Option<&TokioResolver>, domain: &str) -> Resolved {
    let Some(resolver) = resolver else {
        return Resolved::Temporary("no DNS resolver".into());
    };
    if let Some(ip) = literal(domain) {
        // An address literal recipient (`user@[192.0.2.1]`, RFC 5321 §4.1.3).
        return Resolved::Hosts(vec![Candidate {
            name: ip.to_string(),
            addr: SocketAddr::new(ip, SMTP_PORT),
        }]);
    }
    let mut hosts: Vec<(u16, String)> = match resolver.mx_lookup(fqdn(domain)).await {
        Ok(l) => l
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
            .collect(),
        Err(e) if e.is_nx_domain() => {
            return Resolved::Permanent(crate::reply::no_such_domain(domain));
        }
        Err(e) if e.is_no_records_found() => Vec::new(),
        Err(e) => return Resolved::Temporary(format!("MX lookup of {domain} failed: {e}")),
    };
    // RFC 7505 §3: a single MX of "." says the domain takes no mail.
    if hosts.len() == 1 && (hosts[0].1 == "." || hosts[0].1.is_empty()) {
        return Resolved::Permanent(
            crate::reply::NULL_MX.reply(&crate::reply::null_mx_reason(domain)),
        );
    }
    hosts.retain(|(_, h)| h != "." && !h.is_empty());
    if hosts.is_empty() {
        // RFC 5321 §5.1: no MX, so the domain itself is the host.
        return match addresses(resolver, domain, SMTP_PORT).await {
            Ok(v) if v.is_empty() => Resolved::Permanent(crate::reply::no_mail_server(domain)),
            Ok(v) => Resolved::Hosts(v),
            Err((true, _)) => Resolved::Permanent(crate::reply::no_such_domain(domain)),
            Err((false, why)) => Resolved::Temporary(why),
        };
    }
    hosts.sort();
    // A host listed twice keeps its best preference.
    let mut seen = std::collections::BTreeSet::new();
    hosts.retain(|(_, h)| seen.insert(h.clone()));
    // RFC 5321 §5.1: hosts of equal preference are tried in random order,
    // spreading the load.
    let mut noise = vec![0u8; hosts.len()];
    let _ = getrandom::fill(&mut noise);
    let mut keyed: Vec<(u16, u8, String)> = hosts
        .into_iter()
        .zip(noise)
        .map(|((p, h), r)| (p, r, h))
        .collect();
    keyed.sort();
    let hosts: Vec<(u16, String)> = keyed.into_iter().map(|(p, _, h)| (p, h)).collect();
    let mut out = Vec::new();
    let mut trouble = None;
    for (_, h) in hosts.iter().take(MAX_HOSTS) {
        match addresses(resolver, h, SMTP_PORT).await {
            Ok(v) => out.extend(v),
            Err((_, why)) => trouble = Some(why),
        }
    }
    if out.is_empty() {
        return Resolved::Temporary(
            trouble.unwrap_or_else(|| format!("no MX host of {domain} has an address")),
        );
    }
    Resolved::Hosts(out)
}

/// A tiny authoritative DNS server for tests on 127.0.0.1 (UDP), answering
/// from a fixed table; a name not in it is NXDOMAIN.
#[cfg(test)]
/// A tiny authoritative DNS server on 127.0.0.1 (UDP) answering from a
/// fixed table; anything else is NXDOMAIN.
pub(crate) async fn test_dns(
    table: Vec<(String, hickory_resolver::proto::rr::RecordType, RData)>,
) -> SocketAddr {
    use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
    use hickory_resolver::proto::rr::{Name, Record};
    use hickory_resolver::proto::serialize::binary::{BinDecodable, BinEncodable};
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_bytes(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::response(q.metadata.id, q.metadata.op_code);
            resp.metadata.authoritative = true;
            resp.metadata.message_type = MessageType::Response;
            resp.metadata.recursion_desired = q.metadata.recursion_desired;
            resp.metadata.recursion_available = true;
            let query = q.queries[0].clone();
            let qname = query.name().to_ascii().to_lowercase();
            let known = table.iter().any(|(n, _, _)| *n == qname);
            for (n, t, d) in &table {
                if *n == qname && *t == query.query_type() {
                    resp.answers.push(Record::from_rdata(
                        Name::from_ascii(n.as_str()).unwrap(),
                        60,
                        d.clone(),
                    ));
                }
            }
            if !known {
                resp.metadata.response_code = ResponseCode::NXDomain;
            }
            resp.queries.push(query);
            let bytes = resp.to_bytes().unwrap();
            let _ = sock.send_to(&bytes, from).await;
        }
    });
    addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RecordType};

    fn owned(t: Vec<(&str, RecordType, RData)>) -> Vec<(String, RecordType, RData)> {
        t.into_iter()
            .map(|(n, r, d)| (n.to_string(), r, d))
            .collect()
    }

    fn a(ip: &str) -> RData {
        RData::A(A(ip.parse().unwrap()))
    }

    #[tokio::test]
    async fn mx_null_mx_and_implicit_mx() {
        let server = test_dns(owned(vec![
            (
                "example.test.",
                RecordType::MX,
                RData::MX(MX::new(20, Name::from_ascii("mx2.example.test.").unwrap())),
            ),
            (
                "example.test.",
                RecordType::MX,
                RData::MX(MX::new(10, Name::from_ascii("mx1.example.test.").unwrap())),
            ),
            ("mx1.example.test.", RecordType::A, a("192.0.2.1")),
            ("mx2.example.test.", RecordType::A, a("192.0.2.2")),
            (
                "null.test.",
                RecordType::MX,
                RData::MX(MX::new(0, Name::root())),
            ),
            ("bare.test.", RecordType::A, a("192.0.2.9")),
        ]))
        .await;
        let r = resolver(Some(server)).unwrap();
        let Resolved::Hosts(h) = mx(Some(&r), "example.test").await else {
            panic!("no hosts");
        };
        let addrs: Vec<String> = h.iter().map(|c| c.addr.to_string()).collect();
        assert_eq!(addrs, ["192.0.2.1:25", "192.0.2.2:25"]);
        assert_eq!(h[0].name, "mx1.example.test");
        match mx(Some(&r), "null.test").await {
            Resolved::Permanent(why) => assert!(why.starts_with("556 5.1.10"), "{why}"),
            other => panic!("{other:?}"),
        }
        let Resolved::Hosts(h) = mx(Some(&r), "bare.test").await else {
            panic!("no implicit MX");
        };
        assert_eq!(h[0].addr.to_string(), "192.0.2.9:25");
        match mx(Some(&r), "nowhere.test").await {
            Resolved::Permanent(why) => assert!(why.contains("5.1.2"), "{why}"),
            other => panic!("{other:?}"),
        }
        let hop = NextHop {
            host: "mx1.example.test".into(),
            port: 2525,
        };
        let Resolved::Hosts(h) = next_hop(Some(&r), &hop).await else {
            panic!("no hop");
        };
        assert_eq!(h[0].addr.to_string(), "192.0.2.1:2525");
        let lit = NextHop {
            host: "::1".into(),
            port: 25,
        };
        assert_eq!(
            next_hop(None, &lit).await,
            Resolved::Hosts(vec![Candidate {
                name: "::1".into(),
                addr: "[::1]:25".parse().unwrap()
            }])
        );
    }
}
