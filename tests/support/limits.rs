//! The sending-limit script every stack is put through, on
//! `tests/cases/limits` (each mailbox: 2 messages and 4 recipients an
//! hour; each domain: 4 messages; carol: 1 recipient). `send(login, to)`
//! submits one message as `login` (password `LOCAL-pw`, sender its own
//! address) to the comma-separated `to` and returns the client's
//! transcript; the script checks where the 450s come.

/// The refusals, as the stacks word them.
fn mailbox_refusal(login: &str, n: u32, kind: &str) -> String {
    format!("450 4.7.1 <{login}>: sending limit reached: {n} {kind} per hour for this mailbox")
}

fn domain_refusal(login: &str, domain: &str) -> String {
    format!(
        "450 4.7.1 <{login}>: sending limit reached: 4 messages per hour for the domain {domain}"
    )
}

/// The server's replies in a swaks transcript, each on one line: a reply
/// split over continuation lines (`450-4.7.1 a`, `450 4.7.1 b`) is joined
/// (`450 4.7.1 a b`).
fn replies(t: &str) -> String {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in t.lines() {
        if !line.starts_with('<') {
            continue;
        }
        let rest = line.trim_start_matches(['<', '~', '-', '*', ' ']);
        let (Some(code), Some(sep)) = (rest.get(..3), rest.get(3..4)) else {
            continue;
        };
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let text = rest.get(4..).unwrap_or("");
        let (head, text) = match current.take() {
            None => (code.to_string(), text.to_string()),
            Some((head, so_far)) => {
                let enhanced = so_far.split(' ').next().unwrap_or("");
                let more = text.strip_prefix(enhanced).unwrap_or(text).trim_start();
                (head, format!("{so_far} {more}"))
            }
        };
        if sep == "-" {
            current = Some((head, text));
        } else {
            out.push(format!("{head} {text}"));
        }
    }
    out.join("\n")
}

/// Whether swaks saw the message accepted: the reply after its final
/// `.` line (`->`, or `~>` under TLS) is a 250.
fn accepted(t: &str) -> bool {
    let lines: Vec<&str> = t.lines().map(str::trim).collect();
    let Some(dot) = lines.iter().position(|l| *l == "-> ." || *l == "~> .") else {
        return false;
    };
    lines[dot + 1..]
        .iter()
        .find(|l| l.starts_with("<-") || l.starts_with("<~"))
        .is_some_and(|l| l[2..].trim_start().starts_with("250"))
}

fn expect(t: &str, what: &str, ok: bool) {
    assert!(ok, "expected {what}:\n{t}");
}

/// Whether the transcript holds `reply` (`450 4.7.1 TEXT`): Postfix puts
/// the recipient and its own words between the code and the text.
fn refused(t: &str, reply: &str) -> bool {
    let (code, text) = reply.split_at("450 4.7.1 ".len());
    replies(t)
        .lines()
        .any(|r| r.starts_with(code) && r.contains(text))
}

/// Fills the hour: carol's second recipient, alice's third message and
/// bob's second (the domain's fifth) are refused; the rest is accepted.
pub fn fill(domain: &str, mut send: impl FnMut(&str, &str) -> String) {
    let (alice, bob, carol) = (
        format!("alice@{domain}"),
        format!("bob@{domain}"),
        format!("carol@{domain}"),
    );
    let t = send(&carol, &format!("{alice},{bob}"));
    expect(
        &t,
        "carol's second recipient refused",
        refused(&t, &mailbox_refusal(&carol, 1, "recipients")),
    );
    expect(
        &t,
        "carol's message accepted for her first recipient",
        accepted(&t),
    );
    for i in 1..=2 {
        let t = send(&alice, &bob);
        expect(&t, &format!("alice's message {i} accepted"), accepted(&t));
    }
    let t = send(&alice, &bob);
    expect(
        &t,
        "alice's third message refused at her own limit",
        refused(&t, &mailbox_refusal(&alice, 2, "messages")),
    );
    expect(&t, "nothing accepted", !accepted(&t));
    let t = send(&bob, &alice);
    expect(
        &t,
        "bob still sends (the domain's fourth message)",
        accepted(&t),
    );
    let t = send(&bob, &alice);
    expect(
        &t,
        "bob refused at the domain's limit",
        refused(&t, &domain_refusal(&bob, domain)),
    );
    expect(&t, "nothing accepted", !accepted(&t));
}

/// After a restart the counts hold: alice and bob are still refused.
pub fn still_full(domain: &str, mut send: impl FnMut(&str, &str) -> String) {
    let (alice, bob) = (format!("alice@{domain}"), format!("bob@{domain}"));
    let t = send(&alice, &bob);
    expect(
        &t,
        "alice still at her limit after the restart",
        refused(&t, &mailbox_refusal(&alice, 2, "messages")),
    );
    let t = send(&bob, &alice);
    expect(
        &t,
        "bob still at the domain's limit after the restart",
        refused(&t, &domain_refusal(&bob, domain)),
    );
}
