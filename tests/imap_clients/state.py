"""Both sides of an mbsync channel as JSON, for tests/imap_clients.rs.

Usage: state.py PORT USER PASSWORD MAILDIR

"imap": every mailbox `mailc serve` lists, read with imaplib (CONDSTORE
enabled): UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and per message its UID,
flags, MODSEQ, Message-ID and the SHA-256 of its bytes (line ends as LF).
"maildir": every folder of the local Maildir tree (a subfolder `a/b` is the
mailbox `a.b`), per message file its name, flags (from the `:2,` info),
Message-ID and SHA-256, and the pairs of UIDs mbsync's `.mbsyncstate`
records with the far side's UIDVALIDITY.
"""
import hashlib, imaplib, json, os, re, sys

port, user, password, maildir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def digest(raw):
    """The message's SHA-256, line ends as LF, without the X-TUID header
    mbsync writes into the messages it copies (its own tracking mark)."""
    raw = raw.replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    head = re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", head + b"\n")[:-1]
    return hashlib.sha256(head + sep + body).hexdigest()


def message_id(raw):
    m = re.search(rb"^Message-ID:\s*(\S+)", raw, re.I | re.M)
    return m.group(1).decode() if m else None


def imap_side():
    m = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    assert m.login(user, password)[0] == "OK"
    assert m.enable("CONDSTORE")[0] == "OK"
    typ, lines = m.list()
    assert typ == "OK", lines
    boxes = {}
    for line in lines:
        name = line.decode().rsplit(' "." ', 1)[1].strip('"')
        typ, st = m.status('"%s"' % name, "(UIDVALIDITY UIDNEXT HIGHESTMODSEQ MESSAGES)")
        assert typ == "OK", st
        fields = dict(re.findall(r"([A-Z]+) (\d+)", st[0].decode().split("(", 1)[1]))
        box = {k.lower(): int(v) for k, v in fields.items()}
        typ, _ = m.select('"%s"' % name, readonly=True)
        assert typ == "OK"
        msgs = []
        if box["messages"]:
            typ, data = m.uid("FETCH", "1:*", "(UID FLAGS MODSEQ BODY.PEEK[])")
            assert typ == "OK", data
            for part in data:
                if not isinstance(part, tuple):
                    continue
                head = part[0].decode()
                flags = re.search(r"FLAGS \(([^)]*)\)", head).group(1).split()
                msgs.append({
                    "uid": int(re.search(r"UID (\d+)", head).group(1)),
                    "modseq": int(re.search(r"MODSEQ \((\d+)\)", head).group(1)),
                    "flags": sorted(f for f in flags if f != "\\Recent"),
                    "id": message_id(part[1]),
                    "sha": digest(part[1]),
                })
        m.close()
        box["messages"] = sorted(msgs, key=lambda x: x["uid"])
        boxes[name] = box
    m.logout()
    return boxes


def maildir_side():
    boxes = {}
    for dirpath, dirnames, filenames in os.walk(maildir):
        dirnames.sort()
        if not {"cur", "new", "tmp"} <= set(dirnames):
            continue
        name = os.path.relpath(dirpath, maildir).replace(os.sep, ".")
        msgs = []
        for sub in ("cur", "new"):
            for f in sorted(os.listdir(os.path.join(dirpath, sub))):
                raw = open(os.path.join(dirpath, sub, f), "rb").read()
                info = f.split(":2,", 1)[1] if ":2," in f else ""
                msgs.append({
                    "file": sub + "/" + f,
                    "flags": sorted(LETTERS[c] for c in info if c in LETTERS),
                    "id": message_id(raw),
                    "sha": digest(raw),
                })
        state = {"far_uidvalidity": None, "pairs": []}
        path = os.path.join(dirpath, ".mbsyncstate")
        if os.path.exists(path):
            header, _, rows = open(path).read().partition("\n\n")
            for line in header.splitlines():
                k, v = line.split(" ", 1)
                if k == "FarUidValidity":
                    state["far_uidvalidity"] = int(v)
            for row in rows.splitlines():
                far, near = row.split()[:2]
                state["pairs"].append([int(far), int(near)])
        boxes[name] = {"messages": msgs, "state": state}
        dirnames[:] = [d for d in dirnames if d not in ("cur", "new", "tmp")]
    return boxes


json.dump({"imap": imap_side(), "maildir": maildir_side()}, sys.stdout, indent=1, sort_keys=True)
