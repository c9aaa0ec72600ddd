//! Each host's role for a domain (the spec's `routing`), as cPanel's "Email
//! Routing" decides it.
//!
//! `auto`: a host absent from the MX list treats the domain as remote; the host
//! at the lowest preference value is local; a host listed only at a higher
//! preference is a backup. Explicit modes override, and the combinations that
//! split or loop mail are errors.

use std::collections::BTreeMap;

use super::{Mx, Role};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;
use crate::spec::RoutingMode;

/// One host as routing sees it.
pub struct HostInfo<'a> {
    pub key: &'a str,
    pub hostname: &'a str,
    /// The mode the spec asks for, and where (for diagnostics).
    pub mode: RoutingMode,
    pub mode_span: Option<Span>,
}

/// Decides every host's role for one domain. `mx_spans[i]` is where `mx[i]` is written.
pub fn decide(
    domain: &str,
    mx: &[Mx],
    mx_spans: &[Span],
    mx_list_span: Span,
    hosts: &[HostInfo<'_>],
    diags: &mut Diagnostics,
) -> BTreeMap<String, Role> {
    let mut roles = BTreeMap::new();
    let lowest = mx.iter().map(|m| m.preference).min();
    let pref_of = |key: &str| {
        mx.iter()
            .filter(|m| m.host.as_deref() == Some(key))
            .map(|m| m.preference)
            .min()
    };
    let span_of = |key: &str| {
        mx.iter()
            .position(|m| m.host.as_deref() == Some(key))
            .and_then(|i| mx_spans.get(i).copied())
    };

    // Null MX: nobody receives; the route says 556 5.1.10 everywhere.
    if mx.is_empty() {
        for h in hosts {
            if let (Some(span), RoutingMode::Local | RoutingMode::Backup) = (h.mode_span, h.mode) {
                let d = Diagnostic::error(
                    Code::RoutingNoMx,
                    span,
                    format!(
                        "domain `{domain}` receives no mail (`mx: []`), so host `{}` cannot be {}",
                        h.key,
                        mode_name(h.mode)
                    ),
                )
                .label("routing for a null-MX domain")
                .help("list the host under `mx`, or drop the routing for it");
                diags.push(d);
            }
            roles.insert(h.key.to_string(), Role::Remote);
        }
        return roles;
    }

    // First pass: local / remote; backups wait for the primary.
    let mut locals: Vec<(&str, Span)> = Vec::new();
    let mut backups: Vec<&HostInfo<'_>> = Vec::new();
    for h in hosts {
        let at = h
            .mode_span
            .or_else(|| span_of(h.key))
            .unwrap_or(mx_list_span);
        match h.mode {
            RoutingMode::Local => {
                locals.push((h.key, at));
                roles.insert(h.key.to_string(), Role::Local);
            }
            RoutingMode::Remote => {
                if pref_of(h.key).is_some() && pref_of(h.key) == lowest {
                    let d = Diagnostic::error(
                        Code::RoutingLoop,
                        at,
                        format!("host `{}` is `remote` for `{domain}`, but the MX list names it at the lowest preference", h.key),
                    )
                    .label("mail would loop")
                    .with(span_of(h.key).unwrap_or(mx_list_span), "senders deliver here first")
                    .help(format!("make `{}` local, or take it out of the MX list", h.key));
                    diags.push(d);
                }
                roles.insert(h.key.to_string(), Role::Remote);
            }
            RoutingMode::Backup => backups.push(h),
            RoutingMode::Auto => match pref_of(h.key) {
                None => {
                    roles.insert(h.key.to_string(), Role::Remote);
                }
                Some(p) if Some(p) == lowest => {
                    locals.push((h.key, at));
                    roles.insert(h.key.to_string(), Role::Local);
                }
                Some(_) => backups.push(h),
            },
        }
    }

    if locals.len() > 1 {
        let names: Vec<String> = locals.iter().map(|(k, _)| format!("`{k}`")).collect();
        let mut d = Diagnostic::error(
            Code::RoutingTwoLocal,
            locals[1].1,
            format!(
                "{} are {} local for `{domain}`: its mail would be split between two stores",
                names.join(" and "),
                if names.len() == 2 { "both" } else { "all" }
            ),
        )
        .label("second local host");
        d = d.with(locals[0].1, "first local host").help(
            "give the hosts different MX preferences, or set `routing: {HOST: backup}` on all but one",
        );
        diags.push(d);
    }
    let local = locals.first().map(|(k, _)| *k);

    for h in backups {
        let at = h
            .mode_span
            .or_else(|| span_of(h.key))
            .unwrap_or(mx_list_span);
        // The primary: our local host, else the most preferred MX that is not this host.
        let primary: Option<(String, Option<&str>)> = match local {
            Some(k) => hosts
                .iter()
                .find(|x| x.key == k)
                .map(|x| (x.hostname.to_string(), Some(x.key))),
            None => mx
                .iter()
                .filter(|m| m.host.as_deref() != Some(h.key))
                .min_by_key(|m| m.preference)
                .map(|m| (m.hostname.clone(), m.host.as_deref())),
        };
        match primary {
            None => {
                let d = Diagnostic::error(
                    Code::RoutingNoPrimary,
                    at,
                    format!(
                        "host `{}` is a backup for `{domain}`, but there is no primary to relay to",
                        h.key
                    ),
                )
                .label("backup without a primary")
                .help(
                    "add the primary to the MX list at a lower preference, or make this host local",
                );
                diags.push(d);
                roles.insert(
                    h.key.to_string(),
                    Role::Backup {
                        primary: String::new(),
                    },
                );
            }
            Some((hostname, Some(other))) if local.is_none() => {
                // The primary is one of ours that is not local: it would pass the mail on again.
                let d = Diagnostic::error(
                    Code::RoutingLoop,
                    at,
                    format!("host `{}` is a backup for `{domain}` and relays to `{other}`, which does not deliver it either", h.key),
                )
                .label("mail would loop between our hosts")
                .with(span_of(other).unwrap_or(mx_list_span), "the primary it would relay to")
                .help(format!("make `{other}` local for `{domain}` (`routing: {{{other}: local}}`)"));
                diags.push(d);
                roles.insert(h.key.to_string(), Role::Backup { primary: hostname });
            }
            Some((hostname, _)) => {
                roles.insert(h.key.to_string(), Role::Backup { primary: hostname });
            }
        }
    }
    roles
}

fn mode_name(m: RoutingMode) -> &'static str {
    match m {
        RoutingMode::Auto => "auto",
        RoutingMode::Local => "local",
        RoutingMode::Remote => "remote",
        RoutingMode::Backup => "a backup",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(list: &[(&str, u16, Option<&str>)]) -> Vec<Mx> {
        list.iter()
            .map(|(h, p, k)| Mx {
                hostname: h.to_string(),
                preference: *p,
                host: k.map(str::to_string),
            })
            .collect()
    }

    fn run(mx: &[Mx], hosts: &[(&str, RoutingMode)]) -> (BTreeMap<String, Role>, Vec<Code>) {
        let infos: Vec<HostInfo> = hosts
            .iter()
            .map(|(k, m)| HostInfo {
                key: k,
                hostname: if *k == "mx1" {
                    "mx1.example.com"
                } else {
                    "mx2.example.net"
                },
                mode: *m,
                mode_span: None,
            })
            .collect();
        let mut diags = Diagnostics::new();
        let spans = vec![Span::default(); mx.len()];
        let roles = decide(
            "example.com",
            mx,
            &spans,
            Span::default(),
            &infos,
            &mut diags,
        );
        (
            roles,
            diags.into_sorted().into_iter().map(|d| d.code).collect(),
        )
    }

    #[test]
    fn auto_follows_mx_preferences() {
        let m = mx(&[
            ("mx1.example.com", 10, Some("mx1")),
            ("mx2.example.net", 20, Some("mx2")),
        ]);
        let (roles, errs) = run(
            &m,
            &[("mx1", RoutingMode::Auto), ("mx2", RoutingMode::Auto)],
        );
        assert!(errs.is_empty());
        assert_eq!(roles["mx1"], Role::Local);
        assert_eq!(
            roles["mx2"],
            Role::Backup {
                primary: "mx1.example.com".into()
            }
        );
    }

    #[test]
    fn auto_behind_google_is_backup() {
        let m = mx(&[
            ("aspmx.l.google.com", 1, None),
            ("mx1.example.com", 20, Some("mx1")),
        ]);
        let (roles, errs) = run(&m, &[("mx1", RoutingMode::Auto)]);
        assert!(errs.is_empty());
        assert_eq!(
            roles["mx1"],
            Role::Backup {
                primary: "aspmx.l.google.com".into()
            }
        );
    }

    #[test]
    fn tie_is_a_split() {
        let m = mx(&[
            ("mx1.example.com", 10, Some("mx1")),
            ("mx2.example.net", 10, Some("mx2")),
        ]);
        let (_, errs) = run(
            &m,
            &[("mx1", RoutingMode::Auto), ("mx2", RoutingMode::Auto)],
        );
        assert_eq!(errs, vec![Code::RoutingTwoLocal]);
    }

    #[test]
    fn remote_at_lowest_loops() {
        let m = mx(&[("mx1.example.com", 10, Some("mx1"))]);
        let (_, errs) = run(&m, &[("mx1", RoutingMode::Remote)]);
        assert_eq!(errs, vec![Code::RoutingLoop]);
    }

    #[test]
    fn backup_alone_has_no_primary() {
        let m = mx(&[("mx1.example.com", 10, Some("mx1"))]);
        let (_, errs) = run(&m, &[("mx1", RoutingMode::Backup)]);
        assert_eq!(errs, vec![Code::RoutingNoPrimary]);
    }

    #[test]
    fn two_backups_loop() {
        let m = mx(&[
            ("mx1.example.com", 10, Some("mx1")),
            ("mx2.example.net", 20, Some("mx2")),
        ]);
        let (_, errs) = run(
            &m,
            &[("mx1", RoutingMode::Backup), ("mx2", RoutingMode::Backup)],
        );
        assert_eq!(errs, vec![Code::RoutingLoop, Code::RoutingLoop]);
    }

    #[test]
    fn remote_everywhere_is_fine() {
        let m = mx(&[("aspmx.l.google.com", 1, None)]);
        let (roles, errs) = run(&m, &[("mx1", RoutingMode::Auto)]);
        assert!(errs.is_empty());
        assert_eq!(roles["mx1"], Role::Remote);
    }
}
