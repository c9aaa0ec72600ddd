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
//! Paths, ports and users come from the host's
//! [`Install`](super::install::Install): production or a test root, through
//! the same templates.

mod main_cf;
mod master_cf;
pub mod relay;
mod srs;
pub mod tables;

use serde::Serialize;

use super::Context;
use super::template::{plain, render};
use crate::diag::Diagnostic;
use crate::model::{Host, Model};
use crate::output::{Output, OutputFile};
use crate::vocab::Stack;
use main_cf::MainCf;
use master_cf::MasterCf;
use tables::TableFile;

/// The transport of local mailboxes: Dovecot over LMTP.
pub const LMTP_TRANSPORT: &str = "lmtp:unix:private/dovecot-lmtp";

/// Writes `postfix/HOST/` for every `postfix-dovecot` host.
pub fn compile(model: &Model, ctx: &dyn Context, out: &mut Output, diags: &mut Vec<Diagnostic>) {
    // Hosts are independent: each on its own thread (a hosting server's
    // tables hold a row per address), merged in host order.
    let hosts = model
        .hosts
        .values()
        .filter(|host| host.stack == Stack::PostfixDovecot);
    let parts: Vec<(Output, Vec<Diagnostic>)> = crate::par::map_each(hosts, |host| {
        let mut part = (Output::default(), Vec::new());
        compile_host(model, ctx, host, &mut part.0, &mut part.1);
        part
    });
    for (part, problems) in parts {
        out.files.extend(part.files);
        diags.extend(problems);
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
    // A backup's primary: one of our hosts where its install says, else
    // the MX host itself.
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
            lmtp: LMTP_TRANSPORT,
            primary: &primary,
        },
    );
    let dir = format!("postfix/{}", host.key);
    let srs = srs::postsrsd(model, host, &install);
    let relays = relay::conf(model, ctx, host, diags);
    let send_limits = super::limits::table(model, &host.key);
    let main = MainCf::new(model, host, &install, &t, srs.as_ref(), &relays);
    out.insert(
        format!("{dir}/main.cf"),
        OutputFile::public(render("postfix/main.cf.j2", &main)),
    );
    out.insert(
        format!("{dir}/master.cf"),
        OutputFile::public(render(
            "postfix/master.cf.j2",
            &MasterCf::new(host, &install, relays.smtps, !send_limits.is_empty()),
        )),
    );
    for (file, table) in t.files() {
        let view = MapView {
            host: &host.key,
            config_dir: &install.postfix_dir,
            table: file,
        };
        out.insert(
            format!("{dir}/{}", file.file),
            OutputFile::public(map_file(&view, table.iter())),
        );
    }
    for table in &relays.tables {
        let view = MapView {
            host: &host.key,
            config_dir: &install.postfix_dir,
            table: table.file,
        };
        let text = map_file(
            &view,
            table.rows.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let file = if table.secret {
            OutputFile::secret(text)
        } else {
            OutputFile::public(text)
        };
        out.insert(format!("{dir}/{}", table.file.file), file);
    }
    if !send_limits.is_empty() {
        let view = MapView {
            host: &host.key,
            config_dir: &install.postfix_dir,
            table: SEND_LIMITS,
        };
        let rows = send_limits.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        out.insert(
            format!("{dir}/{}", SEND_LIMITS.file),
            OutputFile::public(map_file(&view, rows)),
        );
        out.insert(
            format!("{dir}/{POLICY_UNIT}"),
            OutputFile::public(render(
                "postfix/mailc-policy.service.j2",
                &PolicyUnit {
                    host: &host.key,
                    mailc: &install.mailc_path,
                    limits: &format!("{}/{}", install.postfix_dir, SEND_LIMITS.file),
                    state: &install.policy_state,
                    listen: &install.policy_listen,
                },
            )),
        );
    }
    if let Some(srs) = srs {
        out.insert(
            format!("{dir}/postsrsd"),
            OutputFile::public(render("postfix/postsrsd.j2", &srs)),
        );
    }
}

/// One table's source file: the header from the template, then a
/// `KEY<TAB>VALUE` line per row, written directly (a map holds a line per
/// address, and a template loop costs several times more than the lines).
fn map_file<'t>(view: &MapView, rows: impl Iterator<Item = (&'t str, &'t str)> + Clone) -> String {
    let mut text = render("postfix/map.j2", view);
    let size: usize = rows.clone().map(|(k, v)| k.len() + v.len() + 2).sum();
    text.reserve(size);
    for (key, value) in rows {
        for field in [key, value] {
            // Values are checked before they get here (a password too),
            // so this never quotes one.
            if plain(field).is_err() {
                panic!(
                    "mailc bug: postfix/{}: a control character in a row",
                    view.table.file
                );
            }
        }
        text.push_str(key);
        text.push('\t');
        text.push_str(value);
        text.push('\n');
    }
    text
}

/// The sending limits `mailc policy` reads (a map source in Postfix's
/// format, so `postmap` reads it too; the service reads the text).
pub const SEND_LIMITS: TableFile = TableFile {
    file: "send_limits",
    parameter: "check_policy_service (mailc policy)",
    what: "login or domain -> its sending limits per hour, read by mailc policy",
};

/// The systemd unit of `mailc policy`, beside the Postfix files.
pub const POLICY_UNIT: &str = "mailc-policy.service";

#[derive(Serialize)]
struct PolicyUnit<'a> {
    host: &'a str,
    mailc: &'a str,
    limits: &'a str,
    state: &'a str,
    listen: &'a str,
}

/// One table's source file: the header the template prints.
#[derive(Serialize)]
struct MapView<'a> {
    host: &'a str,
    config_dir: &'a str,
    table: TableFile,
}
