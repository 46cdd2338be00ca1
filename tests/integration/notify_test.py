#!/usr/bin/env python3
"""
Alert notifications by webhook and e-mail, against a real HTTPS receiver and a real SMTP server
(aiosmtpd, STARTTLS required) on loopback: each alert of the
configured level or above is POSTed once with a delivery id, a timestamp and an HMAC-SHA256
signature the receiver checks; lower levels are not sent; a failed delivery is retried with
back-off, also across a restart of the server (the state is in the database); failures are
counted on the alert, audited (alert.notify failed), and the third raises an alert of its own.
"""
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time

from bwtest import expect, finish, tmpdir
from bwserver import ADMIN_PW, Client, free_port, init, invite, serve, smtp_relay, stop, totp, wait_fresh_step

base = tmpdir()
data = os.path.join(base, "data")
_, admin_secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
SECRET = b"a webhook secret of 32 bytes...!"
secret_file = os.path.join(base, "webhook.secret")
with open(secret_file, "wb") as f:
    f.write(SECRET + b"\n")
os.chmod(secret_file, 0o600)
rules = os.path.join(base, "rules")
os.makedirs(rules)
for name, level in (("invited_high.yml", "high"), ("roles_low.yml", "low")):
    action = "user.add" if level == "high" else "user.roles"
    with open(os.path.join(rules, name), "w") as f:
        f.write(f"title: {action} ({level})\nlogsource:\n    product: bulwark\ndetection:\n    sel:\n"
                f"        action: '{action}'\n        result: 'ok'\n    condition: sel\nlevel: {level}\n")

# ---- the receiver: HTTPS on loopback with its own certificate ----
rkey, rcert = os.path.join(base, "recv.key"), os.path.join(base, "recv.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", rkey, "-out", rcert, "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
received = []       # (headers, body) of every POST
fail_next = [0]     # answer 500 to this many POSTs


class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.append((dict(self.headers), body))
        code = 500 if fail_next[0] > 0 else 204
        if fail_next[0] > 0:
            fail_next[0] -= 1
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


RPORT = free_port()
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", RPORT), Hook)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(rcert, rkey)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

# ---- the SMTP server: aiosmtpd (Debian's python3), STARTTLS required, messages into a Maildir ----
smtpd, SPORT, mails = smtp_relay(os.path.join(base, "Maildir"), rcert, rkey)


PORT = free_port()
ARGS = ("--login-backoff-ms", "0", "--rules", rules, "--webhook", "https://127.0.0.1:%d/hook" % RPORT,
        "--webhook-secret-file", secret_file, "--webhook-cacert", rcert, "--notify-level", "high",
        "--smtp", "smtp://127.0.0.1:%d" % SPORT, "--smtp-from", "bulwark@example.org", "--smtp-to", "soc@example.org",
        "--smtp-to", "oncall@example.org", "--smtp-cacert", rcert)
wait_fresh_step()
srv = serve(data, PORT, *ARGS)
c = Client(PORT, cert)
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(admin_secret)})
admin = j["token"]


def wait_posts(n, limit_s):
    t0 = time.time()
    while len(received) < n and time.time() - t0 < limit_s:
        time.sleep(0.05)
    return len(received) >= n


def check_signature(headers, body):
    ts, delivery, sig = headers.get("X-Bulwark-Timestamp"), headers.get("X-Bulwark-Delivery"), headers.get(
        "X-Bulwark-Signature", "")
    want = "v1=" + hmac.new(SECRET, f"{ts}.{delivery}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, want) and abs(int(ts) - time.time()) < 60


# ---- a high alert is delivered, signed; a low one is not ----
invite(c, admin, "ann", ["operator"], login=False)
expect(wait_posts(1, 5), "the high alert was POSTed within 5 s")
h, body = received[0]
doc = json.loads(body)
expect(check_signature(h, body), f"the signature verifies: {h}")
expect(h.get("X-Bulwark-Delivery") == "alert-%d" % doc["id"] and doc["rule"] == "user.add (high)" and
       doc["level"] == "high", f"delivery id and body: {h} {doc}")
st, j, _, _ = c.req("PUT", "/api/v1/users/ann/roles", {"roles": ["auditor"]}, token=admin)
time.sleep(2.5)
expect(len(received) == 1, "a low alert is not sent (notify level high)")
st, j, _, _ = c.req("GET", "/api/v1/alerts/%d" % doc["id"], token=admin)
expect(j["notifications"]["webhook"]["delivered_at"] > 0 and j["notifications"]["webhook"]["attempts"] == 0,
       f"the alert shows its delivery: {j['notifications']}")
t0 = time.time()
while not mails() and time.time() - t0 < 5:
    time.sleep(0.05)
m = mails()
expect(len(m) == 1, f"one e-mail for the high alert (none for the low one): {len(m)}")
if m:
    text = m[0].decode(errors="replace")
    expect(("Subject: [bulwark] high: user.add (high) (alert %d)" % doc["id"]) in text and
           ("Message-ID: <alert-%d@bulwark>" % doc["id"]) in text and "soc@example.org, oncall@example.org" in text and
           "bulwark audit show %d" % doc["first_index"] in text, f"the e-mail: {text[:800]}")
    expect(j["notifications"]["email"]["delivered_at"] > 0, f"the alert shows the e-mail delivery: {j['notifications']}")

# ---- a failed delivery is retried after a restart; the receiver sees the same delivery id ----
fail_next[0] = 1
invite(c, admin, "bob", ["operator"], login=False)
expect(wait_posts(2, 5), "the second alert was attempted")
out = stop(srv)
time.sleep(2.5)  # past its back-off while the server is down
srv = serve(data, PORT, *ARGS)
expect(wait_posts(3, 8), "the failed delivery was retried after the restart")
if len(received) >= 3:
    h2, b2 = received[1]
    h3, b3 = received[2]
    expect(h2["X-Bulwark-Delivery"] == h3["X-Bulwark-Delivery"] and check_signature(h3, b3),
           "the retry carries the same delivery id (idempotency key), freshly signed")
c = Client(PORT, cert)
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(admin_secret, 30)})
admin = j.get("token", admin)
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=100000", token=admin)
notes = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "alert.notify" and
         e["event"]["details"].get("channel") == "webhook"]
expect([n["result"] for n in notes] == ["ok", "failed", "ok"] and "HTTP 500" in notes[1]["details"].get("error", ""),
       f"every delivery attempt is audited: {[(n['result'], n['details']) for n in notes]}")

# ---- three failures of one alert: counted on it, and an alert of their own ----
fail_next[0] = 3
invite(c, admin, "cy", ["operator"], login=False)
t0 = time.time()
failing = None
while time.time() - t0 < 20 and failing is None:
    st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
    failing = next((a for a in j.get("alerts", []) if a["rule_id"] == "bulwark-notify-failing"), None)
    time.sleep(0.2)
expect(failing is not None and failing["level"] == "high", "the third failed delivery raised an alert")
st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
cy = next((a for a in j.get("alerts", []) if a["group"] == "user:cy"), {})
wh = cy.get("notifications", {}).get("webhook", {})
expect(wh.get("attempts", 0) >= 3 and "HTTP 500" in wh.get("error", ""), f"the failures are counted on the alert: {wh}")
ids = [re.search(rb"Message-ID: <([^>]+)>", x).group(1) for x in mails()]
expect(len(ids) == 4 and len(set(ids)) == 4 and any(b"notifications are failing" in x for x in mails()),
       f"each high alert was mailed once (three invitations and the failing webhook): {ids}")
stop(srv)
httpd.shutdown()
smtpd.terminate()
smtpd.wait(timeout=10)
finish("notify_test")
