//! The view of `main.cf`: every parameter decided for one host, from the
//! model, its [`Install`] and its [`Tables`].

use serde::Serialize;

use super::LMTP_TRANSPORT;
use super::relay::RelayConf;
use super::srs::Postsrsd;
use super::tables::{TableFile, Tables};
use crate::backend::install::{Install, Listen};
use crate::backend::shared::AUTH_SOCKET;
use crate::model::{DkimSource, Host, Model, Role};

/// The owner of addresses no login owns (see `smtpd_sender_login_maps`).
const NOBODY: &str = "(unowned)";

/// Everything `main.cf` prints, decided.
#[derive(Serialize)]
pub struct MainCf {
    host: String,
    hostname: String,
    config_dir: String,
    mydestination: String,
    /// Clients trusted to relay; none when empty.
    mynetworks: Option<String>,
    inet_interfaces: String,
    inet_protocols: String,
    queue_dir: String,
    data_dir: String,
    /// A log file instead of syslog.
    log: Option<Log>,
    /// `hash:/etc/aliases`, or none: no local aliases.
    alias_maps: Option<String>,
    /// Every table file, to build with `postmap`.
    postmap: Vec<&'static str>,
    /// The tables that are a parameter's whole value (the other two sit in
    /// a restriction and beside a fallback).
    tables: Vec<TableFile>,
    lmtp: String,
    sasl_path: String,
    nobody: &'static str,
    tls_cert: String,
    tls_key: String,
    milter: Option<String>,
    srs: Option<SrsPorts>,
    /// Outbound relays, when the host uses any.
    relay: Option<RelayView>,
}

#[derive(Serialize)]
struct RelayView {
    relayhost: String,
    default_transport: Option<&'static str>,
    sasl: bool,
    sender_auth: bool,
    tables: Vec<TableFile>,
}

#[derive(Serialize)]
struct Log {
    file: String,
    prefixes: String,
}

#[derive(Serialize)]
struct SrsPorts {
    forward: u16,
    reverse: u16,
}

impl MainCf {
    pub fn new(
        model: &Model,
        host: &Host,
        install: &Install,
        tables: &Tables,
        srs: Option<&Postsrsd>,
        relays: &RelayConf,
    ) -> MainCf {
        // Local system mail is for the host's own name, unless the spec
        // makes that name a mail domain: a domain is never both local(8)
        // and virtual.
        let mydestination = if model.domains.contains_key(&host.hostname) {
            "localhost".to_string()
        } else {
            "$myhostname, localhost".to_string()
        };
        let (inet_interfaces, inet_protocols, mynetworks) = match install.listen {
            Listen::Public { ipv6: true } => ("all", "all", Some("127.0.0.0/8, [::1]/128")),
            Listen::Public { ipv6: false } => ("all", "ipv4", Some("127.0.0.0/8")),
            // A test root trusts no client: the suite plays the Internet
            // from the loopback address.
            Listen::Loopback => ("127.0.0.1", "ipv4", None),
        };
        let log = (!install.postfix_log.is_empty()).then(|| Log {
            file: install.postfix_log.clone(),
            prefixes: format!("{}, /dev/stdout", parent(&install.postfix_log)),
        });
        MainCf {
            host: host.key.clone(),
            hostname: host.hostname.clone(),
            config_dir: install.postfix_dir.clone(),
            mydestination,
            mynetworks: mynetworks.map(String::from),
            inet_interfaces: inet_interfaces.into(),
            inet_protocols: inet_protocols.into(),
            queue_dir: install.postfix_queue_dir.clone(),
            data_dir: install.postfix_data_dir.clone(),
            log,
            alias_maps: install.system_aliases.as_ref().map(|a| format!("hash:{a}")),
            postmap: tables
                .files()
                .iter()
                .map(|(f, _)| f.file)
                .chain(relays.tables.iter().map(|t| t.file.file))
                .collect(),
            tables: tables
                .files()
                .into_iter()
                .map(|(f, _)| f)
                .filter(|f| !matches!(f.file, "recipient_access" | "sender_logins"))
                .collect(),
            lmtp: LMTP_TRANSPORT.into(),
            sasl_path: AUTH_SOCKET.into(),
            nobody: NOBODY,
            tls_cert: install.tls_cert.clone(),
            tls_key: install.tls_key.clone(),
            milter: signs(model, &host.key).then(|| install.dkim_milter.clone()),
            srs: srs.map(|s| SrsPorts {
                forward: s.forward,
                reverse: s.reverse,
            }),
            relay: (!relays.tables.is_empty() || !relays.relayhost.is_empty()).then(|| RelayView {
                relayhost: relays.relayhost.clone(),
                default_transport: relays.default_transport,
                sasl: relays.sasl,
                sender_auth: relays.sender_auth,
                tables: relays.tables.iter().map(|t| t.file).collect(),
            }),
        }
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(dir, _)| dir)
}

/// Whether `host` signs DKIM for some domain: it is local for it and holds a
/// private key that signs (the DKIM backend writes the signer's config).
fn signs(model: &Model, host: &str) -> bool {
    model.domains.values().any(|d| {
        d.roles.get(host) == Some(&Role::Local)
            && d.dkim
                .iter()
                .any(|k| k.sign && matches!(k.source, DkimSource::PrivateKey(_)))
    })
}
