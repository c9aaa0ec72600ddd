//! DNS over TCP with one authoritative server, every message signed with
//! TSIG (RFC 8945) and every answer's signature checked: zone transfers
//! (AXFR, RFC 5936), SOA queries and dynamic updates (RFC 2136).
//!
//! TCP (RFC 1035 §4.2.2, two length bytes before each message) for
//! everything: a transfer needs it, and an UPDATE or answer never meets a
//! UDP size limit. Blocking I/O with a timeout on every read and write: a
//! push is a handful of exchanges per zone.
//!
//! What a server answers besides NOERROR becomes a [`WireError`] that says
//! why in words — the TSIG error (BADSIG, BADKEY, BADTIME) when the server
//! gave one — and never holds a key or secret.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::rdata::tsig::{TsigAlgorithm, TsigError};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigVerifier, TSigner};

/// How long a signature stays valid either side of its time (RFC 8945
/// §10: 300 s is recommended).
const FUDGE: u16 = 300;

/// A transfer holding more records than this is refused (a guard against
/// a server that never ends one).
const MAX_RECORDS: usize = 5_000_000;

/// One authoritative server and the key to talk to it with.
#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    pub key: Option<TSigner>,
    /// For connecting, and for each read and write.
    pub timeout: Duration,
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("the connection failed: {0}")]
    Io(io::Error),
    /// The server answered with an error code.
    #[error("answered {0}")]
    Answered(Refusal),
    #[error("the answer is not signed with the TSIG key; it is not trusted")]
    Unsigned,
    #[error("the answer's TSIG signature does not verify ({0}); it is not trusted")]
    BadSignature(String),
    #[error("the answer cannot be read: {0}")]
    Malformed(String),
    #[error("the message is too large for DNS over TCP ({0} bytes)")]
    TooLarge(usize),
}

/// A server's error answer: its response code, and the TSIG error it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub rcode: ResponseCode,
    pub tsig: Option<TsigError>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = rcode_name(self.rcode);
        match self.tsig {
            Some(TsigError::BadSig) => write!(
                f,
                "{code} (BADSIG: the server does not accept the TSIG signature: the key's secret differs from the server's)"
            ),
            Some(TsigError::BadKey) => write!(
                f,
                "{code} (BADKEY: the server knows no TSIG key of this name and algorithm)"
            ),
            Some(TsigError::BadTime) => write!(
                f,
                "{code} (BADTIME: this machine's clock and the server's differ by more than {FUDGE} s)"
            ),
            Some(other) => write!(f, "{code} (TSIG error {})", u16::from(other)),
            None => match self.rcode {
                ResponseCode::Refused => write!(
                    f,
                    "{code} (the server does not allow it: the key, this address or the zone is not permitted)"
                ),
                ResponseCode::NotAuth => write!(
                    f,
                    "{code} (the server is not authoritative for the zone, or does not accept the key)"
                ),
                ResponseCode::NXRRSet => write!(
                    f,
                    "{code} (the zone changed since it was read: the SOA serial prerequisite failed)"
                ),
                ResponseCode::ServFail => write!(f, "{code} (the server could not do it)"),
                ResponseCode::NotZone => write!(f, "{code} (a record lies outside the zone)"),
                _ => f.write_str(&code),
            },
        }
    }
}

fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::YXDomain => "YXDOMAIN".into(),
        ResponseCode::YXRRSet => "YXRRSET".into(),
        ResponseCode::NXRRSet => "NXRRSET".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("response code {}", u16::from(other)),
    }
}

/// A key's algorithm in hickory's terms.
pub fn algorithm(a: crate::vocab::TsigAlgorithm) -> TsigAlgorithm {
    match a {
        crate::vocab::TsigAlgorithm::HmacSha256 => TsigAlgorithm::HmacSha256,
        crate::vocab::TsigAlgorithm::HmacSha512 => TsigAlgorithm::HmacSha512,
    }
}

/// A TSIG signer for a key.
pub fn signer(
    name: &str,
    alg: crate::vocab::TsigAlgorithm,
    secret: Vec<u8>,
) -> Result<TSigner, String> {
    let name = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| format!("`{name}` is not a key name: {e}"))?;
    TSigner::new(secret, algorithm(alg), name, FUDGE).map_err(|e| e.to_string())
}

/// A zone as transferred: its SOA and every other record.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub soa: Record,
    pub records: Vec<Record>,
}

impl Transfer {
    pub fn serial(&self) -> u32 {
        match &self.soa.data {
            RData::SOA(s) => s.serial,
            _ => 0,
        }
    }
}

/// One connection, with the state of a signed exchange.
struct Conn {
    stream: TcpStream,
    timeout: Duration,
}

impl Conn {
    fn open(server: &Server) -> Result<Conn, WireError> {
        let stream =
            TcpStream::connect_timeout(&server.addr, server.timeout).map_err(WireError::Connect)?;
        stream
            .set_read_timeout(Some(server.timeout))
            .and_then(|()| stream.set_write_timeout(Some(server.timeout)))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(WireError::Io)?;
        Ok(Conn {
            stream,
            timeout: server.timeout,
        })
    }

    fn io(&self, e: io::Error) -> WireError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                WireError::Timeout(self.timeout.as_secs().max(1))
            }
            _ => WireError::Io(e),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let len = u16::try_from(bytes.len()).map_err(|_| WireError::TooLarge(bytes.len()))?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(bytes);
        self.stream.write_all(&framed).map_err(|e| self.io(e))
    }

    fn receive(&mut self) -> Result<Vec<u8>, WireError> {
        let mut len = [0u8; 2];
        self.stream.read_exact(&mut len).map_err(|e| self.io(e))?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.stream.read_exact(&mut buf).map_err(|e| self.io(e))?;
        Ok(buf)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs `msg` when there is a key; the verifier for its answers.
fn finish(msg: &mut Message, key: Option<&TSigner>) -> Result<Option<TSigVerifier>, WireError> {
    match key {
        None => Ok(None),
        Some(k) => msg
            .finalize(k, now())
            .map_err(|e| WireError::Malformed(format!("cannot sign the message: {e}"))),
    }
}

/// Reads one answer to `id`: an error code becomes [`WireError::Answered`]
/// (its TSIG error read, the signature of an error not required); a
/// NOERROR answer must carry a valid signature when a key was used.
fn answer(
    conn: &mut Conn,
    id: u16,
    verifier: Option<&mut TSigVerifier>,
) -> Result<Message, WireError> {
    let bytes = conn.receive()?;
    let msg = Message::from_vec(&bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
    if msg.metadata.id != id || msg.metadata.message_type != MessageType::Response {
        return Err(WireError::Malformed(
            "the answer does not belong to the question".into(),
        ));
    }
    let tsig_error = msg.signature().and_then(|s| s.data.error);
    if msg.metadata.response_code != ResponseCode::NoError || tsig_error.is_some() {
        return Err(WireError::Answered(Refusal {
            rcode: msg.metadata.response_code,
            tsig: tsig_error,
        }));
    }
    if let Some(v) = verifier {
        if msg.signature().is_none() {
            return Err(WireError::Unsigned);
        }
        v.verify(&bytes)
            .map_err(|e| WireError::BadSignature(e.to_string()))?;
    }
    Ok(msg)
}

fn question(zone: &Name, rtype: RecordType) -> Message {
    let mut q = Query::new();
    q.set_name(zone.clone())
        .set_query_class(DNSClass::IN)
        .set_query_type(rtype);
    let mut msg = Message::query();
    msg.metadata.recursion_desired = false;
    msg.add_query(q);
    msg
}

impl Server {
    /// The zone's SOA record, asked of the server itself.
    pub fn soa(&self, zone: &Name) -> Result<Record, WireError> {
        let mut conn = Conn::open(self)?;
        let mut msg = question(zone, RecordType::SOA);
        let mut verifier = finish(&mut msg, self.key.as_ref())?;
        conn.send(
            &msg.to_vec()
                .map_err(|e| WireError::Malformed(e.to_string()))?,
        )?;
        let reply = answer(&mut conn, msg.metadata.id, verifier.as_mut())?;
        reply
            .answers
            .into_iter()
            .find(|r| r.record_type() == RecordType::SOA)
            .ok_or_else(|| {
                WireError::Malformed("the server gave no SOA record for the zone".into())
            })
    }

    /// The whole zone (RFC 5936): the SOA, then every record, until the SOA
    /// comes again. With a key every message of the answer must be signed
    /// (BIND, Knot and PowerDNS sign each one).
    pub fn axfr(&self, zone: &Name) -> Result<Transfer, WireError> {
        let mut conn = Conn::open(self)?;
        let mut msg = question(zone, RecordType::AXFR);
        let mut verifier = finish(&mut msg, self.key.as_ref())?;
        conn.send(
            &msg.to_vec()
                .map_err(|e| WireError::Malformed(e.to_string()))?,
        )?;
        let mut soa: Option<Record> = None;
        let mut records = Vec::new();
        loop {
            let reply = answer(&mut conn, msg.metadata.id, verifier.as_mut())?;
            if reply.answers.is_empty() {
                return Err(WireError::Malformed(
                    "the transfer ended without its closing SOA".into(),
                ));
            }
            for r in reply.answers {
                if r.record_type() == RecordType::SOA {
                    match soa {
                        None => {
                            soa = Some(r);
                            continue;
                        }
                        Some(first) => {
                            return Ok(Transfer {
                                soa: first,
                                records,
                            });
                        }
                    }
                }
                if soa.is_none() {
                    return Err(WireError::Malformed(
                        "the transfer does not start with the zone's SOA".into(),
                    ));
                }
                if r.dns_class == DNSClass::IN {
                    records.push(r);
                }
                if records.len() > MAX_RECORDS {
                    return Err(WireError::Malformed(format!(
                        "the transfer holds more than {MAX_RECORDS} records"
                    )));
                }
            }
        }
    }

    /// Sends one UPDATE (RFC 2136 §2): `prerequisites` (RFC 2136 §2.4)
    /// and `updates` (§2.5) for `zone`. The server applies all of it or
    /// nothing (§3.7).
    pub fn update(
        &self,
        zone: &Name,
        prerequisites: Vec<Record>,
        updates: Vec<Record>,
    ) -> Result<(), WireError> {
        let mut conn = Conn::open(self)?;
        // A random ID (`Message::query` draws one), as every other question.
        let mut msg = Message::query();
        msg.metadata.op_code = OpCode::Update;
        msg.metadata.recursion_desired = false;
        let mut z = Query::new();
        z.set_name(zone.clone())
            .set_query_class(DNSClass::IN)
            .set_query_type(RecordType::SOA);
        msg.add_query(z);
        msg.answers = prerequisites;
        msg.authorities = updates;
        let mut verifier = finish(&mut msg, self.key.as_ref())?;
        conn.send(
            &msg.to_vec()
                .map_err(|e| WireError::Malformed(e.to_string()))?,
        )?;
        answer(&mut conn, msg.metadata.id, verifier.as_mut()).map(|_| ())
    }
}

/// RFC 2136 §2.4.2: "RRset exists (value dependent)": the zone's SOA is
/// exactly `soa`, so an UPDATE made against an older read fails with
/// NXRRSET instead of overwriting a change made since.
pub fn soa_prerequisite(zone: &Name, soa: &SOA) -> Record {
    let mut r = Record::from_rdata(zone.clone(), 0, RData::SOA(soa.clone()));
    r.dns_class = DNSClass::IN;
    r
}

/// RFC 2136 §2.5.2: delete an RRset.
pub fn delete_rrset(owner: &Name, rtype: RecordType) -> Record {
    let mut r = Record::update0(owner.clone(), 0, rtype);
    r.dns_class = DNSClass::ANY;
    r
}

/// RFC 2136 §2.5.4: delete one record, matched by its data.
pub fn delete_record(owner: &Name, data: &RData) -> Record {
    let mut r = Record::from_rdata(owner.clone(), 0, data.clone());
    r.dns_class = DNSClass::NONE;
    r
}

/// RFC 2136 §2.5.1: add one record.
pub fn add_record(owner: &Name, ttl: u32, data: &RData) -> Record {
    Record::from_rdata(owner.clone(), ttl, data.clone())
}

/// The encoded size of a record, to keep an UPDATE inside one TCP message.
pub fn encoded_len(r: &Record) -> usize {
    use hickory_proto::serialize::binary::BinEncodable;
    r.to_bytes().map_or(512, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_why() {
        let r = Refusal {
            rcode: ResponseCode::NotAuth,
            tsig: Some(TsigError::BadSig),
        };
        assert!(r.to_string().starts_with("NOTAUTH (BADSIG: "));
        let r = Refusal {
            rcode: ResponseCode::NXRRSet,
            tsig: None,
        };
        assert!(r.to_string().contains("SOA serial prerequisite failed"));
    }

    #[test]
    fn a_server_that_is_not_there_is_a_connect_error() {
        // A port nobody listens on: the connection is refused at once.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let s = Server {
            addr,
            key: None,
            timeout: Duration::from_secs(5),
        };
        let e = s
            .axfr(&Name::from_ascii("example.com.").unwrap())
            .unwrap_err();
        assert!(matches!(e, WireError::Connect(_)), "{e}");
    }
}
