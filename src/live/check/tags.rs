//! Reading the TXT records `mailc check` compares: tag lists (DKIM, DMARC,
//! MTA-STS, TLS-RPT) and SPF's version prefix, so that a live record that
//! says the same thing in other spacing or tag order is in sync.

/// A `tag=value; tag=value` list (RFC 6376 §3.2, used alike by RFC 7489
/// §6.4, RFC 8461 §3.1 and RFC 8460 §3): names and values trimmed of
/// whitespace, in order, empty entries (a trailing `;`) dropped. A tag
/// without `=` gets an empty value.
pub fn parse(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('=') {
            Some((name, value)) => (name.trim().to_string(), value.trim().to_string()),
            None => (t.to_string(), String::new()),
        })
        .collect()
}

/// The value of `name`; the first one when a tag is repeated.
pub fn get<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether the record's first tag is `v=VERSION` (RFC 7489 §6.6.3, RFC
/// 8461 §3.1, RFC 8460 §3: only such records count).
pub fn has_version(record: &str, version: &str) -> bool {
    parse(record)
        .first()
        .is_some_and(|(n, v)| n == "v" && v.eq_ignore_ascii_case(version))
}

/// A comma-separated URI list (`rua=`, `ruf=`), trimmed and sorted: the
/// order of report addresses carries no meaning.
pub fn uri_list(value: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists() {
        let t = parse(" v=DMARC1 ;p = reject;; rua=mailto:a@b.c ;");
        assert_eq!(get(&t, "p"), Some("reject"));
        assert_eq!(get(&t, "RUA"), Some("mailto:a@b.c"));
        assert_eq!(t.len(), 3);
        assert!(has_version("v=DMARC1; p=none", "DMARC1"));
        assert!(!has_version("p=none; v=DMARC1", "DMARC1"));
        assert!(has_version("v=STSv1; id=1", "STSv1"));
    }

    #[test]
    fn uri_lists_ignore_order_and_spaces() {
        assert_eq!(
            uri_list(Some("mailto:b@x, mailto:a@x")),
            uri_list(Some("mailto:a@x,mailto:b@x"))
        );
        assert!(uri_list(None).is_empty());
    }
}
