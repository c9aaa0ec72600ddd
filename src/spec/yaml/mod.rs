//! The YAML front end: serde-saphyr parses, every node keeps its byte span.
//!
//! serde-saphyr is the only YAML dependency and stays behind this module. We
//! deserialize into the untyped [`Node`] tree (never `untagged`/`flatten`, which
//! lose spans in serde-saphyr) and let `read` do the typing, so that every
//! problem is reported at once instead of serde stopping at the first.
//!
//! Going through serde costs more than parsing: a spec of 100,000 mailboxes
//! took 0.6 s here against 0.25 s for the parser's events alone. So [`fast`]
//! builds the same tree from serde-saphyr's own parser (granit) for the plain
//! YAML specs are written in, and hands everything else — syntax errors,
//! anchors, tags, merge keys, number spellings — to serde-saphyr.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::tree::{Key, Node, Value};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

mod fast;

/// The budget serde-saphyr parses under, and the fast path keeps to.
pub(crate) struct Limits {
    pub max_nodes: usize,
    pub max_events: usize,
    pub max_total_scalar_bytes: usize,
    pub max_depth: usize,
    pub simple_key_max_lookahead: usize,
    pub flow_nesting_limit: usize,
}

/// Hosting-scale specs have millions of nodes; the depth and lookahead limits
/// are serde-saphyr's defaults.
const LIMITS: Limits = Limits {
    max_nodes: 50_000_000,
    max_events: 200_000_000,
    max_total_scalar_bytes: 1 << 30,
    max_depth: 64,
    simple_key_max_lookahead: 1024,
    flow_nesting_limit: 255,
};

/// Parses YAML text into the spanned tree, or one syntax diagnostic.
pub fn parse(text: &str) -> Result<Node<'_>, Diagnostic> {
    if let Some(node) = fast::parse(text, &LIMITS) {
        return Ok(node);
    }
    reference(text)
}

/// serde-saphyr's reading of `text`: the meaning of every YAML feature and
/// every syntax error's message come from here.
fn reference(text: &str) -> Result<Node<'static>, Diagnostic> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: LIMITS.max_nodes,
            max_events: LIMITS.max_events,
            max_total_scalar_bytes: LIMITS.max_total_scalar_bytes,
            max_depth: LIMITS.max_depth,
            simple_key_max_lookahead: LIMITS.simple_key_max_lookahead,
            flow_nesting_limit: LIMITS.flow_nesting_limit,
        },
        // YAML 1.2 booleans only: `yes`/`on` stay strings, so they are reported.
        strict_booleans: true,
        // Repeated keys reach `read`, which points at both places.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    match serde_saphyr::from_str_with_options::<Option<SpannedNode>>(text, options) {
        Ok(Some(SpannedNode(node))) => Ok(node),
        Ok(None) => Ok(Node::new(Span::default(), Value::Null)),
        Err(err) => Err(syntax_error(&err, text)),
    }
}

fn syntax_error(err: &serde_saphyr::Error, text: &str) -> Diagnostic {
    let span = err
        .location()
        .map(|loc| {
            let s = loc.span();
            match s.byte_offset() {
                Some(o) => Span::new(o as usize, s.byte_len().unwrap_or(0) as usize),
                None => Span::new(
                    offset_of(text, loc.line() as usize, loc.column() as usize),
                    0,
                ),
            }
        })
        .unwrap_or_default();
    let span = crate::source::fit_span(text, span);
    // serde-saphyr's message carries its own "line X column Y"; our label shows it.
    let message = err.without_snippet().to_string();
    let message = message.lines().next().unwrap_or("").trim();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let message = match message
        .strip_prefix("line ")
        .and_then(|m| m.split_once(": "))
    {
        Some((_, rest)) => rest,
        None => message,
    };
    let message = message.split(" at line ").next().unwrap_or(message).trim();
    let message = first_lower(message);
    Diagnostic::error(Code::Syntax, span, format!("invalid YAML: {message}"))
        .label("here")
        .help("fix the YAML syntax at this place; the rest of the spec is checked once it parses")
}

/// The byte offset of a 1-based line and character column. Lines end at
/// `\n`, `\r\n` or a lone `\r`, as YAML counts them.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut seen = 1;
    let mut i = 0;
    while seen < line && i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                seen += 1;
                start = i + 1;
            }
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                seen += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    start + col
}

fn first_lower(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn span_of(loc: &serde_saphyr::Location) -> Span {
    let s = loc.span();
    match s.byte_offset() {
        Some(o) => Span::new(o as usize, s.byte_len().unwrap_or(0) as usize),
        None => Span::default(),
    }
}

/// A [`Node`] deserialized with its span.
struct SpannedNode(Node<'static>);

impl<'de> Deserialize<'de> for SpannedNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawValue>::deserialize(d)?;
        let mut span = span_of(&spanned.referenced);
        // An alias (`*x`) points at its use; a merged or anchored value at its definition.
        if span == Span::default() {
            span = span_of(&spanned.defined);
        }
        Ok(SpannedNode(Node::new(span, spanned.value.0)))
    }
}

struct RawValue(Value<'static>);

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(RawValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'static>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value<'static>, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'static>, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'static>, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value<'static>, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value<'static>, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'static>, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'static>, E> {
        Ok(Value::Str(v.to_string().into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'static>, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'static>, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value<'static>, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value<'static>, D::Error> {
        RawValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'static>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(SpannedNode(n)) = seq.next_element()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'static>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(SpannedNode(k)) = map.next_key()? {
            let SpannedNode(v) = map.next_value()?;
            let name = match k.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string().into(),
                Value::Bool(b) => b.to_string().into(),
                Value::Float(f) => f.to_string().into(),
                Value::Null => "~".into(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(de::Error::custom("a map key must be a plain string"));
                }
            };
            entries.push((Key { name, span: k.span }, v));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_at(src: &str, span: Span) -> &str {
        &src[span.start..span.end()]
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let src = "a: 1\nlist: [x, \"yé\", zed]\nmap:\n  inner: true\n";
        let node = parse(src).unwrap();
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.name, "a");
        assert_eq!(entries[0].1.value, Value::Int(1));
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(text_at(src, items[2].span), "zed");
        assert_eq!(text_at(src, entries[2].0.span), "map");
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let d = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(d.code, Code::Syntax);
    }
}
