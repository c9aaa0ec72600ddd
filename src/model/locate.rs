//! Points problems found past the spec's text — in the zones mailc builds,
//! in the key files it reads — at the spec entry behind them: the MX list
//! item, the name server, the `records` entry, the DKIM key, else the domain.

use crate::diag::{About, Diagnostic, Label};
use crate::model::validate::records::owner_name;
use crate::source::Span;
use crate::spec::{Domain, MxEntry, Sp, Spec};

use super::names;

/// Gives each diagnostic that has no place but says what it is about the
/// place of the spec entry behind it.
pub fn locate(spec: &Spec, diags: &mut [Diagnostic]) {
    for d in diags.iter_mut().filter(|d| d.labels.is_empty()) {
        let Some(about) = &d.about else { continue };
        if let Some((span, text)) = place(spec, about) {
            d.labels.push(Label {
                span,
                text: text.to_string(),
            });
        }
    }
}

fn place(spec: &Spec, about: &About) -> Option<(Span, &'static str)> {
    match about {
        About::Domain(name) => domain(spec, name).map(|(k, _, _)| (k.span, "this domain")),
        About::Record {
            owner,
            rtype,
            target,
        } => record(spec, owner, rtype, target.as_deref()),
        About::DmarcReports(name) => {
            let (k, d, _) = domain(spec, name)?;
            let rua = |dm: Option<&crate::spec::Dmarc>| {
                dm.and_then(|m| m.rua.as_ref()?.first().map(|r| r.span))
            };
            let defaults = spec.defaults.as_ref().and_then(|x| x.dmarc.as_ref());
            let span = rua(d.own.dmarc.as_ref())
                .or_else(|| rua(defaults))
                .unwrap_or(k.span);
            Some((span, "the report addresses"))
        }
        About::DkimKey {
            domain: name,
            selector,
        } => {
            let (k, d, _) = domain(spec, name)?;
            let key = d.dkim.iter().find(|x| {
                x.selector
                    .as_ref()
                    .is_some_and(|s| s.value.eq_ignore_ascii_case(selector))
            });
            let span = key
                .map(|x| x.public_key.as_ref().map_or(x.span, |p| p.span))
                .unwrap_or(k.span);
            Some((span, "this key"))
        }
        About::File(path) => spec
            .domains
            .iter()
            .flat_map(|(_, d)| &d.dkim)
            .filter_map(|x| x.private_key.as_ref())
            .find(|p| p.value == *path)
            .map(|p| (p.span, "this file")),
    }
}

/// The spec's entry for the domain `name` (an A-label): key, entry, name.
fn domain<'s>(spec: &'s Spec, name: &str) -> Option<(&'s Sp<String>, &'s Domain, String)> {
    spec.domains.iter().find_map(|(k, d)| {
        let n = names::domain(&k.value).ok()?;
        (n == name).then_some((k, d, n))
    })
}

/// The domain of the spec whose zone holds `owner`: the longest suffix.
fn holder<'s>(spec: &'s Spec, owner: &str) -> Option<(&'s Sp<String>, &'s Domain, String)> {
    spec.domains
        .iter()
        .filter_map(|(k, d)| {
            let n = names::domain(&k.value).ok()?;
            let within = owner == n || owner.ends_with(&format!(".{n}"));
            within.then_some((k, d, n))
        })
        .max_by_key(|(_, _, n)| n.len())
}

fn record(
    spec: &Spec,
    owner: &str,
    rtype: &str,
    target: Option<&str>,
) -> Option<(Span, &'static str)> {
    let (key, d, name) = holder(spec, owner)?;
    let same = |written: &str, n: &str| names::dns_name(written).is_ok_and(|w| w == n);
    // A record the spec wrote itself.
    let rel = owner_name(&format!("{owner}."), &name).ok();
    let written = d.records.iter().find(|r| {
        let (Some(n), Some(t), Some(v)) = (&r.name, &r.rtype, &r.value) else {
            return false;
        };
        owner_name(&n.value, &name).ok() == rel
            && t.value.eq_ignore_ascii_case(rtype)
            && target.is_none_or(|x| {
                v.value
                    .split_whitespace()
                    .any(|w| same(w, x) || same(&format!("{w}.{name}"), x))
            })
    });
    if let Some(r) = written {
        let span = match target {
            Some(_) => r.value.as_ref().map_or(r.span, |v| v.span),
            None => r.name.as_ref().map_or(r.span, |n| n.span),
        };
        return Some((span, "this record"));
    }
    match (rtype, target) {
        ("MX", Some(t)) => {
            let hosts = spec.hosts.as_ref();
            let entry = d.mx.as_ref().and_then(|mx| {
                mx.value.iter().map(MxEntry::host).find(|h| {
                    same(&h.value, t)
                        || hosts.is_some_and(|hs| {
                            hs.iter().any(|(k, x)| {
                                k.value == h.value
                                    && x.hostname.as_ref().is_some_and(|n| same(&n.value, t))
                            })
                        })
                })
            });
            if let Some(h) = entry {
                return Some((h.span, "this MX host"));
            }
        }
        ("NS", Some(t)) => {
            // The name servers of the domain at `owner` (a delegated one's
            // own), else the defaults every domain takes.
            let at = domain(spec, owner).map(|(_, x, _)| x).unwrap_or(d);
            let own = at.own.nameservers.iter().flatten();
            let defaults = spec
                .defaults
                .iter()
                .flat_map(|x| x.nameservers.iter().flatten());
            if let Some(n) = own.chain(defaults).find(|n| same(&n.value, t)) {
                return Some((n.span, "this name server"));
            }
        }
        _ => {}
    }
    Some((key.span, "this domain"))
}
