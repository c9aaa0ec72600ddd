//! How the spec's nodes are spelt in KDL: which nodes continue a list,
//! which are maps with fixed fields, every known node name, and the example
//! a help shows for a node.

/// Node names whose arguments are list items; repeated nodes continue one list.
#[rustfmt::skip]
pub(super) const LIST_NODES: &[&str] = &[
    "nameservers",
    "aliases",
    "rua",
    "ruf",
    "include",
    "ip4",
    "ip6",
    "senders",
    "a",
    "ptr",
    "exists",
];

/// Node names that are maps with fixed fields: properties and children only.
pub(super) const FIXED_MAPS: &[&str] = &[
    "defaults", "spf", "dmarc", "mta-sts", "tls-rpt", "dns", "vacation", "limits",
];

/// Every node name the mapping knows, for "did you mean" on a node no key fits.
#[rustfmt::skip]
pub(super) const KNOWN_NODES: &[&str] = &[
    "version", "defaults", "host", "domain", "mx", "nameservers", "aliases", "alias",
    "mailbox", "dkim", "record", "spf", "dmarc", "mta-sts", "tls-rpt", "unknown-recipients",
    "routing", "rua", "ruf", "include", "ip4", "ip6", "ttl", "quota", "hostmaster", "srs",
    "zone", "mail", "password", "send-only", "disabled", "hostname", "ipv4", "ipv6", "stack", "algorithm",
    "private-key", "public-key", "sign", "policy", "subdomain-policy", "adkim", "aspf", "pct",
    "mode", "max-age", "all", "dns", "dns-target", "target", "owns", "type", "server",
    "tsig-key", "tsig-algorithm", "tsig-secret-file", "url", "server-id", "api-key-file",
    "tests", "address", "deliver", "forward", "relay", "reject", "bounce", "drop", "remote",
    "spf-allows", "spf-denies", "dmarc-at-least", "state", "outbound-relay", "host", "port",
    "tls", "username", "password-file", "senders", "rule", "vacation", "match", "if", "then",
    "subject", "text", "start", "end", "days", "addresses", "a", "ptr", "exists", "redirect",
    "limits", "messages-per-hour", "recipients-per-hour",
];

/// How a node is written, for the `help:` of a shape error.
pub(super) fn example(name: &str) -> Option<&'static str> {
    Some(match name {
        "version" => "`version 1`",
        "defaults" => {
            "`defaults ttl=3600 quota=\"2G\" { nameservers ns1.example.net ns2.example.net }`"
        }
        "host" => "`host mx1 hostname=mx1.example.com ipv4=\"203.0.113.10\" stack=postfix-dovecot`",
        "domain" => "`domain example.com routing=auto { mx mx1 mx2 }`",
        "mailbox" => {
            "`mailbox alice password=\"{SHA512-CRYPT}$6$...\" quota=\"5G\" { aliases a.smith }`"
        }
        "alias" => "`alias sales alice bob partner@external.org` (or `alias spam drop=#true`)",
        "dkim" => "`dkim s2026 algorithm=ed25519 private-key=\"keys/example.com/s2026.key\"`",
        "record" => "`record www A \"203.0.113.20\" ttl=300` (name, type, value, then `ttl=`)",
        "mx" => {
            "`mx mx1 mx2`, or one node per host with a priority: `mx aspmx.l.google.com priority=1`"
        }
        "nameservers" => "`nameservers ns1.example.net ns2.example.net`",
        "aliases" => "`aliases a.smith postmaster`",
        "rua" => "`rua \"mailto:dmarc@example.com\"`",
        "ruf" => "`ruf \"mailto:dmarc-failures@example.com\"`",
        "include" => "`include _spf.google.com`",
        "ip4" => "`ip4 \"192.0.2.0/24\"`",
        "ip6" => "`ip6 \"2001:db8::/32\"`",
        "a" => "`a \"@\" mail.example.net`",
        "ptr" => "`ptr \"@\"`",
        "exists" => "`exists \"%{i}._spf.example.net\"`",
        "spf" => "`spf all=\"-all\" { include _spf.google.com; ip4 \"192.0.2.0/24\" }`",
        "dmarc" => "`dmarc policy=reject pct=100 { rua \"mailto:dmarc@example.com\" }`",
        "mta-sts" => "`mta-sts mode=enforce max-age=604800`",
        "tls-rpt" => "`tls-rpt { rua \"mailto:tlsrpt@example.com\" }`",
        "unknown-recipients" => {
            "`unknown-recipients reject` (or `bounce`, `drop`), `unknown-recipients forward=alice` \
             or `unknown-recipients relay=\"mx.example.net:25\"`"
        }
        "routing" => {
            "`routing mx1=local mx2=backup`, or one mode for every host as the domain's \
             property: `domain example.com routing=local`"
        }
        "dns" => "`dns target=primary owns=mail`",
        "limits" => "`limits messages-per-hour=200 recipients-per-hour=1000`",
        "rule" => {
            "`rule match=any { if { subject contains=\"[list]\"; header List-Id contains=lists }; \
             then { fileinto Lists; stop } }`"
        }
        "vacation" => {
            "`vacation subject=\"Away\" days=7 start=\"2026-12-20\" end=\"2027-01-03\" \
             { text \"Back in January.\"; addresses a.smith }`"
        }
        "dns-target" => {
            "`dns-target primary type=rfc2136 server=\"192.0.2.53\" tsig-key=mailc-key \
             tsig-secret-file=\"keys/mailc-key.secret\"`, or `dns-target pdns type=powerdns \
             url=\"http://127.0.0.1:8081\" api-key-file=\"keys/powerdns-api.key\"`"
        }
        "outbound-relay" => {
            "`outbound-relay provider host=smtp.provider.example port=587 tls=starttls \
             username=acct password-file=\"keys/provider.secret\" { senders example.com }`"
        }
        "senders" => "`senders example.com news@example.org`",
        "tests" => {
            "`tests { address info@example.com host=mx1 { deliver alice bob }; \
             domain example.com dmarc-at-least=quarantine { mx mx1 } }`"
        }
        _ => return None,
    })
}

pub(super) fn help_for(name: &str) -> String {
    match example(name) {
        Some(e) => format!("write it as {e}"),
        None => "write one value as an argument (`name value`), a list as several \
                 arguments, a map as properties and child nodes"
            .to_string(),
    }
}
