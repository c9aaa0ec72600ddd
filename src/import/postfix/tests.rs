//! Tests of the Postfix import: main.cf expansion, tables, and the
//! simulated address resolution.

use super::*;

#[test]
fn main_cf_and_expansion() {
    let p = main_cf("# c\nmyhostname = mail.example.com\nmydestination = $myhostname,\n  localhost.$mydomain\nx=${myhostname}/$(mydomain)\n", "main.cf").unwrap();
    let c = Config {
        params: p,
        file: "main.cf".into(),
    };
    assert_eq!(
        c.get("mydestination").unwrap(),
        "mail.example.com, localhost.example.com"
    );
    assert_eq!(c.get("x").unwrap(), "mail.example.com/example.com");
    assert_eq!(c.get("myorigin").unwrap(), "mail.example.com");
    assert!(main_cf("novalue\n", "m").is_err());
}

#[test]
fn tables_need_values() {
    let t = table_text(
        "# x\ninfo@example.com alice@example.com,\n  bob@example.com\n",
        "virtual",
    )
    .unwrap();
    assert_eq!(items(&t[0].value), ["alice@example.com", "bob@example.com"]);
    let e = table_text("a@b c\nlonely@example.com\n", "virtual").unwrap_err();
    assert_eq!(e.line, Some(2));
}

#[test]
fn simulation() {
    let sim = Sim {
        classes: [
            ("example.com".to_string(), Class::VirtualMailbox),
            ("alias.example".to_string(), Class::VirtualAlias),
        ]
        .into_iter()
        .collect(),
        aliases: [
            (
                "info@example.com",
                vec!["alice@example.com", "x@remote.example"],
            ),
            ("@example.com", vec!["catch@example.com"]),
            ("@alias.example", vec!["@example.com"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect(),
        mailboxes: ["alice@example.com", "catch@example.com"]
            .into_iter()
            .map(String::from)
            .collect(),
        relay_recipients: None,
        transports: BTreeMap::new(),
        myorigin: "mail.example.com".into(),
    };
    // The catch-all swallows alice: no self-mapping.
    assert_eq!(
        sim.verdict("info@example.com"),
        Some(Verdict::Deliver {
            mailboxes: ["catch@example.com".to_string()].into(),
            forward: ["x@remote.example".to_string()].into()
        })
    );
    assert_eq!(
        sim.verdict("alice@alias.example"),
        Some(Verdict::Deliver {
            mailboxes: ["catch@example.com".to_string()].into(),
            forward: BTreeSet::new()
        })
    );
    assert_eq!(sim.verdict("x@other.example"), Some(Verdict::Remote));
}
