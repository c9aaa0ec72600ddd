//! Outbound relays on a Postfix host: `relayhost` for the host's own relay,
//! `sender_dependent_relayhost_maps` for the sender rules (`user@domain`,
//! then `@domain`, as Postfix searches), `smtp_tls_policy_maps` for each
//! relay's TLS (`encrypt` where it is required, `may` where opportunistic),
//! `smtp_sasl_password_maps` with `smtp_sender_dependent_authentication`
//! for credentials (0600), and a `relay_smtps` transport with
//! `smtp_tls_wrappermode` for relays with implicit TLS, chosen by
//! `default_transport` and `sender_dependent_default_transport_maps`.

use serde::Serialize;

use super::tables::TableFile;
use crate::backend::Context;
use crate::backend::relay::{password, rules, used_by};
use crate::diag::Diagnostic;
use crate::model::{Host, Model, Relay};
use crate::vocab::RelayTls;

/// The transport of relays with implicit TLS (RFC 8314 §3.3), in master.cf.
pub const SMTPS_TRANSPORT: &str = "relay_smtps";

/// One table of the relay settings, its rows sorted.
pub struct RelayTable {
    pub file: TableFile,
    pub rows: Vec<(String, String)>,
    /// Holds passwords: written 0600.
    pub secret: bool,
}

/// What `main.cf` and `master.cf` say about relays, decided.
#[derive(Default, Serialize)]
pub struct RelayConf {
    /// `[host]:port` of the host's own relay; empty without one.
    pub relayhost: String,
    /// `relay_smtps` when the host's own relay has implicit TLS.
    pub default_transport: Option<&'static str>,
    /// Whether the SMTP client logs in anywhere.
    pub sasl: bool,
    /// Whether credentials are looked up by sender first.
    pub sender_auth: bool,
    /// Whether master.cf defines [`SMTPS_TRANSPORT`].
    pub smtps: bool,
    #[serde(skip)]
    pub tables: Vec<RelayTable>,
}

/// `[host]:port`: brackets so that Postfix connects to the host as named,
/// without an MX lookup.
fn nexthop(r: &Relay) -> String {
    format!("[{}]:{}", r.host, r.port)
}

/// A sender rule's key as Postfix looks it up: `user@domain` or `@domain`.
fn sender_key(s: &str) -> String {
    if s.contains('@') {
        s.to_string()
    } else {
        format!("@{s}")
    }
}

pub fn conf(
    model: &Model,
    ctx: &dyn Context,
    host: &Host,
    diags: &mut Vec<Diagnostic>,
) -> RelayConf {
    let relays = used_by(model, host);
    let mut conf = RelayConf::default();
    if relays.is_empty() {
        return conf;
    }
    let own = host.relay.as_ref().and_then(|r| model.relays.get(r));
    if let Some(r) = own {
        conf.relayhost = nexthop(r);
        if r.tls == RelayTls::Implicit {
            conf.default_transport = Some(SMTPS_TRANSPORT);
        }
    }
    conf.smtps = relays.iter().any(|r| r.tls == RelayTls::Implicit);

    let mut by_sender = Vec::new();
    let mut transports = Vec::new();
    let mut sasl = Vec::new();
    let mut tls = Vec::new();
    let mut passwords = std::collections::BTreeMap::new();
    for r in &relays {
        match password(ctx, r) {
            Some(Ok(p)) => {
                let login = format!("{}:{p}", r.auth.as_ref().map_or("", |a| &a.username));
                sasl.push((nexthop(r), login.clone()));
                passwords.insert(r.name.as_str(), login);
            }
            Some(Err(d)) => diags.push(d),
            None => {}
        }
        let level = match r.tls {
            RelayTls::Implicit | RelayTls::Starttls => "encrypt",
            RelayTls::Opportunistic => "may",
        };
        tls.push((nexthop(r), level.to_string()));
    }
    for (sender, r) in rules(model) {
        let key = sender_key(sender);
        by_sender.push((key.clone(), nexthop(r)));
        if conf.smtps {
            let t = if r.tls == RelayTls::Implicit {
                SMTPS_TRANSPORT
            } else {
                "smtp"
            };
            transports.push((key.clone(), t.to_string()));
        }
        if let Some(login) = passwords.get(r.name.as_str()) {
            sasl.push((key, login.clone()));
            conf.sender_auth = true;
        }
    }
    conf.sasl = !sasl.is_empty();
    let mut push = |file, parameter, what, mut rows: Vec<(String, String)>, secret| {
        if rows.is_empty() {
            return;
        }
        rows.sort();
        rows.dedup_by(|a, b| a.0 == b.0);
        conf.tables.push(RelayTable {
            file: TableFile {
                file,
                parameter,
                what,
            },
            rows,
            secret,
        });
    };
    push(
        "sender_relays",
        "sender_dependent_relayhost_maps",
        "the relay of each sender address and domain that has its own",
        by_sender,
        false,
    );
    push(
        "sender_transports",
        "sender_dependent_default_transport_maps",
        "the transport of each sender with a relay: implicit TLS or not",
        transports,
        false,
    );
    push(
        "relay_tls",
        "smtp_tls_policy_maps",
        "TLS towards each relay: encrypt (required) or may",
        tls,
        false,
    );
    push(
        "sasl_passwd",
        "smtp_sasl_password_maps",
        "the login of each relay that has one, by sender and by relay (mode 0600)",
        sasl,
        true,
    );
    conf
}
