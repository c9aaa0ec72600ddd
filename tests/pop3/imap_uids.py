#!/usr/bin/env python3
"""The INBOX's UIDVALIDITY and UIDs over IMAP with Python's imaplib, for
mailc's POP3 tests (a POP3 UIDL is both, in hex).

usage: imap_uids.py PORT USER PASSWORD   (the server is 127.0.0.1; the login
is plaintext, which servers allow from the same host)

Prints {"uidvalidity": N, "uids": [UID, ...], "seen": [UID, ...]}.
"""
import imaplib
import json
import re
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
m.login(user, password)
typ, _ = m.select("INBOX", readonly=True)
assert typ == "OK"
typ, data = m.response("UIDVALIDITY")
uidvalidity = int(data[0])
typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
uids, seen = [], []
for line in data:
    if not line:
        continue
    line = line.decode() if isinstance(line, bytes) else line
    u = re.search(r"UID (\d+)", line)
    if u:
        uids.append(int(u.group(1)))
        if "\\Seen" in line:
            seen.append(int(u.group(1)))
m.logout()
print(json.dumps({"uidvalidity": uidvalidity, "uids": sorted(uids), "seen": sorted(seen)}))
