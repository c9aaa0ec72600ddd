//! Tests of the zone file reader.

use super::*;

struct NoIncludes;
impl Includes for NoIncludes {
    fn read(&mut self, path: &str, from: &str, line: usize) -> Result<(String, String), Finding> {
        Err(Finding::error(from, Some(line), format!("no {path}")))
    }
}

struct OneInclude(&'static str);
impl Includes for OneInclude {
    fn read(&mut self, path: &str, _: &str, _: usize) -> Result<(String, String), Finding> {
        Ok((path.to_string(), self.0.to_string()))
    }
}

fn n(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

#[test]
fn styles() {
    let z = "$TTL 1h\n$ORIGIN Example.COM.\n@ IN SOA ns1 host\\.master ( 2024010101 ; serial\n 3h 15m 2w\n 5m )\n  IN NS ns1.example.net.\nwww 300 IN A 192.0.2.1\n\tIN AAAA 2001:db8::1\n_dmarc TXT ( \"v=DMARC1; \" \"p=none\" )\nmail IN 60 MX 10 mx1\n@ CAA 0 issue \"letsencrypt.org\"\nx HINFO \"PC\" \"Linux\"\n";
    let f = parse("z", z, None, &mut NoIncludes).unwrap();
    assert_eq!(f.origin, n("example.com."));
    assert_eq!(f.entries.len(), 8);
    let soa = &f.entries[0];
    let Data::Known(RData::SOA(s)) = &soa.data else {
        panic!()
    };
    assert_eq!(s.rname.to_ascii(), "host\\.master.Example.COM.");
    assert_eq!(
        (s.refresh, s.retry, s.expire, s.minimum),
        (10800, 900, 1_209_600, 300)
    );
    assert_eq!(soa.ttl, 3600);
    assert_eq!(f.entries[1].owner, n("example.com."));
    assert_eq!(f.entries[3].owner, n("www.example.com."));
    assert_eq!(f.entries[3].line, 8);
    let Data::Known(RData::TXT(t)) = &f.entries[4].data else {
        panic!()
    };
    assert_eq!(t.txt_data.len(), 2);
    assert_eq!(f.entries[5].ttl, 60);
    assert!(matches!(f.entries[7].data, Data::Other { .. }));
}

#[test]
fn includes_keep_their_own_origin() {
    let z = "$ORIGIN example.com.\n$TTL 300\n$INCLUDE keys.inc sub.example.com.\nwww A 192.0.2.1\n";
    let f = parse("z", z, None, &mut OneInclude("k TXT \"a b\"\n")).unwrap();
    assert_eq!(f.entries[0].owner, n("k.sub.example.com."));
    assert_eq!(f.entries[0].file, "keys.inc");
    assert_eq!(f.entries[1].owner, n("www.example.com."));
}

#[test]
fn garbage_names_file_and_line() {
    let e = parse(
        "z",
        "$TTL 1\n@ SOA a. b. 1 2 3 4 5\nwww A ( 192.0.2.1\n",
        Some(n("x.")),
        &mut NoIncludes,
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("z", Some(3)));
    let e = parse(
        "z",
        "$TTL 1\nwww A 999.1.1.1\n",
        Some(n("x.")),
        &mut NoIncludes,
    )
    .unwrap_err();
    assert_eq!(e.line, Some(2));
    let e = parse("z", "$TTL 1\nwww BOGUS 1\n", Some(n("x.")), &mut NoIncludes).unwrap_err();
    assert!(e.message.contains("BOGUS"));
}

#[test]
fn ttls() {
    assert_eq!(
        ttl_value("1w2d3h4m5s"),
        Some(604_800 + 172_800 + 10_800 + 240 + 5)
    );
    assert_eq!(ttl_value("86400"), Some(86400));
    assert_eq!(ttl_value("1x"), None);
    assert_eq!(ttl_value("h"), None);
}
