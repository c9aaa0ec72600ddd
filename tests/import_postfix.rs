//! `mailc import` of a classic Postfix + Dovecot server, proven on the real
//! programs (docs/import.md):
//!
//! 1. a hand-written virtual-mailbox setup — `main.cf` with virtual
//!    mailbox, alias and relay domains, `vmailbox`, `virtual` (aliases,
//!    nested aliases, a catch-all with self-mappings, an alias-only domain),
//!    `transport`, and a Dovecot passwd-file with hashes in five forms
//!    (`{SHA512-CRYPT}`, `{BLF-CRYPT}`, a bare `$6$` crypt string,
//!    `{PLAIN}`, `{SHA256-CRYPT}` for a login without a mailbox) — runs for
//!    real on 127.0.0.1;
//! 2. `mailc import` reads it into a spec, which is compiled for a test root
//!    and also runs for real;
//! 3. for every address of the source's maps and passwd-file, and unknown
//!    ones, both servers give the same RCPT reply on port 25 and the same
//!    `sendmail -bv` resolution (which mailbox over LMTP, which outside
//!    address, which relay), and every mailbox logs in on both with its old
//!    password (`doveadm auth test`); the `tests` the import wrote pass
//!    against the spec and, over SMTP (`mailc test --live`), against both
//!    servers.
//!
//! Root is required (Postfix); the programs are required (a missing one
//! fails with a pointer to `.ci/install-oracles`). Ports 32000–32199 on
//! 127.0.0.1; every process is stopped by its PID.

mod mail_stack;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mail_stack::client::{Smtp, statuses};
use mail_stack::instance::{Instance, wait_for};
use mail_stack::{Mailc, model_of, require_root, run, show, tool, write_test_root};
use mailc::backend::install::TestRoot;

/// The source server's port block, and the compiled one's.
const SOURCE_PORTS: u16 = 32000;
const COMPILED_PORTS: u16 = 32100;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A Dovecot hash of `password` in `scheme`, made by Dovecot itself.
fn doveadm_pw(scheme: &str, password: &str) -> String {
    let out = run(&tool("doveadm"), &["pw", "-s", scheme, "-p", password]);
    assert!(out.status.success(), "doveadm pw: {}", show(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Each login's password: `LOCAL-pw`.
fn password(address: &str) -> String {
    format!("{}-pw", address.split('@').next().unwrap())
}

/// Writes the hand-written server into the test root `root`'s place for
/// host `mail` (so the test's Postfix and Dovecot runner can start it):
/// `postfix/mail/` and `dovecot/mail/`.
fn classic_setup(root: &TestRoot, host: &mailc::model::Host, relay_port: u16) {
    let i = root.install(host);
    let pf = Path::new(&i.postfix_dir);
    let p = i.ports;
    write(
        &pf.join("main.cf"),
        &format!(
            "# A virtual-mailbox Postfix as the Postfix and Dovecot howtos set one up:\n\
             # mailboxes in Dovecot over LMTP, SASL through Dovecot.\n\
             compatibility_level = 3.6\n\
             myhostname = mail.example.com\n\
             mydomain = example.com\n\
             myorigin = $mydomain\n\
             mydestination = $myhostname, localhost\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             # the test plays the Internet from the loopback address: trust no client\n\
             mynetworks =\n\
             queue_directory = {queue}\n\
             data_directory = {data}\n\
             maillog_file = {log}\n\
             maillog_file_prefixes = {var}, /dev/stdout\n\
             alias_maps =\n\
             alias_database =\n\
             biff = no\n\
             \n\
             virtual_mailbox_domains = example.com, example.net\n\
             virtual_mailbox_maps = hash:{pf}/vmailbox\n\
             virtual_alias_domains = alias.example\n\
             virtual_alias_maps = hash:{pf}/virtual\n\
             virtual_transport = lmtp:unix:private/dovecot-lmtp\n\
             relay_domains = relay.example\n\
             transport_maps = hash:{pf}/transport\n\
             \n\
             smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination\n\
             smtpd_sasl_type = dovecot\n\
             smtpd_sasl_path = private/auth\n\
             smtpd_tls_cert_file = {cert}\n\
             smtpd_tls_key_file = {key}\n\
             smtpd_tls_security_level = may\n",
            queue = i.postfix_queue_dir,
            data = i.postfix_data_dir,
            log = i.postfix_log,
            var = Path::new(&i.postfix_log).parent().unwrap().display(),
            pf = pf.display(),
            cert = i.tls_cert,
            key = i.tls_key,
        ),
    );
    write(
        &pf.join("master.cf"),
        &format!(
            "127.0.0.1:{smtp} inet n - n - - smtpd\n\
             pickup    unix  n       -       n       60      1       pickup\n\
             cleanup   unix  n       -       n       -       0       cleanup\n\
             qmgr      unix  n       -       n       300     1       qmgr\n\
             tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n\
             rewrite   unix  -       -       n       -       -       trivial-rewrite\n\
             bounce    unix  -       -       n       -       0       bounce\n\
             defer     unix  -       -       n       -       0       bounce\n\
             trace     unix  -       -       n       -       0       bounce\n\
             verify    unix  -       -       n       -       1       verify\n\
             flush     unix  n       -       n       1000?   0       flush\n\
             proxymap  unix  -       -       n       -       -       proxymap\n\
             proxywrite unix -       -       n       -       1       proxymap\n\
             smtp      unix  -       -       n       -       -       smtp\n\
             relay     unix  -       -       n       -       -       smtp\n\
             showq     unix  n       -       n       -       -       showq\n\
             error     unix  -       -       n       -       -       error\n\
             retry     unix  -       -       n       -       -       error\n\
             discard   unix  -       -       n       -       -       discard\n\
             local     unix  -       n       n       -       -       local\n\
             virtual   unix  -       n       n       -       -       virtual\n\
             lmtp      unix  -       -       n       -       -       lmtp\n\
             anvil     unix  -       -       n       -       1       anvil\n\
             scache    unix  -       -       n       -       1       scache\n\
             postlog   unix-dgram n  -       n       -       1       postlogd\n",
            smtp = p.smtp
        ),
    );
    write(
        &pf.join("vmailbox"),
        "# virtual(8)-style mailbox paths; Dovecot decides the real place\n\
         alice@example.com   example.com/alice/\n\
         bob@example.com     example.com/bob/\n\
         carol@example.net   example.net/carol/\n\
         dave@example.net    example.net/dave/\n",
    );
    write(
        &pf.join("virtual"),
        "# aliases (virtual(5))\n\
         info@example.com     alice@example.com\n\
         sales@example.com    alice@example.com, bob@example.com,\n\
         \x20                    partner@outside.example\n\
         team@example.com     sales@example.com\n\
         abuse@example.com    info@example.com\n\
         # a catch-all; the mailboxes map to themselves so it does not take their mail\n\
         @example.net         carol@example.net\n\
         carol@example.net    carol@example.net\n\
         dave@example.net     dave@example.net\n\
         # a domain of aliases only\n\
         hello@alias.example  bob@example.com\n\
         press@alias.example  alice@example.com, press@outside.example\n",
    );
    write(
        &pf.join("transport"),
        &format!("relay.example   smtp:[127.0.0.1]:{relay_port}\n"),
    );
    // Dovecot's passwd-file: `user:password:uid:gid:gecos:home:shell:extra`.
    let bare = doveadm_pw("SHA512-CRYPT", &password("carol@example.net"));
    write(
        &Path::new(&i.dovecot_dir).join("users"),
        &format!(
            "alice@example.com:{}::::::userdb_quota_rule=*:storage=1G\n\
             bob@example.com:{}::::::\n\
             carol@example.net:{}::::::\n\
             dave@example.net:{{PLAIN}}{}::::::\n\
             noreply@example.com:{}::::::\n",
            doveadm_pw("SHA512-CRYPT", &password("alice@example.com")),
            doveadm_pw("BLF-CRYPT", &password("bob@example.com")),
            bare.strip_prefix("{SHA512-CRYPT}").unwrap(),
            password("dave@example.net"),
            doveadm_pw("SHA256-CRYPT", &password("noreply@example.com")),
        ),
    );
    let users = Path::new(&i.dovecot_dir).join("users");
    write(
        &Path::new(&i.dovecot_dir).join("dovecot.conf"),
        &format!(
            "protocols = imap lmtp\n\
             listen = 127.0.0.1\n\
             base_dir = {base}\n\
             state_dir = {state}\n\
             log_path = {log}\n\
             info_log_path = {log}\n\
             ssl = yes\n\
             ssl_cert = <{cert}\n\
             ssl_key = <{key}\n\
             auth_mechanisms = plain login\n\
             mail_location = maildir:~/Maildir\n\
             mail_uid = nobody\n\
             mail_gid = nogroup\n\
             first_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=CRYPT username_format=%Lu {users}\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = username_format=%Lu {users}\n  default_fields = home={mail}/%d/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {imap}\n  }}\n  inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}\n}}\n\
             service lmtp {{\n  unix_listener {queue}/private/dovecot-lmtp {{\n    mode = 0600\n    user = postfix\n    group = postfix\n  }}\n}}\n\
             service auth {{\n  unix_listener {queue}/private/auth {{\n    mode = 0660\n    user = postfix\n    group = postfix\n  }}\n}}\n",
            base = i.dovecot_base_dir,
            state = i.dovecot_state_dir,
            log = i.dovecot_log,
            cert = i.tls_cert,
            key = i.tls_key,
            users = users.display(),
            mail = i.mail_root,
            imap = p.imap,
            imaps = p.imaps,
            queue = i.postfix_queue_dir,
        ),
    );
}

/// A spec of the one host `mail`, for the test root's layout before the
/// import exists.
fn placeholder_model(dir: &Path) -> mailc::model::Model {
    write(
        &dir.join("mailc.yaml"),
        "version: 1\nhosts:\n  mail: {hostname: mail.example.com, ipv4: 192.0.2.1, stack: postfix-dovecot}\n",
    );
    model_of(dir)
}

/// What one server does with an address: its RCPT reply (code and
/// enhanced code), and where `sendmail -bv` says it goes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdict {
    rcpt: String,
    resolved: BTreeSet<String>,
}

/// RCPT replies on port 25, then `sendmail -bv` for what was accepted (or
/// refused as a relay attempt: submitted on the host itself, it is not).
fn verdicts(inst: &Instance, addresses: &[String]) -> BTreeMap<String, Verdict> {
    let mut out: BTreeMap<String, Verdict> = BTreeMap::new();
    for a in addresses {
        let mut smtp = Smtp::connect(inst.install.ports.smtp);
        let reply = smtp.probe("probe@client.test", &[a]).remove(0);
        smtp.quit();
        let line = reply.line();
        let code: Vec<&str> = line.split_whitespace().take(2).collect();
        out.entry(a.clone()).or_default().rcpt = code.join(" ");
    }
    let wanted: Vec<&String> = out
        .iter()
        .filter(|(_, v)| v.rcpt.starts_with("250") || v.rcpt.starts_with("554 5.7.1"))
        .map(|(a, _)| a)
        .collect();
    let mut args = vec![
        "-C",
        inst.postfix_dir.to_str().unwrap(),
        "-f",
        "probe@verify.invalid",
        "-bv",
    ];
    args.extend(wanted.iter().map(|a| a.as_str()));
    let r = run(&tool("sendmail"), &args);
    assert!(r.status.success(), "sendmail -bv: {}", show(&r));
    // Until every address has its lines and none came for three seconds
    // (an outside forward waits for its DNS lookup to fail).
    let mut last = (0, Instant::now());
    wait_for(
        120,
        &format!("-bv verdicts of {}", inst.host),
        || {
            let lines = statuses(&inst.maillog());
            if lines.len() != last.0 {
                last = (lines.len(), Instant::now());
            }
            let seen: BTreeSet<String> = lines.iter().map(|s| s.original()).collect();
            wanted.iter().all(|a| seen.contains(*a)) && last.1.elapsed() > Duration::from_secs(3)
        },
        || inst.maillog(),
    );
    for s in statuses(&inst.maillog()) {
        if let Some(v) = out.get_mut(&s.original()) {
            // The relay's own port is the same on both sides; the LMTP
            // socket's path is each server's own.
            let relay = if s.service == "lmtp" {
                "dovecot".to_string()
            } else {
                s.relay.clone()
            };
            v.resolved
                .insert(format!("{} {} via {} {}", s.to, s.status, s.service, relay));
        }
    }
    out
}

/// `doveadm auth test` of `user` with `password` on a Dovecot config.
fn logs_in(conf: &Path, user: &str, password: &str) -> bool {
    Command::new(tool("doveadm"))
        .args(["-c", conf.to_str().unwrap(), "auth", "test", user, password])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn a_classic_postfix_dovecot_server_and_its_import_agree() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    // The mail processes run as nobody and must reach their homes.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let src_root = tmp.path().join("source");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    // The source server, hand-written, at the place the runner starts it.
    let layout = placeholder_model(&tmp.path().join("layout"));
    let source_root = TestRoot::new(src_root.to_str().unwrap(), &layout, SOURCE_PORTS);
    let relay_port = SOURCE_PORTS + 99; // nothing listens: both servers defer alike
    classic_setup(&source_root, &layout.hosts["mail"], relay_port);

    // Import it.
    let pf = src_root.join("postfix/mail");
    let users = src_root.join("dovecot/mail/users");
    let out = Mailc::new(
        &work,
        &["import", pf.to_str().unwrap(), users.to_str().unwrap()],
    )
    .output();
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "mailc import:\n{}{report}",
        String::from_utf8_lossy(&out.stdout)
    );
    let spec = std::fs::read_to_string(work.join("mailc.yaml")).unwrap();
    for expected in [
        "quota: 1G",
        "send_only: true",
        "info: alice",
        "unknown_recipients: {forward: carol}",
        "unknown_recipients: {relay: '127.0.0.1:",
    ] {
        assert!(
            spec.contains(expected),
            "the spec lacks `{expected}`:\n{spec}\nreport:\n{report}"
        );
    }
    assert!(
        report.contains(
            "the plaintext password of `dave@example.net` is stored as a SHA512-CRYPT hash"
        ),
        "{report}"
    );
    assert!(
        !report.contains("mail to `"),
        "the import predicts a difference:\n{report}"
    );
    let model = model_of(&work);

    // Both servers, side by side.
    let source = Instance::start(&source_root, &model, "mail");
    let compiled_root = write_test_root(&model, &tmp.path().join("compiled"), COMPILED_PORTS);
    let compiled = Instance::start(&compiled_root, &model, "mail");

    // Every address the source names, and some it does not.
    let mut addresses: BTreeSet<String> = BTreeSet::new();
    for (file, sep) in [("vmailbox", ' '), ("virtual", ' ')] {
        for line in std::fs::read_to_string(pf.join(file)).unwrap().lines() {
            let line = line.trim();
            if line.starts_with('#') || line.is_empty() || !line.contains('@') {
                continue;
            }
            for word in line.split([sep, ',', '\t']) {
                let w = word.trim();
                if w.contains('@') && !w.starts_with('@') {
                    addresses.insert(w.to_string());
                }
            }
        }
    }
    for line in std::fs::read_to_string(&users).unwrap().lines() {
        addresses.insert(line.split(':').next().unwrap().to_string());
    }
    for extra in [
        "nobody@example.com",
        "whoever@example.net",
        "nobody@alias.example",
        "someone@relay.example",
        "someone@elsewhere.example",
    ] {
        addresses.insert(extra.to_string());
    }
    let addresses: Vec<String> = addresses.into_iter().collect();
    assert!(addresses.len() >= 18, "{addresses:?}");

    let theirs = verdicts(&source, &addresses);
    let ours = verdicts(&compiled, &addresses);
    let mut failures = Vec::new();
    for a in &addresses {
        if theirs.get(a) != ours.get(a) {
            failures.push(format!(
                "{a}:\n  source:   {:?}\n  imported: {:?}",
                theirs.get(a),
                ours.get(a)
            ));
        }
    }
    // The verdicts are not trivially equal: the classes of answers appear.
    let rcpts: BTreeSet<&str> = theirs.values().map(|v| v.rcpt.as_str()).collect();
    assert!(
        rcpts.contains("250 2.1.5") && rcpts.iter().any(|r| r.starts_with("550")),
        "{rcpts:?}"
    );
    assert!(
        theirs["sales@example.com"].resolved.len() == 3,
        "{:?}",
        theirs["sales@example.com"]
    );

    // Every login works with its old password, on both; a wrong one on neither.
    for user in std::fs::read_to_string(&users)
        .unwrap()
        .lines()
        .map(|l| l.split(':').next().unwrap())
    {
        for (name, inst) in [("source", &source), ("imported", &compiled)] {
            if !logs_in(&inst.dovecot_conf, user, &password(user)) {
                failures.push(format!(
                    "{user} cannot log in on the {name} server with its password"
                ));
            }
            if logs_in(&inst.dovecot_conf, user, "wrong") {
                failures.push(format!(
                    "{user} logs in on the {name} server with a wrong password"
                ));
            }
        }
    }
    // The spec's `tests` record what the source does; both servers answer
    // them alike over SMTP (`mailc test --live`), and so does the spec.
    let spec_tests = spec.matches("- {address: ").count();
    assert!(
        spec_tests >= 10,
        "only {spec_tests} tests in the spec:\n{spec}"
    );
    for live in [
        None,
        Some(format!("mail=127.0.0.1:{}", source.install.ports.smtp)),
        Some(format!("mail=127.0.0.1:{}", compiled.install.ports.smtp)),
    ] {
        let mut args = vec!["test".to_string(), "mailc.yaml".to_string()];
        if let Some(l) = &live {
            args.extend(["--live".to_string(), l.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = Mailc::new(&work, &args).output();
        if !out.status.success() {
            failures.push(format!(
                "mailc {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    // The quota came along.
    let out = run(
        &tool("doveadm"),
        &[
            "-c",
            compiled.dovecot_conf.to_str().unwrap(),
            "user",
            "alice@example.com",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("*:storage=1G"),
        "{}",
        show(&out)
    );
    assert!(
        failures.is_empty(),
        "{}\n\nsource maillog:\n{}\nsource Dovecot log:\n{}\nimported maillog:\n{}",
        failures.join("\n"),
        source.maillog(),
        source.dovecot_log(),
        compiled.maillog()
    );
}
