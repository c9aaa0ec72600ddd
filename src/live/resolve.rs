//! Asking DNS: every question of the checks, sent with hickory's client to
//! one server (`--resolver IP:PORT`) or to the name servers of
//! `/etc/resolv.conf` in turn. UDP first, TCP when the answer is truncated
//! (RFC 7766 §5); recursion desired. A server that does not answer in time,
//! or answers SERVFAIL, REFUSED or another error code, gives no usable
//! answer: the next server is tried. A question no server answers usably
//! is reported as a [`QueryError`] naming it and the servers; the checks
//! that need it stay undecided (an error, exit 1, not drift).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_net::{DnsError, NetError};
use hickory_proto::op::{DnsResponse, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};

/// What DNS said to one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The records of the type asked for (after any CNAME).
    Records(Vec<RData>),
    /// The name exists, without records of that type.
    NoData,
    NxDomain,
}

/// Answers by question.
#[derive(Clone, Debug, Default)]
pub struct Answers(BTreeMap<(String, u16), Answer>);

impl Answers {
    fn key(name: &Name, rtype: RecordType) -> (String, u16) {
        (name.to_ascii().to_ascii_lowercase(), u16::from(rtype))
    }

    pub fn insert(&mut self, name: &Name, rtype: RecordType, answer: Answer) {
        self.0.insert(Self::key(name, rtype), answer);
    }

    pub fn get(&self, name: &Name, rtype: RecordType) -> Option<&Answer> {
        self.0.get(&Self::key(name, rtype))
    }

    /// Adds the answers of a later round of questions.
    pub fn extend(&mut self, more: Answers) {
        self.0.extend(more.0);
    }
}

/// Questions asked at once.
const IN_FLIGHT: usize = 32;

/// Where questions go.
#[derive(Clone, Debug)]
pub struct Resolvers {
    pub servers: Vec<SocketAddr>,
    /// How long to wait for one server's answer to one question.
    pub timeout: Duration,
}

/// A question no server answered usably.
#[derive(Clone, Debug, thiserror::Error)]
#[error("no usable answer for `{name} {rtype}`: {}", tried.join("; "))]
pub struct QueryError {
    pub name: String,
    pub rtype: RecordType,
    /// One entry per server: `SERVER: what went wrong`.
    pub tried: Vec<String>,
}

/// Why the system's resolvers cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the system's resolver configuration (/etc/resolv.conf): {0}")]
    Read(String),
    #[error("/etc/resolv.conf names no name server")]
    Empty,
}

impl Resolvers {
    /// The name servers of `/etc/resolv.conf`, in order.
    pub fn system(timeout: Option<Duration>) -> Result<Resolvers, ConfigError> {
        let text =
            std::fs::read("/etc/resolv.conf").map_err(|e| ConfigError::Read(e.to_string()))?;
        Resolvers::from_resolv_conf(&text, timeout)
    }

    /// The name servers of a `resolv.conf` text, in order, with its
    /// `options timeout:` unless `timeout` is given.
    pub fn from_resolv_conf(
        text: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Resolvers, ConfigError> {
        let (config, opts) = hickory_resolver::system_conf::parse_resolv_conf(text)
            .map_err(|e| ConfigError::Read(e.to_string()))?;
        let mut servers: Vec<SocketAddr> = Vec::new();
        for ns in config.name_servers() {
            let port = ns.connections.first().map_or(53, |c| c.port);
            let addr = SocketAddr::new(ns.ip, port);
            if !servers.contains(&addr) {
                servers.push(addr);
            }
        }
        if servers.is_empty() {
            return Err(ConfigError::Empty);
        }
        Ok(Resolvers {
            servers,
            timeout: timeout.unwrap_or(opts.timeout),
        })
    }
}

/// Asks every question: the answers, and the questions no server answered
/// usably (those have no entry among the answers).
pub async fn ask(
    resolvers: &Resolvers,
    questions: BTreeSet<(Name, RecordType)>,
) -> (Answers, Vec<QueryError>) {
    let provider = TokioRuntimeProvider::default();
    let mut clients = Vec::new();
    for &server in &resolvers.servers {
        let udp = UdpClientStream::builder(server, provider.clone())
            .with_timeout(Some(resolvers.timeout))
            .build();
        let (client, bg) = Client::<TokioRuntimeProvider>::from_sender(udp);
        tokio::spawn(bg);
        clients.push((server, client));
    }
    let clients = Arc::new(clients);
    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for (name, rtype) in questions {
        let clients = Arc::clone(&clients);
        let limit = Arc::clone(&limit);
        let timeout = resolvers.timeout;
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let mut tried = Vec::new();
            for (server, client) in clients.iter() {
                match one(client.clone(), *server, &name, rtype, timeout).await {
                    Ok(answer) => return Ok((name, rtype, answer)),
                    Err(why) => tried.push(format!("{server}: {why}")),
                }
            }
            Err(QueryError {
                name: name.to_ascii(),
                rtype,
                tried,
            })
        });
    }
    let mut answers = Answers::default();
    let mut errors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok((name, rtype, answer))) => answers.insert(&name, rtype, answer),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(QueryError {
                name: String::new(),
                rtype: RecordType::NULL,
                tried: vec![format!("the query task failed: {e}")],
            }),
        }
    }
    errors.sort_by(|a, b| (&a.name, u16::from(a.rtype)).cmp(&(&b.name, u16::from(b.rtype))));
    (answers, errors)
}

/// One question to one server: over UDP, again over TCP when truncated.
async fn one(
    mut udp: Client<TokioRuntimeProvider>,
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Answer, String> {
    let response = udp
        .query(name.clone(), DNSClass::IN, rtype)
        .await
        .map_err(|e| failure(e, timeout))?;
    let response = if response.metadata.truncation {
        let provider = TokioRuntimeProvider::default();
        let (stream, handle) = TcpClientStream::new(server, None, Some(timeout), provider);
        let stream = stream
            .await
            .map_err(|e| format!("TCP: {}", failure(e, timeout)))?;
        let (mut tcp, bg) = Client::<TokioRuntimeProvider>::with_timeout(stream, handle, timeout);
        tokio::spawn(bg);
        tcp.query(name.clone(), DNSClass::IN, rtype)
            .await
            .map_err(|e| format!("TCP: {}", failure(e, timeout)))?
    } else {
        response
    };
    classify(&response, rtype)
}

/// A response as an [`Answer`], or why it is not usable.
fn classify(response: &DnsResponse, rtype: RecordType) -> Result<Answer, String> {
    match response.metadata.response_code {
        ResponseCode::NoError => {
            // Records of the type, wherever a CNAME chain led.
            let records: Vec<_> = response
                .answers
                .iter()
                .filter(|r| r.record_type() == rtype)
                .map(|r| r.data.clone())
                .collect();
            Ok(if records.is_empty() {
                Answer::NoData
            } else {
                Answer::Records(records)
            })
        }
        ResponseCode::NXDomain => Ok(Answer::NxDomain),
        code => Err(format!("answered {}", rcode_text(code))),
    }
}

fn rcode_text(code: ResponseCode) -> String {
    match code {
        ResponseCode::ServFail => "SERVFAIL (the server could not resolve it)".into(),
        ResponseCode::Refused => "REFUSED (the server will not answer this question)".into(),
        other => format!("{other}").to_uppercase(),
    }
}

fn failure(e: NetError, timeout: Duration) -> String {
    match e {
        NetError::Timeout => format!("no answer within {} s", timeout.as_secs_f32()),
        NetError::Dns(DnsError::ResponseCode(code)) => format!("answered {}", rcode_text(code)),
        NetError::Io(io) => format!("{io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_servers_in_order() {
        let text = b"# comment\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver 192.0.2.53\nsearch example.com\noptions timeout:2 attempts:3\n";
        let r = Resolvers::from_resolv_conf(text, None).unwrap();
        let want: Vec<SocketAddr> = vec![
            "192.0.2.53:53".parse().unwrap(),
            "[2001:db8::53]:53".parse().unwrap(),
        ];
        assert_eq!(r.servers, want);
        assert_eq!(r.timeout, Duration::from_secs(2));
        let r = Resolvers::from_resolv_conf(text, Some(Duration::from_secs(7))).unwrap();
        assert_eq!(r.timeout, Duration::from_secs(7));
        // No name server: an error that names the file (not "ask nobody").
        let e = Resolvers::from_resolv_conf(b"search example.com\n", None).unwrap_err();
        assert!(e.to_string().contains("/etc/resolv.conf"), "{e}");
    }
}
