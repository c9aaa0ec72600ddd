//! The Postfix side of the `postfix-dovecot` stack: `postfix/HOST/` for every
//! such host — `main.cf`, `master.cf`, the lookup tables as plain text for
//! `postmap` (decided in [`tables`]), and `postsrsd` when the host forwards
//! for a domain with SRS.
//!
//! What the host does:
//! - port 25 (MX): receives for its local and backup domains, refuses at RCPT
//!   what `mailc route` refuses, relays only for authenticated clients and
//!   `mynetworks` (loopback);
//! - 587 (STARTTLS) and 465 (implicit TLS): submission with SASL through
//!   Dovecot's auth socket, TLS required; a login sends only as its own
//!   addresses (`sender_logins`: its mailbox address and its aliases);
//! - local mailboxes go to Dovecot over LMTP (`private/dovecot-lmtp` in the
//!   queue, where [`dovecot`](super::dovecot) puts its socket);
//! - hosts that sign DKIM for a domain (local for it, with a private key that
//!   signs) hand mail to OpenDKIM as a milter;
//! - hosts local for a domain with `srs: true` run postsrsd, which rewrites
//!   the envelope sender of mail from outside senders (so forwarded mail keeps
//!   passing SPF); senders of the host's own domains are left alone.
//!
//! Paths, ports and users come from the host's [`Install`]: production or a
//! test root, through the same templates.

pub mod tables;

use serde::Serialize;

use super::Context;
use super::install::{Install, Listen};
use super::template::render;
use crate::model::{DkimSource, Host, Model, Role, Stack};
use crate::output::{Output, OutputFile};
use tables::{Table, Tables};

/// Postfix's name for Dovecot's LMTP socket, relative to the queue directory.
pub const LMTP_SOCKET: &str = "private/dovecot-lmtp";
/// Postfix's name for Dovecot's auth socket, relative to the queue directory.
pub const AUTH_SOCKET: &str = "private/auth";
/// The owner of addresses no login owns (see `smtpd_sender_login_maps`).
const NOBODY: &str = "(unowned)";

/// The lookup tables in `main.cf` order: file, parameter, what it holds.
const MAPS: [(&str, &str, &str); 8] = [
    (
        "virtual_domains",
        "virtual_mailbox_domains",
        "domains delivered here",
    ),
    (
        "virtual_mailboxes",
        "virtual_mailbox_maps",
        "addresses that reach a mailbox here",
    ),
    (
        "virtual_aliases",
        "virtual_alias_maps",
        "aliases, catch-alls, and each mailbox mapped to itself",
    ),
    (
        "relay_domains",
        "relay_domains",
        "domains this host is backup MX for",
    ),
    (
        "relay_recipients",
        "relay_recipient_maps",
        "what the backup accepts: what the primary would",
    ),
    (
        "transport",
        "transport_maps",
        "next hops that differ from the default",
    ),
    (
        "recipient_access",
        "check_recipient_access",
        "recipients refused at RCPT, with the reply",
    ),
    (
        "sender_logins",
        "smtpd_sender_login_maps",
        "sender address -> the login that owns it",
    ),
];

/// Writes `postfix/HOST/` for every `postfix-dovecot` host.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output) {
    for host in model.hosts.values() {
        if host.stack == Stack::PostfixDovecot {
            compile_host(model, ctx, host, out);
        }
    }
}

fn compile_host(model: &Model, ctx: &dyn Context, host: &Host, out: &mut Output) {
    let install = ctx.install(host);
    let lmtp = format!("lmtp:unix:{LMTP_SOCKET}");
    let primary = |hostname: &str| -> String {
        match model.hosts.values().find(|h| h.hostname == hostname) {
            Some(ours) => ctx.install(ours).smtp_nexthop(),
            None => format!("[{hostname}]:25"),
        }
    };
    let t = tables::build(
        model,
        &host.key,
        &tables::Hops {
            lmtp: &lmtp,
            primary: &primary,
        },
    );
    let dir = format!("postfix/{}", host.key);
    let srs = srs(model, host, &install);
    let main = MainCf::new(model, host, &install, &lmtp, srs.as_ref());
    out.insert(
        format!("{dir}/main.cf"),
        OutputFile::public(render("postfix/main.cf.j2", &main)),
    );
    out.insert(
        format!("{dir}/master.cf"),
        OutputFile::public(render(
            "postfix/master.cf.j2",
            &MasterCf::new(host, &install),
        )),
    );
    for (file, parameter, what) in MAPS {
        let view = MapView {
            host: &host.key,
            config_dir: &install.postfix_dir,
            file,
            parameter,
            what,
            rows: rows(table(&t, file)),
        };
        out.insert(
            format!("{dir}/{file}"),
            OutputFile::public(render("postfix/map.j2", &view)),
        );
    }
    if let Some(srs) = srs {
        out.insert(
            format!("{dir}/postsrsd"),
            OutputFile::public(render("postfix/postsrsd.j2", &srs)),
        );
    }
}

fn table<'a>(t: &'a Tables, file: &str) -> &'a Table {
    match file {
        "virtual_domains" => &t.virtual_domains,
        "virtual_mailboxes" => &t.virtual_mailboxes,
        "virtual_aliases" => &t.virtual_aliases,
        "relay_domains" => &t.relay_domains,
        "relay_recipients" => &t.relay_recipients,
        "transport" => &t.transport,
        "recipient_access" => &t.recipient_access,
        _ => &t.sender_logins,
    }
}

#[derive(Serialize)]
struct Row<'a> {
    key: &'a str,
    value: &'a str,
}

fn rows(t: &Table) -> Vec<Row<'_>> {
    t.iter().map(|(key, value)| Row { key, value }).collect()
}

#[derive(Serialize)]
struct MapView<'a> {
    host: &'a str,
    config_dir: &'a str,
    file: &'a str,
    parameter: &'a str,
    what: &'a str,
    rows: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct MapRef {
    file: &'static str,
    parameter: &'static str,
    what: &'static str,
}

/// Everything `main.cf` prints, decided.
#[derive(Serialize)]
struct MainCf {
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
    tables: Vec<MapRef>,
    lmtp: String,
    sasl_path: String,
    nobody: &'static str,
    tls_cert: String,
    tls_key: String,
    milter: Option<String>,
    srs: Option<SrsPorts>,
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
    fn new(
        model: &Model,
        host: &Host,
        install: &Install,
        lmtp: &str,
        srs: Option<&Postsrsd>,
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
            postmap: MAPS.iter().map(|(file, ..)| *file).collect(),
            tables: MAPS
                .iter()
                .filter(|(file, ..)| !matches!(*file, "recipient_access" | "sender_logins"))
                .map(|&(file, parameter, what)| MapRef {
                    file,
                    parameter,
                    what,
                })
                .collect(),
            lmtp: lmtp.into(),
            sasl_path: AUTH_SOCKET.into(),
            nobody: NOBODY,
            tls_cert: install.tls_cert.clone(),
            tls_key: install.tls_key.clone(),
            milter: signs(model, &host.key).then(|| install.dkim_milter.clone()),
            srs: srs.map(|s| SrsPorts {
                forward: s.forward,
                reverse: s.reverse,
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

/// Everything `master.cf` prints, decided.
#[derive(Serialize)]
struct MasterCf {
    host: String,
    hostname: String,
    /// Service names: the well-known name on its standard port, else the
    /// port number.
    smtp: String,
    submission: String,
    submissions: String,
    submission_options: Vec<&'static str>,
}

/// `-o` overrides of both submission services.
const SUBMISSION_OPTIONS: [&str; 6] = [
    "smtpd_sasl_auth_enable=yes",
    "smtpd_tls_auth_only=yes",
    "smtpd_client_restrictions=permit_sasl_authenticated,reject",
    "smtpd_sender_restrictions=reject_sender_login_mismatch",
    "smtpd_relay_restrictions=permit_sasl_authenticated,reject",
    "milter_macro_daemon_name=ORIGINATING",
];

impl MasterCf {
    fn new(host: &Host, install: &Install) -> MasterCf {
        let service = |name: &str, standard: u16, port: u16| {
            if port == standard {
                name.to_string()
            } else {
                port.to_string()
            }
        };
        let p = install.ports;
        MasterCf {
            host: host.key.clone(),
            hostname: host.hostname.clone(),
            smtp: service("smtp", 25, p.smtp),
            submission: service("submission", 587, p.submission),
            submissions: service("submissions", 465, p.submissions),
            submission_options: SUBMISSION_OPTIONS.to_vec(),
        }
    }
}

/// postsrsd's settings (`/etc/default/postsrsd`).
#[derive(Serialize)]
struct Postsrsd {
    host: String,
    hostname: String,
    /// The domain rewritten senders get: the first SRS domain the host is
    /// local for (its SPF lists this host).
    domain: String,
    /// Every domain the host is local for: their senders stay.
    exclude: String,
    secret: String,
    forward: u16,
    reverse: u16,
    user: String,
    chroot: String,
}

fn srs(model: &Model, host: &Host, install: &Install) -> Option<Postsrsd> {
    let local: Vec<&str> = model
        .domains
        .values()
        .filter(|d| d.roles.get(&host.key) == Some(&Role::Local))
        .map(|d| d.name.as_str())
        .collect();
    let domain = model
        .domains
        .values()
        .find(|d| d.srs && d.roles.get(&host.key) == Some(&Role::Local))?;
    Some(Postsrsd {
        host: host.key.clone(),
        hostname: host.hostname.clone(),
        domain: domain.name.clone(),
        exclude: local.join(","),
        secret: install.srs_secret.clone(),
        forward: install.srs_ports.0,
        reverse: install.srs_ports.1,
        user: install.srs_user.clone(),
        chroot: install.srs_chroot.clone(),
    })
}
