//! The server's log, on stderr: one line per event, each with an RFC 3339
//! timestamp (UTC, milliseconds), the service, a session id (a
//! connection's, or a queued message's id) and the event's fields.
//!
//! - text (the default): `2026-05-01T10:00:00.123Z smtp 5F3A0001 connect
//!   peer=192.0.2.1:40000`; a value with a blank, a quote, `=` or a
//!   backslash is quoted, and every control character (ESC, BEL, NUL, CR,
//!   LF…) is written as an escape, so a client's bytes can never start a
//!   line of their own or drive a terminal;
//! - JSON (`--log-format json`): one object per line, `ts`, `service`,
//!   `session`, `event`, then the fields, all strings.
//!
//! Each line is written with one call while stderr is locked, so lines of
//! concurrent sessions never interleave. Passwords are never given to it.

use std::fmt::Display;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// How lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

static FORMAT: OnceLock<Format> = OnceLock::new();

/// Chooses the format, once, before the first line.
pub fn set_format(f: Format) {
    let _ = FORMAT.set(f);
}

/// A new session id: unique in this run, and across runs in practice
/// (the start time's low bits, then a counter), in hex.
pub fn session_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    static START: OnceLock<u64> = OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{:04X}{n:04X}", start & 0xFFFF)
}

/// The current time in RFC 3339 (UTC, milliseconds).
pub fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Writes one event.
pub fn event(service: &str, session: &str, event: &str, fields: &[(&str, &dyn Display)]) {
    let line = render(
        FORMAT.get().copied().unwrap_or_default(),
        &now(),
        service,
        session,
        event,
        fields,
    );
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
}

/// One line, with its newline.
pub fn render(
    format: Format,
    ts: &str,
    service: &str,
    session: &str,
    event: &str,
    fields: &[(&str, &dyn Display)],
) -> String {
    match format {
        Format::Json => {
            let q = |v: &str| serde_json::Value::from(v).to_string();
            let mut s = String::with_capacity(128);
            s.push('{');
            let head = [
                ("ts", ts.to_string()),
                ("service", service.to_string()),
                ("session", session.to_string()),
                ("event", event.to_string()),
            ];
            let rest = fields.iter().map(|(k, v)| (*k, v.to_string()));
            for (i, (k, v)) in head.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&q(k));
                s.push(':');
                s.push_str(&q(&v));
            }
            s.push_str("}\n");
            s
        }
        Format::Text => {
            let mut s = String::with_capacity(96);
            s.push_str(ts);
            for part in [service, session, event] {
                s.push(' ');
                s.push_str(&value(if part.is_empty() { "-" } else { part }));
            }
            for (k, v) in fields {
                s.push(' ');
                s.push_str(k);
                s.push('=');
                s.push_str(&value(&v.to_string()));
            }
            s.push('\n');
            s
        }
    }
}

/// A value as the text format writes it: bare when it is plain, else
/// quoted; control characters always escaped.
fn value(v: &str) -> String {
    let plain = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '=' | '\\'));
    if plain {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_escape_what_a_client_sent() {
        let from = "a\x1b[2J\x07\0b@x.test";
        let line = render(
            Format::Text,
            "2026-01-02T03:04:05.678Z",
            "smtp",
            "5F3A0001",
            "reply",
            &[
                ("code", &550),
                ("from", &from),
                ("text", &"5.7.1 no \"way\"\r\nX: y"),
            ],
        );
        assert_eq!(
            line,
            "2026-01-02T03:04:05.678Z smtp 5F3A0001 reply code=550 from=\"a\\u{1b}[2J\\u{7}\\u{0}b@x.test\" text=\"5.7.1 no \\\"way\\\"\\r\\nX: y\"\n"
        );
        let json = render(Format::Json, "t", "imap", "", "login", &[("user", &from)]);
        assert_eq!(
            json,
            "{\"ts\":\"t\",\"service\":\"imap\",\"session\":\"\",\"event\":\"login\",\"user\":\"a\\u001b[2J\\u0007\\u0000b@x.test\"}\n"
        );
        assert!(!json.trim_end().contains('\n') && !line.trim_end().contains('\n'));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = now();
        assert!(chrono::DateTime::parse_from_rfc3339(&t).is_ok(), "{t}");
        assert!(t.ends_with('Z') && t.len() == 24, "{t}");
        assert_ne!(session_id(), session_id());
    }
}
