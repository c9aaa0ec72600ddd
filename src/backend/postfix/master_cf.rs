//! The view of `master.cf`: the services of one host. Inbound SMTP, and
//! submission on both ports with TLS and SASL required and the sender
//! bound to the login; the rest is Postfix's standard service table
//! (chroot off everywhere, as upstream ships it).

use serde::Serialize;

use crate::backend::install::Install;
use crate::model::Host;

/// Everything `master.cf` prints, decided.
#[derive(Serialize)]
pub struct MasterCf {
    host: String,
    hostname: String,
    /// Service names: the well-known name on its standard port, else the
    /// port number.
    smtp: String,
    submission: String,
    submissions: String,
    submission_options: Vec<String>,
    /// The transport of relays with implicit TLS, when one is used.
    smtps_relay: Option<&'static str>,
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
    /// `send_limits`: the host has sending limits, asked of `mailc policy`
    /// at each RCPT of a submission.
    pub fn new(host: &Host, install: &Install, smtps_relay: bool, send_limits: bool) -> MasterCf {
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
            submission_options: SUBMISSION_OPTIONS
                .iter()
                .map(|o| match o.strip_prefix("smtpd_relay_restrictions=") {
                    Some(rest) if send_limits => format!(
                        "smtpd_relay_restrictions=check_policy_service,inet:{},{rest}",
                        install.policy_listen
                    ),
                    _ => o.to_string(),
                })
                .collect(),
            smtps_relay: smtps_relay.then_some(super::relay::SMTPS_TRANSPORT),
        }
    }
}
