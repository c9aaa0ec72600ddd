//! The plan cache (`--out/.mailc-cache`) changes nothing but speed: every
//! scenario here runs twice side by side, in two copies of the same spec,
//! once as users run mailc (the cache written and used) and once with
//! `--no-cache`, and each command must print the same plan, exit the same
//! and leave the same output folder — after a domain file changes, after a
//! fact another file relies on changes, with a damaged cache or one from
//! another build, and with a file of `--out` edited by hand. Where only
//! included files changed, the warm plan is made from the files the change
//! can affect alone (its note says how many): the same plan, byte for byte.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{Run, Temp, copy_dir, mailc, root};

const CACHE: &str = ".mailc-cache";

/// Two copies of one spec folder: `warm` uses the cache, `cold` never does.
struct Pair {
    _tmp: Temp,
    warm: PathBuf,
    cold: PathBuf,
    spec: String,
}

/// What a run said, without the notes only the cache gives (which spec
/// files a plan's changes come from, a damaged cache ignored).
fn plain(run: &Run) -> String {
    let stderr: String = run
        .stderr
        .lines()
        .filter(|l| {
            !l.starts_with("note: spec file")
                && !l.starts_with("note: ignoring the cache")
                && !l.starts_with("note: compiled ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    format!("exit {}\n{}{stderr}", run.code, run.stdout)
}

impl Pair {
    /// Copies `from` (a spec folder) twice; `spec` is the spec's name in it.
    fn new(from: &Path, spec: &str) -> Pair {
        let tmp = Temp::new("cache");
        let (warm, cold) = (tmp.0.join("warm"), tmp.0.join("cold"));
        copy_dir(from, &warm);
        copy_dir(from, &cold);
        Pair {
            _tmp: tmp,
            warm,
            cold,
            spec: spec.to_string(),
        }
    }

    /// Runs `mailc COMMAND SPEC ARGS` in both copies, the cold one with
    /// `--no-cache`; both must say the same. Returns the warm run.
    fn run(&self, command: &str, args: &[&str]) -> Run {
        let mut warm_args = vec![command, self.spec.as_str()];
        warm_args.extend(args);
        let mut cold_args = warm_args.clone();
        cold_args.push("--no-cache");
        let warm = mailc(&self.warm, &warm_args);
        let cold = mailc(&self.cold, &cold_args);
        assert_eq!(
            plain(&warm),
            plain(&cold),
            "`mailc {}` with and without the cache",
            warm_args.join(" ")
        );
        warm
    }

    fn apply(&self) -> Run {
        let run = self.run("apply", &["--auto-approve"]);
        assert_eq!(run.code, 0, "{}", run.said());
        self.same_out();
        run
    }

    /// `plan` in text and JSON, with the exit code telling changes.
    fn plan(&self) -> Run {
        self.run("plan", &["--format", "json", "--detailed-exitcode"]);
        self.run("plan", &["--detailed-exitcode"])
    }

    /// Both output folders hold the same files with the same bytes and
    /// modes (the cache aside).
    fn same_out(&self) {
        let tree = |dir: &Path| -> Vec<(String, Vec<u8>, u32)> {
            let out = dir.join("out");
            support::golden::tree(&out)
                .into_iter()
                .filter(|(p, _)| p != CACHE)
                .map(|(p, bytes)| {
                    let mode = std::fs::metadata(out.join(&p))
                        .unwrap()
                        .permissions()
                        .mode();
                    (p, bytes, mode & 0o7777)
                })
                .collect()
        };
        let (w, c) = (tree(&self.warm), tree(&self.cold));
        assert!(!w.is_empty());
        assert_eq!(w.len(), c.len());
        for (a, b) in w.iter().zip(&c) {
            assert!(a == b, "{} differs with and without the cache", a.0);
        }
    }

    /// Changes a file the same way in both copies.
    fn edit(&self, rel: &str, f: impl Fn(String) -> String) {
        for dir in [&self.warm, &self.cold] {
            let path = dir.join(rel);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let new = f(text.clone());
            assert_ne!(new, text, "{rel}: the edit must change it");
            std::fs::write(&path, new).unwrap();
        }
    }

    fn cache(&self) -> PathBuf {
        self.warm.join("out").join(CACHE)
    }
}

/// Replaces `from` (which must be there) by `to`.
fn swap(from: &str, to: &str) -> impl Fn(String) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    move |text: String| {
        assert!(text.contains(&from), "`{from}` not in\n{text}");
        text.replacen(&from, &to, 1)
    }
}

/// A clean plan says so, in both copies.
fn no_changes(pair: &Pair) {
    let run = pair.plan();
    assert_eq!(run.code, 0, "{}", run.said());
    assert!(run.stdout.contains("No changes."), "{}", run.said());
}

/// The one-file and the split hosting spec: apply, plan from the cache,
/// change a domain's file, plan and apply again — the same every time.
#[test]
fn plans_and_outputs_are_the_same_with_and_without_the_cache() {
    for (from, spec) in [
        (root().join("examples/hosting"), "mailc.yaml"),
        (root().join("tests/split/hosting"), "mailc.yaml"),
    ] {
        let pair = Pair::new(&from, spec);
        pair.plan();
        assert!(
            !pair.cache().exists(),
            "a plan with changes writes no cache"
        );
        pair.apply();
        assert!(pair.cache().exists(), "an apply writes the cache");
        assert!(!pair.cold.join("out").join(CACHE).exists());
        no_changes(&pair);
        // The domain's own file, or the one file.
        let file = if from.ends_with("split/hosting") {
            "domains/bakery.yaml"
        } else {
            spec
        };
        pair.edit(file, swap("quota: 500M", "quota: 700M"));
        let run = pair.plan();
        assert_eq!(run.code, 2, "{}", run.said());
        assert!(
            run.stderr.contains(&format!(
                "note: spec file changed since the last clean plan or apply: {file}"
            )),
            "{}",
            run.said()
        );
        pair.apply();
        no_changes(&pair);
        pair.edit(file, swap("orders: [shop, owner]", "orders: [owner]"));
        pair.apply();
        no_changes(&pair);
    }
}

/// The cache holds fingerprints and file status, never a password hash or
/// key, and only its owner may read it.
#[test]
fn the_cache_is_private_and_holds_no_secret() {
    let pair = Pair::new(&root().join("tests/split/hosting"), "mailc.yaml");
    pair.apply();
    let meta = std::fs::metadata(pair.cache()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(pair.cache()).unwrap();
    assert!(!text.contains("$6$"), "a password hash in the cache");
    assert!(text.contains("domains/bakery.yaml"), "{text}");
}

/// A spec of three files where `a.example`'s alias reaches a mailbox of
/// `b.example`, defined in another file.
fn cross_file_spec(dir: &Path) {
    std::fs::create_dir_all(dir.join("domains")).unwrap();
    std::fs::write(
        dir.join("mailc.yaml"),
        "version: 1\ninclude: [domains/*.yaml]\nhosts:\n  mx1:\n    hostname: mx1.example.net\n    ipv4: 192.0.2.10\n    stack: postfix-dovecot\ndefaults:\n  nameservers: [ns1.example.net, ns2.example.net]\n  hostmaster: hostmaster@example.net\n",
    )
    .unwrap();
    let hash = "'{SHA512-CRYPT}$6$wkF0N8l8jvBomvUo$Becam2cw1zKkZhDQhi1tGkqxdnQgHX49IA/e/DxHP6obCfgzazS5yUch7Yx.VRv7Tb.wJTIDk/59mfDZ.mw/q/'";
    std::fs::write(
        dir.join("domains/a.yaml"),
        format!(
            "domains:\n  a.example:\n    mx: [mx1]\n    mailboxes:\n      ann: {{password: {hash}}}\n    aliases:\n      sales: bob@b.example\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("domains/b.yaml"),
        format!(
            "domains:\n  b.example:\n    mx: [mx1]\n    mailboxes:\n      bob: {{password: {hash}}}\n      carol: {{password: {hash}}}\n"
        ),
    )
    .unwrap();
}

/// A fact one file relies on, changed in another: the alias in `a.yaml`
/// into `b.example` when `b.yaml` loses the mailbox; then a new file the
/// glob picks up, and a file the glob no longer finds.
#[test]
fn a_change_another_file_relies_on_is_seen_with_a_warm_cache() {
    let tmp = Temp::new("cache-src");
    cross_file_spec(&tmp.0);
    let pair = Pair::new(&tmp.0, "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    pair.edit("domains/b.yaml", swap("      bob: ", "      bobby: "));
    let run = pair.plan();
    assert_eq!(run.code, 1, "{}", run.said());
    assert!(run.stderr.contains("domains/a.yaml"), "{}", run.said());
    pair.edit("domains/b.yaml", swap("      bobby: ", "      bob: "));
    no_changes(&pair);
    // A new file in the included folder.
    for dir in [&pair.warm, &pair.cold] {
        std::fs::write(
            dir.join("domains/c.yaml"),
            "domains:\n  c.example:\n    mx: [mx1]\n    aliases:\n      info: ann@a.example\n",
        )
        .unwrap();
    }
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    pair.apply();
    no_changes(&pair);
    for dir in [&pair.warm, &pair.cold] {
        std::fs::remove_file(dir.join("domains/c.yaml")).unwrap();
    }
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    pair.apply();
    no_changes(&pair);
}

/// An edit that keeps a file's size and modification time (a `touch -d`
/// afterwards) is still seen; a file only touched keeps the plan clean.
#[test]
fn an_edit_that_keeps_size_and_time_is_seen() {
    let pair = Pair::new(&root().join("tests/split/hosting"), "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    let file = "domains/bakery.yaml";
    let times: Vec<std::time::SystemTime> = [&pair.warm, &pair.cold]
        .iter()
        .map(|d| std::fs::metadata(d.join(file)).unwrap().modified().unwrap())
        .collect();
    pair.edit(file, swap("quota: 500M", "quota: 600M"));
    for (dir, t) in [&pair.warm, &pair.cold].iter().zip(&times) {
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(file))
            .unwrap();
        f.set_modified(*t).unwrap();
    }
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    pair.apply();
    // Touched only: the same bytes, so still nothing to do.
    for dir in [&pair.warm, &pair.cold] {
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(file))
            .unwrap();
        f.set_modified(std::time::SystemTime::now()).unwrap();
    }
    no_changes(&pair);
    no_changes(&pair);
}

/// A file of `--out` edited by hand, or its mode changed, or removed: the
/// plan puts it back, cache or not.
#[test]
fn an_output_file_edited_by_hand_is_seen() {
    let pair = Pair::new(&root().join("tests/split/hosting"), "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    let zone = "out/dns/bakery.example.zone";
    pair.edit(zone, |t| t.replacen("3600", "3601", 1));
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    assert!(run.stdout.contains("bakery.example.zone"), "{}", run.said());
    pair.apply();
    no_changes(&pair);
    for dir in [&pair.warm, &pair.cold] {
        let p = dir.join(zone);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    pair.apply();
    no_changes(&pair);
    for dir in [&pair.warm, &pair.cold] {
        std::fs::remove_file(dir.join("out/postfix/web1/virtual_aliases")).unwrap();
    }
    let run = pair.plan();
    assert_eq!(run.code, 2, "{}", run.said());
    pair.apply();
    no_changes(&pair);
}

/// A damaged cache (a byte changed, cut short, not a cache at all), one of
/// another format and one another build of mailc wrote (resealed, so only
/// its key tells) are ignored: the plan is made in full, and right.
#[test]
fn a_damaged_or_foreign_cache_is_ignored() {
    let pair = Pair::new(&root().join("tests/split/hosting"), "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    let good = std::fs::read(pair.cache()).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let (head, body) = {
        let mut parts = text.splitn(4, '\n');
        let (a, b, _sum) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        (format!("{a}\n{b}\n"), parts.next().unwrap().to_string())
    };
    let reseal = |body: &str| {
        format!(
            "{head}{}\n{body}",
            mailc::plan::Fingerprint::of(body.as_bytes())
        )
        .into_bytes()
    };
    let mut flipped = good.clone();
    let at = flipped.len() - 10;
    flipped[at] ^= 0x01;
    let other_build = {
        let (first, rest) = body.split_once('\n').unwrap();
        reseal(&format!("{first}9\n{rest}"))
    };
    // A cache claiming that bakery.yaml is as it was before the edit below.
    let file = "domains/bakery.yaml";
    let damaged: [(&str, Vec<u8>); 5] = [
        ("a byte changed", flipped),
        ("cut short", good[..good.len() / 2].to_vec()),
        ("not a cache", b"hello\n".to_vec()),
        (
            "another format",
            text.replacen("format 2", "format 7", 1).into_bytes(),
        ),
        ("another build", other_build),
    ];
    for (what, bytes) in damaged {
        pair.edit(file, swap("quota: 500M", "quota: 501M"));
        std::fs::write(pair.cache(), &bytes).unwrap();
        let run = pair.plan();
        assert_eq!(run.code, 2, "{what}: {}", run.said());
        pair.edit(file, swap("quota: 501M", "quota: 500M"));
        std::fs::write(pair.cache(), &bytes).unwrap();
        let run = pair.plan();
        assert_eq!(run.code, 0, "{what}: {}", run.said());
        pair.apply();
    }
    // A damaged cache is named once, then rebuilt by a clean plan.
    std::fs::write(pair.cache(), b"mailc plan cache\nformat 2\nsha256:00\n").unwrap();
    let run = pair.run("plan", &[]);
    assert!(
        run.stderr.contains("note: ignoring the cache"),
        "{}",
        run.said()
    );
    let run = pair.run("plan", &[]);
    assert!(
        !run.stderr.contains("note: ignoring the cache"),
        "{}",
        run.said()
    );
}

/// Asserts that the warm run was planned from the files a change can
/// affect: `some` of `all` included files compiled again.
fn compiled(run: &Run, some: usize, all: usize) {
    assert!(
        run.stderr.contains(&format!(
            "note: compiled {some} of {all} included files again"
        )),
        "{}",
        run.said()
    );
}

/// Asserts that the warm run compiled the whole spec.
fn in_full(run: &Run) {
    assert!(!run.stderr.contains("note: compiled "), "{}", run.said());
}

/// A text plan in both copies (a JSON plan is always made in full).
fn text_plan(pair: &Pair, code: i32) -> Run {
    let run = pair.run("plan", &["--detailed-exitcode"]);
    assert_eq!(run.code, code, "{}", run.said());
    run
}

/// The main spec of [`related_spec`] and [`many_domains`]: two hosts,
/// defaults naming no domain of the spec, `domains/*.yaml` included.
const TWO_HOSTS: &str = "version: 1\ninclude: [domains/*.yaml]\nhosts:\n  mx1:\n    hostname: mx1.example.net\n    ipv4: 192.0.2.10\n    stack: postfix-dovecot\n  mx2:\n    hostname: mx2.example.net\n    ipv4: 192.0.2.20\n    stack: postfix-dovecot\ndefaults:\n  nameservers: [ns1.example.net, ns2.example.net]\n  hostmaster: hostmaster@example.net\n  dmarc: {policy: quarantine, rua: [\"mailto:dmarc@example.net\"]}\n";

const HASH: &str = "'{SHA512-CRYPT}$6$wkF0N8l8jvBomvUo$Becam2cw1zKkZhDQhi1tGkqxdnQgHX49IA/e/DxHP6obCfgzazS5yUch7Yx.VRv7Tb.wJTIDk/59mfDZ.mw/q/'";

/// Three domain files on two hosts: `a.example` (mx1, backup mx2) has an
/// alias and a catch-all into `b.example`, its DMARC reports go to
/// `b.example` (which then authorizes them in its zone) and its SPF
/// includes a record of `b.example`; `c.example` (mx2) stands alone.
fn related_spec(dir: &Path) {
    std::fs::create_dir_all(dir.join("domains")).unwrap();
    std::fs::write(dir.join("mailc.yaml"), TWO_HOSTS).unwrap();
    let files = [
        (
            "a",
            format!(
                "domains:\n  a.example:\n    mx: [mx1, mx2]\n    mailboxes:\n      ann: {{password: {HASH}}}\n    aliases:\n      sales: bob@b.example\n    unknown_recipients: {{forward: carol@b.example}}\n    dmarc: {{policy: reject, rua: [\"mailto:reports@b.example\"]}}\n    spf: {{include: [_spf.b.example]}}\n"
            ),
        ),
        (
            "b",
            format!(
                "domains:\n  b.example:\n    mx: [mx1]\n    mailboxes:\n      bob: {{password: {HASH}}}\n      carol: {{password: {HASH}}}\n      reports: {{password: {HASH}}}\n    records:\n      - {{name: _spf, type: TXT, value: \"v=spf1 ip4:192.0.2.0/24 -all\"}}\n"
            ),
        ),
        (
            "c",
            format!(
                "domains:\n  c.example:\n    mx: [mx2]\n    mailboxes:\n      cat: {{password: {HASH}}}\n    aliases:\n      info: cat\n"
            ),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(format!("domains/{name}.yaml")), text).unwrap();
    }
}

/// After a change to included files, a warm plan compiles only the files
/// the change can affect — and says the same as a full compile: an edit
/// inside one domain; facts another file relies on (a DMARC report
/// authorization, an SPF include, the mailbox of a catch-all); a domain
/// given a backup host (host-wide maps); a domain moved between files or
/// defined twice; the main spec changed (compiled in full).
#[test]
fn a_change_compiles_only_what_it_can_affect() {
    let tmp = Temp::new("cache-src");
    related_spec(&tmp.0);
    let pair = Pair::new(&tmp.0, "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    // Inside one domain that nothing else names.
    pair.edit(
        "domains/c.yaml",
        swap("      info: cat\n", "      info: cat\n      help: cat\n"),
    );
    let run = text_plan(&pair, 2);
    compiled(&run, 1, 3);
    assert!(
        run.stdout.contains("+help@c.example\tcat@c.example"),
        "{}",
        run.said()
    );
    pair.plan();
    pair.apply();
    no_changes(&pair);
    // a.example no longer sends reports to b.example: b's zone changes.
    pair.edit(
        "domains/a.yaml",
        swap(", rua: [\"mailto:reports@b.example\"]", ""),
    );
    let run = text_plan(&pair, 2);
    compiled(&run, 2, 3);
    assert!(
        run.stdout.contains("change dns/b.example.zone"),
        "{}",
        run.said()
    );
    pair.apply();
    no_changes(&pair);
    // b.example's SPF record that a.example includes.
    pair.edit(
        "domains/b.yaml",
        swap("/24 -all", "/24 include:x.test -all"),
    );
    compiled(&text_plan(&pair, 2), 2, 3);
    pair.apply();
    // The mailbox a.example's catch-all forwards to, renamed: an error,
    // then put back.
    pair.edit("domains/b.yaml", swap("      carol: ", "      carole: "));
    let run = text_plan(&pair, 1);
    assert!(run.stderr.contains("domains/a.yaml"), "{}", run.said());
    pair.edit("domains/b.yaml", swap("      carole: ", "      carol: "));
    no_changes(&pair);
    // c.example gets a backup host: mx1's relay maps change.
    pair.edit("domains/c.yaml", swap("mx: [mx2]", "mx: [mx2, mx1]"));
    let run = text_plan(&pair, 2);
    compiled(&run, 1, 3);
    assert!(
        run.stdout.contains("change postfix/mx1/relay_domains"),
        "{}",
        run.said()
    );
    pair.apply();
    no_changes(&pair);
    // a.example defined a second time, in c.yaml: both places named.
    pair.edit("domains/c.yaml", |t| {
        format!("{t}  a.example:\n    mx: [mx1]\n")
    });
    let run = text_plan(&pair, 1);
    assert!(run.stderr.contains("defined twice"), "{}", run.said());
    pair.edit("domains/c.yaml", swap("  a.example:\n    mx: [mx1]\n", ""));
    no_changes(&pair);
    // c.example moved into b.yaml: the same output.
    let c = std::fs::read_to_string(pair.warm.join("domains/c.yaml")).unwrap();
    let moved = c.strip_prefix("domains:\n").unwrap().to_string();
    pair.edit("domains/b.yaml", |t| format!("{t}{moved}"));
    pair.edit("domains/c.yaml", |_| "domains: {}\n".to_string());
    let run = text_plan(&pair, 0);
    compiled(&run, 3, 3);
    assert!(run.stdout.contains("No changes."), "{}", run.said());
    pair.apply();
    // The main spec: compiled in full.
    pair.edit("mailc.yaml", swap("192.0.2.20", "192.0.2.21"));
    in_full(&text_plan(&pair, 2));
    pair.apply();
    no_changes(&pair);
}

/// A spec of `n` domain files, 20 mailboxes each: tables large enough for
/// the cache to mark places in them.
fn many_domains(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("domains")).unwrap();
    std::fs::write(dir.join("mailc.yaml"), TWO_HOSTS).unwrap();
    for d in 0..n {
        let mut text =
            format!("domains:\n  d{d:03}.example:\n    mx: [mx1, mx2]\n    mailboxes:\n");
        for m in 0..20 {
            text.push_str(&format!("      user{m:02}: {{password: {HASH}}}\n"));
        }
        text.push_str("    aliases:\n      info: user01\n      sales: [user02, user03]\n");
        std::fs::write(dir.join(format!("domains/d{d:03}.yaml")), text).unwrap();
    }
}

/// In a spec of 300 domain files, one domain's edit — in the first, a
/// middle and the last domain of the tables — is planned from its file
/// alone and shows the same diffs, line numbers included.
#[test]
fn one_domain_of_many_is_planned_alone() {
    let tmp = Temp::new("cache-src");
    many_domains(&tmp.0, 300);
    let pair = Pair::new(&tmp.0, "mailc.yaml");
    pair.apply();
    no_changes(&pair);
    for d in ["d000", "d157", "d299"] {
        let file = format!("domains/{d}.yaml");
        pair.edit(
            &file,
            swap(
                "      info: user01\n",
                "      info: user04\n      new: user05\n",
            ),
        );
        pair.edit(&file, swap("      user07: ", "      user77: "));
        let run = text_plan(&pair, 2);
        compiled(&run, 1, 300);
        assert!(
            run.stdout.contains(&format!("+new@{d}.example")),
            "{}",
            run.said()
        );
        pair.apply();
        no_changes(&pair);
    }
}
