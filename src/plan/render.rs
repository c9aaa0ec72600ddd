//! Showing a plan: text for people (a block per file — `add`, `change` or
//! `delete` and the path, a record summary for a changed zone, a unified
//! diff — or, compact, one line per file; color when asked) and JSON for
//! bots.
//! The bytes of sensitive files never reach either: they show as
//! "(sensitive content hidden)".

use std::io::{self, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff};

use super::current::Mode;
use super::zone::{self, RecordDiff};
use super::{Action, Change, Plan, Summary};

/// What a sensitive file shows instead of its content.
pub const HIDDEN: &str = "(sensitive content hidden)";

/// Past this many changed lines (added plus removed, over every file) a
/// text plan is [`View::Compact`] unless the full one is asked for: a first
/// plan at hosting scale would print hundreds of thousands of lines.
pub const COMPACT_ABOVE: usize = 1_000;

/// How much of each change a text plan shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Every file's block: records of a changed zone and the unified diff.
    Full,
    /// One line per file: lines added and removed, and a zone's records.
    Compact,
}

/// Lines of context around each hunk, as `diff -u`.
const CONTEXT: usize = 3;

/// A backstop for pathological inputs: Myers stops refining after this and
/// the diff is then correct but not minimal.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

const ADD: Style = AnsiColor::Green.on_default();
const DEL: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const BOLD: Style = Style::new().bold();

/// How one change's content is shown.
enum Body<'a> {
    Hidden,
    /// Only the mode differs.
    ModeOnly,
    Binary {
        old: usize,
        new: usize,
    },
    Text {
        old: &'a str,
        new: &'a str,
    },
}

fn body(c: &Change) -> Body<'_> {
    if c.sensitive() {
        return Body::Hidden;
    }
    if c.mode_only() {
        return Body::ModeOnly;
    }
    let old = c.old.as_ref().map_or(&[][..], |f| &f.bytes);
    let new = c.new.as_ref().map_or(&[][..], |f| &f.bytes);
    match (std::str::from_utf8(old), std::str::from_utf8(new)) {
        (Ok(old), Ok(new)) => Body::Text { old, new },
        _ => Body::Binary {
            old: old.len(),
            new: new.len(),
        },
    }
}

/// ` (mode 0644 → 0600)` when an existing file's mode changes.
fn mode_note(c: &Change) -> String {
    match (&c.old, &c.new) {
        (Some(o), Some(n)) if o.mode != n.mode => {
            format!(" (mode {} → {})", Mode(o.mode), Mode(n.mode))
        }
        _ => String::new(),
    }
}

fn headers(c: &Change) -> (String, String) {
    let a = match c.action {
        Action::Add => "/dev/null".to_string(),
        _ => format!("a/{}", c.path),
    };
    let b = match c.action {
        Action::Delete => "/dev/null".to_string(),
        _ => format!("b/{}", c.path),
    };
    (a, b)
}

fn records(c: &Change, body: &Body) -> Option<RecordDiff> {
    match body {
        Body::Text { old, new } if zone::is_zone(&c.path) => Some(zone::diff(old, new)),
        _ => None,
    }
}

/// Lines added and removed by one change: `None` when its content is not
/// shown (sensitive, binary) or only its mode changes.
fn line_counts(body: &Body) -> Option<(usize, usize)> {
    let Body::Text { old, new } = body else {
        return None;
    };
    let lines = |t: &str| t.lines().count();
    if old.is_empty() || new.is_empty() {
        return Some((lines(new), lines(old)));
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(*old, *new);
    let (mut added, mut removed) = (0, 0);
    for op in diff.ops() {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Delete => removed += o.len(),
            similar::DiffTag::Insert => added += n.len(),
            similar::DiffTag::Replace => {
                removed += o.len();
                added += n.len();
            }
        }
    }
    Some((added, removed))
}

/// The view a text plan gets unless one is asked for: compact past
/// [`COMPACT_ABOVE`] changed lines. Also returns the count.
pub fn auto_view(plan: &Plan) -> (View, usize) {
    let changed: usize = plan
        .changes
        .iter()
        .filter_map(|c| line_counts(&body(c)))
        .map(|(a, r)| a + r)
        .sum();
    let view = if changed > COMPACT_ABOVE {
        View::Compact
    } else {
        View::Full
    };
    (view, changed)
}

/// `text` in `style` when `color` is on, plain otherwise: the one place a
/// text output of mailc (plans, pushes, `mailc check`) is colored.
pub struct Paint<'a>(pub bool, pub Style, pub &'a str);

impl std::fmt::Display for Paint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Paint(color, style, text) = *self;
        if color && style != Style::new() {
            write!(f, "{style}{text}{style:#}")
        } else {
            f.write_str(text)
        }
    }
}

/// Writes `text` in `style` when coloring.
struct Painter<W> {
    w: W,
    color: bool,
}

impl<W: Write> Painter<W> {
    fn put(&mut self, style: Style, text: &str) -> io::Result<()> {
        write!(self.w, "{}", Paint(self.color, style, text))
    }

    fn line(&mut self, style: Style, text: &str) -> io::Result<()> {
        self.put(style, text)?;
        self.w.write_all(b"\n")
    }
}

/// The unified diff of two texts, line by line with the style of each;
/// `from` is the line number of their first lines in the files they are a
/// stretch of (0 for whole files).
fn unified(
    old: &str,
    new: &str,
    (a, b): (&str, &str),
    from: usize,
    mut emit: impl FnMut(Style, &str),
) {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let mut udiff = diff.unified_diff();
    udiff.context_radius(CONTEXT);
    let mut first = true;
    let mut buf = String::new();
    for hunk in udiff.iter_hunks() {
        if first {
            emit(BOLD, &format!("--- {a}"));
            emit(BOLD, &format!("+++ {b}"));
            first = false;
        }
        if from == 0 {
            emit(HUNK, &hunk.header().to_string());
        } else {
            emit(HUNK, &header(hunk.ops(), from));
        }
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ('-', DEL),
                ChangeTag::Insert => ('+', ADD),
                ChangeTag::Equal => (' ', Style::new()),
            };
            buf.clear();
            buf.push(sign);
            buf.push_str(change.value().strip_suffix('\n').unwrap_or(change.value()));
            emit(style, &buf);
            if change.missing_newline() {
                emit(Style::new(), "\\ No newline at end of file");
            }
        }
    }
}

/// A hunk's `@@ -a,b +c,d @@` line, its lines counted from `from`, as
/// `similar` writes it for whole files.
fn header(ops: &[similar::DiffOp], from: usize) -> String {
    let range = |start: usize, end: usize| {
        let len = end.saturating_sub(start);
        match len {
            1 => format!("{}", from + start + 1),
            0 => format!("{},0", from + start),
            _ => format!("{},{len}", from + start + 1),
        }
    };
    let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
        return String::new();
    };
    format!(
        "@@ -{} +{} @@",
        range(first.old_range().start, last.old_range().end),
        range(first.new_range().start, last.new_range().end)
    )
}

/// Renders the plan for people, every diff in full. The last line is the
/// summary (`Plan: 1 to add, 0 to change, 0 to delete.` or `No changes.`).
pub fn text(plan: &Plan, w: impl Write, color: bool) -> io::Result<()> {
    text_as(plan, w, color, View::Full)
}

/// Renders the plan for people in `view`. The last line is the summary.
pub fn text_as(plan: &Plan, w: impl Write, color: bool, view: View) -> io::Result<()> {
    match view {
        View::Full => full(plan, w, color),
        View::Compact => compact(plan, w, color),
    }
}

/// One line per file, paths aligned:
/// `change dns/example.com.zone  +2 -1 lines; records +1 -1`.
fn compact(plan: &Plan, w: impl Write, color: bool) -> io::Result<()> {
    let mut p = Painter { w, color };
    let width = plan
        .changes
        .iter()
        .map(|c| c.path.chars().count() + mode_note(c).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for c in &plan.changes {
        let style = match c.action {
            Action::Add => ADD,
            Action::Change => CHANGE,
            Action::Delete => DEL,
        };
        p.put(style.bold(), &format!("{:<6}", c.action.verb()))?;
        let path = format!("{}{}", c.path, mode_note(c));
        let body = body(c);
        let what = match (&body, line_counts(&body)) {
            (Body::Hidden, _) => HIDDEN.to_string(),
            (Body::ModeOnly, _) => "mode only".to_string(),
            (Body::Binary { old, new }, _) => format!("binary, {old} → {new} bytes"),
            (Body::Text { old, new }, Some((added, removed))) => {
                let mut s = match c.action {
                    Action::Add => format!("+{added} lines"),
                    Action::Delete => format!("-{removed} lines"),
                    Action::Change => format!("+{added} -{removed} lines"),
                };
                if zone::is_zone(&c.path) {
                    match c.action {
                        Action::Add => s.push_str(&format!("; {} records", zone::count(new))),
                        Action::Delete => s.push_str(&format!("; {} records", zone::count(old))),
                        Action::Change => {
                            let r = zone::diff(old, new);
                            s.push_str(&format!(
                                "; records +{} -{}",
                                r.added.len(),
                                r.removed.len()
                            ));
                        }
                    }
                }
                s
            }
            (Body::Text { .. }, None) => String::new(),
        };
        p.put(BOLD, &format!(" {path:<width$}"))?;
        p.line(Style::new(), &format!("  {what}"))?;
    }
    if !plan.changes.is_empty() {
        p.w.write_all(b"\n")?;
    }
    p.line(BOLD, &plan.summary().to_string())?;
    p.w.flush()
}

fn full(plan: &Plan, w: impl Write, color: bool) -> io::Result<()> {
    let mut p = Painter { w, color };
    for c in &plan.changes {
        // A word, not a sign: a block's first line can never be mistaken
        // for a line of a diff. Verbs are padded so the paths line up.
        let style = match c.action {
            Action::Add => ADD,
            Action::Change => CHANGE,
            Action::Delete => DEL,
        };
        p.put(style.bold(), &format!("{:<6}", c.action.verb()))?;
        p.line(BOLD, &format!(" {}{}", c.path, mode_note(c)))?;
        let body = body(c);
        // A new or deleted zone is shown once, by its diff: the records
        // summary would list every line again.
        let summary = records(c, &body).filter(|_| c.action == Action::Change);
        if let Some(r) = summary {
            for rec in &r.removed {
                p.line(DEL, &format!("    - {rec}"))?;
            }
            for rec in &r.added {
                p.line(ADD, &format!("    + {rec}"))?;
            }
        }
        match body {
            Body::Hidden => p.line(Style::new(), &format!("  {HIDDEN}"))?,
            Body::ModeOnly => {}
            Body::Binary { old, new } => p.line(
                Style::new(),
                &format!("  (binary content: {old} bytes → {new} bytes)"),
            )?,
            Body::Text { old, new } => {
                let (a, b) = headers(c);
                let mut res = Ok(());
                unified(old, new, (&a, &b), c.from_line, |style, line| {
                    if res.is_ok() {
                        res = p.line(style, line);
                    }
                });
                res?;
            }
        }
        p.w.write_all(b"\n")?;
    }
    p.line(BOLD, &plan.summary().to_string())?;
    p.w.flush()
}

/// The JSON document of `mailc plan --format json`.
#[derive(Serialize)]
struct JsonPlan<'a> {
    format_version: u32,
    changed: bool,
    summary: Summary,
    changes: Vec<JsonChange<'a>>,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    path: &'a str,
    action: Action,
    /// The mode after the apply (`null` for a delete).
    mode: Option<String>,
    /// The mode before (`null` for an add).
    old_mode: Option<String>,
    sensitive: bool,
    binary: bool,
    /// The unified diff; `null` when sensitive, binary or only the mode changes.
    diff: Option<String>,
    /// For zone files: the records removed and added.
    records: Option<JsonRecords>,
    /// Lines the diff adds and removes; `null` where `diff` is.
    added_lines: Option<usize>,
    removed_lines: Option<usize>,
}

#[derive(Serialize)]
struct JsonRecords {
    removed: Vec<String>,
    added: Vec<String>,
}

/// Renders the plan as one JSON document (with a final newline).
pub fn json(plan: &Plan) -> String {
    let changes = plan
        .changes
        .iter()
        .map(|c| {
            let body = body(c);
            let records = records(c, &body).map(|r| JsonRecords {
                removed: r.removed,
                added: r.added,
            });
            let counts = line_counts(&body);
            let diff = match body {
                Body::Text { old, new } => {
                    let (a, b) = headers(c);
                    let mut s = String::new();
                    unified(old, new, (&a, &b), c.from_line, |_, line| {
                        s.push_str(line);
                        s.push('\n');
                    });
                    Some(s)
                }
                _ => None,
            };
            JsonChange {
                path: &c.path,
                action: c.action,
                mode: c.new.as_ref().map(|n| Mode(n.mode).to_string()),
                old_mode: c.old.as_ref().map(|o| Mode(o.mode).to_string()),
                sensitive: matches!(body, Body::Hidden),
                binary: matches!(body, Body::Binary { .. }),
                diff,
                records,
                added_lines: counts.map(|(a, _)| a),
                removed_lines: counts.map(|(_, r)| r),
            }
        })
        .collect();
    let doc = JsonPlan {
        format_version: 1,
        changed: !plan.is_empty(),
        summary: plan.summary(),
        changes,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
