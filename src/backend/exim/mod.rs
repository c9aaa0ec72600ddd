//! The Exim side of the `exim-dovecot` stack: `exim/HOST/` for every such
//! host — `exim.conf` and its lookup files (decided in [`tables`]), plus
//! copies of the DKIM keys it signs with.
//!
//! What the host does (the same as the Postfix backend's hosts):
//! - port 25 (MX): receives for its local and backup domains, refuses at RCPT
//!   what `mailc route` refuses (`550 5.1.1`, `556 5.1.10`), relays only for
//!   authenticated clients and, in production, the loopback address;
//! - 587 (STARTTLS) and 465 (implicit TLS): submission; a login is required
//!   before any RCPT, AUTH (PLAIN, LOGIN) is offered only there and only
//!   after TLS, checked by Dovecot over its auth socket (Exim's `dovecot`
//!   authenticator). A login sends only as its own addresses
//!   (`sender_logins`: its mailbox address and its mailbox aliases);
//! - local mailboxes go to Dovecot over LMTP, on the socket
//!   [`dovecot`](super::dovecot) makes for Exim (`lmtp-exim` in its base_dir);
//! - a backup's domains are relayed to the primary (`manualroute`, no MX
//!   lookup); unknown addresses of a `relay` domain go to its next hop;
//!   remote domains leave by MX lookup (`dnslookup`);
//! - mail forwarded for a domain with `srs: true` leaves with its envelope
//!   sender rewritten by Exim's native SRS (`srs_encode`), into the
//!   forwarding domain; senders of the host's own domains and bounces keep
//!   theirs; bounces to such SRS addresses are decoded (`inbound_srs`);
//! - mail from a login or from the host itself is DKIM-signed on the way
//!   out (the smtp transports' `dkim_*` options) when the From domain is
//!   one the host is local for and has a signing private key; several keys
//!   of a domain give several signatures.
//!
//! Exim refuses file names built from tainted data (4.94 and later): every
//! lookup here reads a fixed file, with the (tainted) address or domain as
//! the key only. Keys are exact (`lsearch`), never wildcards.
//!
//! The `dovecot` authenticator is in Debian's `exim4-daemon-heavy`, not in
//! `-light`: the authenticators sit in `.ifdef _DRIVER_AUTHENTICATOR_DOVECOT`,
//! so a light build still runs the config (and relays for nobody, having no
//! logins).
//!
//! Paths, ports and users come from the host's
//! [`Install`](super::install::Install): production or a test root, through
//! the same template.

mod conf;
pub mod relay;
pub mod tables;

use std::collections::BTreeMap;

use serde::Serialize;

use super::Context;
use super::shared::key_file_problem;
use super::shared::signing_keys;
use super::template::render;
use crate::diag::Diagnostic;
use crate::model::{Host, Model};
use crate::output::{Output, OutputFile};
use crate::vocab::Stack;
use conf::{Dkim, EximConf};
use tables::{Table, TableFile, route_data};

/// Writes `exim/HOST/` for every `exim-dovecot` host.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, diags: &mut Vec<Diagnostic>) {
    for host in model.hosts.values() {
        if host.stack == Stack::EximDovecot {
            compile_host(model, ctx, host, out, diags);
        }
    }
}

fn compile_host(
    model: &Model,
    ctx: &dyn Context,
    host: &Host,
    out: &mut Output,
    diags: &mut Vec<Diagnostic>,
) {
    let install = ctx.install(host);
    let Some(sockets) = super::shared::sockets(host, &install) else {
        return;
    };
    // A backup's primary: one of our hosts where its install says, else
    // the MX host itself on port 25.
    let primary = |hostname: &str| -> String {
        match model.hosts.values().find(|h| h.hostname == hostname) {
            Some(ours) => {
                let i = ctx.install(ours);
                route_data(&i.smtp_address, Some(i.ports.smtp))
            }
            None => route_data(hostname, Some(25)),
        }
    };
    let t = tables::build(model, &host.key, &primary);
    let dir = format!("exim/{}", host.key);

    // DKIM: the selectors of each domain, and each key's installed copy.
    let keys = signing_keys(model, &host.key);
    let mut selectors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut key_paths = Table::new();
    for s in &keys {
        let copy = format!("dkim/{}/{}.key", s.domain.name, s.key.selector);
        selectors
            .entry(s.domain.name.clone())
            .or_default()
            .push(s.key.selector.clone());
        key_paths.insert(s.record(), format!("{}/{copy}", install.exim_dir));
        match ctx.private_key(s.path) {
            Some(bytes) => out.insert(format!("{dir}/{copy}"), OutputFile::secret(bytes)),
            None => diags.push(key_file_problem(s.path, "it cannot be read".into())),
        }
    }
    let dkim = (!keys.is_empty()).then(|| {
        Dkim::new(
            &format!("{}/dkim_selectors", install.exim_dir),
            &format!("{}/dkim_keys", install.exim_dir),
        )
    });
    let relays = relay::relays(model, ctx, host, &install.exim_dir, diags);
    for (file, text) in &relays.secrets {
        out.insert(format!("{dir}/{file}"), OutputFile::secret(text.clone()));
    }
    let send_limits = super::limits::table(model, &host.key);
    let conf = EximConf::new(host, &install, &t, &sockets, dkim, &relays)
        .with_send_limits(!send_limits.is_empty());
    out.insert(
        format!("{dir}/exim.conf"),
        OutputFile::public(render("exim/exim.conf.j2", &conf)),
    );
    let mut write = |file: TableFile, table: &Table| {
        let view = TableView {
            host: &host.key,
            table: file,
            rows: table
                .iter()
                .map(|(key, value)| Row { key, value })
                .collect(),
        };
        out.insert(
            format!("{dir}/{}", file.file),
            OutputFile::public(render("exim/table.j2", &view)),
        );
    };
    for (file, table) in t.files() {
        write(file, table);
    }
    if !relays.senders.is_empty() {
        let senders: Table = relays.senders.iter().cloned().collect();
        write(
            TableFile {
                file: "relay_senders",
                what: "sender address or domain -> the relay its mail leaves through",
            },
            &senders,
        );
    }
    if !send_limits.is_empty() {
        write(
            TableFile {
                file: SEND_LIMITS,
                what: "login or domain -> its sending limits per hour",
            },
            &send_limits,
        );
    }
    if !keys.is_empty() {
        let selectors: Table = selectors
            .into_iter()
            .map(|(d, s)| (d, s.join(" : ")))
            .collect();
        write(
            TableFile {
                file: "dkim_selectors",
                what: "domain -> the selectors it signs with",
            },
            &selectors,
        );
        write(
            TableFile {
                file: "dkim_keys",
                what: "SELECTOR._domainkey.DOMAIN -> its private key file",
            },
            &key_paths,
        );
    }
}

/// The lookup file of the sending limits.
pub const SEND_LIMITS: &str = "send_limits";

#[derive(Serialize)]
struct Row<'a> {
    key: &'a str,
    value: &'a str,
}

/// One lookup file.
#[derive(Serialize)]
struct TableView<'a> {
    host: &'a str,
    table: TableFile,
    rows: Vec<Row<'a>>,
}
