"""Roundcube in a headless Chromium, driven over WebDriver, for
tests/imap_clients.rs. Only Python's standard library: the WebDriver
protocol is JSON over HTTP (W3C WebDriver, chromedriver's dialect).

Usage: roundcube.py DRIVER_PORT ROUNDCUBE_URL USER PASSWORD CHROMIUM PROFILE OPEN_SUBJECT

Logs in through the login form, then reads the INBOX's message list as
Roundcube shows it: as it first comes, sorted by date ascending and
descending through the list options dialog, and in the threads view; then
clicks the message whose subject is OPEN_SUBJECT and reads the subject,
text and attachment names of its preview. Prints all of it as JSON.
"""
import json, sys, time, urllib.error, urllib.request

driver_port, url, user, password, chromium, profile, open_subject = sys.argv[1:8]
BASE = "http://127.0.0.1:%s" % driver_port
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
WAIT = 90  # seconds; the machine may be loaded


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.load(r)["value"]
    except urllib.error.HTTPError as e:
        raise AssertionError("%s %s: %s" % (method, path, e.read().decode(errors="replace")))


def until(what, fn):
    """fn() until it returns something true, for at most WAIT seconds."""
    deadline = time.time() + WAIT
    while True:
        got = fn()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {"binary": chromium, "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1400,1000", "--user-data-dir=" + profile]}}}})["sessionId"]
S = "/session/" + session


def js(script, *args):
    return call("POST", S + "/execute/sync", {"script": script, "args": list(args)})


def find(css):
    """The first element matching css, waited for."""
    def one():
        found = call("POST", S + "/elements", {"using": "css selector", "value": css})
        return found[0] if found else None
    return until(css, one)


def click(css):
    call("POST", S + "/element/%s/click" % find(css)[ELEMENT], {})


def rows():
    """The message list as shown: each row's UID, subject, thread parent
    and depth, in display order; None while a request is under way."""
    return js("""
        if (!window.rcmail || rcmail.busy || !rcmail.message_list) return null;
        var out = [];
        $('#messagelist tbody tr').each(function() {
            var uid = this.uid || (this.id || '').replace(/^rcmrow/, '');
            var r = rcmail.message_list.rows[uid] || {};
            out.push({uid: String(uid),
                      subject: $.trim($('td.subject span.subject', this).text()
                                      || $('td.subject a', this).text()),
                      parent: r.parent_uid ? String(r.parent_uid) : null,
                      depth: r.depth || 0});
        });
        return {rows: out, sort_col: rcmail.env.sort_col, sort_order: rcmail.env.sort_order,
                threading: !!rcmail.env.threading};
    """)


def listed(what, check):
    return until(what, lambda: (lambda r: r if r and r["rows"] and check(r) else None)(rows()))


def list_options(col, order, mode):
    """The list options dialog of the Elastic skin, as a user sets it."""
    click("#listmenulink")
    for name, value in (("sort_col", col), ("sort_ord", order), ("mode", mode)):
        click('.ui-dialog select[name="%s"] option[value="%s"]' % (name, value))
    click(".ui-dialog .ui-dialog-buttonset button.mainaction")
    return listed("the list %s %s %s" % (col, order, mode),
                  lambda r: r["sort_col"] == col and r["sort_order"] == order
                  and r["threading"] == (mode == "threads"))


out = {}
try:
    call("POST", S + "/url", {"url": url})
    call("POST", S + "/element/%s/value" % find("#rcmloginuser")[ELEMENT], {"text": user})
    call("POST", S + "/element/%s/value" % find("#rcmloginpwd")[ELEMENT], {"text": password})
    click("#rcmloginsubmit")
    out["first"] = listed("the INBOX list after login", lambda r: True)
    out["date_asc"] = list_options("date", "ASC", "list")
    out["date_desc"] = list_options("date", "DESC", "list")
    out["threads"] = list_options("date", "ASC", "threads")
    out["list_again"] = list_options("date", "DESC", "list")
    uid = next(r["uid"] for r in out["list_again"]["rows"] if r["subject"] == open_subject)
    cell = js("return rcmail.message_list.rows[arguments[0]].obj.querySelector('td.subject')", uid)
    call("POST", S + "/element/%s/click" % cell[ELEMENT], {})
    frame = find("#messagecontframe")
    until("the preview", lambda: js("return document.getElementById('messagecontframe')"
                                   ".contentWindow.location.href.indexOf('_uid=%s') >= 0" % uid))
    call("POST", S + "/frame", {"id": frame})
    out["opened"] = until("the message's text", lambda: js("""
        var body = document.getElementById('messagebody');
        if (!body || !window.rcmail || rcmail.busy) return null;
        var subject = document.querySelector('h2.subject');
        if (subject) subject = subject.cloneNode(true);
        if (subject) subject.querySelectorAll('.voice, a').forEach(function(e) { e.remove(); });
        return {uid: String(rcmail.env.uid),
                subject: subject ? subject.textContent.trim() : null,
                body: body.innerText,
                attachments: Array.prototype.map.call(
                    document.querySelectorAll('#attachment-list .attachment-name'),
                    function(e) { return e.textContent.trim(); })};
    """))
    call("POST", S + "/frame/parent", {})
except Exception:
    json.dump(out, sys.stderr, indent=1)
    raise
finally:
    try:
        call("DELETE", S)
    except Exception:
        pass
json.dump(out, sys.stdout, indent=1)
