#!/usr/bin/env python3
"""One POP3 session with Python's poplib, for mailc's tests.

usage: session.py PORT ACTION...   (the server is 127.0.0.1)

Actions, run in order: tls (implicit TLS from the start), stls, capa,
user:NAME, pass:PASSWORD, login:NAME:PASSWORD (USER/PASS), plain:NAME:PASSWORD
(AUTH PLAIN, RFC 5034), stat, list, uidl, uidl:N, retr:N, top:N:LINES,
dele:N, rset, noop, quit, drop (close without QUIT).

Prints one JSON list: per action, {"ok": ...} with what the server said, or
{"err": "..."} with its -ERR line. Certificates are not checked (tests).
"""
import base64
import json
import poplib
import ssl
import sys


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def main():
    port = int(sys.argv[1])
    actions = sys.argv[2:]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if actions and actions[0] == "tls":
        p = poplib.POP3_SSL("127.0.0.1", port, timeout=30, context=ctx)
        actions = actions[1:]
    else:
        p = poplib.POP3("127.0.0.1", port, timeout=30)
    out = [{"ok": text(p.getwelcome())}]
    for a in actions:
        name, _, arg = a.partition(":")
        try:
            if name == "stls":
                r = text(p.stls(ctx))
            elif name == "capa":
                r = {k: v for k, v in p.capa().items()}
            elif name == "user":
                r = text(p.user(arg))
            elif name == "pass":
                r = text(p.pass_(arg))
            elif name == "login":
                u, _, w = arg.partition(":")
                p.user(u)
                r = text(p.pass_(w))
            elif name == "plain":
                u, _, w = arg.partition(":")
                token = base64.b64encode(b"\0" + u.encode() + b"\0" + w.encode()).decode()
                r = text(p._shortcmd("AUTH PLAIN " + token))
            elif name == "stat":
                r = list(p.stat())
            elif name == "list":
                resp, lines, _ = p.list()
                r = [text(l) for l in lines]
            elif name == "uidl":
                if arg:
                    r = text(p.uidl(int(arg)))
                else:
                    resp, lines, _ = p.uidl()
                    r = [text(l) for l in lines]
            elif name == "retr":
                resp, lines, octets = p.retr(int(arg))
                r = {"resp": text(resp), "lines": [text(l) for l in lines], "octets": octets}
            elif name == "top":
                n, _, k = arg.partition(":")
                resp, lines, octets = p.top(int(n), int(k))
                r = {"resp": text(resp), "lines": [text(l) for l in lines]}
            elif name == "dele":
                r = text(p.dele(int(arg)))
            elif name == "rset":
                r = text(p.rset())
            elif name == "noop":
                r = text(p.noop())
            elif name == "quit":
                r = text(p.quit())
            elif name == "drop":
                p.sock.close()
                r = "dropped"
            else:
                raise SystemExit("unknown action " + a)
            out.append({"ok": r})
        except poplib.error_proto as e:
            out.append({"err": text(e.args[0])})
    print(json.dumps(out))


main()
