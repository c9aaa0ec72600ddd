//! The Dovecot side of the `postfix-dovecot` and `exim-dovecot` stacks:
//! `dovecot/HOST/` for every host whose stack includes Dovecot —
//! `dovecot.conf` (IMAP with STARTTLS and implicit TLS, POP3 likewise where
//! a domain offers it, LMTP and SASL auth
//! sockets for the host's MTA, Maildir, quotas) and `users`, a passwd-file
//! with the spec's hashes and per-mailbox quotas (a secret output, mode 0600,
//! to be owned by the `dovecot` user: Dovecot's auth process reads it
//! unprivileged, as Dovecot runs it by default).
//!
//! Users are the mailboxes of the domains the host is local for, send-only
//! ones included (they log in to submit; Postfix never delivers to them).
//! They log in with their full address. Plaintext logins are accepted after
//! STARTTLS, on implicit TLS, and from the host itself (Dovecot's rule for
//! connections from the same address). Mail lives in
//! `MAIL_ROOT/DOMAIN/LOCAL/Maildir`, owned by the install's mail user.
//! Quotas use the `count` backend; a mailbox without a quota is unlimited.
//!
//! A mailbox with rules or an autoresponder gets its Sieve script
//! (`sieve/DOMAIN/LOCAL.sieve`, [`crate::rules::sieve`]), named by its line
//! of `users` (`sieve=`, Pigeonhole's single-script mode; the compiled
//! binary goes to the mail home). Pigeonhole runs it at LMTP delivery and
//! hands forwards and replies to the MTA on the host's SMTP port.
//!
//! POP3 runs where a domain the host is local for offers it (`services`);
//! the mailboxes of the host's other domains are listed in `pop3-refused`,
//! a deny passdb of the `pop3` protocol only. UIDLs are the IMAP UID and
//! UIDVALIDITY, so both protocols name a message alike.
//!
//! Logins a mailbox may not use (`disabled: true`, a protocol its own
//! `services` leave out) are listed in `denied`,
//! one `USER/SERVICE` a line, which a `deny` passdb reads before the
//! password is checked; delivery (LMTP) reads only the userdb, so their
//! mail still arrives.
//!
//! Where the MTA finds Dovecot's sockets depends on the stack ([`sockets`]):
//! inside Postfix's queue (`private/dovecot-lmtp`, `private/auth`) for
//! Postfix, in Dovecot's base_dir for Exim.

use serde::Serialize;

use super::Context;
use super::install::{Install, Listen};
use super::shared::{Sockets, sockets};
use super::template::{plain, render};
use crate::diag::Diagnostic;
use crate::model::{Domain, Host, Model, Role};
use crate::output::{Output, OutputFile};
use crate::rules::sieve;
use crate::vocab::Service;

/// Writes `dovecot/HOST/` for every host whose stack includes Dovecot.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, _: &mut Vec<Diagnostic>) {
    for host in model.hosts.values() {
        let install = ctx.install(host);
        let Some(sockets) = sockets(host, &install) else {
            continue;
        };
        let dir = format!("dovecot/{}", host.key);
        let local: Vec<&Domain> = model
            .domains
            .values()
            .filter(|d| d.roles.get(&host.key) == Some(&Role::Local))
            .collect();
        let refused = pop3_refused(&local);
        let pop3 = local.iter().any(|d| d.offers(Service::Pop3)).then(|| Pop3 {
            port: install.ports.pop3,
            pop3s_port: install.ports.pop3s,
            deny_file: (!refused.is_empty())
                .then(|| format!("{}/{POP3_DENY}", install.dovecot_dir)),
        });
        if pop3.as_ref().is_some_and(|p| p.deny_file.is_some()) {
            out.insert(format!("{dir}/{POP3_DENY}"), OutputFile::public(refused));
        }
        let denied = denied_logins(model, &host.key);
        let conf = Conf::new(host, &install, sockets, pop3, !denied.is_empty());
        out.insert(
            format!("{dir}/dovecot.conf"),
            OutputFile::public(render("dovecot/dovecot.conf.j2", &conf)),
        );
        let header = Header {
            host: &host.key,
            users_file: &conf.users_file,
        };
        out.insert(
            format!("{dir}/users"),
            OutputFile::secret(users_file(model, &host.key, &header, &install)),
        );
        if !denied.is_empty() {
            let mut text = render("dovecot/denied.j2", &header);
            for line in &denied {
                if let Err(why) = plain(line) {
                    panic!("mailc bug: dovecot/{}/denied: {why}", host.key);
                }
                text.push_str(line);
                text.push('\n');
            }
            out.insert(format!("{dir}/denied"), OutputFile::public(text));
        }
        for d in model
            .domains
            .values()
            .filter(|d| d.roles.get(&host.key) == Some(&Role::Local))
        {
            for m in d.mailboxes.values() {
                if let Some(script) = sieve::script(&m.address, &m.rules, m.vacation.as_ref()) {
                    out.insert(
                        format!("{dir}/{}", sieve_path(&d.name, &m.local)),
                        OutputFile::public(script),
                    );
                }
            }
        }
    }
}

/// Dovecot's names of the services a login comes through: its own IMAP
/// and POP3, and `smtp` for the MTA's SASL requests (submission), as
/// Postfix and Exim both name theirs.
const LOGIN_SERVICES: [(Service, &str); 3] = [
    (Service::Imap, "imap"),
    (Service::Pop3, "pop3"),
    (Service::Submission, "smtp"),
];

/// The logins refused per service, as `denied` lists them (`USER/SERVICE`,
/// Dovecot's `%Lu/%s`): every service of a disabled mailbox, and those a
/// mailbox's `services` leave out. POP3 only for the mailboxes of domains
/// that offer it: `pop3-refused` holds the others. Sorted.
fn denied_logins(model: &Model, host: &str) -> Vec<String> {
    let here = || {
        model
            .domains
            .values()
            .filter(|d| d.roles.get(host) == Some(&Role::Local))
    };
    let mut lines = Vec::new();
    for d in here() {
        for m in d.mailboxes.values() {
            for (service, name) in LOGIN_SERVICES {
                // POP3 of a domain that does not offer it: `pop3-refused`.
                let applies = service != Service::Pop3 || d.offers(Service::Pop3);
                if applies && (m.disabled || !m.services.contains(&service)) {
                    lines.push(format!("{}/{name}", m.address));
                }
            }
        }
    }
    lines.sort();
    lines
}

/// Where a mailbox's Sieve script lives, relative to the config folder.
pub fn sieve_path(domain: &str, local: &str) -> String {
    format!("sieve/{domain}/{local}.sieve")
}

/// Whether a mailbox runs a Sieve script.
fn has_script(m: &crate::model::Mailbox) -> bool {
    !m.rules.is_empty() || m.vacation.is_some()
}

/// Everything `dovecot.conf` prints, decided.
#[derive(Serialize)]
struct Conf {
    host: String,
    hostname: String,
    config_dir: String,
    listen: String,
    base_dir: String,
    state_dir: String,
    log_path: String,
    tls_cert: String,
    tls_key: String,
    mail_home: String,
    mail_user: String,
    mail_group: String,
    users_file: String,
    /// The `denied` file, when some login is refused for some service.
    denied_file: Option<String>,
    imap_port: u16,
    imaps_port: u16,
    /// Where Sieve's forwards and autoresponder replies are handed to the
    /// MTA (`IP:PORT`).
    submission_host: String,
    sockets: Sockets,
    /// POP3, where a domain the host is local for offers it.
    pop3: Option<Pop3>,
}

/// What `dovecot.conf` prints for POP3.
#[derive(Serialize)]
struct Pop3 {
    port: u16,
    pop3s_port: u16,
    /// The list of mailboxes refused over POP3 (those of the host's
    /// domains that do not offer it), when there is any.
    deny_file: Option<String>,
}

/// The file naming the mailboxes that may not log in over POP3.
const POP3_DENY: &str = "pop3-refused";

impl Conf {
    fn new(
        host: &Host,
        install: &Install,
        sockets: Sockets,
        pop3: Option<Pop3>,
        denied: bool,
    ) -> Conf {
        let listen = match install.listen {
            Listen::Public { ipv6: true } => "*, ::",
            Listen::Public { ipv6: false } => "*",
            Listen::Loopback => "127.0.0.1",
        };
        Conf {
            host: host.key.clone(),
            hostname: host.hostname.clone(),
            config_dir: install.dovecot_dir.clone(),
            listen: listen.into(),
            base_dir: install.dovecot_base_dir.clone(),
            state_dir: install.dovecot_state_dir.clone(),
            log_path: install.dovecot_log.clone(),
            tls_cert: install.tls_cert.clone(),
            tls_key: install.tls_key.clone(),
            mail_home: format!("{}/%d/%n", install.mail_root),
            mail_user: install.vmail_user.clone(),
            mail_group: install.vmail_group.clone(),
            users_file: format!("{}/users", install.dovecot_dir),
            denied_file: denied.then(|| format!("{}/denied", install.dovecot_dir)),
            imap_port: install.ports.imap,
            imaps_port: install.ports.imaps,
            submission_host: format!("127.0.0.1:{}", install.ports.smtp),
            sockets,
            pop3,
        }
    }
}

/// The mailboxes of `domains` whose domain does not offer POP3, one address
/// a line: a passwd-file Dovecot's POP3 login reads as a deny list.
fn pop3_refused(domains: &[&Domain]) -> String {
    let mut text = String::new();
    for d in domains.iter().filter(|d| !d.offers(Service::Pop3)) {
        for m in d.mailboxes.values() {
            if let Err(why) = plain(&m.address) {
                panic!("mailc bug: {POP3_DENY}: {why}");
            }
            text.push_str(&m.address);
            text.push('\n');
        }
    }
    text
}

/// What the `users` file's header (a template) prints.
#[derive(Serialize)]
struct Header<'a> {
    host: &'a str,
    users_file: &'a str,
}

/// The passwd-file: the header from the template, then one line per user,
/// `USER:HASH::::::EXTRA` (extra userdb fields: the quota rule, or empty).
/// The lines are written directly, with the templates' control-character
/// guard: a hosting server has one per mailbox, too many for a template
/// loop.
fn users_file(model: &Model, host: &str, header: &Header, install: &Install) -> String {
    let mut text = render("dovecot/users.j2", header);
    let here = || {
        model
            .domains
            .values()
            .filter(|d| d.roles.get(host) == Some(&Role::Local))
    };
    // Sized up front: at 100,000 mailboxes the file is 19 MB, and growing
    // it by doubling touches half as much memory again.
    const QUOTA_RULE: usize = "userdb_quota_rule=*:storage=".len() + 8;
    let lines: usize = here()
        .flat_map(|d| d.mailboxes.values())
        .map(|m| m.address.len() + m.password.len() + 8 + QUOTA_RULE)
        .sum();
    text.reserve(lines);
    for d in here() {
        for m in d.mailboxes.values() {
            let quota = m.quota.map(size);
            for field in [&m.address, &m.password] {
                if let Err(why) = plain(field) {
                    panic!("mailc bug: dovecot/{host}/users: {why}");
                }
            }
            text.push_str(&m.address);
            text.push(':');
            text.push_str(&m.password);
            text.push_str("::::::");
            let mut extra = Vec::new();
            if let Some(q) = quota {
                extra.push(format!("userdb_quota_rule=*:storage={q}"));
            }
            if has_script(m) {
                // Pigeonhole's single-script mode; the compiled binary goes
                // to the mail home, which the mail user may write.
                let path = format!("{}/{}", install.dovecot_dir, sieve_path(&d.name, &m.local));
                if let Err(why) = plain(&path) {
                    panic!("mailc bug: dovecot/{host}/users: {why}");
                }
                extra.push(format!("userdb_sieve=file:{path};bindir=~/sieve-bin"));
            }
            text.push_str(&extra.join(" "));
            text.push('\n');
        }
    }
    text
}

/// A byte count as Dovecot reads sizes: the largest exact unit (a bare
/// number in a quota rule would mean kilobytes).
fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "k"),
    ];
    for (unit, suffix) in UNITS {
        if bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(size(5 << 30), "5G");
        assert_eq!(size(500 << 20), "500M");
        assert_eq!(size(1536 << 20), "1536M");
        assert_eq!(size(1 << 40), "1T");
        assert_eq!(size(1000), "1000B");
    }
}
