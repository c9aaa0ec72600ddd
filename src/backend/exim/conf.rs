//! The view of `exim.conf`: every setting decided for one host, from the
//! model, its [`Install`], its [`Tables`] and Dovecot's [`Sockets`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::tables::Tables;
use crate::backend::install::{Install, Listen};
use crate::backend::shared::Sockets;
use crate::model::Host;

/// How Exim writes the recipient's address in a reply: lowercased, as
/// `mailc route` does.
const ADDRESS: &str = "${lc:$local_part@$domain}";

/// Everything `exim.conf` prints, decided.
#[derive(Serialize)]
pub struct EximConf {
    host: String,
    hostname: String,
    config_dir: String,
    exim_path: String,
    user: String,
    group: String,
    spool_dir: String,
    log: String,
    /// `local_interfaces`; none: every address.
    interfaces: Option<String>,
    /// `daemon_smtp_ports`.
    ports: String,
    /// Implicit TLS (RFC 8314).
    submissions_port: u16,
    /// Ports where a client must log in before any RCPT.
    submission_ports: String,
    /// Clients trusted to relay (loopback in production), as a host list;
    /// empty: none.
    relay_from_hosts: String,
    tls_cert: String,
    tls_key: String,
    lmtp_socket: String,
    auth_socket: String,
    /// Each lookup file's installed path, by name.
    files: BTreeMap<&'static str, String>,
    replies: Replies,
    /// A test root: the primary, a relay and this host share 127.0.0.1, so
    /// routing to it is no loop (`self = send`, `allow_localhost`).
    loopback: bool,
    /// When the authenticators offer themselves: after TLS, on the
    /// submission ports.
    auth_advertise: String,
    srs: Option<Srs>,
    dkim: Option<Dkim>,
    relays: Vec<super::relay::EximRelay>,
    /// The relay id a sender's mail leaves through (empty: none), as an
    /// expansion; none when the host uses no relay.
    sender_relay: Option<String>,
    /// The sending limits, when a login of this host has one.
    send_limits: Option<SendLimits>,
}

/// The sending limits' lookup file and refusals, with Exim's expansions.
#[derive(Serialize)]
struct SendLimits {
    file: String,
    /// By `messages`/`recipients`, then `mailbox`/`domain`.
    replies: BTreeMap<&'static str, BTreeMap<&'static str, String>>,
}

/// The SMTP replies Exim gives, with Exim expansions for the address.
/// Worded as `mailc route` words them (and as the Postfix backend's
/// replies read).
#[derive(Serialize)]
struct Replies {
    unknown: String,
    null_mx: String,
    mail_off: String,
    relay_denied: String,
    auth_required: String,
    not_owned: String,
}

#[derive(Serialize)]
struct Srs {
    secret_file: String,
    /// The forwarded mail's envelope sender: SRS-encoded into the
    /// forwarding domain when that domain asks for SRS, unless empty (a
    /// bounce) or of this host's own domains; else unchanged (a forced
    /// failure of the expansion keeps it).
    return_path: String,
}

/// The `dkim_*` options of the smtp transports.
#[derive(Serialize)]
pub struct Dkim {
    domain: String,
    selector: String,
    private_key: String,
}

impl Dkim {
    /// Signs mail from a login or from this host itself (never what merely
    /// passes through) for its From domain, with each selector of that
    /// domain in `selectors_file` and the key `keys_file` names for it.
    pub fn new(selectors_file: &str, keys_file: &str) -> Dkim {
        let from = "${lc:${domain:$h_from:}}";
        Dkim {
            domain: [
                "${if or{{def:authenticated_id}{eq{$sender_host_address}{}}}{${lookup{",
                from,
                "}lsearch{",
                selectors_file,
                "}{",
                from,
                "}}}}",
            ]
            .concat(),
            selector: format!("${{lookup{{$dkim_domain}}lsearch{{{selectors_file}}}}}"),
            private_key: format!(
                "${{lookup{{$dkim_selector._domainkey.$dkim_domain}}lsearch{{{keys_file}}}{{$value}}{{0}}}}"
            ),
        }
    }
}

impl EximConf {
    pub fn new(
        host: &Host,
        install: &Install,
        tables: &Tables,
        sockets: &Sockets,
        dkim: Option<Dkim>,
        relays: &super::relay::Relays,
    ) -> EximConf {
        let (interfaces, relay_from_hosts) = match install.listen {
            Listen::Public { ipv6: true } => (None, "<; 127.0.0.1 ; ::1"),
            Listen::Public { ipv6: false } => (None, "127.0.0.1"),
            // A test root trusts no client: the suite plays the Internet
            // from the loopback address.
            Listen::Loopback => (Some("127.0.0.1".to_string()), ""),
        };
        let p = install.ports;
        let files = tables
            .files()
            .iter()
            .map(|(f, _)| (f.file, format!("{}/{}", install.exim_dir, f.file)))
            .collect();
        EximConf {
            host: host.key.clone(),
            hostname: host.hostname.clone(),
            config_dir: install.exim_dir.clone(),
            exim_path: install.exim_path.clone(),
            user: install.exim_user.clone(),
            group: install.exim_group.clone(),
            spool_dir: install.exim_spool_dir.clone(),
            log: install.exim_log.clone(),
            interfaces,
            ports: format!("{} : {} : {}", p.smtp, p.submission, p.submissions),
            submissions_port: p.submissions,
            submission_ports: format!("{} : {}", p.submission, p.submissions),
            relay_from_hosts: relay_from_hosts.into(),
            tls_cert: install.tls_cert.clone(),
            tls_key: install.tls_key.clone(),
            lmtp_socket: sockets.lmtp.clone(),
            auth_socket: sockets.auth.clone(),
            files,
            replies: Replies {
                unknown: crate::reply::unknown(ADDRESS),
                null_mx: crate::reply::null_mx(ADDRESS, "$domain"),
                mail_off: crate::reply::mail_off(ADDRESS, "$domain"),
                relay_denied: crate::reply::relay_denied(554, ADDRESS),
                auth_required: crate::reply::AUTH_REQUIRED.into(),
                not_owned: crate::reply::EXIM_NOT_OWNED.into(),
            },
            loopback: install.listen == Listen::Loopback,
            auth_advertise: format!(
                "${{if and{{{{def:tls_in_cipher}}{{inlist{{$received_port}}{{{} : {}}}}}}}}}",
                p.submission, p.submissions
            ),
            srs: (!tables.srs_domains.is_empty()).then(|| Srs {
                secret_file: install.exim_srs_secret.clone(),
                return_path: "${if and{{match_domain{$original_domain}{+srs_domains}}{!eq{$return_path}{}}{!match_domain{${domain:$return_path}}{+local_domains}}}{${srs_encode{SRS_SECRET}{$return_path}{$original_domain}}}fail}".into(),
            }),
            dkim,
            sender_relay: (!relays.relays.is_empty()).then(|| {
                let file = format!("{}/relay_senders", install.exim_dir);
                let default = &relays.default;
                if relays.senders.is_empty() {
                    default.clone()
                } else {
                    // The sender's address, then its domain, then the
                    // host's own relay.
                    format!(
                        "${{lookup{{${{lc:$sender_address}}}}lsearch{{{file}}}{{$value}}{{${{lookup{{${{lc:${{domain:$sender_address}}}}}}lsearch{{{file}}}{{$value}}{{{default}}}}}}}}}"
                    )
                }
            }),
            relays: relays.relays.clone(),
            send_limits: None,
        }
    }

    /// With the ACL conditions of the sending limits, reading
    /// [`SEND_LIMITS`](super::SEND_LIMITS) in the config folder.
    pub fn with_send_limits(mut self, any: bool) -> EximConf {
        let login = "${lc:$authenticated_id}";
        let domain = "${domain:${lc:$authenticated_id}}";
        self.send_limits = any.then(|| SendLimits {
            file: format!("{}/{}", self.config_dir, super::SEND_LIMITS),
            replies: ["messages", "recipients"]
                .into_iter()
                .map(|kind| {
                    let reply = |var: &str, d: Option<&str>| {
                        let limit = format!("${{extract{{{kind}}}{{{var}}}}}");
                        crate::reply::send_limit(login, kind, &limit, d)
                    };
                    let whose = [
                        ("mailbox", reply("$acl_m_limits", None)),
                        ("domain", reply("$acl_m_domain_limits", Some(domain))),
                    ];
                    (kind, whose.into_iter().collect())
                })
                .collect(),
        });
        self
    }
}
