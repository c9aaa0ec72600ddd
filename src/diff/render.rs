//! Showing a [`Diff`]: text for a terminal, JSON for tools, and Markdown to
//! paste into a pull request (a summary table, the record changes, the
//! routing changes as a table, each file's diff collapsed). File diffs are
//! plan's own rendering, so secrets are hidden exactly as `mailc plan`
//! hides them.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::dkim::{MissingKey, Source};
use super::routes::{Verdict, short};
use super::{About, Diff};
use crate::expect::Fate;
use crate::plan::render as plan_render;

/// The words that end every rendering.
fn summary(d: &Diff) -> String {
    if !d.changed() {
        return "No differences.".to_string();
    }
    let s = d.plan.summary();
    let n = d.routes.len();
    format!(
        "Diff: {} to add, {} to change, {} to delete; records +{} -{}; {n} routing verdict{} changed.",
        s.add,
        s.change,
        s.delete,
        d.records_added(),
        d.records_removed(),
        if n == 1 { "" } else { "s" }
    )
}

/// How a note is written: names and paths by `code`, other words of the
/// input by `text`.
pub struct Words<'a> {
    pub code: &'a dyn Fn(&str) -> String,
    pub text: &'a dyn Fn(&str) -> String,
}

/// For a terminal: names in backticks, text as it is.
pub const PLAIN: Words<'static> = Words {
    code: &|s| format!("`{s}`"),
    text: &|s| s.to_string(),
};

/// The notes on keys a side lacks, one line each.
pub fn notes(d: &Diff, w: &Words<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for about in [&d.before, &d.after] {
        for m in &about.missing_keys {
            out.push(note(about, m, w));
        }
    }
    out
}

fn note(about: &About, m: &MissingKey, w: &Words<'_>) -> String {
    let code = w.code;
    let key = format!(
        "the DKIM key file {} ({} of {}) is not in {}",
        code(&m.key),
        code(&m.selector),
        (w.text)(&m.domain),
        (w.text)(&about.label())
    );
    match &m.record {
        Source::OutputFolder { path } => format!(
            "{key}: its record is the one the output folder there publishes in {}",
            code(path)
        ),
        Source::Unknown => {
            format!("{key}, nor an output folder with its record: the record is shown as unknown")
        }
    }
}

/// A code span in Markdown, its fence longer than any backtick run inside
/// (CommonMark §6.1).
fn md_code(s: &str) -> String {
    let f = "`".repeat(longest_run(s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{f}{pad}{s}{pad}{f}")
}

/// Text for a terminal: records, routing, then each file as `plan` shows
/// it, then the summary line.
pub fn text(d: &Diff, color: bool) -> String {
    let mut out = format!("mailc diff: {} → {}\n\n", d.before.label(), d.after.label());
    if !d.changed() {
        out.push_str("No differences.\n");
        return out;
    }
    if !d.records.is_empty() {
        out.push_str("Records\n");
        for z in &d.records {
            let _ = writeln!(out, "  {}", z.path);
            for r in &z.removed {
                let _ = writeln!(out, "    - {r}");
            }
            for r in &z.added {
                let _ = writeln!(out, "    + {r}");
            }
        }
        out.push('\n');
    }
    if !d.routes.is_empty() {
        out.push_str("Routing\n");
        let rows: Vec<[String; 4]> = d
            .routes
            .iter()
            .map(|r| {
                [
                    r.address.clone(),
                    r.host.clone(),
                    short(&r.before),
                    short(&r.after),
                ]
            })
            .collect();
        let head = [
            "address".to_string(),
            "host".into(),
            "before".into(),
            "after".into(),
        ];
        let width = |i: usize| {
            rows.iter()
                .chain([&head])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for r in [&head].into_iter().chain(&rows) {
            let _ = writeln!(
                out,
                "  {:<w0$}  {:<w1$}  {:<w2$}  {}",
                r[0], r[1], r[2], r[3]
            );
        }
        out.push('\n');
    }
    if !d.plan.is_empty() {
        out.push_str("Files\n");
        let (view, _) = plan_render::auto_view(&d.plan);
        let mut buf = Vec::new();
        let _ = plan_render::text_as(&d.plan, &mut buf, color, view);
        let shown = String::from_utf8_lossy(&buf);
        // The plan's own last line counts an apply; the diff has its own.
        let body = shown
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .map_or("", |(body, _)| body);
        out.push_str(body);
        out.push('\n');
    }
    out.push_str(&summary(d));
    out.push('\n');
    out
}

/// A verdict as `mailc route --format json` words its fields.
fn verdict_json(v: &Verdict) -> Value {
    let Some(f) = v else { return Value::Null };
    let mut o = json!({
        "outcome": "",
        "mailboxes": [],
        "forward": [],
        "next_hop": null,
        "reply": null,
    });
    match f {
        Fate::Deliver { mailboxes, forward } => {
            o["outcome"] = json!(if mailboxes.is_empty() {
                "forward"
            } else {
                "deliver"
            });
            o["mailboxes"] = json!(mailboxes);
            o["forward"] = json!(forward);
        }
        Fate::Relay { hop } => {
            o["outcome"] = json!("relay");
            o["next_hop"] = json!(hop);
        }
        Fate::Reject { reply } => {
            o["outcome"] = json!("reject");
            o["reply"] = json!(reply);
        }
        Fate::Bounce => o["outcome"] = json!("bounce"),
        Fate::Drop => o["outcome"] = json!("drop"),
        Fate::Remote => o["outcome"] = json!("remote"),
    }
    o
}

/// The file changes of plan's JSON rendering.
fn plan_changes(d: &Diff) -> Vec<Value> {
    serde_json::from_str::<Value>(&plan_render::json(&d.plan))
        .ok()
        .and_then(|v| v.get("changes").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// One JSON document (with a final newline).
pub fn json(d: &Diff) -> String {
    let s = d.plan.summary();
    let doc = json!({
        "format_version": 1,
        "changed": d.changed(),
        "before": d.before,
        "after": d.after,
        "summary": {
            "add": s.add,
            "change": s.change,
            "delete": s.delete,
            "records_added": d.records_added(),
            "records_removed": d.records_removed(),
            "routes": d.routes.len(),
        },
        "records": d.records,
        "routes": d.routes.iter().map(|r| json!({
            "address": r.address,
            "host": r.host,
            "before": verdict_json(&r.before),
            "after": verdict_json(&r.after),
        })).collect::<Vec<_>>(),
        "files": plan_changes(d),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Text that Markdown shows as written: its special characters escaped
/// (CommonMark §2.4), `|` too, for table cells.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The longest run of backticks in `s`.
fn longest_run(s: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A code fence longer than any run of backticks in `body` (CommonMark
/// §4.5), at least three.
fn fence(body: &str) -> String {
    "`".repeat((longest_run(body) + 1).max(3))
}

/// Markdown for a pull request comment.
pub fn markdown(d: &Diff) -> String {
    let mut out = format!(
        "### mailc diff: {} → {}\n\n",
        md(&d.before.label()),
        md(&d.after.label())
    );
    let words = Words {
        code: &md_code,
        text: &md,
    };
    for n in notes(d, &words) {
        let _ = writeln!(out, "> **Note:** {n}\n");
    }
    if !d.changed() {
        out.push_str("No differences.\n");
        return out;
    }
    let s = d.plan.summary();
    let _ = write!(
        out,
        "| What | Changes |\n|---|---|\n| Files | {} added, {} changed, {} deleted |\n| DNS records | {} added, {} removed |\n| Routing verdicts | {} changed |\n\n",
        s.add,
        s.change,
        s.delete,
        d.records_added(),
        d.records_removed(),
        d.routes.len()
    );
    if !d.records.is_empty() {
        out.push_str("#### DNS records\n\n");
        for z in &d.records {
            let mut body = String::new();
            for r in &z.removed {
                let _ = writeln!(body, "- {r}");
            }
            for r in &z.added {
                let _ = writeln!(body, "+ {r}");
            }
            let f = fence(&body);
            let _ = write!(out, "`{}`\n\n{f}diff\n{body}{f}\n\n", z.path);
        }
    }
    if !d.routes.is_empty() {
        out.push_str("#### Routing\n\n| Address | Host | Before | After |\n|---|---|---|---|\n");
        for r in &d.routes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_code(&r.address),
                md_code(&r.host),
                md(&short(&r.before)),
                md(&short(&r.after))
            );
        }
        out.push('\n');
    }
    let changes = plan_changes(d);
    if !changes.is_empty() {
        out.push_str("#### Files\n\n");
        for c in changes {
            let path = c["path"].as_str().unwrap_or("");
            let action = c["action"].as_str().unwrap_or("");
            let counts = match (c["added_lines"].as_u64(), c["removed_lines"].as_u64()) {
                (Some(a), Some(r)) => format!(" (+{a} −{r})"),
                _ => String::new(),
            };
            let body = if c["sensitive"] == true {
                Some(plan_render::HIDDEN.to_string())
            } else if c["binary"] == true {
                Some("(binary content)".to_string())
            } else {
                None
            };
            match (body, c["diff"].as_str()) {
                (Some(note), _) => {
                    let _ = writeln!(out, "- {action} `{path}`: {}\n", md(&note));
                }
                (None, Some(diff)) if !diff.is_empty() => {
                    let f = fence(diff);
                    let _ = write!(
                        out,
                        "<details><summary>{action} <code>{}</code>{counts}</summary>\n\n{f}diff\n{diff}{f}\n\n</details>\n\n",
                        html(path)
                    );
                }
                _ => {
                    let _ = writeln!(out, "- {action} `{path}`: mode only\n");
                }
            }
        }
    }
    out.push_str(&summary(d));
    out.push('\n');
    out
}

/// Text inside HTML (`<summary>`): `&`, `<`, `>` as entities.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert_eq!(fence("a"), "```");
        assert_eq!(fence("x ```` y"), "`````");
    }

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(md("550 <a@b>: x|y"), "550 \\<a@b\\>: x\\|y");
    }
}
