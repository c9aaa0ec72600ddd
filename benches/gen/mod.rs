//! Hosting-scale specs, generated in memory, in YAML and in KDL (the same spec).
//!
//! Two hosts (`mx1`, `mx2`, postfix-dovecot); `domains` domains of `mailboxes`
//! mailboxes each, with well-formed (fake) SHA512-CRYPT hashes; a few aliases
//! per domain, nested ones and an external forward among them; every fourth
//! domain has a catch-all forwarding to `postmaster`; defaults carry an SPF
//! include, DMARC, nameservers, the hostmaster and `srs: false` (the
//! external forwards keep their senders on purpose, without a warning each).

use std::fmt::Write as _;

/// crypt(3)'s base-64 alphabet.
const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A cheap, deterministic, well-formed `{SHA512-CRYPT}$6$SALT$DIGEST` hash
/// (16 salt characters, 86 digest characters, last one from `./01`). Not the
/// hash of anything: the validator checks only the shape.
pub fn fake_hash(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 58) as usize
    };
    let mut s = String::with_capacity(14 + 3 + 16 + 1 + 86);
    s.push_str("{SHA512-CRYPT}$6$");
    for _ in 0..16 {
        s.push(CRYPT64[next()] as char);
    }
    s.push('$');
    for _ in 0..85 {
        s.push(CRYPT64[next()] as char);
    }
    s.push(b"./01"[next() % 4] as char);
    s
}

fn domain_name(d: usize) -> String {
    format!("customer{d:05}.example")
}

fn local(m: usize) -> String {
    format!("user{m:03}")
}

/// Whether domain `d` has a catch-all.
fn catch_all(d: usize) -> bool {
    d.is_multiple_of(4)
}

pub fn yaml(domains: usize, mailboxes: usize) -> String {
    assert!(mailboxes >= 6, "the aliases name the first six mailboxes");
    let mut s = String::with_capacity(domains * mailboxes * 160 + 4096);
    s.push_str(
        "version: 1\n\
         \n\
         defaults:\n\
         \x20 ttl: 3600\n\
         \x20 unknown_recipients: reject\n\
         \x20 srs: false\n\
         \x20 spf: {include: [_spf.relay.example], all: \"-all\"}\n\
         \x20 dmarc: {policy: quarantine, rua: [\"mailto:dmarc@hosting.example\"]}\n\
         \x20 quota: 2G\n\
         \x20 nameservers: [ns1.dns-host.example, ns2.dns-host.example]\n\
         \x20 hostmaster: hostmaster@hosting.example\n\
         \n\
         hosts:\n\
         \x20 mx1:\n\
         \x20   hostname: mx1.hosting.example\n\
         \x20   ipv4: 203.0.113.10\n\
         \x20   ipv6: \"2001:db8::10\"\n\
         \x20   stack: postfix-dovecot\n\
         \x20 mx2:\n\
         \x20   hostname: mx2.hosting.example\n\
         \x20   ipv4: 198.51.100.7\n\
         \x20   stack: postfix-dovecot\n\
         \n\
         domains:\n",
    );
    for d in 0..domains {
        let name = domain_name(d);
        let _ = writeln!(s, "  {name}:");
        s.push_str("    mx: [mx1, mx2]\n    mailboxes:\n");
        for m in 0..mailboxes {
            let _ = writeln!(s, "      {}:", local(m));
            let _ = writeln!(
                s,
                "        password: \"{}\"",
                fake_hash((d * mailboxes + m) as u64)
            );
            if m == 0 {
                s.push_str("        quota: 5G\n        aliases: [postmaster, abuse]\n");
            }
        }
        let _ = writeln!(
            s,
            "    aliases:\n\
             \x20     info: {u1}\n\
             \x20     sales: [{u1}, {u2}]\n\
             \x20     team: [sales, {u3}]\n\
             \x20     everyone: [team, info, {u4}]\n\
             \x20     partners: [{u5}, partner{d}@external.example]",
            u1 = local(1),
            u2 = local(2),
            u3 = local(3),
            u4 = local(4),
            u5 = local(5),
        );
        if catch_all(d) {
            s.push_str("    unknown_recipients: {forward: postmaster}\n");
        }
    }
    s
}

pub fn kdl(domains: usize, mailboxes: usize) -> String {
    assert!(mailboxes >= 6, "the aliases name the first six mailboxes");
    let mut s = String::with_capacity(domains * mailboxes * 150 + 4096);
    s.push_str(
        "version 1\n\
         defaults ttl=3600 quota=\"2G\" hostmaster=hostmaster@hosting.example {\n\
         \x20   nameservers ns1.dns-host.example ns2.dns-host.example\n\
         \x20   unknown-recipients reject\n\
         \x20   srs #false\n\
         \x20   spf all=\"-all\" { include _spf.relay.example }\n\
         \x20   dmarc policy=quarantine { rua \"mailto:dmarc@hosting.example\" }\n\
         }\n\
         host mx1 hostname=mx1.hosting.example ipv4=\"203.0.113.10\" ipv6=\"2001:db8::10\" stack=postfix-dovecot\n\
         host mx2 hostname=mx2.hosting.example ipv4=\"198.51.100.7\" stack=postfix-dovecot\n",
    );
    for d in 0..domains {
        let name = domain_name(d);
        let _ = writeln!(s, "domain {name} {{\n    mx mx1 mx2");
        for m in 0..mailboxes {
            let hash = fake_hash((d * mailboxes + m) as u64);
            if m == 0 {
                let _ = writeln!(
                    s,
                    "    mailbox {} password=\"{hash}\" quota=\"5G\" {{\n        aliases postmaster abuse\n    }}",
                    local(m)
                );
            } else {
                let _ = writeln!(s, "    mailbox {} password=\"{hash}\"", local(m));
            }
        }
        let _ = writeln!(
            s,
            "    alias info {u1}\n\
             \x20   alias sales {u1} {u2}\n\
             \x20   alias team sales {u3}\n\
             \x20   alias everyone team info {u4}\n\
             \x20   alias partners {u5} partner{d}@external.example",
            u1 = local(1),
            u2 = local(2),
            u3 = local(3),
            u4 = local(4),
            u5 = local(5),
        );
        if catch_all(d) {
            s.push_str("    unknown-recipients forward=postmaster\n");
        }
        s.push_str("}\n");
    }
    s
}

/// The hosting spec of [`yaml`] with `extra_aliases` more plain aliases per
/// domain (`alias000: user…`, spread over the mailboxes), as the hosting
/// benchmark needs: domains × mailboxes × aliases, catch-alls, an SPF
/// include, two hosts.
// Only the hosting bench uses it; every bench includes this module.
#[allow(dead_code)]
pub fn hosting_yaml(domains: usize, mailboxes: usize, extra_aliases: usize) -> String {
    let base = yaml(domains, mailboxes);
    if extra_aliases == 0 {
        return base;
    }
    // Every domain's alias block ends with its `partners` line: the extra
    // aliases go right after it.
    let mut s = String::with_capacity(base.len() + domains * extra_aliases * 32);
    for line in base.split_inclusive('\n') {
        s.push_str(line);
        if line.starts_with("      partners: [") {
            for a in 0..extra_aliases {
                let _ = writeln!(s, "      alias{a:03}: {}", local(a % mailboxes));
            }
        }
    }
    s
}

/// [`hosting_yaml`] in KDL: the same spec.
// Only the hosting bench uses it; every bench includes this module.
#[allow(dead_code)]
pub fn hosting_kdl(domains: usize, mailboxes: usize, extra_aliases: usize) -> String {
    let base = kdl(domains, mailboxes);
    if extra_aliases == 0 {
        return base;
    }
    let mut s = String::with_capacity(base.len() + domains * extra_aliases * 32);
    for line in base.split_inclusive('\n') {
        s.push_str(line);
        if line.starts_with("    alias partners ") {
            for a in 0..extra_aliases {
                let _ = writeln!(s, "    alias alias{a:03} {}", local(a % mailboxes));
            }
        }
    }
    s
}
