//! The fast path of the YAML front end: the spanned tree built straight from
//! the parser's events, for the plain YAML specs are written in.
//!
//! serde-saphyr stays the reference. This path gives up — returns `None`,
//! and the caller parses again with serde-saphyr — at anything whose meaning
//! it would have to reproduce rather than read off an event: a syntax error,
//! a tag, an anchor or alias, a merge key, a non-scalar key, a `%YAML`
//! directive, a second document, nesting deeper than the budget, and every
//! plain scalar that looks like a number but is not a short decimal integer.
//! What it does build is the tree serde-saphyr builds, node for node and span
//! for span; `tests` and the front-end tests compare the two.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle, Span as Marked};

use super::super::tree::{Key, Node, Value};
use super::Limits;
use crate::source::Span;

/// A collection being built.
enum Open<'a> {
    Seq(Span, Vec<Node<'a>>),
    /// Entries so far, and the key read whose value comes next.
    Map(Span, Vec<(Key<'a>, Node<'a>)>, Option<Key<'a>>),
}

/// The tree of `text`, or `None` where serde-saphyr must decide.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Option<Node<'a>> {
    let options = serde_saphyr::granit_parser::options! {
        simple_key_max_lookahead: limits.simple_key_max_lookahead,
        flow_nesting_limit: limits.flow_nesting_limit,
        block_nesting_limit: Options::default().block_nesting_limit.max(limits.max_depth + 1),
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let (mut events, mut nodes, mut scalar_bytes) = (0usize, 0usize, 0usize);
    while let Some(item) = parser.next_event() {
        let (event, marked) = item.ok()?;
        events += 1;
        let span = span_of(&marked)?;
        let node = match event {
            Event::StreamStart | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_, version) => {
                documents += 1;
                if documents > 1 || version.is_some() {
                    return None;
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                nodes += 1;
                scalar_bytes += value.len();
                if let Some(Open::Map(_, _, key @ None)) = stack.last_mut() {
                    // `<<` is a merge key to serde-saphyr.
                    if style == ScalarStyle::Plain && value == "<<" {
                        return None;
                    }
                    *key = Some(Key {
                        name: key_name(value, style)?,
                        span,
                    });
                    continue;
                }
                Node::new(span, typed(value, style)?)
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                let is_map = matches!(event, Event::MappingStart(..));
                if anchor != 0 || tag.is_some() || awaits_key(&stack) {
                    return None;
                }
                nodes += 1;
                if stack.len() >= limits.max_depth {
                    return None;
                }
                stack.push(if is_map {
                    Open::Map(span, Vec::new(), None)
                } else {
                    Open::Seq(span, Vec::new())
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Open::Seq(span, items) => Node::new(span, Value::Seq(items)),
                Open::Map(span, entries, None) => Node::new(span, Value::Map(entries)),
                Open::Map(_, _, Some(_)) => return None,
            },
            // Aliases and anything this path does not know.
            _ => return None,
        };
        if events > limits.max_events
            || nodes > limits.max_nodes
            || scalar_bytes > limits.max_total_scalar_bytes
        {
            return None;
        }
        match stack.last_mut() {
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, key)) => entries.push((key.take()?, node)),
            None if root.is_none() => root = Some(node),
            None => return None,
        }
    }
    if !stack.is_empty() || documents != 1 {
        return None;
    }
    // A document of only a scalar (or nothing) is left to serde-saphyr.
    root.filter(|n| matches!(n.value, Value::Map(_) | Value::Seq(_)))
}

fn awaits_key(stack: &[Open<'_>]) -> bool {
    matches!(stack.last(), Some(Open::Map(_, _, None)))
}

fn span_of(marked: &Marked) -> Option<Span> {
    let start = marked.start.byte_offset()?;
    let end = marked.end.byte_offset()?;
    Some(Span::new(start, end.saturating_sub(start)))
}

/// A key as serde-saphyr names it: its typed value written back as text.
fn key_name(value: Cow<'_, str>, style: ScalarStyle) -> Option<Cow<'_, str>> {
    Some(match typed(value, style)? {
        Value::Str(s) => s,
        Value::Int(i) => i.to_string().into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Null => "~".into(),
        Value::Float(_) | Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// An untagged scalar typed as serde-saphyr types it with strict (YAML 1.2)
/// booleans, or `None` for spellings left to it.
fn typed(value: Cow<'_, str>, style: ScalarStyle) -> Option<Value<'_>> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(value));
    }
    Some(match &*value {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        v => match short_decimal(v) {
            Some(i) => Value::Int(i),
            None if maybe_number(v) => return None,
            None => Value::Str(value),
        },
    })
}

/// `0`, `42`, `-7`: at most 18 digits, no sign but `-`, no leading zero.
fn short_decimal(v: &str) -> Option<i128> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let ok = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if ok { v.parse().ok() } else { None }
}

/// Anything a YAML 1.2 number parser might take: Rust's float syntax (which
/// also covers `inf`, `nan`, leading zeros, `+`), radix prefixes, `_`
/// separators and the `.inf`/`.nan` spellings.
fn maybe_number(v: &str) -> bool {
    if v.parse::<f64>().is_ok() {
        return true;
    }
    let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
    let first = unsigned.bytes().next();
    let lower = unsigned.to_ascii_lowercase();
    match first {
        Some(b'0'..=b'9') => {
            lower.starts_with("0x")
                || lower.starts_with("0o")
                || lower.starts_with("0b")
                || unsigned.contains('_')
        }
        Some(b'.') => lower.contains("inf") || lower.contains("nan"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LIMITS, reference};
    use super::*;

    /// Where the fast path builds a tree, it is serde-saphyr's tree.
    fn same(text: &str) -> bool {
        let fast = parse(text, &LIMITS);
        if let Some(fast) = &fast {
            assert_eq!(Ok(fast), reference(text).as_ref(), "{text:?}");
        }
        fast.is_some()
    }

    #[test]
    fn every_yaml_file_of_the_project_reads_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "tests"] {
            collect(&root.join(dir), &mut files);
        }
        assert!(files.len() > 40, "{files:?}");
        let mut fast = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            fast += usize::from(same(&text));
        }
        // Only the deliberately broken files are left to serde-saphyr.
        assert!(fast + 4 >= files.len(), "{fast} of {}", files.len());
    }

    fn collect(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, files);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }

    #[test]
    fn scalars_are_typed_as_serde_saphyr_types_them() {
        let plain = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "true",
            "True",
            "TRUE",
            "false",
            "FALSE",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "0",
            "-0",
            "7",
            "-7",
            "42",
            "123456789012345678",
            "1234567890123456789",
            "99999999999999999999999",
            "007",
            "+5",
            "1.5",
            "-1.5e3",
            "1e999",
            ".5",
            ".inf",
            "-.inf",
            ".NaN",
            "inf",
            "nan",
            "infinity",
            "0x1F",
            "0o17",
            "0b101",
            "1_000",
            "203.0.113.10",
            "2001:db8::10",
            "2G",
            "5G",
            "3600s",
            "-",
            "-x",
            "a b",
            "x.y",
            "0.0.0.0",
            "1.",
            "1e",
            "e1",
            "0x",
            "0xZZ",
            "1:20",
            "12:30:00",
            "2026-11-23",
            "mailto:a@b.c",
            "v=spf1 -all",
            "é",
            "~x",
            "null_",
            "TRUE!",
        ];
        let mut fast = 0;
        for p in plain {
            for text in [
                format!("k: {p}\n"),
                format!("- {p}\n"),
                format!("{p}: v\n"),
                format!("k: [{p}]\n"),
                format!("k: {{a: {p}}}\n"),
            ] {
                fast += usize::from(same(&text));
            }
            for quoted in [format!("k: \"{p}\"\n"), format!("k: '{p}'\n")] {
                assert!(same(&quoted), "{quoted:?}");
            }
        }
        assert!(fast > 200, "{fast}");
    }

    #[test]
    fn structures_and_styles_read_the_same() {
        let docs = [
            "a: 1\nb:\n  - x\n  - y: 2\n    z: [1, 2, {q: r}]\n",
            "---\na: b\n...\n",
            "a:\nb: ~\nc: ''\n",
            "# comment\na: 1 # trailing\n\n\nb: 2\n",
            "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
            "a: \"esc \\\"q\\\" \\u00e9 \\t\"\nb: 'it''s'\n",
            "a: plain\n  continued\n  over lines\n",
            "a: \"double\n  over lines\"\n",
            "? a\n: b\n",
            "\"quoted key\": 1\n'single': 2\n",
            "a: {}\nb: []\nc: {x: }\n",
            "- - - deep\n",
            "a:\r\n  b: c\r\n",
            "\u{feff}a: 1\n",
            "é: ü\nmap:\n  ключ: значение\n",
            "a: 1\na: 2\n",
            "[1, 2, 3]\n",
            "{a: 1, b: [x, y]}\n",
            "a:\n- x\n- y\n",
            "a:    spaced    \n",
            "a: b # c\n#d\n",
            "a: 'multi\n\n  line'\n",
        ];
        for d in docs {
            assert!(same(d), "{d:?} left to serde-saphyr");
        }
    }

    #[test]
    fn what_only_serde_saphyr_knows_is_left_to_it() {
        let docs = [
            "a: &x 1\nb: *x\n",
            "base: &b {x: 1}\nc:\n  <<: *b\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "? [a, b]\n: c\n",
            "a: [1, 2\n",
            "a:\n\tb: 1\n",
            "just a scalar\n",
            "",
            "# only a comment\n",
            "a: 1.5\n",
            "a: 0x10\n",
        ];
        for d in docs {
            assert!(parse(d, &LIMITS).is_none(), "{d:?}");
        }
        let deep = "[".repeat(70) + &"]".repeat(70);
        assert!(parse(&deep, &LIMITS).is_none());
        // Around the depth limit both paths agree. (serde-saphyr recurses
        // per level: in a debug build that needs more than a test thread's
        // stack.)
        let near_limit = || {
            for depth in 60..68 {
                same(&("[".repeat(depth) + &"]".repeat(depth)));
                let block = (0..depth)
                    .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                    .collect::<String>();
                same(&block);
            }
        };
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(near_limit)
            .unwrap()
            .join()
            .unwrap();
        let deep = (0..70)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>();
        assert!(parse(&deep, &LIMITS).is_none());
    }

    /// Random documents from YAML's building blocks: wherever the fast path
    /// answers, serde-saphyr answers the same (an error there must be `None`
    /// here).
    #[test]
    fn random_documents_read_the_same() {
        const PIECES: &[&str] = &[
            "a", "key", "b2", "é", "1", "-1", "0.5", "true", "null", "~", "yes", "x y", ":", ": ",
            "- ", "-", "\n", "\n  ", "\n    ", "\n- ", "  ", " ", "[", "]", "{", "}", ", ", ",",
            "\"", "'", "\"q\"", "'s'", "#c", " #c", "|", ">", "|-", "?", "? ", "&a ", "*a", "!t ",
            "\t", "\r\n", "%", "@", "`", "\\", "0x1", "1_0", ".inf",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const SCALARS: &[&str] = &[
            "v",
            "1",
            "-3",
            "true",
            "~",
            "",
            "x y",
            "\"d q\"",
            "'s q'",
            "[a, 1]",
            "{k: v}",
            "[]",
            "|\n    lit",
            ">\n    fold",
            "0.5",
            "é",
            "a:b",
            "- x",
            "\"\\u00e9\"",
            "v #c",
        ];
        const KEYS: &[&str] = &["a", "b", "key", "1", "\"q\"", "é", "- a", "x y", "true"];
        let (mut fast, mut total) = (0, 0);
        for round in 0..20_000 {
            let mut doc = String::new();
            if round % 2 == 0 {
                // Block structure: lines of `indent [- ]key: value`.
                // Deeper only below a key with no value; `- ` now and then.
                let mut deepest = 0;
                for _ in 0..1 + next() % 8 {
                    let level = next() % (deepest + 1);
                    doc.push_str(&" ".repeat(level as usize * 2));
                    if next() % 6 == 0 {
                        doc.push_str("- ");
                    }
                    doc.push_str(KEYS[(next() % KEYS.len() as u64) as usize]);
                    doc.push_str(": ");
                    let value = SCALARS[(next() % SCALARS.len() as u64) as usize];
                    doc.push_str(
                        &value.replace('\n', &format!("\n{}", " ".repeat(level as usize * 2))),
                    );
                    doc.push('\n');
                    deepest = if value.is_empty() { level + 1 } else { level };
                }
            } else {
                for _ in 0..2 + next() % 24 {
                    doc.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
                }
                doc.push('\n');
            }
            total += 1;
            fast += usize::from(same(&doc));
        }
        // The comparison is only as good as the share the fast path takes.
        assert!(fast * 8 > total, "{fast} of {total}");
    }
}
