//! Where a host's mail services live and listen once its configs are
//! installed: an [`Install`]. The config backends print these paths, ports
//! and users; they never invent their own.
//!
//! Two kinds exist, and the templates cannot tell them apart:
//!
//! - [`Install::production`] (the default of [`Context::install`]): what an
//!   administrator drops into `/etc`. Postfix in `/etc/postfix` with its queue
//!   in `/var/spool/postfix`, Dovecot in `/etc/dovecot`, mail in `/var/vmail`
//!   owned by the user `vmail`, the standard ports (25, 587, 465, 143, 993) on
//!   every address, certificates where certbot puts them
//!   (`/etc/letsencrypt/live/HOSTNAME/`).
//! - a [`TestRoot`]: everything of every host under one folder, listening on
//!   127.0.0.1 only, on high ports (a block of 100 per host), with the mail
//!   store owned by the unprivileged `nobody`. The test suite compiles a spec
//!   this way and starts real Postfix and Dovecot on the very files the
//!   production templates produce.
//!
//! A test root `ROOT` is laid out like an output folder, so compiling into
//! `ROOT` puts each config where its programs look for it:
//!
//! ```text
//! ROOT/postfix/HOST/         Postfix's config_directory (main.cf, master.cf, maps)
//! ROOT/dovecot/HOST/         dovecot.conf, users
//! ROOT/dkim/HOST/            OpenDKIM's opendkim.conf, tables and keys
//! ROOT/exim/HOST/            exim.conf and its lookup files
//! ROOT/var/HOST/queue/       Postfix's queue_directory (Dovecot's LMTP and auth sockets in private/)
//! ROOT/var/HOST/data/        Postfix's data_directory
//! ROOT/var/HOST/maillog      Postfix's log
//! ROOT/var/HOST/dovecot/     Dovecot's base_dir; dovecot-state/ its state_dir; dovecot.log its log
//! ROOT/var/HOST/vmail/       mail homes, DOMAIN/LOCAL/Maildir, owned by nobody
//! ROOT/var/HOST/tls/         cert.pem and key.pem (the test makes them)
//! ROOT/var/HOST/postsrsd.secret, postsrsd/   SRS secret and chroot
//! ROOT/var/HOST/mailc/       the embedded server's store and queue
//! ROOT/var/HOST/exim/        Exim's spool; exim-log/ its logs; exim-srs.secret its SRS secret
//! ROOT/var/HOST/policy/      the counts of `mailc policy` (Postfix's sending limits)
//! ```
//!
//! Ports of a host whose block starts at `B`: SMTP `B+25`, SMTPS `B+65`,
//! submission `B+87`, IMAP `B+43`, IMAPS `B+93`, the DKIM milter `B+91`, SRS
//! `B+1` (forward) and `B+2` (reverse), `mailc policy` `B+40`.
//!
//! [`Context::install`]: super::Context::install

use std::collections::BTreeMap;

use super::Context;
use crate::model::{Host, Model};

/// Where one host's services are installed, and how they are reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Install {
    /// Where `postfix/HOST/` is installed: Postfix's `config_directory`.
    pub postfix_dir: String,
    pub postfix_queue_dir: String,
    pub postfix_data_dir: String,
    /// Postfix's `maillog_file`; empty for syslog.
    pub postfix_log: String,
    /// The system's `/etc/aliases` for local mail (cron, daemons), if any.
    pub system_aliases: Option<String>,
    /// Where `dovecot/HOST/` is installed.
    pub dovecot_dir: String,
    pub dovecot_base_dir: String,
    pub dovecot_state_dir: String,
    /// Dovecot's `log_path`: `syslog` or a file.
    pub dovecot_log: String,
    /// Mail homes are `MAIL_ROOT/DOMAIN/LOCAL`.
    pub mail_root: String,
    /// The owner of the mail store.
    pub vmail_user: String,
    pub vmail_group: String,
    pub listen: Listen,
    pub ports: Ports,
    /// TLS certificate chain and key, PEM.
    pub tls_cert: String,
    pub tls_key: String,
    /// OpenDKIM's socket as Postfix's `smtpd_milters` names it.
    pub dkim_milter: String,
    /// Where `dkim/HOST/` (OpenDKIM's config, tables and keys) is installed.
    pub dkim_dir: String,
    /// OpenDKIM's `PidFile`: where a service manager looks for its process.
    pub dkim_pid_file: String,
    /// postsrsd's forward and reverse lookup ports (on 127.0.0.1).
    pub srs_ports: (u16, u16),
    pub srs_secret: String,
    /// The unprivileged user postsrsd runs as, and its chroot.
    pub srs_user: String,
    pub srs_chroot: String,
    /// How another host reaches this one by SMTP: a name or address, and port.
    pub smtp_address: String,
    /// The embedded server's mail store and queue (`mailc serve --data`).
    pub server_data_dir: String,
    /// Where `exim/HOST/` (exim.conf and its lookup files) is installed.
    pub exim_dir: String,
    /// Exim's `spool_directory` and `log_file_path` (`%s` for the log's kind).
    pub exim_spool_dir: String,
    pub exim_log: String,
    /// The Exim binary (`exim_path`: the daemon re-executes it to deliver).
    pub exim_path: String,
    /// The user and group Exim runs as (Debian's build: `Debian-exim`).
    pub exim_user: String,
    pub exim_group: String,
    /// The file holding Exim's SRS secret (one line).
    pub exim_srs_secret: String,
    /// Where `mailc policy` (Postfix's sending limits) listens, `IP:PORT`.
    pub policy_listen: String,
    /// The counts `mailc policy` keeps.
    pub policy_state: String,
    /// The `mailc` binary the policy service's systemd unit runs.
    pub mailc_path: String,
}

/// The addresses services listen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    /// Every address; IPv6 too when the host has an IPv6 address.
    Public { ipv6: bool },
    /// 127.0.0.1 only.
    Loopback,
}

/// The TCP ports of a host's mail services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// Inbound SMTP (MX).
    pub smtp: u16,
    /// Submission with STARTTLS (RFC 6409).
    pub submission: u16,
    /// Submission with implicit TLS (RFC 8314).
    pub submissions: u16,
    pub imap: u16,
    pub imaps: u16,
    /// POP3 with STLS (RFC 1939, RFC 2595).
    pub pop3: u16,
    /// POP3 with implicit TLS (RFC 8314).
    pub pop3s: u16,
}

impl Ports {
    /// The IANA ports.
    pub const STANDARD: Ports = Ports {
        smtp: 25,
        submission: 587,
        submissions: 465,
        imap: 143,
        imaps: 993,
        pop3: 110,
        pop3s: 995,
    };

    /// The ports of a test-root host whose block starts at `base`.
    pub fn block(base: u16) -> Ports {
        Ports {
            smtp: base + 25,
            submission: base + 87,
            submissions: base + 65,
            imap: base + 43,
            imaps: base + 93,
            pop3: base + 10,
            pop3s: base + 95,
        }
    }
}

impl Install {
    /// `host` installed as its administrator would: `/etc`, standard ports.
    pub fn production(host: &Host) -> Install {
        let live = format!("/etc/letsencrypt/live/{}", host.hostname);
        Install {
            postfix_dir: "/etc/postfix".into(),
            postfix_queue_dir: "/var/spool/postfix".into(),
            postfix_data_dir: "/var/lib/postfix".into(),
            postfix_log: String::new(),
            system_aliases: Some("/etc/aliases".into()),
            dovecot_dir: "/etc/dovecot".into(),
            dovecot_base_dir: "/run/dovecot".into(),
            dovecot_state_dir: "/var/lib/dovecot".into(),
            dovecot_log: "syslog".into(),
            mail_root: "/var/vmail".into(),
            vmail_user: "vmail".into(),
            vmail_group: "vmail".into(),
            listen: Listen::Public {
                ipv6: host.ipv6.is_some(),
            },
            ports: Ports::STANDARD,
            tls_cert: format!("{live}/fullchain.pem"),
            tls_key: format!("{live}/privkey.pem"),
            dkim_milter: "inet:127.0.0.1:8891".into(),
            dkim_dir: "/etc/opendkim".into(),
            dkim_pid_file: "/run/opendkim/opendkim.pid".into(),
            srs_ports: (10001, 10002),
            srs_secret: "/etc/postsrsd.secret".into(),
            srs_user: "postsrsd".into(),
            srs_chroot: "/var/lib/postsrsd".into(),
            smtp_address: host.hostname.clone(),
            server_data_dir: format!("/var/lib/mailc/{}", host.key),
            exim_dir: "/etc/exim4".into(),
            exim_spool_dir: "/var/spool/exim4".into(),
            exim_log: "/var/log/exim4/%slog".into(),
            exim_path: "/usr/sbin/exim4".into(),
            exim_user: "Debian-exim".into(),
            exim_group: "Debian-exim".into(),
            exim_srs_secret: "/etc/exim4/srs.secret".into(),
            policy_listen: "127.0.0.1:10045".into(),
            policy_state: "/var/lib/mailc-policy/send-counts".into(),
            mailc_path: "/usr/local/bin/mailc".into(),
        }
    }

    /// Postfix's next hop for mail relayed to this host: `[NAME]:PORT`
    /// (brackets: this very host, no MX lookup).
    pub fn smtp_nexthop(&self) -> String {
        format!("[{}]:{}", self.smtp_address, self.ports.smtp)
    }
}

/// Every host of a spec under one folder, on 127.0.0.1 and high ports (see
/// the module docs for the layout). Hosts get consecutive blocks of 100
/// ports in key order, starting at `first_port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRoot {
    root: String,
    bases: BTreeMap<String, u16>,
    exim_path: String,
}

impl TestRoot {
    /// # Panics
    ///
    /// When the port blocks would pass 65535 (a test's mistake).
    pub fn new(root: impl Into<String>, model: &Model, first_port: u16) -> TestRoot {
        let bases = model
            .hosts
            .keys()
            .enumerate()
            .map(|(i, key)| {
                let base = u16::try_from(i)
                    .ok()
                    .and_then(|i| i.checked_mul(100))
                    .and_then(|off| first_port.checked_add(off))
                    .filter(|b| *b <= u16::MAX - 100)
                    .expect("test-root port blocks fit below 65535");
                (key.clone(), base)
            })
            .collect();
        TestRoot {
            root: root.into().trim_end_matches('/').to_string(),
            bases,
            exim_path: "/usr/sbin/exim4".into(),
        }
    }

    /// The same root, with Exim's binary at `path` (the daemon re-executes
    /// itself from there to deliver).
    pub fn with_exim_path(mut self, path: impl Into<String>) -> TestRoot {
        self.exim_path = path.into();
        self
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// The first port of `host`'s block.
    pub fn port_base(&self, host: &str) -> u16 {
        self.bases.get(host).copied().unwrap_or(0)
    }

    /// Where `host`'s state lives: `ROOT/var/HOST`.
    pub fn var(&self, host: &str) -> String {
        format!("{}/var/{host}", self.root)
    }

    pub fn install(&self, host: &Host) -> Install {
        let base = self.port_base(&host.key);
        let var = self.var(&host.key);
        Install {
            postfix_dir: format!("{}/postfix/{}", self.root, host.key),
            postfix_queue_dir: format!("{var}/queue"),
            postfix_data_dir: format!("{var}/data"),
            postfix_log: format!("{var}/maillog"),
            system_aliases: None,
            dovecot_dir: format!("{}/dovecot/{}", self.root, host.key),
            dovecot_base_dir: format!("{var}/dovecot"),
            dovecot_state_dir: format!("{var}/dovecot-state"),
            dovecot_log: format!("{var}/dovecot.log"),
            mail_root: format!("{var}/vmail"),
            vmail_user: "nobody".into(),
            vmail_group: "nogroup".into(),
            listen: Listen::Loopback,
            ports: Ports::block(base),
            tls_cert: format!("{var}/tls/cert.pem"),
            tls_key: format!("{var}/tls/key.pem"),
            dkim_milter: format!("inet:127.0.0.1:{}", base + 91),
            dkim_dir: format!("{}/dkim/{}", self.root, host.key),
            dkim_pid_file: format!("{var}/opendkim.pid"),
            srs_ports: (base + 1, base + 2),
            srs_secret: format!("{var}/postsrsd.secret"),
            srs_user: "nobody".into(),
            srs_chroot: format!("{var}/postsrsd"),
            smtp_address: "127.0.0.1".into(),
            server_data_dir: format!("{var}/mailc"),
            exim_dir: format!("{}/exim/{}", self.root, host.key),
            exim_spool_dir: format!("{var}/exim"),
            exim_log: format!("{var}/exim-log/%slog"),
            exim_path: self.exim_path.clone(),
            exim_user: "Debian-exim".into(),
            exim_group: "Debian-exim".into(),
            exim_srs_secret: format!("{var}/exim-srs.secret"),
            policy_listen: format!("127.0.0.1:{}", base + 40),
            policy_state: format!("{var}/policy/send-counts"),
            mailc_path: "/usr/local/bin/mailc".into(),
        }
    }
}

/// A [`Context`] that compiles for a [`TestRoot`] and reads everything else
/// (previous outputs, key files) from `inner`.
pub struct TestRootContext<'a> {
    pub inner: &'a dyn Context,
    pub root: &'a TestRoot,
}

impl Context for TestRootContext<'_> {
    fn previous(&self, path: &str) -> Option<Vec<u8>> {
        self.inner.previous(path)
    }

    fn private_key(&self, path: &str) -> Option<Vec<u8>> {
        self.inner.private_key(path)
    }
    fn secret(&self, path: &str) -> Option<Vec<u8>> {
        self.inner.secret(path)
    }

    fn install(&self, host: &Host) -> Install {
        self.root.install(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Stack;

    fn host(key: &str) -> Host {
        Host {
            key: key.into(),
            hostname: format!("{key}.example.com"),
            ipv4: "192.0.2.1".parse().unwrap(),
            ipv6: None,
            stack: Stack::PostfixDovecot,
            relay: None,
        }
    }

    #[test]
    fn production_reaches_hosts_by_name_on_port_25() {
        let i = Install::production(&host("mx1"));
        assert_eq!(i.smtp_nexthop(), "[mx1.example.com]:25");
        assert_eq!(i.listen, Listen::Public { ipv6: false });
    }

    #[test]
    fn test_root_gives_each_host_its_own_port_block() {
        let mut model = crate::model::Model {
            hosts: BTreeMap::new(),
            domains: BTreeMap::new(),
            dns_targets: BTreeMap::new(),
            relays: BTreeMap::new(),
            senders: BTreeMap::new(),
        };
        for k in ["mx2", "mx1"] {
            model.hosts.insert(k.into(), host(k));
        }
        let t = TestRoot::new("/tmp/t/", &model, 26000);
        let mx1 = t.install(&host("mx1"));
        let mx2 = t.install(&host("mx2"));
        assert_eq!(mx1.ports.smtp, 26025);
        assert_eq!(mx2.ports.smtp, 26125);
        assert_eq!(mx2.smtp_nexthop(), "[127.0.0.1]:26125");
        assert_eq!(mx1.postfix_dir, "/tmp/t/postfix/mx1");
        assert_eq!(mx1.postfix_queue_dir, "/tmp/t/var/mx1/queue");
    }
}
