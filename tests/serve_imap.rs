//! The IMAP side of `mailc serve`, run for real on 127.0.0.1 and driven by
//! real clients (`docs/testing.md`): Python's imaplib (mbsync and Roundcube
//! are in `tests/imap_clients.rs`).
//!
//! - a whole imaplib session: FETCH of bodies, sections, partials,
//!   ENVELOPE and BODYSTRUCTURE; SEARCH; STORE; COPY and MOVE with
//!   COPYUID; EXPUNGE; APPEND with APPENDUID; CREATE, RENAME, DELETE,
//!   SUBSCRIBE, LIST, LSUB, STATUS; quota;
//! - refusals: a wrong password, names with `..`, `/` or control
//!   characters, another user's mail, commands before login, garbage;
//! - STARTTLS, then LOGIN; AUTHENTICATE PLAIN;
//! - IDLE sees a message that arrives meanwhile;
//! - UIDs and UIDVALIDITY unchanged after kill -9 and a restart;
//! - the extensions, reply byte for reply byte: CONDSTORE and QRESYNC,
//!   SORT and THREAD, ESEARCH and ESORT, CONTEXT=SEARCH and CONTEXT=SORT
//!   (two sessions on one mailbox), LIST-EXTENDED and LIST-STATUS,
//!   MULTIAPPEND, QUOTA, SPECIAL-USE, UTF8=ACCEPT, BINARY, SEARCHRES,
//!   STATUS=SIZE, IMAP4rev2; and the commands Roundcube 1.6.5 sends, as
//!   its own log showed them.
//!
//! Mail is put in place the way the SMTP side delivers it: a file written
//! in the user's Maildir `tmp/` and renamed into `new/`.
//!
//! The clients are required: a missing one fails the test, never a skip.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};

mod support;

/// What the tools found by `tool` are for.
const WHY: &str = "these tests drive `mailc serve` with a real IMAP client (python3's imaplib)";
use support::imap::Server;
use support::{Temp, outside_address, root, tool};

/// How these tests start `mailc serve` (ports 30000–30999) and script it.
trait ImapTest {
    /// embedded-imap's host mx1 on 127.0.0.1.
    fn start(data: &Path) -> Server;
    /// A spec or a compiled manifest.
    fn start_with(input: &Path, data: &Path) -> Server;
    /// Serves on `host` instead of 127.0.0.1.
    fn start_on(host: &str, data: &Path) -> Server;
    fn python(&self, script: &str) -> String;
}

impl ImapTest for Server {
    fn start(data: &Path) -> Server {
        Server::start_with(&root().join("tests/cases/embedded-imap/mailc.yaml"), data)
    }

    fn start_with(input: &Path, data: &Path) -> Server {
        Server::serve(input, "mx1", data, 30000)
    }

    fn start_on(host: &str, data: &Path) -> Server {
        let spec = root().join("tests/cases/embedded-imap/mailc.yaml");
        Server::serve_on(&spec, "mx1", host, data, 30000)
    }

    /// Runs a Python script with `PORT` and `DATA` set; it fails the test
    /// by raising (an `assert`), and its output is shown then.
    fn python(&self, script: &str) -> String {
        // From a file, so that a traceback shows the failing line.
        static N: AtomicU16 = AtomicU16::new(0);
        let file = self
            .data
            .with_extension(format!("{}.py", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&file, format!("{PRELUDE}\n{script}")).unwrap();
        let out = Command::new(tool("python3", WHY))
            .arg(&file)
            .env("HOST", &self.bind)
            .env("PORT", self.port.to_string())
            .env("IMAPS", self.imaps.to_string())
            .env("DATA", &self.data)
            .output()
            .expect("run python3");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "python failed ({}):\n{stdout}\n{}\n--- server log\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        self.assert_no_panic();
        stdout
    }
}

/// Helpers every script starts with.
const PRELUDE: &str = r#"
import imaplib, os, re, socket, ssl, base64, time
HOST = os.environ["HOST"]
PORT = int(os.environ["PORT"])
IMAPS = int(os.environ["IMAPS"])
DATA = os.environ["DATA"]
def login(user, pw=None):
    m = imaplib.IMAP4(HOST, PORT, timeout=60)
    typ, _ = m.login(user, pw or user.split("@")[0] + "-pw")
    assert typ == "OK"
    return m
def ok(res):
    typ, data = res
    assert typ == "OK", (typ, data)
    return data
def raw_login(user):
    """A socket session logged in as `user`, for byte-exact replies."""
    s = socket.create_connection((HOST, PORT), timeout=60)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    pw = user.split("@")[0] + "-pw"
    assert b"l OK" in cmd(s, f, "l", "LOGIN %s %s" % (user, pw))
    return s, f
def cmd(s, f, tag, line):
    """Sends one command; returns every byte up to its tagged reply."""
    s.sendall(("%s %s\r\n" % (tag, line)).encode())
    out = b""
    while True:
        l = f.readline()
        assert l, ("connection closed", out)
        out += l
        lit = re.search(rb"~?\{(\d+)\}\r\n$", l)
        if lit:
            out += f.read(int(lit.group(1)))
            continue
        if l.startswith(tag.encode() + b" "):
            return out
def no(fn, *args):
    try:
        typ, data = fn(*args)
    except imaplib.IMAP4.error as e:
        return str(e)
    assert typ != "OK", ("expected a refusal", args, data)
    return data
"#;

const PLAIN: &str = "From: Bob Example <bob@example.com>
To: Alice <alice@example.com>
Cc: carol@example.org
Subject: lunch on friday
Date: Fri, 20 Nov 2026 09:30:00 +0100
Message-ID: <plain-1@example.com>

Shall we meet at noon?
The usual place.
";

const MIXED: &str = "From: Carol <carol@example.org>
To: alice@example.com
Subject: the report
Date: Sat, 21 Nov 2026 12:00:00 +0000
Message-ID: <mixed-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"BOUNDARY\"

This is a multi-part message.
--BOUNDARY
Content-Type: text/plain; charset=utf-8

Here is the report you asked for.
--BOUNDARY
Content-Type: application/pdf; name=\"report.pdf\"
Content-Disposition: attachment; filename=\"report.pdf\"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--BOUNDARY
Content-Type: message/rfc822

From: Dave <dave@example.org>
Subject: forwarded note

the inner text
--BOUNDARY--
";

#[test]
fn imaplib_reads_flags_copies_moves_and_expunges() {
    let tmp = Temp::new("session");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.plain.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.mixed.test", MIXED);
    server.python(
        r#"
m = login("alice@example.com")
caps = ok(m.capability())[0].decode()
for c in ["IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID", "UNSELECT"]:
    assert c in caps.split(), caps
assert ok(m.select("inbox")) == [b"2"]
# FETCH: flags, sizes, envelope, bodystructure.
d = ok(m.fetch("1:2", "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)"))
first = d[0].decode()
assert "UID 1 " in first and "\\Recent" in first, first
assert 'ENVELOPE ("Fri, 20 Nov 2026 09:30:00 +0100" "lunch on friday" (("Bob Example" NIL "bob" "example.com"))' in first, first
assert '(("Alice" NIL "alice" "example.com")) ((NIL NIL "carol" "example.org")) NIL NIL "<plain-1@example.com>")' in first, first
size = int(re.search(r"RFC822.SIZE (\d+)", first).group(1))
assert size == len(open(os.path.join(DATA, "mail/example.com/alice/cur", [f for f in os.listdir(os.path.join(DATA, "mail/example.com/alice/cur")) if "plain" in f][0]), "rb").read())
bs = ok(m.fetch("2", "(BODYSTRUCTURE)"))[0].decode()
assert '("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 33 1' in bs, bs
assert '("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 12 NIL ("attachment" ("FILENAME" "report.pdf"))' in bs, bs
assert '"MESSAGE" "RFC822"' in bs and '"forwarded note"' in bs, bs
assert bs.rstrip(")").endswith('"MIXED" ("BOUNDARY" "BOUNDARY") NIL NIL NIL'), bs
body = ok(m.fetch("2", "(BODY)"))[0].decode()
assert "BODY (" in body and "attachment" not in body, body
# Sections and partials; PEEK leaves \Seen alone.
d = ok(m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])"))
assert d[0][1] == b"From: Bob Example <bob@example.com>\r\nSubject: lunch on friday\r\n\r\n", d
d = ok(m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO CC DATE)])"))
assert d[0][1] == b"Message-ID: <plain-1@example.com>\r\n\r\n", d
d = ok(m.fetch("1", "(BODY.PEEK[TEXT]<6.8>)"))
assert b"BODY[TEXT]<6>" in d[0][0] and d[0][1] == b"we meet ", d
d = ok(m.fetch("2", "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BODY.PEEK[3.1])"))
got = [x for x in d if isinstance(x, tuple)]
assert got[0][1] == b"Here is the report you asked for.", got
assert got[1][1] == b"Content-Type: text/plain; charset=utf-8\r\n\r\n", got
assert got[2][1] == b"From: Dave <dave@example.org>\r\nSubject: forwarded note\r\n\r\n", got
assert got[3][1] == b"the inner text", got
assert got[4][1] == b"the inner text", got
assert "\\Seen" not in ok(m.fetch("1:2", "(FLAGS)"))[0].decode()
whole = ok(m.fetch("1", "(BODY[])"))
assert whole[0][1].startswith(b"From: Bob Example") and len(whole[0][1]) == size, whole
assert "\\Seen" in ok(m.fetch("1", "(FLAGS)"))[0].decode()
d = ok(m.fetch("1", "(RFC822.HEADER)"))
assert d[0][1].endswith(b"\r\n\r\n") and b"Shall we" not in d[0][1]
# SEARCH.
assert ok(m.search(None, "ALL")) == [b"1 2"]
assert ok(m.search(None, "SEEN")) == [b"1"]
assert ok(m.search(None, "UNSEEN")) == [b"2"]
assert ok(m.search(None, "FROM", "carol")) == [b"2"]
assert ok(m.search(None, "TO", "alice", "SUBJECT", "LUNCH")) == [b"1"]
assert ok(m.search(None, "CC", "carol@example.org")) == [b"1"]
assert ok(m.search(None, "BODY", '"usual place"')) == [b"1"]
assert ok(m.search(None, "TEXT", '"forwarded note"')) == [b"2"]
assert ok(m.search(None, "HEADER", "Message-ID", "mixed-1")) == [b"2"]
assert ok(m.search(None, "OR", "FROM", "bob", "FROM", "carol")) == [b"1 2"]
assert ok(m.search(None, "NOT", "FROM", "bob")) == [b"2"]
assert ok(m.search(None, "SENTBEFORE", "21-Nov-2026")) == [b"1"]
assert ok(m.search(None, "SENTON", "21-Nov-2026")) == [b"2"]
assert ok(m.search(None, "SENTSINCE", "21-Nov-2026")) == [b"2"]
assert ok(m.search(None, "SINCE", "1-Jan-2000", "BEFORE", "1-Jan-2100")) == [b"1 2"]
assert ok(m.search(None, "LARGER", "400")) == [b"2"]
assert ok(m.search(None, "SMALLER", "400")) == [b"1"]
assert ok(m.search(None, "2")) == [b"2"]
assert ok(m.search(None, "RECENT")) == [b"1 2"]
assert ok(m.uid("SEARCH", "UID", "2:*")) == [b"2"]
assert ok(m.search(None, "NEW")) == [b"2"]
# STORE.
d = ok(m.store("1:2", "+FLAGS", "(\\Flagged $Important)"))
assert all("\\Flagged" in x.decode() and "$Important" in x.decode() for x in d), d
# A new keyword is announced in FLAGS and PERMANENTFLAGS.
assert b"$Important" in m.response("FLAGS")[1][-1], m.untagged_responses
assert b"$Important" in m.response("PERMANENTFLAGS")[1][-1]
assert ok(m.search(None, "FLAGGED")) == [b"1 2"]
assert ok(m.search(None, "KEYWORD", "$Important")) == [b"1 2"]
d = ok(m.store("2", "-FLAGS.SILENT", "(\\Flagged)"))
assert d == [None], d
d = ok(m.uid("STORE", "2", "FLAGS", "(\\Answered)"))
assert "UID 2" in d[0].decode() and "\\Answered" in d[0].decode() and "\\Flagged" not in d[0].decode(), d
assert ok(m.search(None, "ANSWERED")) == [b"2"]
assert ok(m.search(None, "UNFLAGGED")) == [b"2"]
# Mailboxes.
ok(m.create("Archive"))
ok(m.create("Archive.2026"))
# Drafts, Junk, Sent and Trash are there from the first login.
assert "ALREADYEXISTS" in no(m.create, "Trash")[0].decode()
no(m.create, "Archive")
lst = b" ".join(ok(m.list())).decode()
assert '(\\HasChildren) "." Archive' in lst and '"." Archive.2026' in lst and "INBOX" in lst, lst
assert [x.decode() for x in ok(m.list('""', "%"))] == ['(\\HasNoChildren) "." INBOX', '(\\HasChildren) "." Archive', '(\\HasNoChildren \\Drafts) "." Drafts', '(\\HasNoChildren \\Junk) "." Junk', '(\\HasNoChildren \\Sent) "." Sent', '(\\HasNoChildren \\Trash) "." Trash'], ok(m.list('""', "%"))
special = [b'(\\HasNoChildren) "." %s' % n for n in (b"Drafts", b"Junk", b"Sent", b"Trash")]
ok(m.subscribe("Archive"))
assert ok(m.lsub()) == [b'(\\HasChildren) "." Archive'] + special, ok(m.lsub())
ok(m.unsubscribe("Archive"))
assert ok(m.lsub()) == special
# A subscribed name under a `%` shows its superior as \Noselect.
ok(m.subscribe("Archive.2026"))
assert ok(m.lsub('""', "A%")) == [b'(\\Noselect) "." Archive'], ok(m.lsub('""', "A%"))
assert ok(m.lsub('""', "A*")) == [b'(\\HasNoChildren) "." Archive.2026']
ok(m.unsubscribe("Archive.2026"))
d = ok(m.list('""', '""'))
assert d == [b'(\\Noselect) "." ""'], d
ns = ok(m.namespace())
assert ns == [b'(("" ".")) NIL NIL'], ns
# COPY and MOVE with COPYUID.
typ, d = m.copy("1:2", "Archive")
assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1:2 1:2\]", d[0]), d
no(m.copy, "1", "Nowhere")
assert "TRYCREATE" in str(m.copy("1", "Nowhere"))
typ, d = m.uid("MOVE", "1", "Trash")
assert typ == "OK", d
assert ok(m.search(None, "ALL")) == [b"1"]
assert ok(m.uid("SEARCH", "ALL")) == [b"2"]
st = ok(m.status("Trash", "(MESSAGES UIDNEXT UNSEEN)"))[0].decode()
assert st == "Trash (MESSAGES 1 UIDNEXT 2 UNSEEN 0)", st
st = ok(m.status("Archive", "(MESSAGES UNSEEN UIDVALIDITY)"))[0].decode()
assert st.startswith("Archive (MESSAGES 2 UNSEEN 1 UIDVALIDITY "), st
# MOVE into the mailbox itself gives the message a new UID.
ok(m.select("Archive"))
typ, d = m.uid("MOVE", "2", "Archive")
assert typ == "OK", d
assert ok(m.uid("SEARCH", "ALL")) == [b"1 3"], ok(m.uid("SEARCH", "ALL"))
ok(m.select("INBOX"))
# APPEND with flags and a date, then EXPUNGE.
typ, d = m.append("Trash", "(\\Seen \\Deleted)", imaplib.Time2Internaldate(1700000000), b"Subject: appended\r\n\r\nby imaplib\r\n")
assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 2\]", d[0]), d
ok(m.select("Trash"))
d = ok(m.fetch("2", "(FLAGS INTERNALDATE BODY[TEXT])"))
assert "\\Deleted" in d[0][0].decode() and "14-Nov-2023" in d[0][0].decode() and d[0][1] == b"by imaplib\r\n", d
d = ok(m.expunge())
assert d == [b"2"], d
assert ok(m.search(None, "ALL")) == [b"1"]
ok(m.store("1", "+FLAGS", "(\\Deleted)"))
ok(m.close())
assert ok(m.status("Trash", "(MESSAGES)"))[0].decode() == "Trash (MESSAGES 0)"
# UID EXPUNGE expunges only the UIDs named.
ok(m.select("Archive"))
ok(m.store("1:2", "+FLAGS", "(\\Deleted)"))
ok(m.uid("EXPUNGE", "3"))
assert ok(m.uid("SEARCH", "ALL")) == [b"1"]
ok(m.unselect())
# RENAME and DELETE.
ok(m.rename("Archive", "Old"))
lst = b" ".join(ok(m.list())).decode()
assert "Old.2026" in lst and "Archive" not in lst, lst
no(m.delete, "Old")
ok(m.delete("Old.2026"))
ok(m.delete("Old"))
no(m.delete, "INBOX")
no(m.select, "Old")
# EXAMINE is read-only.
typ, d = m.select("INBOX", readonly=True)
assert typ == "OK"
no(m.store, "1", "+FLAGS", "(\\Seen)")
ok(m.fetch("1", "(BODY[])"))
assert "\\Seen" not in ok(m.fetch("1", "(FLAGS)"))[0].decode()
# RENAME INBOX moves its mail and leaves it empty (RFC 3501 §6.3.5).
ok(m.unselect())
ok(m.rename("INBOX", "Saved"))
assert ok(m.status("INBOX", "(MESSAGES)"))[0].decode() == "INBOX (MESSAGES 0)"
assert ok(m.status("Saved", "(MESSAGES UNSEEN)"))[0].decode() == "Saved (MESSAGES 1 UNSEEN 1)"
m.logout()
"#,
    );
}

#[test]
fn hostile_names_other_users_and_bad_logins_are_refused() {
    let tmp = Temp::new("refuse");
    let server = Server::start(&tmp.0);
    server.deliver("bob@example.com", "1700000001.bob.test", PLAIN);
    server.python(
        r#"
m = imaplib.IMAP4(HOST, PORT, timeout=60)
# An unknown user and a wrong password read the same.
wrong = no(m.login, "alice@example.com", "wrong")
assert "AUTHENTICATIONFAILED" in wrong, wrong
assert no(m.login, "nobody@example.com", "nobody-pw") == wrong
assert no(m.login, "alice@example.com", "") == wrong
# Commands before login.
no(m.select, "INBOX")
no(m.list)
m.logout()
# Five wrong passwords in a row end the connection.
m = imaplib.IMAP4(HOST, PORT, timeout=60)
for i in range(5):
    no(m.login, "alice@example.com", "guess%d" % i)
try:
    m.noop()
    raise AssertionError("still connected after five failed logins")
except (imaplib.IMAP4.abort, OSError):
    pass
m = login("ALICE@Example.COM", "alice-pw")
for name in ["..", "../bob", "a..b", "/etc", ".hidden", "a/b", "x\x01y", "~root", "*"]:
    no(m.create, '"' + name + '"' if " " not in name else name)
for name in ["../bob", "/etc/passwd", "..", ".."]:
    no(m.select, name)
    no(m.status, name, "(MESSAGES)")
    no(m.append, name, None, None, b"Subject: x\r\n\r\nx\r\n")
# bob's mail is not alice's: her INBOX is empty, no name reaches his.
no(m.select, "../../example.com/bob")
no(m.select, "../bob")
assert ok(m.select("INBOX")) == [b"0"]
assert ok(m.search(None, "ALL")) == [b""]
no(m.fetch, "1", "(BODY[])")
assert os.listdir(os.path.join(DATA, "mail/example.com/bob/new")) == ["1700000001.bob.test"]
assert set(os.listdir(DATA + "/mail/example.com")) == {"alice", "bob"}, os.listdir(DATA + "/mail/example.com")
# Garbage and unknown commands get BAD, the session goes on.
s = m.socket()
for line in [b"\x00\x01\x02\r\n", b"a1 FROBNICATE\r\n", b"a2 FETCH\r\n", b"a3 SELECT \"unterminated\r\n"]:
    m.send(line)
m.send(b"a4 NOOP\r\n")
buf = b""
while b"a4 OK" not in buf:
    chunk = s.recv(4096)
    assert chunk, buf
    buf += chunk
assert buf.count(b" BAD ") >= 3, buf
# A literal over the message size is refused before it is sent.
m.send(b"a5 APPEND INBOX {999999999}\r\n")
buf = b""
while b"a5 " not in buf:
    chunk = s.recv(4096)
    assert chunk, buf
    buf += chunk
assert b"a5 BAD" in buf, buf
m.send(b"a6 NOOP\r\n")
buf = b""
while b"a6 " not in buf:
    buf += s.recv(4096)
assert b"a6 OK" in buf, buf
m.logout()
# Carol's quota (4K) holds one small message, not a big one.
c = login("carol@example.org")
ok(c.append("INBOX", None, None, b"Subject: small\r\n\r\nsmall\r\n"))
typ, d = c.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 5000 + b"\r\n")
assert typ == "NO" and b"OVERQUOTA" in d[0], (typ, d)
ok(c.append("INBOX", None, None, b"Subject: mid\r\n\r\n" + b"x" * 2100 + b"\r\n"))
ok(c.select("INBOX"))
typ, d = c.copy("1:*", "INBOX")
assert typ == "NO" and b"OVERQUOTA" in d[0], (typ, d)
c.logout()
"#,
    );
    // bob's message was never touched.
    assert!(
        tmp.0
            .join("mail/example.com/bob/new/1700000001.bob.test")
            .is_file()
    );
}

#[test]
fn a_disabled_mailbox_cannot_log_in() {
    let tmp = Temp::new("disabled");
    let server = Server::start_with(
        &root().join("tests/cases/embedded-stack/mailc.yaml"),
        &tmp.0,
    );
    server.python(
        r#"
m = imaplib.IMAP4(HOST, PORT, timeout=60)
# Its right password reads as a wrong one, by LOGIN and AUTHENTICATE.
refused = no(m.login, "gone@example.com", "gone-pw")
assert "AUTHENTICATIONFAILED" in refused, refused
assert no(m.login, "gone@example.com", "wrong") == refused
plain = lambda _: b"\0gone@example.com\0gone-pw"
assert "AUTHENTICATIONFAILED" in no(m.authenticate, "PLAIN", plain)
m.logout()
login("alice@example.com").logout()
# services: [imap]: IMAP it may use.
login("henry@example.com").logout()
"#,
    );
}

#[test]
fn starttls_then_login_and_authenticate_plain() {
    let tmp = Temp::new("tls");
    let server = Server::start(&tmp.0);
    server.python(
        r#"
m = imaplib.IMAP4(HOST, PORT, timeout=60)
assert "STARTTLS" in m.capabilities, m.capabilities
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ok(m.starttls(ssl_context=ctx))
caps = ok(m.capability())[0].decode().split()
assert "STARTTLS" not in caps and "AUTH=PLAIN" in caps, caps
ok(m.login("alice@example.com", "alice-pw"))
ok(m.select("INBOX"))
m.logout()
# Implicit TLS (993).
m = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ctx, timeout=60)
assert "STARTTLS" not in m.capabilities and "AUTH=PLAIN" in m.capabilities, m.capabilities
ok(m.login("bob@example.com", "bob-pw"))
ok(m.select("INBOX"))
m.logout()
# AUTHENTICATE PLAIN on loopback, with and without an initial response.
m = imaplib.IMAP4(HOST, PORT, timeout=60)
ok(m.authenticate("PLAIN", lambda _: b"\0bob@example.com\0bob-pw"))
ok(m.select("INBOX"))
m.logout()
m = imaplib.IMAP4(HOST, PORT, timeout=60)
no(m.authenticate, "PLAIN", lambda _: b"\0bob@example.com\0alice-pw")
m.logout()
s = socket.create_connection((HOST, PORT), timeout=60)
f = s.makefile("rb")
f.readline()
s.sendall(b"a1 AUTHENTICATE PLAIN " + base64.b64encode(b"\0alice@example.com\0alice-pw") + b"\r\n")
line = f.readline()
assert line.startswith(b"a1 OK"), line
s.sendall(b"a2 LOGOUT\r\n")
assert f.readline().startswith(b"* BYE")
"#,
    );
}

#[test]
fn idle_sees_a_message_that_arrives() {
    let tmp = Temp::new("idle");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.first.test", PLAIN);
    server.python(
        r#"
m = login("alice@example.com")
assert ok(m.select("INBOX")) == [b"1"]
s = m.socket()
f = s.makefile("rb")
m.send(b"i1 IDLE\r\n")
line = f.readline()
assert line.startswith(b"+"), line
# Delivered the way the SMTP side does: tmp/, then new/.
d = os.path.join(DATA, "mail/example.com/alice")
open(os.path.join(d, "tmp/1700000002.second.test"), "wb").write(b"Subject: second\r\n\r\nhi\r\n")
os.rename(os.path.join(d, "tmp/1700000002.second.test"), os.path.join(d, "new/1700000002.second.test"))
line = f.readline()
while line.startswith(b"* ") and b"EXISTS" not in line:
    line = f.readline()
assert line == b"* 2 EXISTS\r\n", line
m.send(b"DONE\r\n")
line = f.readline()
while not line.startswith(b"i1 "):
    line = f.readline()
assert line.startswith(b"i1 OK"), line
s.sendall(b"u1 UID FETCH 2 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
buf = b""
while b"u1 OK" not in buf:
    buf += s.recv(4096)
assert b"UID 2" in buf and b"Subject: second" in buf, buf
"#,
    );
}

#[test]
fn uids_and_uidvalidity_survive_kill_9() {
    let tmp = Temp::new("restart");
    let mut server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.a.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.b.test", MIXED);
    let before = server.python(
        r#"
m = login("alice@example.com")
ok(m.select("INBOX"))
ok(m.create("Kept"))
typ, d = m.append("Kept", "(\\Flagged)", None, b"Subject: kept\r\n\r\nkept\r\n")
assert typ == "OK", d
ok(m.store("1", "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
ok(m.store("1", "+FLAGS", "($Later)"))
print(m.response("UIDVALIDITY"), ok(m.uid("SEARCH", "ALL")), ok(m.status("Kept", "(UIDVALIDITY UIDNEXT)")))
"#,
    );
    server.restart();
    server.deliver("alice@example.com", "1700000003.c.test", PLAIN);
    let after = server.python(
        r#"
m = login("alice@example.com")
ok(m.select("INBOX"))
v = m.response("UIDVALIDITY")
uids = ok(m.uid("SEARCH", "ALL"))
assert uids == [b"2 3"], uids
d = ok(m.uid("FETCH", "2", "(FLAGS)"))[0].decode()
assert "$Later" in d, d
print(v, [b"2"], ok(m.status("Kept", "(UIDVALIDITY UIDNEXT)")))
"#,
    );
    assert_eq!(
        before, after,
        "UIDs or UIDVALIDITY changed across a restart"
    );
}

#[test]
fn two_sessions_see_each_others_changes() {
    let tmp = Temp::new("two");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.a.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.b.test", MIXED);
    server.python(
        r#"
a = login("alice@example.com")
b = login("alice@example.com")
ok(a.select("INBOX"))
ok(b.select("INBOX"))
ok(a.store("1", "+FLAGS", "(\\Flagged)"))
ok(a.append("INBOX", None, None, b"Subject: third\r\n\r\nthird\r\n"))
ok(a.store("2", "+FLAGS", "(\\Deleted)"))
ok(a.expunge())
# b hears nothing of the expunge during FETCH (RFC 3501 §7.4.1)...
d = ok(b.fetch("2", "(UID)"))
assert d == [b"2 (UID 2)"], d
assert "EXPUNGE" not in b.untagged_responses, b.untagged_responses
# ...and everything at NOOP.
ok(b.noop())
assert b.untagged_responses.get("EXPUNGE") == [b"2"], b.untagged_responses
assert b.untagged_responses.get("EXISTS")[-1] == b"2", b.untagged_responses
fetches = b" ".join(b.untagged_responses.get("FETCH", [])).decode()
assert "1 (FLAGS (\\Flagged" in fetches, fetches
assert ok(b.uid("SEARCH", "ALL")) == [b"1 3"]
# \Recent goes to the first session that selects the mailbox, only.
ok(a.create("Fresh"))
ok(a.append("Fresh", None, None, b"Subject: r1\r\n\r\nr1\r\n"))
ok(a.append("Fresh", None, None, b"Subject: r2\r\n\r\nr2\r\n"))
assert ok(a.status("Fresh", "(RECENT)"))[0] == b"Fresh (RECENT 2)"
ok(a.select("Fresh"))
assert a.response("RECENT")[1][-1] == b"2"
assert ok(a.search(None, "RECENT")) == [b"1 2"]
ok(b.select("Fresh"))
assert b.response("RECENT")[1][-1] == b"0"
assert ok(b.search(None, "RECENT")) == [b""]
"#,
    );
}

/// A message another session expunged is still read whole, byte for
/// byte, by a session not yet told (RFC 2180 §4.1.1): its file is kept in
/// `mailc-expunged/` until then, unlinked once told, and a kill -9 in
/// between neither brings the message back nor leaves the file behind.
#[test]
fn a_session_not_yet_told_of_an_expunge_still_reads_the_message() {
    let tmp = Temp::new("expunged");
    let mut server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.a.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.b.test", MIXED);
    let script = r#"
kept = os.path.join(DATA, "mail/example.com/alice/mailc-expunged")
def held():
    return sorted(os.listdir(kept)) if os.path.isdir(kept) else []
a, fa = raw_login("alice@example.com")
b, fb = raw_login("alice@example.com")
cmd(a, fa, "a1", "SELECT INBOX")
cmd(b, fb, "b1", "SELECT INBOX")
want = cmd(b, fb, "b2", "FETCH 2 BODY.PEEK[]")
assert want.startswith(b"* 2 FETCH (BODY[] {%d}\r\n" % len(MIXED)), want
got = cmd(a, fa, "a2", "STORE 2 +FLAGS.SILENT (\\Deleted)")
assert got == b"a2 OK STORE done\r\n", got
got = cmd(a, fa, "a3", "EXPUNGE")
assert got == b"* 2 EXPUNGE\r\na3 OK EXPUNGE done\r\n", got
assert len(held()) == 1, held()
# b was not told: FETCH gives the same bytes, and says nothing of it.
got = cmd(b, fb, "b3", "FETCH 2 BODY.PEEK[]")
assert got == want.replace(b"b2 OK", b"b3 OK"), got
got = cmd(b, fb, "b4", "FETCH 2 (RFC822.SIZE BODY.PEEK[TEXT]<0.10>)")
assert got == b"* 2 FETCH (RFC822.SIZE %d BODY[TEXT]<0> {10}\r\nThis is a )\r\nb4 OK FETCH done\r\n" % len(MIXED), got
got = cmd(b, fb, "b5", "SEARCH BODY report")
assert got == b"* SEARCH 2\r\nb5 OK SEARCH done\r\n", got
# Told now: the file goes.
got = cmd(b, fb, "b6", "NOOP")
assert got == b"* 2 EXPUNGE\r\nb6 OK done\r\n", got
assert held() == [], held()
# Expunged while b has the mailbox selected, then kill -9: the file waits.
cmd(a, fa, "a4", "STORE 1 +FLAGS.SILENT (\\Deleted)")
got = cmd(a, fa, "a5", "EXPUNGE")
assert got == b"* 1 EXPUNGE\r\na5 OK EXPUNGE done\r\n", got
assert len(held()) == 1, held()
"#;
    server.python(&script.replace(
        "MIXED",
        &format!("{:?}.encode()", MIXED.replace('\n', "\r\n")),
    ));
    server.restart();
    server.python(
        r#"
kept = os.path.join(DATA, "mail/example.com/alice/mailc-expunged")
s, f = raw_login("alice@example.com")
assert os.listdir(kept) == [], os.listdir(kept)
got = cmd(s, f, "s", "SELECT INBOX")
assert b"* 0 EXISTS\r\n" in got, got
"#,
    );
}

/// BINARY (RFC 3516): parts decoded from base64 and quoted-printable,
/// their decoded sizes, partial fetches with their origin, a literal8 for
/// data with NULs, `NO [UNKNOWN-CTE]`, `\Seen` set by BINARY but not by
/// BINARY.PEEK, and APPEND of a literal8 whose binary part is kept as
/// base64 and given back byte for byte.
#[test]
fn binary_fetch_and_append() {
    let tmp = Temp::new("binary");
    let server = Server::start(&tmp.0);
    server.deliver(
        "alice@example.com",
        "1700000001.bin.test",
        "From: a@example.org\nSubject: parts\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\
         Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n aGVs\n bG8gd29y\n bGQ=\n--b\n\
         Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n\
         caf=C3=A9 au =\nlait  \nfin\n--b\n\
         Content-Type: application/x-thing\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n--b\n\
         Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC/w==\n--b--\n",
    );
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
assert b"BINARY" in caps, caps
cmd(s, f, "s", "SELECT INBOX")
got = cmd(s, f, "f1", "FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] BINARY.SIZE[2] BINARY.PEEK[2])")
assert got == (b"* 1 FETCH (BINARY.SIZE[1] 11 BINARY[1] {11}\r\nhello world BINARY.SIZE[2] 18 "
               b"BINARY[2] {18}\r\ncaf\xc3\xa9 au lait\r\nfin)\r\nf1 OK FETCH done\r\n"), got
got = cmd(s, f, "f2", "FETCH 1 (BINARY.PEEK[2]<3.6> UID)")
assert got == b"* 1 FETCH (BINARY[2]<3> {6}\r\n\xc3\xa9 au  UID 1)\r\nf2 OK FETCH done\r\n", got
got = cmd(s, f, "f3", "FETCH 1 (BINARY.PEEK[4] BINARY.SIZE[4])")
assert got == b"* 1 FETCH (BINARY[4] ~{4}\r\n\x00\x01\x02\xff BINARY.SIZE[4] 4)\r\nf3 OK FETCH done\r\n", got
got = cmd(s, f, "f4", "FETCH 1 BINARY.PEEK[3]")
assert got == b"f4 NO [UNKNOWN-CTE] a part's content-transfer-encoding is unknown\r\n", got
got = cmd(s, f, "f5", "FETCH 1 BINARY.SIZE[9]")
assert got == b"* 1 FETCH (BINARY.SIZE[9] 0)\r\nf5 OK FETCH done\r\n", got
got = cmd(s, f, "f6", "FETCH 1 FLAGS")
assert got == b"* 1 FETCH (FLAGS (\\Recent))\r\nf6 OK FETCH done\r\n", got
got = cmd(s, f, "f7", "FETCH 1 BINARY[1]")
assert got == b"* 1 FETCH (BINARY[1] {11}\r\nhello world FLAGS (\\Seen \\Recent))\r\nf7 OK FETCH done\r\n", got
# APPEND of a literal8: the client waits for the continuation.
body = b"\x00-\xe4\n\r\n\n"
msg = (b"From: user@domain.org\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
       b"Content-Transfer-Encoding: binary\r\n\r\n" + body)
s.sendall(b"a1 APPEND INBOX ~{%d}\r\n" % len(msg))
assert f.readline().startswith(b"+ "), "no continuation"
s.sendall(msg + b"\r\n")
got = f.readline() + f.readline() + f.readline()
assert re.match(rb"\* 2 EXISTS\r\n\* 2 RECENT\r\na1 OK \[APPENDUID \d+ 2\] APPEND done\r\n$", got), got
got = cmd(s, f, "f8", "FETCH 2 (BINARY.SIZE[1] BINARY.PEEK[1] BODY.PEEK[1])")
assert got == (b"* 2 FETCH (BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n" + body +
               b" BODY[1] {14}\r\nAC3kCg0KCg==\r\n)\r\nf8 OK FETCH done\r\n"), got
# And as a non-synchronizing literal8 (LITERAL+).
s.sendall(b"a2 APPEND INBOX ~{%d+}\r\n" % len(msg) + msg + b"\r\n")
got = f.readline() + f.readline() + f.readline()
assert re.match(rb"\* 3 EXISTS\r\n\* 3 RECENT\r\na2 OK \[APPENDUID \d+ 3\] APPEND done\r\n$", got), got
# imaplib reads BINARY answers too.
m = login("alice@example.com")
ok(m.select("INBOX"))
d = ok(m.fetch("1", "(BINARY.PEEK[1])"))
assert d[0] == (b"1 (BINARY[1] {11}", b"hello world"), d
"#,
    );
}

#[test]
fn connections_over_the_limit_are_turned_away() {
    let tmp = Temp::new("limit");
    let server = limited(&tmp.0, &[("connections", 2)]);
    server.python(
        r#"
a = login("alice@example.com")
b = login("bob@example.com")
s = socket.create_connection((HOST, PORT), timeout=60)
line = s.makefile("rb").readline()
assert line.startswith(b"* BYE"), line
a.logout()
# A slot is free again once a session ends.
c = None
for _ in range(200):
    s = socket.create_connection((HOST, PORT), timeout=60)
    line = s.makefile("rb").readline()
    if line.startswith(b"* OK"):
        break
    time.sleep(0.05)
assert line.startswith(b"* OK"), line
"#,
    );
}

/// A server of embedded-imap's compiled manifest with these `limits`
/// changed.
fn limited(tmp: &Path, limits: &[(&str, u32)]) -> Server {
    let out = tmp.join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_mailc"))
        .arg("apply")
        .arg(root().join("tests/cases/embedded-imap/mailc.yaml"))
        .arg("--out")
        .arg(&out)
        .arg("--auto-approve")
        .stdout(Stdio::null())
        .status()
        .expect("run mailc apply");
    assert!(status.success());
    let path = out.join("server/mx1/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (k, v) in limits {
        manifest["limits"][*k] = (*v).into();
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    Server::start_with(&path, &tmp.join("data"))
}

#[test]
fn before_login_literals_lines_time_and_guesses_are_bounded() {
    // Before login: a literal over 1 KiB is refused (synchronising: BAD,
    // the session goes on; LITERAL+: BYE at once, its bytes never read),
    // so is a line over 8 KiB; limits.login_timeout (2 s here) is the
    // whole time to log in, however busy the client keeps the line; after
    // limits.auth_failures (2) failed logins from an address, it is refused
    // even the right password. Small literals log in as ever, and after
    // login the 2 s no longer count. A user has at most limits.mailboxes.
    let tmp = Temp::new("preauth");
    let server = limited(
        &tmp.0,
        &[("login_timeout", 2), ("auth_failures", 2), ("mailboxes", 5)],
    );
    let out = server.python(
        r#"
def rest(f):
    # What follows a BYE: the end (or a reset, if the kernel got there first).
    try:
        return f.readline()
    except ConnectionResetError:
        return b""
def raw(src="127.0.0.1"):
    s = socket.create_connection((HOST, PORT), timeout=60, source_address=(src, 0))
    f = s.makefile("rb")
    f.readline()
    return s, f
s, f = raw()
s.sendall(b"a LOGIN {2000}\r\n")
print(f.readline().decode().strip())
s.sendall(b"b CAPABILITY\r\n")
f.readline(); print(f.readline().decode().strip())
s.sendall(b"c LOGIN {17}\r\n")
print(f.readline()[:1].decode())
s.sendall(b"alice@example.com {8}\r\n")
print(f.readline()[:1].decode())
s.sendall(b"alice-pw\r\nd NOOP\r\n")
print(f.readline().decode().split()[:2], f.readline().decode().strip())
time.sleep(3)
s.sendall(b"e NOOP\r\n"); print(f.readline().decode().strip())
s.close()
s, f = raw()
s.sendall(b"a LOGIN {26214400+}\r\n" + b"x" * 65536)
print(f.readline().decode().strip(), rest(f))
s, f = raw()
try:
    s.sendall(b"a LOGIN " + b"x" * 9000)
except OSError:
    pass
print(f.readline().decode().strip(), rest(f))
s, f = raw()
for i in range(120):
    s.sendall(b"n%d NOOP\r\n" % i)
    line = f.readline()
    if line.startswith(b"* BYE"):
        print(line.decode().strip(), i < 100)
        break
    time.sleep(0.5)
s, f = raw("127.0.0.2")
for pw in [b"wrong", b"wronger", b"alice-pw"]:
    s.sendall(b"l LOGIN alice@example.com " + pw + b"\r\n")
    print(f.readline().decode().strip())
m = login("bob@example.com")
for name in ["a", "b", "c", "d", "e", "x.y.z"]:
    print(name, m.create(name))
ok(m.delete("a"))
print(m.create("e"))
"#,
    );
    assert_eq!(
        out,
        "a BAD [TOOBIG] literal too large before login\n\
         b OK capabilities listed\n\
         +\n\
         +\n\
         ['c', 'OK'] d OK done\n\
         e OK done\n\
         * BYE literal too large before login b''\n\
         * BYE command line too long before login b''\n\
         * BYE autologout: no login in time True\n\
         l NO [AUTHENTICATIONFAILED] authentication failed\n\
         l NO [AUTHENTICATIONFAILED] authentication failed\n\
         l NO [UNAVAILABLE] too many failed logins from your address, try again later\n\
         a ('OK', [b'created'])\n\
         b ('OK', [b'created'])\n\
         c ('OK', [b'created'])\n\
         d ('OK', [b'created'])\n\
         e ('NO', [b'[LIMIT] too many mailboxes: 5 at most'])\n\
         x.y.z ('NO', [b'[LIMIT] too many mailboxes: 5 at most'])\n\
         ('OK', [b'created'])\n",
        "{out}"
    );
}

#[test]
fn a_client_that_does_not_read_is_not_buffered() {
    // Backpressure: commands pipelined behind a FETCH the client does not
    // read stay in the client's socket; the server stops reading (only the
    // kernel's buffers fill), instead of queueing all of them in memory.
    let tmp = Temp::new("unread");
    let server = Server::start(&tmp.0);
    let body = format!("{}\n", "x".repeat(998)).repeat(2048);
    for n in 0..8 {
        server.deliver(
            "alice@example.com",
            &format!("17000000{n:02}.big.test"),
            &format!("Subject: big {n}\n\n{body}"),
        );
    }
    let out = server.python(
        r#"
import select
m = login("alice@example.com")
assert ok(m.select("INBOX")) == [b"8"]
s = m.socket()
s.sendall(b"f1 FETCH 1:* (BODY.PEEK[])\r\n")
s.setblocking(False)
chunk = b"n NOOP\r\n" * 8192
sent = 0
while sent < 64 << 20:
    try:
        sent += s.send(chunk)
    except BlockingIOError:
        if not select.select([], [s], [], 3)[1]:
            break
print(sent < 32 << 20)
s.close()
m = login("alice@example.com")
print(ok(m.select("INBOX")))
"#,
    );
    assert_eq!(out, "True\n[b'8']\n", "{out}");
}

#[test]
fn broken_mail_and_garbage_do_not_hurt_the_server() {
    let tmp = Temp::new("broken");
    let server = Server::start(&tmp.0);
    // Broken mail: NUL bytes, an unclosed multipart, a deep nesting of
    // attached messages, no header at all.
    let nested = (0..200).fold("Subject: core\n\ncore\n".to_string(), |inner, _| {
        format!("Content-Type: message/rfc822\n\n{inner}")
    });
    server.deliver(
        "alice@example.com",
        "1700000001.nul.test",
        "Subject: a\0b\n\nx\0y\n",
    );
    server.deliver(
        "alice@example.com",
        "1700000002.open.test",
        "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nno end\n",
    );
    server.deliver("alice@example.com", "1700000003.deep.test", &nested);
    server.deliver(
        "alice@example.com",
        "1700000004.none.test",
        "just text, no header\n",
    );
    server.python(
        r#"
m = login("alice@example.com")
assert ok(m.select("INBOX")) == [b"4"]
for item in ["(ENVELOPE)", "(BODYSTRUCTURE)", "(BODY)", "(BODY[])", "(BODY[1])", "(BODY[1.1.1.1])",
             "(BODY[2.MIME])", "(BODY[1.HEADER])", "(BODY[1.TEXT])", "(BODY[HEADER.FIELDS (SUBJECT)])",
             "(BODY[TEXT]<1.1>)", "(RFC822.SIZE)", "(BODY[]<4294967295.1>)"]:
    ok(m.fetch("1:*", item))
d = ok(m.fetch("1", "(BODY[])"))
assert d[0][1] == b"Subject: a\x80b\r\n\r\nx\x80y\r\n", d
assert ok(m.search(None, "TEXT", "core")) == [b"3"]
# Random bytes on other connections.
import random
rnd = random.Random(7)
for n in range(30):
    s = socket.create_connection((HOST, PORT), timeout=60)
    s.recv(1024)
    junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
    try:
        s.sendall(b"a LOGIN alice@example.com alice-pw\r\n" if n % 2 else b"")
        s.sendall(junk + b"\r\n")
    except OSError:
        pass
    s.close()
# The server is still there.
ok(m.noop())
m2 = login("alice@example.com")
assert ok(m2.select("INBOX")) == [b"4"]
"#,
    );
}

#[test]
fn a_fetch_bigger_than_a_chunk_with_commands_pipelined_behind_it() {
    let tmp = Temp::new("chunks");
    let server = Server::start(&tmp.0);
    let line = format!("{}\n", "x".repeat(998));
    let body = line.repeat(1024);
    for n in 0..12 {
        server.deliver(
            "alice@example.com",
            &format!("17000000{n:02}.big.test"),
            &format!("Subject: big {n}\n\n{body}"),
        );
    }
    server.python(
        r#"
m = login("alice@example.com")
assert ok(m.select("INBOX")) == [b"12"]
s = m.socket()
f = s.makefile("rb")
s.sendall(b"f1 FETCH 1:* (UID BODY.PEEK[])\r\nf2 NOOP\r\nf3 UID SEARCH SUBJECT \"big 11\"\r\n")
seen, tags = 0, []
while len(tags) < 3:
    line = f.readline()
    assert line, "connection closed"
    m_ = re.search(rb"\{(\d+)\}\r\n$", line)
    if m_:
        data = f.read(int(m_.group(1)))
        assert len(data) == 1024 * 1000 + len(b"Subject: big 10\r\n\r\n") - (1 if seen < 10 else 0), len(data)
        seen += 1
        continue
    if line.startswith(b"* SEARCH"):
        assert line == b"* SEARCH 12\r\n", line
    if line[:2] in (b"f1", b"f2", b"f3"):
        tags.append(line)
assert seen == 12, seen
assert [t.split()[0] for t in tags] == [b"f1", b"f2", b"f3"] and all(b" OK " in t for t in tags), tags
"#,
    );
}

#[test]
fn off_loopback_plaintext_login_waits_for_starttls() {
    let tmp = Temp::new("outside");
    let server = Server::start_on(&outside_address(), &tmp.0);
    server.python(
        r#"
m = imaplib.IMAP4(HOST, PORT, timeout=60)
assert "LOGINDISABLED" in m.capabilities and "AUTH=PLAIN" not in m.capabilities, m.capabilities
s = m.socket()
f = s.makefile("rb")
s.sendall(b"a1 LOGIN alice@example.com alice-pw\r\n")
line = f.readline()
assert line.startswith(b"a1 NO"), line
s.sendall(b"a2 AUTHENTICATE PLAIN " + base64.b64encode(b"\0alice@example.com\0alice-pw") + b"\r\n")
line = f.readline()
assert line.startswith(b"a2 NO"), line
m = imaplib.IMAP4(HOST, PORT, timeout=60)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ok(m.starttls(ssl_context=ctx))
caps = ok(m.capability())[0].decode().split()
assert "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, caps
ok(m.login("alice@example.com", "alice-pw"))
ok(m.select("INBOX"))
"#,
    );
}

#[test]
fn deeply_nested_mail_does_not_bring_the_server_down() {
    // 1,300 nested multiparts (89 KB) and 2,000 nested message/rfc822
    // (132 KB), taken by APPEND, then every FETCH item that parses them
    // and SEARCH: answered (cut off at the depth limit), the session and
    // the server go on, and so they do after a restart.
    let tmp = Temp::new("deep");
    let mut server = Server::start(&tmp.0);
    let script = r#"
multi = b"Subject: deep multipart\r\n"
for i in range(1300):
    multi += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
multi += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
for i in reversed(range(1300)):
    multi += b"--b%d--\r\n" % i
rfc = b"Subject: wrap\r\nContent-Type: message/rfc822\r\n\r\n" * 2000
rfc += b"Subject: bottom\r\n\r\nbottom\r\n"
m = login("alice@example.com")
if APPEND:
    for msg in (multi, rfc):
        ok(m.append("INBOX", None, None, msg))
ok(m.select("INBOX"))
for items in ["(BODYSTRUCTURE)", "(BODY)", "(ENVELOPE RFC822.SIZE)", "(BODY.PEEK[1.1.1.1])",
              "(BODY.PEEK[" + ".".join(["1"] * 150) + "])", "(BODY.PEEK[TEXT])"]:
    data = ok(m.fetch("1:2", items))
    assert len(data) >= 2, (items, data[:1])
bs = ok(m.fetch("1", "(BODYSTRUCTURE)"))[0].decode()
print(bs.count("("))
print(ok(m.search(None, "BODY", "bottom")), ok(m.search(None, "TEXT", "nowhere")))
print(ok(m.noop()) is not None)
m.logout()
m = login("alice@example.com")
ok(m.select("INBOX"))
print(len(ok(m.fetch("1:2", "(BODYSTRUCTURE)"))))
m.logout()
"#;
    // APPEND the two, then read them.
    let first = server.python(&format!("APPEND = True\n{script}"));
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), 4, "{first}");
    // The nest is shown down to the limit, not 1,300 levels.
    let parens: usize = lines[0].parse().unwrap();
    assert!((100..400).contains(&parens), "{first}");
    assert_eq!(&lines[1..], ["[b'1 2'] [b'']", "True", "2"], "{first}");
    server.restart();
    let again = server.python(&format!("APPEND = False\n{script}"));
    assert_eq!(again, first, "after a restart");
}

/// A message/rfc822 part whose message is a multipart: BODY[1.TEXT] runs to
/// the end of the part, the multipart's epilogue included.
#[test]
fn body_text_of_an_attached_multipart_keeps_the_epilogue() {
    let tmp = Temp::new("rfc822-text");
    let server = Server::start(&tmp.0);
    server.deliver(
        "alice@example.com",
        "1700000001.digest.test",
        "From: user@domain.org\nMime-Version: 1.0\nContent-Type: message/rfc822\n\n\
         From: sub@domain.org\nSubject: submsg\nContent-Type: multipart/digest; boundary=\"foo\"\n\n\
         prologue\n\n--foo \n\nFrom: m1@example.com\nSubject: m1\n\nm1 body\n\n\
         --foo \nX-Mime: m2 header\n\nFrom: m2@example.com\nSubject: m2\n\nm2 body\n\n--foo--\n\nepilogue\n",
    );
    server.python(
        r#"
s, f = raw_login("alice@example.com")
cmd(s, f, "s", "SELECT INBOX")
text = (b"prologue\r\n\r\n--foo \r\n\r\nFrom: m1@example.com\r\nSubject: m1\r\n\r\nm1 body\r\n\r\n"
        b"--foo \r\nX-Mime: m2 header\r\n\r\nFrom: m2@example.com\r\nSubject: m2\r\n\r\nm2 body\r\n\r\n"
        b"--foo--\r\n\r\nepilogue\r\n")
got = cmd(s, f, "f1", "FETCH 1 (BODY.PEEK[1.TEXT])")
want = b"* 1 FETCH (BODY[1.TEXT] {%d}\r\n" % len(text) + text + b")\r\nf1 OK FETCH done\r\n"
assert got == want, got
got = cmd(s, f, "f2", "FETCH 1 (BODY.PEEK[1.2.TEXT])")
assert got == b"* 1 FETCH (BODY[1.2.TEXT] {9}\r\nm2 body\r\n)\r\nf2 OK FETCH done\r\n", got
"#,
    );
}

/// Address groups in ENVELOPE (RFC 3501 §7.4.2): the group's name, its
/// members, its end; an empty group and a group that ends the field too.
#[test]
fn envelope_shows_address_groups_as_the_grammar_says() {
    let tmp = Temp::new("groups");
    let server = Server::start(&tmp.0);
    server.deliver(
        "alice@example.com",
        "1700000001.groups.test",
        "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\n\
         To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\nCc: group:;, group2: (foo) ;\n\nbody\n",
    );
    server.python(
        r#"
s, f = raw_login("alice@example.com")
cmd(s, f, "s", "SELECT INBOX")
got = cmd(s, f, "f", "FETCH 1 ENVELOPE")
want = (b'* 1 FETCH (ENVELOPE ("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) '
        b'(("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) '
        b'((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)'
        b'(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) '
        b'((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL))\r\n'
        b'f OK FETCH done\r\n')
assert got == want, got
"#,
    );
}

/// \Recent (RFC 3501 §2.3.2, §6.3.2): EXAMINE shows what no session has
/// claimed without claiming it; the SELECT after it claims; a session
/// that comes later sees none.
#[test]
fn examine_shows_recent_without_claiming_it() {
    let tmp = Temp::new("recent");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.a.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.b.test", PLAIN);
    server.python(
        r#"
s, f = raw_login("alice@example.com")
def opened(tag, verb, recent, access):
    got = cmd(s, f, tag, verb + " INBOX")
    v = re.search(rb"UIDVALIDITY (\d+)", got).group(1)
    hm = re.search(rb"HIGHESTMODSEQ (\d+)", got).group(1)
    perm = b"" if access == b"READ-ONLY" else b" \\*"
    flags = b"\\Answered \\Flagged \\Deleted \\Seen \\Draft"
    want = (b"* FLAGS (" + flags + b")\r\n* 2 EXISTS\r\n* %d RECENT\r\n" % recent +
            b"* OK [UNSEEN 1] first unseen\r\n"
            b"* OK [PERMANENTFLAGS (" + (flags + perm if perm else b"") + b")] flags kept\r\n"
            b"* OK [UIDVALIDITY " + v + b"] UIDs valid\r\n* OK [UIDNEXT 3] next UID\r\n"
            b"* OK [HIGHESTMODSEQ " + hm + b"] highest mod-sequence\r\n" +
            tag.encode() + b" OK [" + access + b"] " + verb.encode() + b" done\r\n")
    assert got == want, (got, want)
opened("e1", "EXAMINE", 2, b"READ-ONLY")
cmd(s, f, "c1", "CLOSE")
got = cmd(s, f, "t1", "STATUS INBOX (MESSAGES RECENT)")
assert got == b"* STATUS INBOX (MESSAGES 2 RECENT 2)\r\nt1 OK STATUS done\r\n", got
opened("s1", "SELECT", 2, b"READ-WRITE")
s2, f2 = s, f
s, f = raw_login("alice@example.com")
opened("e2", "EXAMINE", 0, b"READ-ONLY")
got = cmd(s, f, "t2", "STATUS INBOX (RECENT)")
assert got == b"* STATUS INBOX (RECENT 0)\r\nt2 OK STATUS done\r\n", got
"#,
    );
}

/// ENABLE (RFC 5161), QUOTA (RFC 9208: one root, `""`, the spec's quota in
/// KiB) and SPECIAL-USE (RFC 6154: Drafts, Junk, Sent and Trash made at
/// the first login and named in LIST).
#[test]
fn enable_quota_and_special_use() {
    let tmp = Temp::new("quota");
    let server = Server::start(&tmp.0);
    server.deliver(
        "carol@example.org",
        "1700000001.q.test",
        &format!("Subject: q\n\n{}", "y".repeat(2100)),
    );
    server.python(
        r#"
s, f = raw_login("carol@example.org")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
for c in (b"ENABLE", b"QUOTA", b"QUOTA=RES-STORAGE", b"SPECIAL-USE"):
    assert c in caps, caps
assert b"QUOTASET" not in caps, caps
got = cmd(s, f, "e", "ENABLE X-NOTHING")
assert got == b"* ENABLED\r\ne OK ENABLE done\r\n", got
got = cmd(s, f, "q1", "GETQUOTAROOT INBOX")
assert got == b'* QUOTAROOT INBOX ""\r\n* QUOTA "" (STORAGE 2 4)\r\nq1 OK GETQUOTAROOT done\r\n', got
got = cmd(s, f, "q2", 'GETQUOTA ""')
assert got == b'* QUOTA "" (STORAGE 2 4)\r\nq2 OK GETQUOTA done\r\n', got
assert cmd(s, f, "q3", 'GETQUOTA "other"').startswith(b"q3 NO [NONEXISTENT]")
assert cmd(s, f, "q4", 'SETQUOTA "" (STORAGE 100)').startswith(b"q4 NO [NOPERM]")
assert cmd(s, f, "q5", "GETQUOTAROOT Nowhere").startswith(b"q5 NO [NONEXISTENT]")
got = cmd(s, f, "l", 'LIST "" "*"')
assert got == (b'* LIST (\\HasNoChildren) "." INBOX\r\n'
               b'* LIST (\\HasNoChildren \\Drafts) "." Drafts\r\n'
               b'* LIST (\\HasNoChildren \\Junk) "." Junk\r\n'
               b'* LIST (\\HasNoChildren \\Sent) "." Sent\r\n'
               b'* LIST (\\HasNoChildren \\Trash) "." Trash\r\n'
               b'l OK LIST done\r\n'), got
# Deleted, they come back at the next login, subscribed.
assert cmd(s, f, "d", "DELETE Junk").startswith(b"d OK")
s, f = raw_login("carol@example.org")
assert b"Junk" in cmd(s, f, "l", 'LSUB "" "J*"')
# Without a quota in the spec there is no quota root.
s, f = raw_login("alice@example.com")
got = cmd(s, f, "q", "GETQUOTAROOT INBOX")
assert got == b"* QUOTAROOT INBOX\r\nq OK GETQUOTAROOT done\r\n", got
"#,
    );
}

/// CONDSTORE and QRESYNC (RFC 7162): mod-sequences on FETCH, STORE and
/// SEARCH, the conditional STORE, a resync by SELECT (QRESYNC ...) and UID
/// FETCH (CHANGEDSINCE ... VANISHED), VANISHED instead of EXPUNGE; the
/// mod-sequences survive kill -9 and a restart, like UIDs.
#[test]
fn condstore_and_qresync_resync_and_survive_kill_9() {
    let tmp = Temp::new("condstore");
    let mut server = Server::start(&tmp.0);
    for n in 1..=4 {
        server.deliver(
            "alice@example.com",
            &format!("170000000{n}.m.test"),
            &format!("Subject: m{n}\n\nbody {n}\n"),
        );
    }
    let out = server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY")
assert b" CONDSTORE" in caps and b" QRESYNC" in caps, caps
got = cmd(s, f, "s", "SELECT INBOX (CONDSTORE)")
hm = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", got).group(1))
v = int(re.search(rb"\[UIDVALIDITY (\d+)\]", got).group(1))
got = cmd(s, f, "f", "FETCH 1:* (UID MODSEQ)")
ms = [int(x) for x in re.findall(rb"MODSEQ \((\d+)\)", got)]
assert len(ms) == 4 and ms == sorted(ms) and max(ms) <= hm, got
# A STORE tells the new mod-sequence, above every earlier one.
got = cmd(s, f, "st", "STORE 2 +FLAGS (\\Flagged)")
# (All four are \Recent to this first session.)
m2 = int(re.search(rb"\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \((\d+)\)\)", got).group(1))
assert m2 > hm, got
# Conditional STORE: message 2 changed after hm, so it is left alone.
got = cmd(s, f, "cs", "STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Seen)" % hm)
m1 = int(re.search(rb"\* 1 FETCH \(MODSEQ \((\d+)\)\)", got).group(1))
assert m1 > m2 and got.endswith(b"cs OK [MODIFIED 2] conditional STORE failed for some messages\r\n"), got
# A STORE that changes nothing takes no mod-sequence.
got = cmd(s, f, "n", "STORE 1 +FLAGS.SILENT (\\Seen)")
assert got == b"* 1 FETCH (MODSEQ (%d))\r\nn OK STORE done\r\n" % m1 or got == b"n OK STORE done\r\n", got
got = cmd(s, f, "cf", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hm)
assert got == (b"* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (%d))\r\n* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (%d))\r\n" % (m1, m2) +
               b"cf OK FETCH done\r\n"), got
got = cmd(s, f, "se", "SEARCH MODSEQ %d" % (hm + 1))
assert got == b"* SEARCH 1 2 (MODSEQ %d)\r\nse OK SEARCH done\r\n" % m1, got
got = cmd(s, f, "sx", "STATUS Trash (HIGHESTMODSEQ)")
assert re.match(rb"\* STATUS Trash \(HIGHESTMODSEQ \d+\)\r\n", got), got
# QRESYNC: ENABLE it, expunge message 3, then VANISHED replaces EXPUNGE.
assert cmd(s, f, "e", "ENABLE QRESYNC") == b"* ENABLED QRESYNC\r\ne OK ENABLE done\r\n"
cmd(s, f, "d", "STORE 3 +FLAGS.SILENT (\\Deleted)")
got = cmd(s, f, "x", "EXPUNGE")
assert got == b"* VANISHED 3\r\nx OK EXPUNGE done\r\n", got
got = cmd(s, f, "s2", "SELECT INBOX")
hm2 = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", got).group(1))
assert got.startswith(b"* OK [CLOSED] closed\r\n"), got
print(v, hm, m1, m2, hm2)
"#,
    );
    let nums: Vec<u64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (v, hm, m1, m2, hm2) = (nums[0], nums[1], nums[2], nums[3], nums[4]);
    // Killed without warning and restarted: the same mod-sequences.
    server.restart();
    server.python(&format!(
        r#"
s, f = raw_login("alice@example.com")
assert cmd(s, f, "e", "ENABLE QRESYNC") == b"* ENABLED QRESYNC\r\ne OK ENABLE done\r\n"
got = cmd(s, f, "s", "SELECT INBOX (QRESYNC ({v} {hm} 1:4))")
assert b"[HIGHESTMODSEQ {hm2}]" in got, got
tail = got[got.index(b"* OK [HIGHESTMODSEQ"):]
assert tail == (b"* OK [HIGHESTMODSEQ {hm2}] highest mod-sequence\r\n* VANISHED (EARLIER) 3\r\n"
                b"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ ({m1}))\r\n"
                b"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ({m2}))\r\n"
                b"s OK [READ-WRITE] SELECT done\r\n"), tail
got = cmd(s, f, "u", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m2} VANISHED)")
assert got == b"* VANISHED (EARLIER) 3\r\n* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ ({m1}))\r\nu OK FETCH done\r\n", got
# With QRESYNC on, every FETCH response carries the UID.
got = cmd(s, f, "p", "FETCH 1 (FLAGS)")
assert got == b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\np OK FETCH done\r\n", got
# Up to date: nothing to say.
got = cmd(s, f, "s2", "SELECT INBOX (QRESYNC ({v} {hm2}))")
assert b"VANISHED" not in got and b"FETCH" not in got, got
# Without ENABLE QRESYNC the parameter is refused.
s, f = raw_login("alice@example.com")
assert cmd(s, f, "q", "SELECT INBOX (QRESYNC ({v} 1))").startswith(b"q BAD")
"#
    ));
}

/// SORT (with SORT=DISPLAY) and THREAD REFERENCES and ORDEREDSUBJECT
/// (RFC 5256, 5957), in the commands a webmail such as Roundcube sends
/// to list a mailbox by date and by thread.
#[test]
fn sort_and_thread_as_webmail_asks() {
    let tmp = Temp::new("sort");
    let server = Server::start(&tmp.0);
    let mails = [
        (
            "Sat, 21 Nov 2026 10:00:00 +0000",
            "Carol <carol@example.org>",
            "Lunch",
            "<a@x>",
            "",
        ),
        (
            "Fri, 20 Nov 2026 10:00:00 +0000",
            "bob@example.com",
            "Report",
            "<b@x>",
            "",
        ),
        (
            "Sun, 22 Nov 2026 10:00:00 +0000",
            "Alice <zed@example.com>",
            "Re: Lunch",
            "<c@x>",
            "<a@x>",
        ),
        (
            "Mon, 23 Nov 2026 10:00:00 +0000",
            "dave@example.net",
            "Re: [team] Lunch",
            "<d@x>",
            "<a@x> <c@x>",
        ),
    ];
    for (n, (date, from, subject, id, refs)) in mails.iter().enumerate() {
        let refs = if refs.is_empty() {
            String::new()
        } else {
            format!("References: {refs}\n")
        };
        server.deliver(
            "alice@example.com",
            &format!("170000000{n}.s.test"),
            &format!("Date: {date}\nFrom: {from}\nSubject: {subject}\nMessage-ID: {id}\n{refs}\nbody {n}\n"),
        );
    }
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY")
for c in (b" SORT ", b" SORT=DISPLAY ", b" THREAD=REFERENCES ", b" THREAD=ORDEREDSUBJECT "):
    assert c in caps, caps
cmd(s, f, "x", "EXAMINE INBOX")
def one(tag, line, want):
    got = cmd(s, f, tag, line)
    assert got == want + b"\r\n" + tag.encode() + b" OK " + line.split()[1 if line.startswith("UID") else 0].encode() + b" done\r\n", (line, got)
one("a", "UID SORT (DATE) US-ASCII ALL", b"* SORT 2 1 3 4")
one("b", "UID SORT (REVERSE DATE) UTF-8 ALL", b"* SORT 4 3 1 2")
one("c", "SORT (ARRIVAL) US-ASCII ALL", b"* SORT 1 2 3 4")
one("d", "SORT (SUBJECT DATE) UTF-8 ALL", b"* SORT 1 3 4 2")
one("e", "SORT (FROM) US-ASCII ALL", b"* SORT 2 1 4 3")
one("f", "SORT (DISPLAYFROM) US-ASCII ALL", b"* SORT 3 2 1 4")
one("g", "SORT (SIZE) US-ASCII SUBJECT lunch", b"* SORT 1 3 4")
one("h", "UID THREAD REFERENCES UTF-8 ALL", b"* THREAD (2)(1 3 4)")
one("i", "THREAD ORDEREDSUBJECT US-ASCII ALL", b"* THREAD (2)(1 (3)(4))")
one("j", "UID THREAD REFERENCES US-ASCII NOT SUBJECT lunch", b"* THREAD (2)")
assert cmd(s, f, "k", "SORT (DATE) ISO-8859-9 ALL").startswith(b"k NO [BADCHARSET")
"#,
    );
}

/// ESEARCH (RFC 4731) and ESORT (RFC 5267 §3): SEARCH and SORT with
/// RETURN options answer one `* ESEARCH` line; MIN and MAX follow the
/// sort order; a MODSEQ key adds the mod-sequence (of the messages
/// returned, for MIN and MAX alone); unknown options are BAD.
#[test]
fn esearch_and_esort_answer_in_one_line() {
    let tmp = Temp::new("esearch");
    let server = Server::start(&tmp.0);
    let subjects = ["delta", "alpha", "echo", "charlie", "bravo"];
    for (n, subject) in subjects.iter().enumerate() {
        server.deliver(
            "alice@example.com",
            &format!("170000000{n}.e.test"),
            &format!("Subject: {subject}\nDate: Mon, 23 Nov 2026 10:0{n}:00 +0000\n\nbody {n}\n"),
        );
    }
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY")
caps = caps.split(b"\r\n")[0].split()
assert b"ESEARCH" in caps and b"ESORT" in caps, caps
cmd(s, f, "s", "SELECT INBOX")
def one(tag, line, want):
    got = cmd(s, f, tag, line)
    done = b"SORT" if b"SORT" in line.upper().encode() else b"SEARCH"
    assert got == want + b"\r\n" + tag.encode() + b" OK " + done + b" done\r\n", (line, got)
one("a", "SEARCH RETURN (MIN MAX COUNT ALL) ALL", b'* ESEARCH (TAG "a") MIN 1 MAX 5 ALL 1:5 COUNT 5')
one("b", "SEARCH RETURN () NOT SUBJECT alpha", b'* ESEARCH (TAG "b") ALL 1,3:5')
one("c", "UID SEARCH RETURN (COUNT) SUBJECT nothing", b'* ESEARCH (TAG "c") UID COUNT 0')
one("d", "SEARCH RETURN (MIN) SUBJECT nothing", b'* ESEARCH (TAG "d")')
one("e", "search return (partial 2:3) all", b'* ESEARCH (TAG "e") PARTIAL (2:3 2:3)')
one("f", "SEARCH RETURN (ALL) CHARSET UTF-8 SUBJECT {5+}\r\nalpha", b'* ESEARCH (TAG "f") ALL 2')
one("g", "SORT RETURN (ALL) (SUBJECT) UTF-8 ALL", b'* ESEARCH (TAG "g") ALL 2,5,4,1,3')
one("h", "UID SORT RETURN (MIN MAX COUNT) (REVERSE SUBJECT) US-ASCII ALL", b'* ESEARCH (TAG "h") UID MIN 3 MAX 2 COUNT 5')
# With a MODSEQ key: the highest of all matches, or of MIN/MAX alone.
cmd(s, f, "st", "STORE 2 +FLAGS.SILENT (\\Seen)")
got = cmd(s, f, "m1", "FETCH 1:5 (MODSEQ)")
# The first CONDSTORE-enabling command tells the mailbox's HIGHESTMODSEQ.
assert re.match(rb"\* OK \[HIGHESTMODSEQ \d+\] ", got), got
ms = [int(x) for x in re.findall(rb"MODSEQ \((\d+)\)", got)]
one("m2", "SEARCH RETURN (ALL) MODSEQ 1", b'* ESEARCH (TAG "m2") ALL 1:5 MODSEQ %d' % max(ms))
one("m3", "SEARCH RETURN (MIN) MODSEQ 1", b'* ESEARCH (TAG "m3") MIN 1 MODSEQ %d' % ms[0])
assert cmd(s, f, "x1", "SEARCH RETURN (NOSUCH) ALL").startswith(b"x1 BAD unknown RETURN option")
assert cmd(s, f, "x2", "SEARCH RETURN (MIN) NOSUCHKEY").startswith(b"x2 BAD")
assert cmd(s, f, "x3", "SORT RETURN (MIN) (DATE) KOI8-R ALL").startswith(b"x3 NO [BADCHARSET")
# The session goes on after the refusals.
one("z", "SEARCH RETURN (COUNT) ALL", b'* ESEARCH (TAG "z") COUNT 5')
"#,
    );
}

/// docs/cli.md names exactly the capabilities `mailc serve` advertises,
/// before login and after it (LOGINDISABLED only where a plaintext login
/// is not allowed, so not on loopback).
#[test]
fn docs_list_exactly_the_offered_capabilities() {
    let tmp = Temp::new("caps-doc");
    let server = Server::start(&tmp.0);
    let out = server.python(
        r#"
s = socket.create_connection((HOST, PORT), timeout=60)
f = s.makefile("rb")
before = re.match(rb"\* OK \[CAPABILITY ([^]]*)\]", f.readline()).group(1).split()
assert b"l OK" in cmd(s, f, "l", "LOGIN alice@example.com alice-pw")
after = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()[2:]
print(" ".join(sorted(set(c.decode().upper() for c in before + after))))
"#,
    );
    let advertised: std::collections::BTreeSet<String> =
        out.split_whitespace().map(str::to_string).collect();
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")).unwrap();
    let start = doc
        .find("- **Offered:**")
        .expect("the Offered list in docs/cli.md");
    let rest = &doc[start + 2..];
    let bullet = &rest[..rest.find("\n- ").unwrap_or(rest.len())];
    let documented: std::collections::BTreeSet<String> = bullet
        .split(|c: char| c.is_whitespace() || ",;()".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| {
            w.len() > 1
                && (w.starts_with("IMAP4rev")
                    || w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "=+-".contains(c)))
        })
        .map(str::to_ascii_uppercase)
        .collect();
    let missing: Vec<&String> = advertised.difference(&documented).collect();
    let extra: Vec<&String> = documented.difference(&advertised).collect();
    assert!(
        missing.is_empty(),
        "advertised, not in docs/cli.md: {missing:?}"
    );
    assert_eq!(extra, ["LOGINDISABLED"], "in docs/cli.md, not advertised");
}

/// CONTEXT=SEARCH (RFC 5267 §4): a SEARCH with RETURN (UPDATE) is kept up
/// to date. This session's own STORE, and another session's STORE,
/// EXPUNGE and APPEND, bring `* ESEARCH (TAG ..) ADDTO/REMOVEFROM` lines
/// (position 0, UIDs or sequence numbers as the search asked), REMOVEFROM
/// before the EXPUNGE and ADDTO after the EXISTS; the same during IDLE.
/// A reused tag is BAD, a context past the limit gets NOUPDATE, CANCELUPDATE
/// stops one, PARTIAL pages a result, and no context outlives its mailbox.
#[test]
fn context_search_updates_from_two_sessions() {
    let tmp = Temp::new("context-search");
    let server = Server::start(&tmp.0);
    for (n, subject) in ["alpha 1", "beta 2", "alpha 3", "gamma 4"]
        .iter()
        .enumerate()
    {
        server.deliver(
            "alice@example.com",
            &format!("170000000{n}.c.test"),
            &format!("Subject: {subject}\n\nbody {n}\n"),
        );
    }
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
assert b"CONTEXT=SEARCH" in caps and b"CONTEXT=SORT" in caps, caps
# No context before a mailbox is selected.
assert cmd(s, f, "c0", "CANCELUPDATE \"u1\"") == b"c0 BAD select a mailbox first\r\n"
cmd(s, f, "s", "SELECT INBOX")
def one(tag, line, want):
    got = cmd(s, f, tag, line)
    assert got == want, (line, got)
one("u1", "UID SEARCH RETURN (UPDATE COUNT) UNSEEN SUBJECT alpha",
    b'* ESEARCH (TAG "u1") UID COUNT 2\r\nu1 OK SEARCH done\r\n')
# UPDATE alone answers no result (RFC 5267 §4.3), only the updates.
one("s1", "SEARCH RETURN (UPDATE) FLAGGED", b'* ESEARCH (TAG "s1")\r\ns1 OK SEARCH done\r\n')
# RFC 5267 §4.3: a tag in use by a context is refused, the search not run.
one("u1", "SEARCH RETURN (UPDATE) ALL", b"u1 BAD tag reuse: that tag names an update context\r\n")
# This session's own change.
one("t1", "STORE 2 +FLAGS.SILENT (\\Flagged)", b'* ESEARCH (TAG "s1") ADDTO (0 2)\r\nt1 OK STORE done\r\n')
one("t2", "STORE 2 -FLAGS.SILENT (\\Flagged)", b'* ESEARCH (TAG "s1") REMOVEFROM (0 2)\r\nt2 OK STORE done\r\n')
# Another session: one message seen, one expunged, one appended.
m = login("alice@example.com")
ok(m.select("INBOX"))
ok(m.store("1", "+FLAGS", "(\\Seen)"))
ok(m.store("3", "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
ok(m.close())
ok(m.append("INBOX", None, None, b"Subject: alpha 5\r\n\r\nfive\r\n"))
# REMOVEFROM of the expunged one before its EXPUNGE (RFC 5267 §4.3.4),
# ADDTO after the EXISTS (§4.3.3).
one("n1", "NOOP",
    b'* ESEARCH (TAG "u1") UID REMOVEFROM (0 3)\r\n'
    b"* 3 EXPUNGE\r\n"
    b"* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n"
    b"* 4 EXISTS\r\n"
    b"* 4 RECENT\r\n"
    b'* ESEARCH (TAG "u1") UID REMOVEFROM (0 1)\r\n'
    b'* ESEARCH (TAG "u1") UID ADDTO (0 5)\r\n'
    b"n1 OK done\r\n")
# Sequence numbers for a plain SEARCH, shown as they stand when sent.
one("q1", "SEARCH RETURN (UPDATE ALL) SUBJECT alpha",
    b'* ESEARCH (TAG "q1") ALL 1,4\r\nq1 OK SEARCH done\r\n')
ok(m.select("INBOX"))
ok(m.store("1", "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
m.logout()
one("n2", "NOOP",
    b'* ESEARCH (TAG "q1") REMOVEFROM (0 1)\r\n'
    b"* 1 EXPUNGE\r\n"
    b"n2 OK done\r\n")
# During IDLE: the EXISTS, then the ADDTO.
s.sendall(b"i1 IDLE\r\n")
assert f.readline() == b"+ idling\r\n"
m = login("alice@example.com")
ok(m.append("INBOX", None, None, b"Subject: alpha 6\r\n\r\nsix\r\n"))
m.logout()
got = b""
while b"ESEARCH" not in got or got.count(b"\r\n") < 4:
    line = f.readline()
    assert line, got
    got += line
assert got == (b"* 4 EXISTS\r\n* 4 RECENT\r\n"
               b'* ESEARCH (TAG "u1") UID ADDTO (0 6)\r\n'
               b'* ESEARCH (TAG "q1") ADDTO (0 4)\r\n'), got
s.sendall(b"DONE\r\n")
assert f.readline() == b"i1 OK IDLE done\r\n"
# CANCELUPDATE (RFC 5267 §4.3.5): no more updates for that context.
one("c1", 'CANCELUPDATE "q1"', b"c1 OK CANCELUPDATE done\r\n")
one("c2", 'CANCELUPDATE "q1"', b"c2 NO no update context has the tag q1\r\n")
one("c3", "CANCELUPDATE q1", b"c3 BAD CANCELUPDATE takes the quoted tags of searches\r\n")
one("t3", "STORE 4 +FLAGS.SILENT (\\Seen)", b'* ESEARCH (TAG "u1") UID REMOVEFROM (0 6)\r\nt3 OK STORE done\r\n')
# RFC 5267 §4.3.1: past the limit, the search is answered and says it
# will not be updated.
for n in range(14):
    cmd(s, f, "k%d" % n, "SEARCH RETURN (UPDATE) DRAFT")
one("k14", "SEARCH RETURN (UPDATE COUNT) DRAFT",
    b'* ESEARCH (TAG "k14") COUNT 0\r\n'
    b'* NO [NOUPDATE "k14"] too many update contexts, results will not be updated\r\n'
    b"k14 OK SEARCH done\r\n")
# PARTIAL (RFC 5267 §4.4): positions of the result, one of it or ALL.
one("p1", "UID SEARCH RETURN (PARTIAL 2:9) ALL", b'* ESEARCH (TAG "p1") UID PARTIAL (2:9 4:6)\r\np1 OK SEARCH done\r\n')
one("p2", "SEARCH RETURN (PARTIAL 5:7) ALL", b'* ESEARCH (TAG "p2") PARTIAL (5:7 NIL)\r\np2 OK SEARCH done\r\n')
one("p3", "SEARCH RETURN (ALL PARTIAL 1:2) ALL", b"p3 BAD one ALL or PARTIAL, not both\r\n")
# Contexts end with the mailbox: a new SELECT, then a change, says nothing.
cmd(s, f, "s2", "SELECT INBOX")
one("t4", "STORE 4 -FLAGS.SILENT (\\Seen)", b"t4 OK STORE done\r\n")
one("u1", "SEARCH RETURN (UPDATE) SEEN", b'* ESEARCH (TAG "u1")\r\nu1 OK SEARCH done\r\n')
# A FETCH that sets \Seen changes a kept result too.
got = cmd(s, f, "f1", "FETCH 2 BODY[TEXT]")
assert got.startswith(b"* 2 FETCH (") and got.endswith(b'* ESEARCH (TAG "u1") ADDTO (0 2)\r\nf1 OK FETCH done\r\n'), got
"#,
    );
}

/// CONTEXT=SORT (RFC 5267 §4): a SORT with RETURN (UPDATE) is kept in
/// order; ADDTO and REMOVEFROM name the positions in the sorted result, each
/// pair applied after the ones before it, UIDs or sequence numbers in the
/// sort order.
#[test]
fn context_sort_updates_keep_positions() {
    let tmp = Temp::new("context-sort");
    let server = Server::start(&tmp.0);
    for (n, subject) in ["bravo", "delta", "foxtrot"].iter().enumerate() {
        server.deliver(
            "alice@example.com",
            &format!("170000000{n}.o.test"),
            &format!("Subject: {subject}\n\nbody {n}\n"),
        );
    }
    server.python(
        r#"
s, f = raw_login("alice@example.com")
cmd(s, f, "s", "SELECT INBOX")
def one(tag, line, want):
    got = cmd(s, f, tag, line)
    assert got == want, (line, got)
one("o1", "UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNDELETED",
    b'* ESEARCH (TAG "o1") UID ALL 1:3\r\no1 OK SORT done\r\n')
one("o2", "SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 UNDELETED",
    b'* ESEARCH (TAG "o2")\r\no2 OK SORT done\r\n')
m = login("alice@example.com")
for subject in [b"charlie", b"echo", b"alpha"]:
    ok(m.append("INBOX", None, None, b"Subject: " + subject + b"\r\n\r\nx\r\n"))
# alpha(6) bravo(1) charlie(4) delta(2) echo(5) foxtrot(3): the new ones
# land at 1, 3 and 5; reversed, at 2, 4 and 6 as sequence numbers.
one("n1", "NOOP",
    b"* 6 EXISTS\r\n* 6 RECENT\r\n"
    b'* ESEARCH (TAG "o1") UID ADDTO (1 6 3 4 5 5)\r\n'
    b'* ESEARCH (TAG "o2") ADDTO (2 5 4 4 6 6)\r\n'
    b"n1 OK done\r\n")
# bravo(1) and charlie(4) deleted: side by side at 2 in one, and at 4
# (then, charlie gone, 4 again) in the other.
ok(m.select("INBOX"))
ok(m.uid("STORE", "1,4", "+FLAGS.SILENT", "(\\Deleted)"))
one("n2", "NOOP",
    b"* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\n"
    b"* 4 FETCH (FLAGS (\\Deleted \\Recent))\r\n"
    b'* ESEARCH (TAG "o1") UID REMOVEFROM (2 1,4)\r\n'
    b'* ESEARCH (TAG "o2") REMOVEFROM (4 4,1)\r\n'
    b"n2 OK done\r\n")
ok(m.uid("STORE", "1", "-FLAGS.SILENT", "(\\Deleted)"))
ok(m.uid("STORE", "4", "-FLAGS.SILENT", "(\\Deleted)"))
ok(m.uid("STORE", "2,5", "+FLAGS.SILENT", "(\\Deleted)"))
ok(m.expunge())
m.logout()
# delta(2) and echo(5) expunged: REMOVEFROM before the EXPUNGEs, numbered
# as before them; bravo and charlie back in, side by side.
one("n3", "NOOP",
    b'* ESEARCH (TAG "o1") UID REMOVEFROM (2 2,5)\r\n'
    b'* ESEARCH (TAG "o2") REMOVEFROM (2 5,2)\r\n'
    b"* 2 EXPUNGE\r\n* 4 EXPUNGE\r\n"
    b"* 1 FETCH (FLAGS (\\Recent))\r\n"
    b"* 3 FETCH (FLAGS (\\Recent))\r\n"
    b'* ESEARCH (TAG "o1") UID ADDTO (2 1,4)\r\n'
    b'* ESEARCH (TAG "o2") ADDTO (2 3,1)\r\n'
    b"n3 OK done\r\n")
one("a", "UID SORT RETURN (ALL) (SUBJECT) UTF-8 UNDELETED", b'* ESEARCH (TAG "a") UID ALL 6,1,4,3\r\na OK SORT done\r\n')
"#,
    );
}

/// LIST-EXTENDED (RFC 5258) and LIST-STATUS (RFC 5819): several patterns,
/// the SUBSCRIBED and SPECIAL-USE selections, RECURSIVEMATCH with
/// CHILDINFO, `\NonExistent` for a subscribed name that is gone, and a
/// STATUS after each mailbox's LIST.
#[test]
fn list_extended_and_list_status() {
    let tmp = Temp::new("listext");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.l.test", PLAIN);
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY")
caps = caps.split(b"\r\n")[0].split()
assert b"LIST-EXTENDED" in caps and b"LIST-STATUS" in caps, caps
for n in ("Work", "Work.Old", "Work.New", "Gone"):
    assert cmd(s, f, "c", "CREATE " + n).startswith(b"c OK")
for n in ("Work.Old", "Gone"):
    assert cmd(s, f, "u", "SUBSCRIBE " + n).startswith(b"u OK")
assert cmd(s, f, "d", "DELETE Gone").startswith(b"d OK")
def one(tag, line, want):
    got = cmd(s, f, tag, line)
    assert got == b"".join(w + b"\r\n" for w in want) + tag.encode() + b" OK LIST done\r\n", (line, got)
one("a", 'LIST "" (INBOX Work.% Trash)', [
    b'* LIST (\\HasNoChildren) "." INBOX',
    b'* LIST (\\HasNoChildren \\Trash) "." Trash',
    b'* LIST (\\HasNoChildren) "." Work.New',
    b'* LIST (\\HasNoChildren) "." Work.Old',
])
one("b", 'LIST (SUBSCRIBED) "" "*"', [
    b'* LIST (\\HasNoChildren \\Subscribed \\Drafts) "." Drafts',
    b'* LIST (\\NonExistent \\Subscribed) "." Gone',
    b'* LIST (\\HasNoChildren \\Subscribed \\Junk) "." Junk',
    b'* LIST (\\HasNoChildren \\Subscribed \\Sent) "." Sent',
    b'* LIST (\\HasNoChildren \\Subscribed \\Trash) "." Trash',
    b'* LIST (\\HasNoChildren \\Subscribed) "." Work.Old',
])
one("c", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "W%" RETURN (CHILDREN)', [
    b'* LIST (\\HasChildren) "." Work ("CHILDINFO" ("SUBSCRIBED"))',
])
one("d", 'LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED)', [
    b'* LIST (\\HasNoChildren \\Subscribed \\Drafts) "." Drafts',
    b'* LIST (\\HasNoChildren \\Subscribed \\Junk) "." Junk',
    b'* LIST (\\HasNoChildren \\Subscribed \\Sent) "." Sent',
    b'* LIST (\\HasNoChildren \\Subscribed \\Trash) "." Trash',
])
one("e", 'LIST "" (INBOX Work) RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))', [
    b'* LIST (\\HasNoChildren) "." INBOX',
    b'* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDNEXT 2)',
    b'* LIST (\\HasChildren) "." Work',
    b'* STATUS Work (MESSAGES 0 UNSEEN 0 UIDNEXT 1)',
])
one("f", 'LIST () "" ""', [b'* LIST (\\Noselect) "." ""'])
for tag, line in (("x1", 'LIST (RECURSIVEMATCH) "" "*"'), ("x2", 'LIST (NOSUCH) "" "*"'),
                  ("x3", 'LIST "" "*" RETURN (NOSUCH)'), ("x4", 'LIST "" "*" RETURN (STATUS (NOSUCH))')):
    assert cmd(s, f, tag, line).startswith(tag.encode() + b" BAD"), line
# The base forms are unchanged.
got = cmd(s, f, "g", 'LIST "" Work')
assert got == b'* LIST (\\HasChildren) "." Work\r\ng OK LIST done\r\n', got
"#,
    );
}

/// MULTIAPPEND (RFC 3502): several messages in one APPEND are stored
/// together with their flags and dates and one APPENDUID set, durable
/// before the OK (they survive kill -9); when one cannot be stored (too
/// big, over quota, no such mailbox) none is.
#[test]
fn multiappend_stores_all_or_nothing() {
    let tmp = Temp::new("multiappend");
    let mut server = Server::start(&tmp.0);
    let out = server.python(
        r#"
s, f = raw_login("alice@example.com")
assert b"MULTIAPPEND" in cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
def lit(text):
    return "{%d+}\r\n%s" % (len(text.encode()), text)
one = "Subject: one\r\n\r\nfirst\r\n"
two = "Subject: two\r\n\r\nsecond\r\n"
got = cmd(s, f, "a", "APPEND Drafts (\\Draft) " + lit(one) + ' (\\Seen) "05-Nov-2026 10:00:00 +0000" ' + lit(two))
m = re.match(rb"a OK \[APPENDUID (\d+) 1:2\] APPEND done\r\n$", got)
assert m, got
# Synchronising literals: the server asks for each.
s.sendall(b"b APPEND Drafts {3}\r\n")
assert f.readline().startswith(b"+ ")
s.sendall(b"x\r\n {3}\r\n")
assert f.readline().startswith(b"+ ")
s.sendall(b"y\r\n\r\n")
got = f.readline()
assert re.match(rb"b OK \[APPENDUID \d+ 3:4\] APPEND done\r\n$", got), got
print(m.group(1).decode())
"#,
    );
    let validity = out.trim().to_string();
    server.restart();
    server.python(&format!(
        r#"
s, f = raw_login("alice@example.com")
cmd(s, f, "s", "EXAMINE Drafts")
got = cmd(s, f, "f", "FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)")
# (\Recent: nobody has selected Drafts since.)
assert got.startswith(b"* 1 FETCH (UID 1 FLAGS (\\Draft \\Recent) INTERNALDATE ") and b"RFC822.SIZE 23)" in got, got
assert b'* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) INTERNALDATE "05-Nov-2026 10:00:00 +0000" RFC822.SIZE 24)' in got, got
assert len(re.findall(rb"^\* \d+ FETCH", got, re.M)) == 4, got
assert b"[UIDVALIDITY {validity}]" in cmd(s, f, "s2", "EXAMINE Drafts")
# None of these is stored at all.
assert cmd(s, f, "n1", 'APPEND Nowhere {{1+}}\r\na {{1+}}\r\nb').startswith(b"n1 NO [TRYCREATE]")
s, f = raw_login("carol@example.org")
got = cmd(s, f, "n2", "APPEND INBOX {{2000+}}\r\n" + "a" * 2000 + " {{3000+}}\r\n" + "b" * 3000)
assert got.startswith(b"n2 NO [OVERQUOTA]"), got
got = cmd(s, f, "st", "STATUS INBOX (MESSAGES)")
assert b"(MESSAGES 0)" in got, got
"#
    ));
}

/// The IMAP conversation of Debian's Roundcube 1.6.5 as it ran against
/// `mailc serve` (its own IMAP log, in tests/imap_clients.rs's browser
/// session): one connection per web request, each logging in with
/// `AUTHENTICATE PLAIN` and an initial response, then `ID`; the login
/// page's folder list, the mail page, the INBOX listed as it first comes,
/// the unread counts, sorted by date both ways, the threads view and back,
/// and a message opened. The same commands, byte for byte, over the same
/// five messages, each reply read as Roundcube reads it.
#[test]
fn roundcube_command_sequence() {
    let tmp = Temp::new("roundcube");
    let server = Server::start(&tmp.0);
    // The mailbox of that session.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/imap_clients/inbox");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        server.deliver("alice@example.com", &name.to_string_lossy(), &text);
    }
    server.python(
        r#"
ID = '"name" "Roundcube" "version" "1.6.5" "php" "8.2.36" "os" "Linux" "command" "%s"'
PLAIN = base64.b64encode(b"\0alice@example.com\0alice-pw").decode()
HEADERS = ("DATE FROM TO SUBJECT CONTENT-TYPE CC REPLY-TO LIST-POST "
           "DISPOSITION-NOTIFICATION-TO X-PRIORITY")
LIST_FETCH = "UID FETCH 1:5 (UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (%s)])" % HEADERS
SUBSCRIBED = (b'* LIST (\\HasNoChildren \\Subscribed \\Drafts) "." Drafts\r\n'
              b'* LIST (\\HasNoChildren \\Subscribed \\Junk) "." Junk\r\n'
              b'* LIST (\\HasNoChildren \\Subscribed \\Sent) "." Sent\r\n'
              b'* LIST (\\HasNoChildren \\Subscribed \\Trash) "." Trash\r\n')
def norm(b):
    """The reply with what differs from run to run (dates of arrival,
    UIDVALIDITY) written as X."""
    b = re.sub(rb'INTERNALDATE "[^"]*"', b'INTERNALDATE "X"', b)
    return re.sub(rb"UIDVALIDITY \d+", b"UIDVALIDITY X", b)
def request(page, commands):
    """One web request: a connection, its commands (the A0001 login and
    A0002 ID first, LOGOUT last), each reply checked as it comes."""
    s = socket.create_connection((HOST, PORT), timeout=60)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK [CAPABILITY IMAP4REV1 ")
    got = cmd(s, f, "A0001", "AUTHENTICATE PLAIN " + PLAIN)
    assert re.fullmatch(rb"A0001 OK \[CAPABILITY IMAP4REV1 [^]]* CONTEXT=SEARCH CONTEXT=SORT [^]]*\] logged in\r\n", got), got
    got = cmd(s, f, "A0002", "ID (" + ID % page + ")")
    assert got == b'* ID ("name" "mailc")\r\nA0002 OK ID done\r\n', got
    n = 3
    for line, want in commands + [("LOGOUT", b"* BYE logging out\r\n")]:
        tag = "A%04d" % n
        got = norm(cmd(s, f, tag, line))
        done = b"%s OK " % tag.encode()
        if isinstance(want, bytes):
            verb = line.split()[1] if line.startswith("UID ") else line.split()[0]
            want += done + {"SELECT": b"[READ-WRITE] SELECT", "LOGOUT": b"logged"}.get(verb, verb.encode()) 
            want += b" out\r\n" if verb == "LOGOUT" else b" done\r\n"
            assert got == want, (line, got, want)
        else:
            assert want(got) and got.endswith(b"\r\n") and done in got, (line, got)
        n += 1
    s.close()
SELECTED = (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            b"* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] first unseen\r\n"
            b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags kept\r\n"
            b"* OK [UIDVALIDITY X] UIDs valid\r\n* OK [UIDNEXT 6] next UID\r\n"
            b"* OK [HIGHESTMODSEQ 6] highest mod-sequence\r\n")
# The first to select the INBOX has the five as \Recent.
FIRST = SELECTED.replace(b"* 0 RECENT", b"* 5 RECENT")
SIZES = [176, 174, 243, 468, 275]
def listed(got, flags=b""):
    """The message list's header fetch: the five, in UID order."""
    rows = re.findall(rb"\* (\d) FETCH \(UID (\d) RFC822.SIZE (\d+) FLAGS \(" + re.escape(flags) + rb"\) INTERNALDATE \"X\" "
                      rb"BODY\[HEADER.FIELDS \(" + HEADERS.encode() + rb"\)\] \{\d+\}\r\n", got)
    return rows == [(b"%d" % i, b"%d" % i, b"%d" % z) for i, z in enumerate(SIZES, 1)]
STATUS = (b"* STATUS INBOX (MESSAGES 5 UNSEEN 5)\r\n")
# The login page: folders by special use.
request("/?_task=login", [
    ("NAMESPACE", b'* NAMESPACE (("" ".")) NIL NIL\r\n'),
    ('LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED)', SUBSCRIBED),
])
# The mail page around the list.
request("/?_task=mail&_token=OHKPnHf4Ln0l5jlFoqsoRBBWGcP26KT4", [
    ('LIST (SUBSCRIBED) "" "*"', SUBSCRIBED),
    ("GETQUOTAROOT INBOX", b"* QUOTAROOT INBOX\r\n"),
])
# The INBOX as it first comes.
request("/?_task=mail&_action=list&_refresh=1&_layout=widescreen&_mbox=INBOX&_page=&_remote=1&_unlock=loading1796686439942&_=1796686439518", [
    ("STATUS INBOX (MESSAGES UNSEEN)", STATUS),
    ("SELECT INBOX", FIRST),
    ("UID SEARCH 5", b"* SEARCH 5\r\n"),
    ("UID SEARCH ALL", b"* SEARCH 1 2 3 4 5\r\n"),
    (LIST_FETCH, lambda got: listed(got, b"\\Recent")),
    ("GETQUOTAROOT INBOX", b"* QUOTAROOT INBOX\r\n"),
])
# Unread counts of every folder.
request("/?_task=mail&_action=getunread&_page=1&_remote=1&_unlock=0&_=1796686439519", [
    ('LIST (SUBSCRIBED) "" "*"', SUBSCRIBED),
    ("STATUS INBOX (MESSAGES UNSEEN)", STATUS),
] + [("STATUS %s (MESSAGES UNSEEN)" % b, b"* STATUS %s (MESSAGES 0 UNSEEN 0)\r\n" % b.encode())
     for b in ["Drafts", "Sent", "Junk", "Trash"]])
# Sorted by date, ascending then descending: the same UID SORT.
for order, unlock, n in [("date_ASC", "1796686440928", "0"), ("date_DESC", "1796686441701", "1")]:
    request("/?_task=mail&_action=list&_sort=%s&_layout=widescreen&_mbox=INBOX&_page=&_remote=1&_unlock=loading%s&_=179668643952%s" % (order, unlock, n), [
        ("STATUS INBOX (MESSAGES UNSEEN)", STATUS),
        ("SELECT INBOX", SELECTED),
        ("UID SEARCH 5", b"* SEARCH 5\r\n"),
        ("UID SORT (DATE) US-ASCII ALL", b"* SORT 2 4 3 1 5\r\n"),
        (LIST_FETCH, listed),
        ("GETQUOTAROOT INBOX", b"* QUOTAROOT INBOX\r\n"),
    ])
# The threads view.
request("/?_task=mail&_action=list&_threads=1&_sort=date_ASC&_layout=widescreen&_mbox=INBOX&_page=&_remote=1&_unlock=loading1796686442384&_=1796686439522", [
    ("SELECT INBOX", SELECTED),
    ("UID THREAD REFERENCES US-ASCII ALL", b"* THREAD (2 3 5)(4)(1)\r\n"),
    ("UID SEARCH 5", b"* SEARCH 5\r\n"),
    ("UID SORT (DATE) US-ASCII ALL", b"* SORT 2 4 3 1 5\r\n"),
    (LIST_FETCH, listed),
    ("STATUS INBOX (MESSAGES UNSEEN)", STATUS),
    ("GETQUOTAROOT INBOX", b"* QUOTAROOT INBOX\r\n"),
])
# And back to the plain list, newest first.
request("/?_task=mail&_action=list&_threads=0&_sort=date_DESC&_layout=widescreen&_mbox=INBOX&_page=&_remote=1&_unlock=loading1796686442951&_=1796686439523", [
    ("STATUS INBOX (MESSAGES UNSEEN)", STATUS),
    ("SELECT INBOX", SELECTED),
    ("UID SEARCH 5", b"* SEARCH 5\r\n"),
    ("UID SORT (DATE) US-ASCII ALL", b"* SORT 2 4 3 1 5\r\n"),
    (LIST_FETCH, listed),
    ("GETQUOTAROOT INBOX", b"* QUOTAROOT INBOX\r\n"),
])
# The report opened in the preview: its structure and headers, the
# attachment's MIME header, the text part, then marked seen.
PREVIEW = ("UID FETCH 4 (UID RFC822.SIZE FLAGS INTERNALDATE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS ("
           "DATE FROM TO SUBJECT CONTENT-TYPE CC REPLY-TO LIST-POST DISPOSITION-NOTIFICATION-TO "
           "X-PRIORITY CONTENT-TRANSFER-ENCODING BCC IN-REPLY-TO MAIL-FOLLOWUP-TO MAIL-REPLY-TO "
           "MESSAGE-ID REFERENCES RESENT-BCC RETURN-PATH SENDER X-DRAFT-INFO)])")
STRUCTURE = (b'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 33 1 NIL NIL NIL NIL)'
             b'("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 12 NIL '
             b'("attachment" ("FILENAME" "report.pdf")) NIL NIL) "MIXED" ("BOUNDARY" "B") NIL NIL NIL)')
request("/?_task=mail&_caps=pdf%3D1%2Cflash%3D0%2Ctiff%3D0%2Cwebp%3D1%2Cpgpmime%3D0&_uid=4&_mbox=INBOX&_framed=1&_action=preview", [
    ("SELECT INBOX", SELECTED),
    (PREVIEW, lambda got: got.startswith(b'* 4 FETCH (UID 4 RFC822.SIZE 468 FLAGS () INTERNALDATE "X" ' + STRUCTURE)
                          and b"Subject: the report\r\n" in got and b"Message-ID: <report@example.com>\r\n" in got),
    ("UID FETCH 4 (BODY.PEEK[2.MIME])",
     b'* 4 FETCH (UID 4 BODY[2.MIME] {143}\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
     b'Content-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n)\r\n'),
    ('LIST (SUBSCRIBED) "" "*"', SUBSCRIBED),
    ("UID FETCH 4 (BODY.PEEK[1])", b"* 4 FETCH (UID 4 BODY[1] {33}\r\nHere is the report you asked for.)\r\n"),
    ("UID STORE 4 +FLAGS.SILENT (\\Seen)", b""),
])
"#,
    );
}

/// UTF8=ACCEPT (RFC 6855): an IMAP4rev1 client names mailboxes in modified
/// UTF-7, stored so on disk as Dovecot stores Maildir++ folders; after
/// `ENABLE UTF8=ACCEPT` the same mailboxes are UTF-8 both ways (LIST, LSUB,
/// STATUS, SELECT, CREATE), APPEND takes `UTF8 (~{n}...)`, SEARCH refuses
/// a CHARSET and SORT one other than UTF-8; a message with UTF-8 headers
/// is served as it is, to either kind of client.
#[test]
fn utf8_accept_names_append_and_search() {
    let tmp = Temp::new("utf8");
    let server = Server::start(&tmp.0);
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
assert b"UTF8=ACCEPT" in caps, caps
# Before ENABLE: modified UTF-7, checked.
assert cmd(s, f, "c1", 'CREATE "Entw&APw-rfe"').startswith(b"c1 OK")
got = cmd(s, f, "c2", 'CREATE "a&b"')
assert got == b"c2 NO mailbox name is not valid modified UTF-7\r\n", got
got = cmd(s, f, "l1", 'LIST "" "Entw*"')
assert got == b'* LIST (\\HasNoChildren) "." Entw&APw-rfe\r\nl1 OK LIST done\r\n', got
msg = "From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nHallo\r\n".encode()
s.sendall(b"a0 APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
got = f.readline()
assert got == b"a0 BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT first\r\n", got
got = cmd(s, f, "e", "ENABLE UTF8=ACCEPT")
assert got == b"* ENABLED UTF8=ACCEPT\r\ne OK ENABLE done\r\n", got
def u(tag, line):
    s.sendall(("%s %s\r\n" % (tag, line)).encode())
    out = b""
    while True:
        l = f.readline()
        out += l
        if l.startswith(tag.encode() + b" "):
            return out.decode()
# After it: UTF-8 names, in quoted strings.
assert u("l2", 'LIST "" "Entw*"') == '* LIST (\\HasNoChildren) "." "Entw\u00fcrfe"\r\nl2 OK LIST done\r\n'
assert u("c3", 'CREATE "Gr\u00f6\u00dfe.\u00dcbersicht"').startswith("c3 OK")
assert u("c4", 'CREATE "A & B"').startswith("c4 OK")
assert u("c5", 'CREATE "&AOQ-"').startswith("c5 OK")
assert u("su", 'SUBSCRIBE "Gr\u00f6\u00dfe"').startswith("su OK")
home = os.path.join(DATA, "mail", "example.com", "alice")
on_disk = sorted(n for n in os.listdir(home) if n.startswith("."))
for want in (".&-AOQ-", ".A &- B", ".Entw&APw-rfe", ".Gr&APYA3w-e", ".Gr&APYA3w-e.&ANw-bersicht"):
    assert want in on_disk, (want, on_disk)
got = u("l3", 'LIST "" "Gr%"')
assert got == '* LIST (\\HasChildren) "." "Gr\u00f6\u00dfe"\r\nl3 OK LIST done\r\n', got
got = u("l4", 'LIST "" "*\u00dcber*"')
assert got == '* LIST (\\HasNoChildren) "." "Gr\u00f6\u00dfe.\u00dcbersicht"\r\nl4 OK LIST done\r\n', got
got = u("l5", 'LSUB "" "Gr*"')
assert got == '* LSUB (\\HasChildren) "." "Gr\u00f6\u00dfe"\r\nl5 OK LSUB done\r\n', got
got = u("l6", 'LIST "" "Gr\u00f6\u00dfe" RETURN (STATUS (MESSAGES))')
assert got == ('* LIST (\\HasChildren) "." "Gr\u00f6\u00dfe"\r\n'
               '* STATUS "Gr\u00f6\u00dfe" (MESSAGES 0)\r\nl6 OK LIST done\r\n'), got
# A mailbox name with an `&` of its own is taken as it is.
got = u("l7", 'LIST "" "&*"')
assert got == '* LIST (\\HasNoChildren) "." &AOQ-\r\nl7 OK LIST done\r\n', got
# APPEND UTF8, a synchronising literal8 as RFC 6855 writes it.
s.sendall(('a1 APPEND "Entw\u00fcrfe" (\\Seen) UTF8 (~{%d}\r\n' % len(msg)).encode())
assert f.readline().startswith(b"+ ")
s.sendall(msg + b")\r\n")
got = f.readline()
assert re.match(rb"a1 OK \[APPENDUID \d+ 1\] APPEND done\r\n$", got), got
got = u("st", 'STATUS "Entw\u00fcrfe" (MESSAGES)')
assert got == '* STATUS "Entw\u00fcrfe" (MESSAGES 1)\r\nst OK STATUS done\r\n', got
got = u("se", 'SELECT "Entw\u00fcrfe"')
assert got.endswith("se OK [READ-WRITE] SELECT done\r\n") and "* 1 EXISTS\r\n" in got, got
# Served as it came.
got = cmd(s, f, "f1", "FETCH 1 BODY.PEEK[HEADER]")
assert msg[:-len(b"Hallo\r\n")] in got, got
got = u("s1", 'SEARCH SUBJECT "Gr\u00fc\u00dfe"')
assert got == "* SEARCH 1\r\ns1 OK SEARCH done\r\n", got
got = u("s2", "SEARCH CHARSET UTF-8 SUBJECT x")
assert got == "s2 BAD no CHARSET after ENABLE UTF8=ACCEPT\r\n", got
got = u("s3", "UID SORT (SUBJECT) US-ASCII ALL")
assert got == "s3 BAD only UTF-8 after ENABLE UTF8=ACCEPT\r\n", got
got = u("s4", "UID SORT (SUBJECT) UTF-8 ALL")
assert got == "* SORT 1\r\ns4 OK SORT done\r\n", got
got = u("s5", "SEARCH RETURN (COUNT) CHARSET UTF-8 ALL")
assert got == "s5 BAD no CHARSET after ENABLE UTF8=ACCEPT\r\n", got
got = u("r", 'RENAME "A & B" "\u65e5\u672c\u8a9e"')
assert got.startswith("r OK"), got
assert ".&ZeVnLIqe-" in os.listdir(home)
# An IMAP4rev1 session sees the same mailboxes in modified UTF-7, and
# the UTF-8 headers as they are (what Dovecot does: no downgrade).
s2, f2 = raw_login("alice@example.com")
got = cmd(s2, f2, "l", 'LIST "" "Gr*"')
assert got == (b'* LIST (\\HasChildren) "." Gr&APYA3w-e\r\n'
               b'* LIST (\\HasNoChildren) "." Gr&APYA3w-e.&ANw-bersicht\r\nl OK LIST done\r\n'), got
assert cmd(s2, f2, "x", 'EXAMINE "Entw&APw-rfe"').startswith(b"* FLAGS")
got = cmd(s2, f2, "f", "FETCH 1 BODY.PEEK[HEADER]")
assert msg[:-len(b"Hallo\r\n")] in got, got
# A UTF-8 name from a client that did not enable it is refused.
got = cmd(s2, f2, "c", 'CREATE "Gr\u00f6\u00dfe2"')
assert got.startswith(b"c NO invalid mailbox name"), got
# imaplib's own ENABLE.
m = login("alice@example.com")
ok(m.enable("UTF8=ACCEPT"))
names = ok(m.list('""', '"Entw*"'))
assert names == ['(\\HasNoChildren) "." "Entw\u00fcrfe"'.encode()], names
typ, data = m.select('"Entw\u00fcrfe"')
assert typ == "OK" and data == [b"1"], (typ, data)
"#,
    );
}

/// SEARCHRES (RFC 5182) and STATUS=SIZE (RFC 8438): `SEARCH RETURN (SAVE)`
/// keeps a result (SAVE alone answers no ESEARCH; with MIN or MAX only
/// those are kept) that `$` stands for in FETCH, STORE, COPY, SEARCH and
/// their UID forms, emptied of expunged messages and by a SAVE that
/// failed; an empty result acts on nothing. STATUS SIZE is the octets of
/// the mailbox's messages.
#[test]
fn searchres_and_status_size() {
    let tmp = Temp::new("searchres");
    let server = Server::start(&tmp.0);
    for (i, subject) in ["alpha", "beta", "alpha again", "gamma"].iter().enumerate() {
        server.deliver(
            "alice@example.com",
            &format!("170000000{i}.s.test"),
            &format!("Subject: {subject}\n\nbody {i}\n"),
        );
    }
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
assert b"SEARCHRES" in caps and b"STATUS=SIZE" in caps, caps
got = cmd(s, f, "z", "STATUS INBOX (MESSAGES SIZE DELETED)")
assert got == b"* STATUS INBOX (MESSAGES 4 SIZE 109 DELETED 0)\r\nz OK STATUS done\r\n", got
cmd(s, f, "s", "SELECT INBOX")
# Nothing saved yet: $ is no message.
assert cmd(s, f, "e0", "FETCH $ FLAGS") == b"e0 OK FETCH done\r\n"
assert cmd(s, f, "e1", "SEARCH $") == b"* SEARCH\r\ne1 OK SEARCH done\r\n"
got = cmd(s, f, "a", "SEARCH RETURN (SAVE) SUBJECT alpha")
assert got == b"a OK SEARCH done\r\n", got
got = cmd(s, f, "b", "FETCH $ (UID)")
assert got == b"* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\nb OK FETCH done\r\n", got
got = cmd(s, f, "c", "UID STORE $ +FLAGS.SILENT (\\Flagged)")
assert got == b"c OK STORE done\r\n", got
got = cmd(s, f, "d", "SEARCH FLAGGED NOT $")
assert got == b"* SEARCH\r\nd OK SEARCH done\r\n", got
got = cmd(s, f, "d2", "UID SEARCH UID $")
assert got == b"* SEARCH 1 3\r\nd2 OK SEARCH done\r\n", got
got = cmd(s, f, "g", "COPY $ Trash")
assert re.match(rb"g OK \[COPYUID \d+ 1,3 1:2\] COPY done\r\n$", got), got
# MAX with SAVE keeps only the last; ESEARCH answers for MAX.
got = cmd(s, f, "h", "UID SEARCH RETURN (SAVE MAX) ALL")
assert got == b'* ESEARCH (TAG "h") UID MAX 4\r\nh OK SEARCH done\r\n', got
got = cmd(s, f, "i", "FETCH $ (UID)")
assert got == b"* 4 FETCH (UID 4)\r\ni OK FETCH done\r\n", got
# An expunged message leaves the saved result.
cmd(s, f, "j", "STORE 4 +FLAGS.SILENT (\\Deleted)")
assert cmd(s, f, "k", "EXPUNGE") == b"* 4 EXPUNGE\r\nk OK EXPUNGE done\r\n"
assert cmd(s, f, "l", "UID FETCH $ (FLAGS)") == b"l OK FETCH done\r\n"
# `$` in a string is a dollar.
assert cmd(s, f, "m", 'SEARCH SUBJECT "$"') == b"* SEARCH\r\nm OK SEARCH done\r\n"
assert cmd(s, f, "n", "SEARCH RETURN (SAVE) NOSUCHKEY").startswith(b"n BAD")
# RFC 5182 §2.1: a SEARCH or SORT that asked to SAVE and failed, malformed
# or refused, leaves `$` empty rather than the result saved before.
for n, failing in enumerate([b"SEARCH RETURN (SAVE) NOSUCHKEY",
                             b"SEARCH RETURN (SAVE FUZZY) ALL",
                             b"UID SORT RETURN (SAVE) (DATE) KOI8-R ALL",
                             b"SEARCH RETURN (SAVE ALL PARTIAL 1:2) ALL"]):
    assert cmd(s, f, "o%d" % n, "SEARCH RETURN (SAVE) SUBJECT alpha") == b"o%d OK SEARCH done\r\n" % n
    assert cmd(s, f, "p%d" % n, "SEARCH $") == b"* SEARCH 1 3\r\np%d OK SEARCH done\r\n" % n
    got = cmd(s, f, "q%d" % n, failing.decode())
    assert re.match(rb"q%d (BAD|NO) " % n, got), got
    assert cmd(s, f, "r%d" % n, "SEARCH $") == b"* SEARCH\r\nr%d OK SEARCH done\r\n" % n
    assert cmd(s, f, "t%d" % n, "FETCH $ (UID)") == b"t%d OK FETCH done\r\n" % n
# A failing command that did not ask to SAVE leaves it alone.
cmd(s, f, "u", "SEARCH RETURN (SAVE) SUBJECT alpha")
assert cmd(s, f, "v", "SEARCH NOSUCHKEY").startswith(b"v BAD")
assert cmd(s, f, "w", "SEARCH $") == b"* SEARCH 1 3\r\nw OK SEARCH done\r\n"
"#,
    );
}

/// IMAP4rev2 (RFC 9051) beside IMAP4rev1, offered once every extension it
/// folds in is (BINARY among them): after `ENABLE IMAP4rev2` nothing is
/// `\Recent` and no RECENT is sent, SELECT gives the mailbox's LIST and no
/// UNSEEN, SEARCH is answered with ESEARCH, names are UTF-8; an IMAP4rev1
/// session on the same mailbox is unchanged.
#[test]
fn imap4rev2_after_enable() {
    let tmp = Temp::new("rev2");
    let server = Server::start(&tmp.0);
    server.deliver("alice@example.com", "1700000001.v.test", PLAIN);
    server.deliver("alice@example.com", "1700000002.v.test", MIXED);
    server.python(
        r#"
s, f = raw_login("alice@example.com")
caps = cmd(s, f, "c", "CAPABILITY").split(b"\r\n")[0].split()
assert caps[:4] == [b"*", b"CAPABILITY", b"IMAP4REV1", b"IMAP4rev2"], caps
got = cmd(s, f, "e", "ENABLE IMAP4rev2")
assert got == b"* ENABLED IMAP4rev2\r\ne OK ENABLE done\r\n", got
got = cmd(s, f, "s", "SELECT INBOX")
lines = got.split(b"\r\n")
assert not any(b"RECENT" in l or b"[UNSEEN" in l for l in lines), got
assert lines[-3:] == [b'* LIST (\\HasNoChildren) "." INBOX', b"s OK [READ-WRITE] SELECT done", b""], got
assert b"* 2 EXISTS" in lines, got
got = cmd(s, f, "f", "FETCH 1:* FLAGS")
assert got == b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\nf OK FETCH done\r\n", got
got = cmd(s, f, "q1", "SEARCH ALL")
assert got == b'* ESEARCH (TAG "q1") ALL 1:2\r\nq1 OK SEARCH done\r\n', got
got = cmd(s, f, "q2", "UID SEARCH SUBJECT nothing-like-this")
assert got == b'* ESEARCH (TAG "q2") UID\r\nq2 OK SEARCH done\r\n', got
# RFC 9051 keeps SEARCH's CHARSET.
got = cmd(s, f, "q3", "UID SEARCH CHARSET UTF-8 SUBJECT report")
assert got == b'* ESEARCH (TAG "q3") UID ALL 2\r\nq3 OK SEARCH done\r\n', got
got = cmd(s, f, "q4", "SEARCH RETURN (COUNT) ALL")
assert got == b'* ESEARCH (TAG "q4") COUNT 2\r\nq4 OK SEARCH done\r\n', got
# New mail: EXISTS alone.
home = os.path.join(DATA, "mail", "example.com", "alice")
with open(os.path.join(home, "tmp", "1700000003.v.test"), "wb") as m:
    m.write(b"Subject: third\r\n\r\nthree\r\n")
os.rename(os.path.join(home, "tmp", "1700000003.v.test"), os.path.join(home, "new", "1700000003.v.test"))
got = cmd(s, f, "n", "NOOP")
assert got == b"* 3 EXISTS\r\nn OK done\r\n", got
got = cmd(s, f, "st", "STATUS INBOX (MESSAGES SIZE DELETED)")
assert re.fullmatch(rb"\* STATUS INBOX \(MESSAGES 3 SIZE \d+ DELETED 0\)\r\nst OK STATUS done\r\n", got), got
# UTF-8 mailbox names, as in RFC 9051 §5.1.
assert cmd(s, f, "m", 'CREATE "Gr\u00f6\u00dfe"').startswith(b"m OK")
s.sendall('l LIST "" "Gr*"\r\n'.encode())
got = f.readline() + f.readline()
assert got == '* LIST (\\HasNoChildren) "." "Gr\u00f6\u00dfe"\r\nl OK LIST done\r\n'.encode(), got
# An IMAP4rev1 session still gets RECENT and UNSEEN, and SEARCH.
s2, f2 = raw_login("alice@example.com")
got = cmd(s2, f2, "x", "EXAMINE INBOX")
assert b"* 0 RECENT\r\n" in got and b"[UNSEEN 1]" in got and b"* LIST" not in got, got
assert cmd(s2, f2, "y", "SEARCH ALL") == b"* SEARCH 1 2 3\r\ny OK SEARCH done\r\n"
"#,
    );
}
