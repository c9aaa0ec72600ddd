//! `mailc diff` against real git repositories the tests build with `git`
//! itself: the spec at two revisions read from the repository's objects
//! (the work tree and index left alone), the records, routing verdicts and
//! files that change, DKIM keys that are not in git, renames, revisions
//! without the spec, and the Markdown comment, pinned and rendered by
//! cmark-gfm (GitHub's Markdown renderer).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{Run, Temp, git, mailc, root, tool};

/// The spec of the first commit: the others change one thing each.
const SPEC: &str = r#"version: 1
defaults:
  nameservers: [ns1.example.net, ns2.example.net]
  hostmaster: hostmaster@example.com
  dmarc: {policy: none}
hosts:
  mx1:
    hostname: mx1.example.com
    ipv4: 192.0.2.10
    stack: postfix-dovecot
  mx2:
    hostname: mx2.example.net
    ipv4: 198.51.100.20
    stack: exim-dovecot
domains:
  example.com:
    mx: [mx1, mx2]
    dkim:
      - {selector: s1, private_key: keys/example.com/s1.key}
    mailboxes:
      alice:
        password: '{SHA512-CRYPT}$6$PmFFMgNDe6UGDnX6$wVREJnIhbvPaWJPO2qwOMIA2.Lr9x0EKSGkqUAXOPkcNhyJWTfEEZxy05QrVXuPzTBqWaXvy8wDA5sE9Lw4OG/'
      bob:
        password: '{SHA512-CRYPT}$6$yUU9DA7Z5WfYZ.zM$ZcrGN/CGI/xJ5qqzOaAL36CNzXob7D74Z7WYpOPKK4vgIdKfmd.Tzf1CrVKILocbRlJc.Fii0qdqc2gjYHCQs/'
    aliases:
      sales: [alice]
"#;

/// The three changes, one commit each.
const MX: (&str, &str) = ("mx: [mx1, mx2]", "mx: [mx1]");
const ALIAS: (&str, &str) = ("sales: [alice]", "sales: [alice, bob]");
const DKIM: (&str, &str) = (
    "{selector: s1, private_key: keys/example.com/s1.key}",
    "{selector: s2, algorithm: ed25519, private_key: keys/example.com/s2.key}",
);

/// A repository whose spec lives in `site/`, its keys beside it but
/// ignored by git (as secrets are), its output folder committed.
struct Repo {
    _tmp: Temp,
    top: PathBuf,
}

impl Repo {
    fn site(&self) -> PathBuf {
        self.top.join("site")
    }

    fn spec(&self) -> String {
        std::fs::read_to_string(self.site().join("mailc.yaml")).unwrap()
    }

    fn edit(&self, (from, to): (&str, &str)) {
        let spec = self.spec();
        assert!(spec.contains(from), "{from}");
        std::fs::write(self.site().join("mailc.yaml"), spec.replacen(from, to, 1)).unwrap();
    }

    /// `mailc apply` (when `out`), then a commit of everything.
    fn commit(&self, message: &str, out: bool) {
        if out {
            // A new key starts signing at once here: no DNS to wait for.
            let r = mailc(&self.site(), &["apply", "--auto-approve", "--no-dns-wait"]);
            assert_eq!(r.code, 0, "{}", r.said());
        }
        git(&self.top, &["add", "-A"]);
        git(&self.top, &["commit", "-q", "-m", message]);
    }
}

/// The first commit (`out` committed when `out`), keys s1 and s2 on disk.
fn repo(label: &str, out: bool) -> Repo {
    let tmp = Temp::new(label);
    let top = tmp.0.join("repo");
    let keys = top.join("site/keys/example.com");
    std::fs::create_dir_all(&keys).unwrap();
    let test_keys = root().join("tests/keys");
    std::fs::copy(
        test_keys.join("exim-stack/keys/example.com/s1.key"),
        keys.join("s1.key"),
    )
    .unwrap();
    std::fs::copy(
        test_keys.join("spec-example/keys/example.com/s2026.key"),
        keys.join("s2.key"),
    )
    .unwrap();
    let ignore = if out { "keys/\n" } else { "keys/\nout/\n" };
    std::fs::write(top.join("site/.gitignore"), ignore).unwrap();
    std::fs::write(top.join("site/mailc.yaml"), SPEC).unwrap();
    git(&top, &["init", "-q", "-b", "main"]);
    let r = Repo { _tmp: tmp, top };
    r.commit("mail for example.com", out);
    r
}

/// The first commit, then one each for the MX, the alias and the DKIM key.
fn three_commits(label: &str, out: bool) -> Repo {
    let r = repo(label, out);
    r.edit(MX);
    r.commit("mx2 is no longer an MX", out);
    r.edit(ALIAS);
    r.commit("bob joins sales", out);
    r.edit(DKIM);
    r.commit("a new DKIM key", out);
    r
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.said()))
}

/// Every record change as `- RECORD` / `+ RECORD`.
fn records(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for z in doc["records"].as_array().unwrap() {
        for (sign, key) in [("-", "removed"), ("+", "added")] {
            for r in z[key].as_array().unwrap() {
                out.push(format!("{sign} {}", r.as_str().unwrap()));
            }
        }
    }
    out
}

/// Every routing change as `ADDRESS HOST BEFORE -> AFTER` (outcomes).
fn routes(doc: &Value) -> Vec<String> {
    let outcome = |v: &Value| {
        v["outcome"]
            .as_str()
            .unwrap_or("(no such host)")
            .to_string()
    };
    doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} -> {}",
                r["address"].as_str().unwrap(),
                r["host"].as_str().unwrap(),
                outcome(&r["before"]),
                outcome(&r["after"])
            )
        })
        .collect()
}

const S1_RECORD: &str = "- s1._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyJNADLT9UC0+HoxCS4XaNZxTUVWFNeJSmhXQtB6zIlezcgMFX58rDbeQjUx526C9tuo1dS7yvCPgywo4hFFgf8pK9S7EItWvUMtY90V4xPN8XDfNkzxkOoYYpoh1xq9SyXWQVVra+8W9kV9T26Yq/dEcIM3dzfLW+/pcwW5ev0OXthpkkXUprAuUDMrhBVaDa\" \"1+cRJh7FFBwvdB1qRz8Hpzag60xWUIALbPY4VXqmtM9lgzWDqQaO6FKc/6cUTj9JiFUPDYiNUZYkWZwcE6i/bOekOHo/wMf3swko4tn9D9GqXw4yYZjOU8XLoJr+vvG8nnUhyR5ZKdSjIXneu2VtQIDAQAB\"";
const S2_RECORD: &str = "+ s2._domainkey.example.com. TXT \"v=DKIM1; k=ed25519; p=H2iI+ij+JfbNNGfIg+WPIwJlN1y/AeI8m+JRIVDnACU=\"";

#[test]
fn three_commits_show_exactly_their_record_and_routing_changes() {
    let r = three_commits("diff-three", true);
    let site = r.site();
    let run = mailc(&site, &["diff", "HEAD~3", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.said());
    let doc = json_of(&run);
    assert_eq!(
        records(&doc),
        [
            "- example.com. MX 20 mx2.example.net.",
            S1_RECORD,
            S2_RECORD
        ]
    );
    assert_eq!(
        routes(&doc),
        [
            // mx2 is no longer the backup MX: it stops relaying to mx1.
            "alice@example.com mx2 relay -> remote",
            "bob@example.com mx2 relay -> remote",
            "sales@example.com mx1 deliver -> deliver",
            "sales@example.com mx2 relay -> remote",
            "*@example.com mx2 reject -> remote",
        ]
    );
    let sales = &doc["routes"][2];
    assert_eq!(
        sales["before"]["mailboxes"],
        serde_json::json!(["alice@example.com"])
    );
    assert_eq!(
        sales["after"]["mailboxes"],
        serde_json::json!(["alice@example.com", "bob@example.com"])
    );
    // Both keys are outside git: their records come from the committed zones.
    for side in ["before", "after"] {
        let missing = &doc[side]["missing_keys"][0];
        assert_eq!(
            missing["record"]["output_folder"]["path"], "dns/example.com.zone",
            "{side}: {missing}"
        );
    }
    assert_eq!(doc["before"]["spec"], "site/mailc.yaml");

    // Each commit alone shows its own change only.
    let one = json_of(&mailc(
        &site,
        &["diff", "HEAD~3", "HEAD~2", "--format", "json"],
    ));
    assert_eq!(records(&one), ["- example.com. MX 20 mx2.example.net."]);
    let two = json_of(&mailc(
        &site,
        &["diff", "HEAD~2", "HEAD~1", "--format", "json"],
    ));
    assert!(records(&two).is_empty(), "{two}");
    assert_eq!(routes(&two), ["sales@example.com mx1 deliver -> deliver"]);
    let three = json_of(&mailc(
        &site,
        &["diff", "HEAD~1", "HEAD", "--format", "json"],
    ));
    assert_eq!(records(&three), [S1_RECORD, S2_RECORD]);
    assert!(routes(&three).is_empty(), "{three}");
    let files: Vec<&str> = three["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "dkim/mx1/KeyTable",
            "dkim/mx1/SigningTable",
            "dkim/mx1/keys/example.com/s1.key",
            "dkim/mx1/keys/example.com/s2.key",
            "dns/example.com.zone",
        ]
    );

    // The same revisions compared with themselves: nothing, exit 0.
    let same = mailc(&site, &["diff", "HEAD", "HEAD"]);
    assert_eq!(same.code, 0, "{}", same.said());
    assert!(
        same.stdout.ends_with("No differences.\n"),
        "{}",
        same.said()
    );
}

#[test]
fn the_markdown_comment_is_pinned_and_renders_as_github_shows_it() {
    let r = three_commits("diff-markdown", true);
    let run = mailc(
        &r.site(),
        &["diff", "HEAD~3", "HEAD", "--format", "markdown"],
    );
    assert_eq!(run.code, 2, "{}", run.said());
    // Commits stand for every output file's bytes: pinned by name only.
    let mut shown = run.stdout.clone();
    for (rev, name) in [("HEAD~3", "BASE"), ("HEAD", "TIP")] {
        let id = git(&r.top, &["rev-parse", rev]);
        shown = shown.replace(&format!("({})", &id[..7]), &format!("({name})"));
    }
    pinned(&root().join("tests/expected/diff/three-commits.md"), &shown);

    let cmark = tool(
        "cmark-gfm",
        "the pull request comment of `mailc diff --format markdown` is rendered with GitHub's cmark-gfm",
    );
    let mut child = Command::new(cmark)
        .args([
            "-e",
            "table",
            "-e",
            "strikethrough",
            "-e",
            "autolink",
            "--unsafe",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cmark-gfm");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(run.stdout.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    let html = String::from_utf8(out.stdout).unwrap();
    let count = |s: &str| html.matches(s).count();
    // The summary and the routing table are tables; no pipe is left as text.
    assert_eq!(count("<table>"), 2, "{html}");
    assert!(!html.contains("|---"), "{html}");
    // The address and host columns as code.
    assert!(
        html.contains("<td><code>sales@example.com</code></td>\n<td><code>mx1</code></td>"),
        "{html}"
    );
    // One collapsed block per text file, each holding a diff code block.
    let blocks = count("<details>");
    assert_eq!(blocks, 6, "{html}");
    assert_eq!(
        count("<pre><code class=\"language-diff\">"),
        blocks + 1,
        "{html}"
    );
    // Escapes shown as the characters they stand for, no strikethrough.
    assert!(!html.contains("<del>") && !html.contains("\\~"), "{html}");
    assert!(html.contains("HEAD~3"), "{html}");
    // Secrets hidden as `plan` hides them.
    assert!(html.contains("(sensitive content hidden)"), "{html}");
}

/// Compares with the pinned file, or rewrites it when blessing.
fn pinned(path: &Path, actual: &str) {
    if let Err(e) = support::golden::file(path, actual) {
        panic!("{e}");
    }
}

#[test]
fn the_working_tree_is_compared_with_head_and_left_untouched() {
    let r = repo("diff-work", true);
    let site = r.site();
    r.edit(ALIAS);
    // A new password: the file holding hashes changes, its content never shows.
    let spec = r.spec();
    let old_hash = "$6$yUU9DA7Z5WfYZ.zM$ZcrGN/CGI/xJ5qqzOaAL36CNzXob7D74Z7WYpOPKK4vgIdKfmd.Tzf1CrVKILocbRlJc.Fii0qdqc2gjYHCQs/";
    let new_hash = "$6$PmFFMgNDe6UGDnX6$wVREJnIhbvPaWJPO2qwOMIA2.Lr9x0EKSGkqUAXOPkcNhyJWTfEEZxy05QrVXuPzTBqWaXvy8wDA5sE9Lw4OG/";
    std::fs::write(
        site.join("mailc.yaml"),
        spec.replacen(old_hash, new_hash, 1),
    )
    .unwrap();
    let status = git(&r.top, &["status", "--porcelain", "--ignored"]);
    let index = std::fs::read(r.top.join(".git/index")).unwrap();
    let out_before = std::fs::read(site.join("out/dns/example.com.zone")).unwrap();

    let text = mailc(&site, &["diff"]);
    assert_eq!(text.code, 2, "{}", text.said());
    assert!(
        text.stdout.starts_with("mailc diff: HEAD ("),
        "{}",
        text.said()
    );
    assert!(text.stdout.contains("→ working tree\n"), "{}", text.said());
    assert!(
        text.stdout.contains("sales@example.com  mx1   delivered to alice@example.com  delivered to alice@example.com, bob@example.com"),
        "{}",
        text.said()
    );
    // The key is on disk here but not in HEAD: a note, and no change of its
    // copy or of its record (HEAD's committed zone holds the same one).
    assert!(
        text.stderr
            .contains("note: the DKIM key file `keys/example.com/s1.key`"),
        "{}",
        text.said()
    );
    assert!(!text.stdout.contains("s1.key"), "{}", text.said());
    assert!(!text.stdout.contains("Records"), "{}", text.said());
    for format in ["text", "json", "markdown"] {
        let run = mailc(&site, &["diff", "--format", format]);
        assert_eq!(run.code, 2, "{}", run.said());
        assert!(
            run.stdout.contains("dovecot/mx1/users"),
            "{format}: {}",
            run.said()
        );
        assert!(
            run.stdout.contains("(sensitive content hidden)")
                || run.stdout.contains("\"sensitive\": true"),
            "{format}: {}",
            run.said()
        );
        for hash in [old_hash, new_hash] {
            let salt = &hash[3..19];
            assert!(
                !run.stdout.contains(salt),
                "{format} shows a hash: {}",
                run.said()
            );
        }
    }
    // Nothing in the repository was written: not the index, not `out`.
    assert_eq!(std::fs::read(r.top.join(".git/index")).unwrap(), index);
    assert_eq!(git(&r.top, &["status", "--porcelain", "--ignored"]), status);
    assert_eq!(
        std::fs::read(site.join("out/dns/example.com.zone")).unwrap(),
        out_before
    );
}

#[test]
fn any_folder_of_the_repository_gives_the_same_diff() {
    let r = three_commits("diff-folders", true);
    let args = ["diff", "HEAD~3", "HEAD", "--format", "json"];
    let at_site = mailc(&r.site(), &args);
    assert_eq!(at_site.code, 2, "{}", at_site.said());
    // Below the spec: the nearest spec above is found.
    let below = r.site().join("keys/example.com");
    assert_eq!(mailc(&below, &args).stdout, at_site.stdout);
    // Above it: the spec is named; `--out` defaults to `out` beside it.
    let from_top = mailc(
        &r.top,
        &[
            "diff",
            "HEAD~3",
            "HEAD",
            "--format",
            "json",
            "--spec",
            "site/mailc.yaml",
        ],
    );
    assert_eq!(from_top.stdout, at_site.stdout, "{}", from_top.said());
    // Without `--spec` there, mailc says where it looked.
    let lost = mailc(&r.top, &["diff", "HEAD~1"]);
    assert_eq!(lost.code, 1, "{}", lost.said());
    assert!(
        lost.stderr.contains("no mailc.yaml or mailc.kdl in") && lost.stderr.contains("--spec"),
        "{}",
        lost.said()
    );
}

#[test]
fn a_renamed_spec_is_followed_and_a_revision_without_it_refused() {
    // A first commit without any spec.
    let tmp = Temp::new("diff-rename");
    let top = tmp.0.join("repo");
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(top.join("README"), "mail\n").unwrap();
    git(&top, &["init", "-q", "-b", "main"]);
    git(&top, &["add", "-A"]);
    git(&top, &["commit", "-q", "-m", "start"]);
    std::fs::write(top.join("mailc.yaml"), SPEC).unwrap();
    git(&top, &["add", "-A"]);
    git(&top, &["commit", "-q", "-m", "a spec"]);
    // Renamed and changed in one commit.
    git(&top, &["mv", "mailc.yaml", "mail.yaml"]);
    let spec = std::fs::read_to_string(top.join("mail.yaml")).unwrap();
    std::fs::write(top.join("mail.yaml"), spec.replacen(ALIAS.0, ALIAS.1, 1)).unwrap();
    git(&top, &["commit", "-q", "-am", "renamed"]);

    let run = mailc(
        &top,
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--spec",
            "mail.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.said());
    let doc = json_of(&run);
    assert_eq!(doc["before"]["spec"], "mailc.yaml");
    assert_eq!(doc["after"]["spec"], "mail.yaml");
    assert_eq!(routes(&doc), ["sales@example.com mx1 deliver -> deliver"]);
    // The key is in no revision and no output folder was committed.
    assert_eq!(doc["before"]["missing_keys"][0]["record"], "unknown");

    let none = mailc(&top, &["diff", "HEAD~2", "HEAD", "--spec", "mail.yaml"]);
    assert_eq!(none.code, 1, "{}", none.said());
    assert!(
        none.stderr
            .contains("error: `HEAD~2` has no spec at `mail.yaml`, nor one renamed into it since"),
        "{}",
        none.said()
    );
    let bad = mailc(&top, &["diff", "no-such-branch", "--spec", "mail.yaml"]);
    assert_eq!(bad.code, 1, "{}", bad.said());
    assert!(
        bad.stderr
            .contains("error: `no-such-branch` is not a commit of this repository"),
        "{}",
        bad.said()
    );
    // A revision is never read as an option.
    let dash = mailc(&top, &["diff", "--spec", "mail.yaml", "--", "--output=x"]);
    assert_eq!(dash.code, 1, "{}", dash.said());
    assert!(!top.join("x").exists());
    // Outside any repository.
    let outside = mailc(&tmp.0, &["diff"]);
    assert_eq!(outside.code, 1, "{}", outside.said());
    assert!(
        outside.stderr.contains("is not inside a git repository"),
        "{}",
        outside.said()
    );
}

#[test]
fn keys_in_no_revision_and_no_committed_output_are_unknown_records() {
    let r = three_commits("diff-unknown", false);
    let run = mailc(&r.site(), &["diff", "HEAD~1", "HEAD"]);
    assert_eq!(run.code, 2, "{}", run.said());
    assert!(
        run.stdout.contains(
            "- s1._domainkey.example.com. TXT \"(unknown: the key file keys/example.com/s1.key is not in this revision)\""
        ) && run.stdout.contains(
            "+ s2._domainkey.example.com. TXT \"(unknown: the key file keys/example.com/s2.key is not in this revision)\""
        ),
        "{}",
        run.said()
    );
    assert!(
        run.stderr
            .contains("nor an output folder with its record: the record is shown as unknown"),
        "{}",
        run.said()
    );
    // The working tree holds the keys: there the real record is shown.
    let work = mailc(&r.site(), &["diff", "HEAD~1"]);
    assert_eq!(work.code, 2, "{}", work.said());
    assert!(work.stdout.contains(&S2_RECORD[2..]), "{}", work.said());
}

/// The script of the step named `name` in the CI example of docs/cli.md.
fn ci_step(name: &str) -> String {
    let page = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    let section = page
        .split("### In CI")
        .nth(1)
        .expect("docs/cli.md has a CI example");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block");
    let doc: Value = serde_saphyr::from_str(block).expect("the workflow is YAML");
    let steps = doc["jobs"]["mail-diff"]["steps"].as_array().expect("steps");
    let step = steps
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}"));
    step["run"].as_str().expect("a run script").to_string()
}

#[test]
fn the_ci_example_of_the_docs_runs() {
    let r = three_commits("diff-ci", true);
    // The pull request: the last commit on top of `base`.
    git(&r.top, &["branch", "base", "HEAD~1"]);
    let clone = r.top.parent().unwrap().join("clone");
    git(
        r.top.parent().unwrap(),
        &[
            "clone",
            "-q",
            r.top.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let script = ci_step("mailc diff");
    let runner_temp = r.top.parent().unwrap().join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mailc"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // As GitHub runs a `run` step: `bash -e`.
    let run = |base: &str| {
        Command::new("bash")
            .args(["-e", "-c", &script])
            .current_dir(&clone)
            .env("PATH", &path)
            .env("GITHUB_BASE_REF", base)
            .env("RUNNER_TEMP", &runner_temp)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(Stdio::null())
            .output()
            .expect("run bash")
    };
    let ok = run("base");
    assert!(ok.status.success(), "{ok:?}");
    let comment = std::fs::read_to_string(runner_temp.join("diff.md")).unwrap();
    let direct = mailc(
        &clone.join("site"),
        &["diff", "origin/base", "HEAD", "--format", "markdown"],
    );
    assert_eq!(comment, direct.stdout);
    assert!(comment.contains("#### DNS records"), "{comment}");
    // An error fails the job.
    let bad = run("no-such-branch");
    assert!(!bad.status.success(), "{bad:?}");
}
