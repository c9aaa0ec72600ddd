//! Pure parsers for the names and values of a spec: domains (UTS-46 to
//! A-labels), host names, local parts, addresses, quotas. Both the checks and
//! the model use these, so they can never disagree.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a name was refused; the text completes "… is not a valid X: {reason}".
pub type Reason = String;

/// Normalizes a domain name: lowercase, IDN to A-labels (UTS-46), one
/// trailing dot allowed and dropped. Every label LDH, 1–63 octets, the whole
/// name at most 253 (RFC 1035 §2.3.4, RFC 5890).
pub fn domain(input: &str) -> Result<String, Reason> {
    hostname_like(input, false)
}

/// Like [`domain`], but labels may also hold `_` (service names such as
/// `_spf.google.com` and DKIM selectors), as DNS allows outside host names.
pub fn dns_name(input: &str) -> Result<String, Reason> {
    hostname_like(input, true)
}

fn hostname_like(input: &str, underscore: bool) -> Result<String, Reason> {
    let trimmed = input.strip_suffix('.').unwrap_or(input);
    if trimmed.is_empty() {
        return Err("it is empty".into());
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed)
            .map_err(|_| "it is not a valid internationalized name (UTS-46)".to_string())?
    };
    if ascii.len() > 253 {
        return Err(format!(
            "it is {} octets long; a name has at most 253",
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        label_ok(label, underscore)?;
    }
    Ok(ascii)
}

fn label_ok(label: &str, underscore: bool) -> Result<(), Reason> {
    if label.is_empty() {
        return Err("it has an empty label (two dots in a row, or a leading dot)".into());
    }
    if label.len() > 63 {
        return Err(format!(
            "the label `{label}` is {} octets long; a label has at most 63",
            label.len()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || (underscore && c == '_')))
    {
        return Err(format!(
            "`{}` is not allowed in a name (letters, digits and inner hyphens only)",
            c.escape_default()
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("the label `{label}` starts or ends with a hyphen"));
    }
    Ok(())
}

/// A fully qualified host name: a domain with at least two labels.
pub fn fqdn(input: &str) -> Result<String, Reason> {
    let name = domain(input)?;
    if !name.contains('.') {
        return Err("it is not fully qualified (it needs a dot, like `mx1.example.com`)".into());
    }
    Ok(name)
}

/// A host key: `[a-z0-9-]+`, no dots.
pub fn host_key(input: &str) -> Result<String, Reason> {
    if input.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = input
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "`{}` is not allowed; host keys are lowercase letters, digits and `-`",
            c.escape_default()
        ));
    }
    Ok(input.to_string())
}

/// A local part, lowercased. RFC 5321 dot-atom restricted to letters, digits
/// and `. _ - +`, with no leading, trailing or double dot: nothing that could
/// start a new line, quote, comment or path in any output.
pub fn local_part(input: &str) -> Result<String, Reason> {
    if input.is_empty() {
        return Err("it is empty".into());
    }
    if input.len() > 64 {
        return Err(format!(
            "it is {} octets long; a local part has at most 64 (RFC 5321 §4.5.3.1.1)",
            input.len()
        ));
    }
    if let Some(c) = input
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')))
    {
        return Err(format!(
            "`{}` is not allowed; local parts hold letters, digits and `. _ - +`",
            c.escape_default()
        ));
    }
    if input.starts_with('.') || input.ends_with('.') || input.contains("..") {
        return Err("a dot may not lead, trail or follow another dot".into());
    }
    Ok(input.to_ascii_lowercase())
}

/// A full address `local@domain`, normalized (lowercase, A-label domain).
pub fn address(input: &str) -> Result<(String, String), Reason> {
    let Some((local, dom)) = input.rsplit_once('@') else {
        return Err("it has no `@`".into());
    };
    let local = local_part(local).map_err(|r| format!("its local part is not valid: {r}"))?;
    let dom = domain(dom).map_err(|r| format!("its domain is not valid: {r}"))?;
    if !dom.contains('.') {
        return Err("its domain is not fully qualified".into());
    }
    Ok((local, dom))
}

/// A quota: a whole number with an optional unit `K`, `M`, `G`, `T`
/// (powers of 1024, an optional trailing `B`/`iB`), in bytes. Zero is refused.
pub fn quota(input: &str) -> Result<u64, Reason> {
    let s = input.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| "it does not start with a number".to_string())?;
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(&unit);
    let mult: u64 = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("`{unit}` is not a unit; use K, M, G or T")),
    };
    if n == 0 {
        return Err("a quota of zero would refuse all mail; leave `quota` out for no limit".into());
    }
    n.checked_mul(mult)
        .ok_or_else(|| "it is too large".to_string())
}

pub fn ipv4(input: &str) -> Result<Ipv4Addr, Reason> {
    input
        .parse()
        .map_err(|_| "it is not an IPv4 address like `203.0.113.10`".to_string())
}

pub fn ipv6(input: &str) -> Result<Ipv6Addr, Reason> {
    input
        .parse()
        .map_err(|_| "it is not an IPv6 address like `2001:db8::10`".to_string())
}

/// `HOST[:PORT]` of a relay destination. An IPv6 address is written in
/// brackets, `[2001:db8::25]:2525` (as in a URL, RFC 3986 §3.2.2), and then
/// returned without them; a bare IPv6 address has no port.
pub fn host_port(input: &str) -> Result<(String, Option<u16>), Reason> {
    let port_of = |p: &str| -> Result<u16, Reason> {
        match p.parse::<u16>() {
            Ok(0) => Err("port 0 is not a port".into()),
            Ok(port) => Ok(port),
            Err(_) => Err(format!("`{p}` is not a port number")),
        }
    };
    if let Some(rest) = input.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or("the `[` of an IPv6 address is not closed with `]`")?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| format!("`{addr}` in brackets is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(port_of(after.strip_prefix(':').ok_or_else(|| {
                format!("`{after}` after the address is not `:PORT`")
            })?)?),
        };
        return Ok((addr.to_string(), port));
    }
    if input.parse::<Ipv6Addr>().is_ok() {
        return Ok((input.to_string(), None));
    }
    let (host, port) = match input.rsplit_once(':') {
        Some((h, _)) if h.contains(':') => {
            return Err(
                "an IPv6 address with a port is written in brackets, like `[2001:db8::25]:2525`"
                    .into(),
            );
        }
        Some((h, p)) => (h, Some(port_of(p)?)),
        None => (input, None),
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_destinations() {
        let ok = |s: &str, h: &str, p: Option<u16>| {
            assert_eq!(host_port(s), Ok((h.to_string(), p)), "{s}");
        };
        ok("mx.example.net", "mx.example.net", None);
        ok("mx.example.net:2525", "mx.example.net", Some(2525));
        ok("192.0.2.25:25", "192.0.2.25", Some(25));
        ok("[2001:db8::1]:25", "2001:db8::1", Some(25));
        ok("[2001:db8::1]", "2001:db8::1", None);
        ok("2001:db8::1", "2001:db8::1", None);
        for bad in [
            "[2001:db8::1",
            "[mx1]:25",
            "[2001:db8::1]25",
            "2001:db8::1:99999",
            "mx:0",
            "mx:x",
        ] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(domain("Example.COM").unwrap(), "example.com");
        assert_eq!(domain("example.com.").unwrap(), "example.com");
        assert_eq!(domain("bücher.example").unwrap(), "xn--bcher-kva.example");
        assert!(domain("a..b").is_err());
        assert!(domain("-a.b").is_err());
        assert!(domain("a_b.c").is_err());
        assert!(dns_name("_spf.google.com").is_ok());
        assert!(domain(&"a".repeat(64)).is_err());
        assert!(domain("exa mple.com").is_err());
        assert!(domain("x.com;rm").is_err());
    }

    #[test]
    fn local_parts() {
        assert_eq!(local_part("A.Smith").unwrap(), "a.smith");
        assert!(local_part("a+tag_x-y").is_ok());
        for bad in [
            ".a", "a.", "a..b", "a\"b", "a;b", "a b", "a/b", "a\nb", "", "a@b",
        ] {
            assert!(local_part(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotas() {
        assert_eq!(quota("2G").unwrap(), 2 << 30);
        assert_eq!(quota("500M").unwrap(), 500 << 20);
        assert_eq!(quota("1024").unwrap(), 1024);
        assert_eq!(quota("5GiB").unwrap(), 5 << 30);
        assert!(quota("0").is_err());
        assert!(quota("2X").is_err());
        assert!(quota("G").is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            address("Bob@Example.ORG").unwrap(),
            ("bob".into(), "example.org".into())
        );
        assert!(address("bob").is_err());
        assert!(address("bob@localhost").is_err());
    }

    #[test]
    fn relays() {
        assert_eq!(
            host_port("mx.example.net:2525").unwrap(),
            ("mx.example.net".into(), Some(2525))
        );
        assert!(host_port("mx:99999").is_err());
    }
}
