//! DMARC (RFC 7489), MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): merged with
//! the defaults field by field, values in range, report URIs safe to publish.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Dmarc, MtaSts, TlsRpt, names};
use crate::spec::{self, Sp};
use crate::vocab::{DmarcPolicy, MtaStsMode};

/// RFC 8461 §3.2: `max_age` is at most 31557600 seconds (about a year).
pub const MTA_STS_MAX_AGE: u32 = 31_557_600;
pub const MTA_STS_DEFAULT_AGE: u32 = 604_800;

fn pick<'a, T>(own: Option<&'a T>, default: Option<&'a T>) -> Option<&'a T> {
    own.or(default)
}

/// Merges and checks DMARC. `None` when neither the domain nor the defaults set it.
pub fn dmarc(
    own: Option<&spec::Dmarc>,
    def: Option<&spec::Dmarc>,
    diags: &mut Diagnostics,
) -> Option<Dmarc> {
    if own.is_none() && def.is_none() {
        return None;
    }
    let f = |g: fn(&spec::Dmarc) -> Option<&Sp<DmarcPolicy>>| {
        pick(own.and_then(g), def.and_then(g)).map(|s| s.value)
    };
    let policy = f(|d| d.policy.as_ref());
    let span = own.or(def).map(|d| d.span).unwrap_or_default();
    let Some(policy) = policy else {
        diags.push(
            Diagnostic::error(Code::Dmarc, span, "DMARC needs a `policy`")
                .label("no policy")
                .help("add `policy: none` to start monitoring, then `quarantine` or `reject`"),
        );
        return None;
    };
    let lists = |g: fn(&spec::Dmarc) -> Option<&Vec<Sp<String>>>| {
        pick(own.and_then(g), def.and_then(g))
            .cloned()
            .unwrap_or_default()
    };
    let rua = report_uris(&lists(|d| d.rua.as_ref()), false, "DMARC `rua`", diags);
    let ruf = report_uris(&lists(|d| d.ruf.as_ref()), false, "DMARC `ruf`", diags);
    let pct = pick(
        own.and_then(|d| d.pct.as_ref()),
        def.and_then(|d| d.pct.as_ref()),
    );
    if let Some(p) = pct
        && p.value > 100
    {
        diags.push(
            Diagnostic::error(
                Code::Dmarc,
                p.span,
                format!("DMARC `pct` is {}; it is a percentage, 0 to 100", p.value),
            )
            .label("out of range")
            .help("use a number from 0 to 100 (100 applies the policy to all mail)"),
        );
    }
    Some(Dmarc {
        policy,
        subdomain_policy: f(|d| d.subdomain_policy.as_ref()),
        rua,
        ruf,
        adkim: pick(
            own.and_then(|d| d.adkim.as_ref()),
            def.and_then(|d| d.adkim.as_ref()),
        )
        .map(|s| s.value),
        aspf: pick(
            own.and_then(|d| d.aspf.as_ref()),
            def.and_then(|d| d.aspf.as_ref()),
        )
        .map(|s| s.value),
        pct: pct.map(|p| p.value.min(100)),
    })
}

pub fn mta_sts(
    own: Option<&spec::MtaSts>,
    def: Option<&spec::MtaSts>,
    null_mx: bool,
    diags: &mut Diagnostics,
) -> Option<MtaSts> {
    if own.is_none() && def.is_none() {
        return None;
    }
    let span = own.or(def).map(|m| m.span).unwrap_or_default();
    let mode = pick(
        own.and_then(|m| m.mode.as_ref()),
        def.and_then(|m| m.mode.as_ref()),
    )
    .map_or(MtaStsMode::Testing, |m| m.value);
    let age = pick(
        own.and_then(|m| m.max_age.as_ref()),
        def.and_then(|m| m.max_age.as_ref()),
    );
    if let Some(a) = age
        && a.value > MTA_STS_MAX_AGE
    {
        diags.push(
            Diagnostic::error(
                Code::MtaSts,
                a.span,
                format!(
                    "MTA-STS `max_age` is {}; RFC 8461 allows at most {MTA_STS_MAX_AGE} (one year)",
                    a.value
                ),
            )
            .label("out of range")
            .help(format!(
                "use at most {MTA_STS_MAX_AGE}; one week ({MTA_STS_DEFAULT_AGE}) is common"
            )),
        );
    }
    if null_mx && own.is_some() {
        diags.push(
            Diagnostic::error(
                Code::MtaSts,
                span,
                "MTA-STS on a domain that receives no mail (`mx: []`)",
            )
            .label("nothing to protect")
            .help("remove `mta_sts` from this domain"),
        );
        return None;
    }
    if null_mx {
        return None;
    }
    Some(MtaSts {
        mode,
        max_age: age.map_or(MTA_STS_DEFAULT_AGE, |a| a.value.min(MTA_STS_MAX_AGE)),
    })
}

pub fn tls_rpt(
    own: Option<&spec::TlsRpt>,
    def: Option<&spec::TlsRpt>,
    diags: &mut Diagnostics,
) -> Option<TlsRpt> {
    if own.is_none() && def.is_none() {
        return None;
    }
    let span = own.or(def).map(|m| m.span).unwrap_or_default();
    let rua = pick(
        own.and_then(|t| t.rua.as_ref()),
        def.and_then(|t| t.rua.as_ref()),
    )
    .cloned()
    .unwrap_or_default();
    if rua.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::TlsRpt,
                span,
                "TLS-RPT needs at least one `rua` address",
            )
            .label("no report address")
            .help("add `rua: [\"mailto:tlsrpt@example.com\"]`"),
        );
        return None;
    }
    let rua = report_uris(&rua, true, "TLS-RPT `rua`", diags);
    Some(TlsRpt { rua })
}

/// `mailto:ADDRESS` (DMARC may add `!SIZE`), or `https://…` where allowed.
/// Nothing that could end a tag (`;`), split a list (`,`) or a string.
fn report_uris(
    uris: &[Sp<String>],
    https: bool,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let mut out = Vec::new();
    for u in uris {
        match report_uri(&u.value, https) {
            Ok(s) => {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Err(why) => diags.push(
                Diagnostic::error(
                    Code::ReportUri,
                    u.span,
                    format!("`{}` is not a valid {what} address: {why}", u.value),
                )
                .label("invalid report address")
                .help(if https {
                    "write `mailto:reports@example.com` or `https://reports.example.com/tlsrpt`"
                } else {
                    "write `mailto:dmarc@example.com`"
                }),
            ),
        }
    }
    out
}

fn report_uri(s: &str, https: bool) -> Result<String, String> {
    if let Some(rest) = s.strip_prefix("mailto:") {
        let (addr, size) = match rest.split_once('!') {
            Some((a, sz)) => (a, Some(sz)),
            None => (rest, None),
        };
        let (local, domain) = names::address(addr)?;
        let mut out = format!("mailto:{local}@{domain}");
        if let Some(sz) = size {
            let digits = sz.trim_end_matches(['k', 'm', 'g', 't']);
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || sz.len() - digits.len() > 1
            {
                return Err(format!("`!{sz}` is not a size limit like `!10m`"));
            }
            out.push('!');
            out.push_str(sz);
        }
        return Ok(out);
    }
    if https && let Some(rest) = s.strip_prefix("https://") {
        if let Some(c) = rest.chars().find(|c| {
            c.is_whitespace() || matches!(c, ';' | ',' | '"' | '\\' | '!') || !c.is_ascii()
        }) {
            return Err(format!(
                "`{}` is not allowed in a report URI",
                c.escape_default()
            ));
        }
        let host = rest.split('/').next().unwrap_or("");
        names::domain(host).map_err(|why| format!("its host is not valid: {why}"))?;
        return Ok(s.to_string());
    }
    Err(if https {
        "it starts with neither `mailto:` nor `https://`".into()
    } else {
        "it does not start with `mailto:`".into()
    })
}

#[cfg(test)]
mod tests {
    use super::report_uri;

    #[test]
    fn report_uris() {
        assert_eq!(
            report_uri("mailto:DMARC@Example.com", false).unwrap(),
            "mailto:dmarc@example.com"
        );
        assert_eq!(
            report_uri("mailto:d@example.com!10m", false).unwrap(),
            "mailto:d@example.com!10m"
        );
        assert!(report_uri("mailto:d@example.com;p=none", false).is_err());
        assert!(report_uri("mailto:a@example.com,mailto:b@x.org", false).is_err());
        assert!(report_uri("https://r.example.com/x", false).is_err());
        assert!(report_uri("https://r.example.com/x", true).is_ok());
        assert!(report_uri("https://r.example.com/x;y", true).is_err());
    }
}
