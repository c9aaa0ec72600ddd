//! The embedded server's backend: `server/HOST/manifest.json` for every
//! `embedded` host, and a copy of each DKIM key it signs with in
//! `server/HOST/keys/DOMAIN/SELECTOR.key` (secret, 0600). The manifest names
//! keys by that relative path, so the folder runs as it is:
//! `mailc serve out/server/HOST/manifest.json`.
//!
//! Every routing decision is made here, from the model, exactly as
//! [`crate::model::route::route`] explains it: the server only looks up.
//! The manifest holds password hashes, so it is a secret file.

use super::Context;
use super::install::{Install, Listen as InstallListen};
use super::shared::key_file_problem;
use super::shared::signing_keys;
use crate::diag::Diagnostic;
use crate::dkim::DkimAlgorithm;
use crate::manifest::{self, Manifest, NextHop, Target};
use crate::model::{Domain, Expansion, Host, Model, RecipientKind, Role, Unknown};
use crate::output::{Output, OutputFile};
use crate::vocab::{Service, Stack};

/// Writes `server/HOST/` for every `embedded` host.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, diags: &mut Vec<Diagnostic>) {
    for host in model.hosts.values() {
        if host.stack != Stack::Embedded {
            continue;
        }
        let dir = format!("server/{}", host.key);
        let mut m = manifest(model, ctx, host, &mut |domain, selector, path| {
            let copy = key_copy(domain, selector);
            match ctx.private_key(path) {
                Some(bytes) => out.insert(format!("{dir}/{copy}"), OutputFile::secret(bytes)),
                None => diags.push(key_file_problem(path, "it cannot be read".into())),
            }
            copy
        });
        for (id, r) in &mut m.relays {
            let Some(relay) = model.relays.get(&r.name) else {
                continue;
            };
            match super::relay::password(ctx, relay) {
                Some(Ok(p)) => {
                    let file = format!("relays/{id}.secret");
                    out.insert(
                        format!("{dir}/{file}"),
                        OutputFile::secret(format!("{p}\n")),
                    );
                    r.password_file = Some(file);
                }
                Some(Err(d)) => diags.push(d),
                None => {}
            }
        }
        out.insert(
            format!("{dir}/manifest.json"),
            OutputFile::secret(m.to_json()),
        );
    }
}

/// The relays `host` may send through, by id (`relay-1`, ...: a spec's
/// relay names never become paths), its sender rules and its own relay.
/// Password files are named by [`compile`], which writes them.
fn relays(model: &Model, host: &Host, m: &mut Manifest) {
    let used = super::relay::used_by(model, host);
    let id = |name: &str| {
        used.iter()
            .position(|r| r.name == name)
            .map(|i| format!("relay-{}", i + 1))
    };
    for (i, r) in used.iter().enumerate() {
        m.relays.insert(
            format!("relay-{}", i + 1),
            manifest::Relay {
                name: r.name.clone(),
                next_hop: NextHop {
                    host: r.host.clone(),
                    port: r.port,
                },
                tls: match r.tls {
                    crate::vocab::RelayTls::Implicit => manifest::RelayTls::Implicit,
                    crate::vocab::RelayTls::Starttls => manifest::RelayTls::Starttls,
                    crate::vocab::RelayTls::Opportunistic => manifest::RelayTls::Opportunistic,
                },
                username: r.auth.as_ref().map(|a| a.username.clone()),
                password_file: None,
            },
        );
    }
    for (sender, r) in super::relay::rules(model) {
        if let Some(i) = id(&r.name) {
            m.sender_relays.insert(sender.to_string(), i);
        }
    }
    m.relay = host.relay.as_deref().and_then(id);
}

/// Where a key's copy lives, relative to the manifest.
fn key_copy(domain: &str, selector: &str) -> String {
    format!("keys/{domain}/{selector}.key")
}

/// The manifest of `host` (of any stack: `mailc serve SPEC` runs any host).
/// `key` is called with (domain, selector, key path as written in the spec)
/// for every signing key and returns the path the manifest names.
pub fn manifest(
    model: &Model,
    ctx: &dyn Context,
    host: &Host,
    key: &mut dyn FnMut(&str, &str, &str) -> String,
) -> Manifest {
    let install = ctx.install(host);
    let pop3 = model
        .domains
        .values()
        .any(|d| d.roles.get(&host.key) == Some(&Role::Local) && d.offers(Service::Pop3));
    let mut m = Manifest {
        version: manifest::VERSION,
        host: host.key.clone(),
        hostname: host.hostname.clone(),
        listen: listen(&install, pop3),
        data_dir: install.server_data_dir.clone(),
        tls: manifest::Tls {
            cert: install.tls_cert.clone(),
            key: install.tls_key.clone(),
        },
        limits: manifest::Limits::default(),
        users: Default::default(),
        domains: Default::default(),
        dkim: Default::default(),
        relays: Default::default(),
        sender_relays: Default::default(),
        relay: None,
    };
    relays(model, host, &mut m);
    for d in model.domains.values() {
        if d.null_mx() || !d.mail {
            m.domains.insert(
                d.name.clone(),
                manifest::Domain {
                    role: if d.null_mx() {
                        manifest::Role::NullMx
                    } else {
                        manifest::Role::MailOff
                    },
                    recipients: Default::default(),
                    refused: Default::default(),
                    unknown: manifest::Unknown::Reject,
                    srs: false,
                    limits: Default::default(),
                    pop3: false,
                },
            );
            continue;
        }
        let domain = match d.roles.get(&host.key) {
            Some(Role::Local) => {
                users(d, &mut m);
                local(model, &host.key, d)
            }
            Some(Role::Backup { primary }) => backup(model, ctx, d, primary),
            Some(Role::Remote) | None => continue,
        };
        m.domains.insert(d.name.clone(), domain);
    }
    for s in signing_keys(model, &host.key) {
        let path = key(&s.domain.name, &s.key.selector, s.path);
        m.dkim
            .entry(s.domain.name.clone())
            .or_default()
            .push(manifest::DkimKey {
                selector: s.key.selector.clone(),
                algorithm: match s.key.algorithm {
                    DkimAlgorithm::Ed25519 => manifest::DkimAlgorithm::Ed25519Sha256,
                    _ => manifest::DkimAlgorithm::RsaSha256,
                },
                key: path,
            });
    }
    m
}

/// Where each service listens; POP3 only when `pop3` (a domain the host is
/// local for offers it).
fn listen(install: &Install, pop3: bool) -> manifest::Listen {
    let p = install.ports;
    let on = |port: u16| -> Vec<String> {
        match install.listen {
            InstallListen::Loopback => vec![format!("127.0.0.1:{port}")],
            InstallListen::Public { ipv6: false } => vec![format!("0.0.0.0:{port}")],
            InstallListen::Public { ipv6: true } => {
                vec![format!("0.0.0.0:{port}"), format!("[::]:{port}")]
            }
        }
    };
    manifest::Listen {
        smtp: on(p.smtp),
        submission: on(p.submission),
        submissions: on(p.submissions),
        imap: on(p.imap),
        imaps: on(p.imaps),
        pop3: if pop3 { on(p.pop3) } else { Vec::new() },
        pop3s: if pop3 { on(p.pop3s) } else { Vec::new() },
    }
}

/// The domain's mailboxes as logins.
fn users(d: &Domain, m: &mut Manifest) {
    for mb in d.mailboxes.values() {
        let mut send_as = vec![mb.address.clone()];
        for (local, r) in &d.recipients {
            // A mailbox alias whose one owner is this mailbox.
            if r.kind == RecipientKind::MailboxAlias
                && r.target.mailboxes.len() == 1
                && r.target.mailboxes.first() == Some(&mb.address)
            {
                send_as.push(format!("{local}@{}", d.name));
            }
        }
        send_as.sort();
        send_as.dedup();
        m.users.insert(
            mb.address.clone(),
            manifest::User {
                password: mb.password.clone(),
                quota: mb.quota,
                send_only: mb.send_only,
                disabled: mb.disabled,
                services: mb
                    .services
                    .iter()
                    .map(|s| match s {
                        Service::Imap => manifest::Service::Imap,
                        Service::Pop3 => manifest::Service::Pop3,
                        Service::Submission => manifest::Service::Submission,
                    })
                    .collect(),
                send_as,
                rules: mb.rules.clone(),
                vacation: mb.vacation.clone(),
                limits: mb.limits,
            },
        );
    }
}

/// Splits an expansion into this host's mailboxes and what leaves.
fn target(model: &Model, host: &str, e: &Expansion) -> Target {
    let mut t = Target::default();
    for mb in &e.mailboxes {
        let dom = mb.rsplit_once('@').map_or("", |(_, d)| d);
        let here = model.domains.get(dom).and_then(|x| x.roles.get(host)) == Some(&Role::Local);
        if here {
            t.mailboxes.push(mb.clone());
        } else {
            t.forward.push(mb.clone());
        }
    }
    t.forward.extend(e.external.iter().cloned());
    t.mailboxes.sort();
    t.mailboxes.dedup();
    t.forward.sort();
    t.forward.dedup();
    t.drop = e.drops();
    t
}

fn local(model: &Model, host: &str, d: &Domain) -> manifest::Domain {
    let mut out = manifest::Domain {
        role: manifest::Role::Local,
        recipients: Default::default(),
        refused: Default::default(),
        unknown: manifest::Unknown::Reject,
        srs: d.srs,
        limits: d.limits,
        pop3: d.offers(Service::Pop3),
    };
    for (local, r) in &d.recipients {
        if r.target.is_empty() {
            out.refused.insert(local.clone());
        } else {
            out.recipients
                .insert(local.clone(), target(model, host, &r.target));
        }
    }
    out.unknown = match &d.unknown {
        Unknown::Reject => manifest::Unknown::Reject,
        Unknown::Bounce => manifest::Unknown::Bounce,
        Unknown::Drop => manifest::Unknown::Drop,
        Unknown::Forward { target: t } if t.drops() => manifest::Unknown::Drop,
        Unknown::Forward { target: t } if t.is_empty() => manifest::Unknown::Reject,
        Unknown::Forward { target: t } => manifest::Unknown::Forward {
            target: target(model, host, t),
        },
        Unknown::Relay { host, port } => manifest::Unknown::Relay {
            next_hop: NextHop {
                host: host.clone(),
                port: port.unwrap_or(25),
            },
        },
    };
    out
}

fn backup(model: &Model, ctx: &dyn Context, d: &Domain, primary: &str) -> manifest::Domain {
    // The primary: one of our hosts where its install listens, else the MX
    // host itself.
    let next_hop = match model.hosts.values().find(|h| h.hostname == primary) {
        Some(ours) => {
            let i = ctx.install(ours);
            NextHop {
                host: i.smtp_address.clone(),
                port: i.ports.smtp,
            }
        }
        None => NextHop {
            host: primary.to_string(),
            port: 25,
        },
    };
    let mut out = manifest::Domain {
        role: manifest::Role::Backup { next_hop },
        recipients: Default::default(),
        refused: Default::default(),
        unknown: manifest::Unknown::Reject,
        srs: false,
        limits: Default::default(),
        pop3: false,
    };
    for (local, r) in &d.recipients {
        if r.target.is_empty() {
            out.refused.insert(local.clone());
        } else {
            out.recipients.insert(local.clone(), Target::default());
        }
    }
    // Whatever the primary accepts, the backup accepts and passes on.
    out.unknown = match &d.unknown {
        Unknown::Reject => manifest::Unknown::Reject,
        Unknown::Forward { target } if target.is_empty() => manifest::Unknown::Reject,
        Unknown::Forward { .. } => manifest::Unknown::Forward {
            target: Target::default(),
        },
        Unknown::Bounce => manifest::Unknown::Bounce,
        Unknown::Drop => manifest::Unknown::Drop,
        Unknown::Relay { host, port } => manifest::Unknown::Relay {
            next_hop: NextHop {
                host: host.clone(),
                port: port.unwrap_or(25),
            },
        },
    };
    out
}
