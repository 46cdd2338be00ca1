#!/usr/bin/env python3
"""
The HTTPS server with real clients: curl for the flow, openssl s_client for the
TLS versions, oathtool for TOTP (enrolment, login, replay, previous step, wrong
code, brute force and lockout), a table-driven role x route matrix, bad input,
8 concurrent clients x 1000 audited requests, and finally `bulwark log audit`
over the log with every request's event found in it.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

from bwtest import BW, expect, fail, finish, read_entries, run, tmpdir
from bwserver import ADMIN_PW, Client, api_cli, enrol, free_port, init, invite, serve, stop, totp, wait_fresh_step

base = tmpdir()
PORT = 20000 + os.getpid() % 20000


data = os.path.join(base, "data")
out, admin_secret, admin_codes = init(data)
cert = os.path.join(data, "tls/cert.pem")
expect(len(admin_codes) == 10, "init printed 10 recovery codes")
expect("\u2588" in out, "init drew a QR code in the terminal")
expect(oct(os.stat(os.path.join(data, "kek")).st_mode & 0o777) == "0o600", "kek is 0600")
expect(oct(os.stat(os.path.join(data, "bulwark.db")).st_mode & 0o777) == "0o600", "database is 0600")
expect(b"PRIVATE" not in open(os.path.join(data, "keys/log.sealed"), "rb").read(), "log key sealed")

srv = serve(data, PORT, "--login-backoff-ms", "0", "--lock-after", "5", "--timeout-secs", "3")
c = Client(PORT, cert)

# ---- TLS: 1.3 only ----
def s_client(flag):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % PORT, flag, "-brief"],
                       input=b"", capture_output=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode()

rc, o = s_client("-tls1_3")
expect(rc == 0 and "TLSv1.3" in o, "openssl s_client -tls1_3 connects")
for flag in ("-tls1_2", "-tls1_1"):
    rc, o = s_client(flag)
    expect(rc != 0, f"openssl s_client {flag} is refused")
p = subprocess.run(["curl", "-s", "--cacert", cert, "--tls-max", "1.2", "https://127.0.0.1:%d/log/checkpoint" % PORT],
                   capture_output=True)
expect(p.returncode != 0, "curl limited to TLS 1.2 is refused")

# ---- login flow with curl + oathtool ----
wait_fresh_step()
def curl_login(user, pw, otp, extra=()):
    p = subprocess.run(["curl", "-s", "-i", "--cacert", cert, "-X", "POST", "https://127.0.0.1:%d/api/v1/login" % PORT,
                        "-H", "Content-Type: application/json",
                        "-d", json.dumps({"username": user, "password": pw, "otp": otp}), *extra],
                       capture_output=True, timeout=60)
    text = p.stdout.decode()
    status = int(text.split()[1]) if text.startswith("HTTP/") else 0
    body = json.loads(text.split("\r\n\r\n", 1)[1] or "null")
    return status, body, text

code_prev = totp(admin_secret, -30)
st, body, text = curl_login("admin", ADMIN_PW, code_prev)
expect(st == 200 and body["token"].startswith("bws_"), "login with the previous step's code is accepted")
expect(re.search(r"Set-Cookie: __Host-bulwark_session=bws_[^;]+; Path=/; HttpOnly; Secure; SameSite=Strict", text),
       "session cookie is __Host- prefixed, HttpOnly; Secure; SameSite=Strict")
admin = body["token"]
st, body, _ = curl_login("admin", ADMIN_PW, code_prev)
expect(st == 401 and body["error"] == "invalid credentials", "replayed code refused")
st, body, _ = curl_login("admin", ADMIN_PW, totp(admin_secret))
expect(st == 200, "current step accepted once")
admin2 = body["token"]
st, body, _ = curl_login("admin", ADMIN_PW, code_prev)
expect(st == 401, "older step refused after a newer one")
st, body, _ = curl_login("admin", "wrong password here", totp(admin_secret, 30))
expect(st == 401 and body["error"] == "invalid credentials", "wrong password: same generic message")
st, body, _ = curl_login("nosuchuser", ADMIN_PW, totp(admin_secret, 30))
expect(st == 401 and body["error"] == "invalid credentials", "unknown user: same generic message")
# cookie auth works like the bearer token
p = subprocess.run(["curl", "-s", "--cacert", cert, "-b", "__Host-bulwark_session=" + admin2,
                    "https://127.0.0.1:%d/api/v1/me" % PORT], capture_output=True)
expect(json.loads(p.stdout)["username"] == "admin", "session cookie authenticates")

def cookie_post(path, *headers):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", cert, "-X", "POST",
                        "-b", "__Host-bulwark_session=" + admin2, "-H", "Content-Type: application/x-www-form-urlencoded",
                        *sum((["-H", h] for h in headers), []), "https://127.0.0.1:%d%s" % (PORT, path)],
                       capture_output=True)
    return int(p.stdout)

# Cross-site request forgery: a foreign page's form post carrying the cookie is refused, before any work.
st, j, _, _ = c.req("POST", "/api/v1/users", {"username": "csrf-victim", "roles": ["staff"]}, token=admin2)
expect(st == 201, "a user to aim at")
expect(cookie_post("/api/v1/users/csrf-victim/disable", "Origin: https://evil.example") == 403,
       "cookie + foreign Origin: refused")
expect(cookie_post("/api/v1/users/csrf-victim/disable", "Sec-Fetch-Site: cross-site") == 403,
       "cookie + Sec-Fetch-Site: cross-site: refused")
expect(cookie_post("/api/v1/users/csrf-victim/reset-mfa", "Sec-Fetch-Site: same-site") == 403,
       "cookie + Sec-Fetch-Site: same-site (a sibling host) refused")
st, j, _, _ = c.req("GET", "/api/v1/users", token=admin2)
expect(not any(u["username"] == "csrf-victim" and u["disabled"] for u in j["users"]), "the forged requests changed nothing")
expect(cookie_post("/api/v1/users/csrf-victim/disable", "Origin: https://127.0.0.1:%d" % PORT,
                   "Sec-Fetch-Site: same-origin") == 200, "cookie + same origin: allowed")
expect(cookie_post("/api/v1/users/csrf-victim/enable") == 200, "cookie without browser headers (not a browser): allowed")
# recovery code: single use
st, body, _ = curl_login("admin", ADMIN_PW, admin_codes[0])
expect(st == 200 and body["used_recovery_code"], "recovery code accepted")
st, body, _ = curl_login("admin", ADMIN_PW, admin_codes[0])
expect(st == 401, "recovery code is single use")
# logout revokes
st, j, _, _ = c.req("POST", "/api/v1/logout", token=admin2)
expect(st == 200, "logout")
st, j, _, _ = c.req("GET", "/api/v1/me", token=admin2)
expect(st == 401, "a logged-out session is refused")

# ---- users of every role (API), each logging in with oathtool ----
ROLES = ["admin", "approver", "operator", "vendor", "auditor", "staff"]
users = {}
for r in ROLES:
    # The admin gets a one-time code, never the user's password or secret; the user enrols and signs in.
    tok, secret, inv = invite(c, admin, "u-" + r, [r])
    expect(set(inv) >= {"enrolment_code", "code_expires", "roles", "pending_roles"} and "password" not in inv and
           "otpauth_uri" not in inv and "recovery_codes" not in inv, f"an invitation holds no secret of the user: {inv}")
    users[r] = {"secret": secret, "token": tok}
    if r == "approver":
        # u-admin (enrolled) is a second admin now: the approver role waits for them.
        expect(inv["roles"] == [] and inv["pending_roles"] == ["approver"] and inv["grant_id"] > 0,
               f"an approver invited by one admin waits for a second: {inv}")
        st, j, _, _ = c.req("GET", "/api/v1/me", token=tok)
        expect(st == 403, f"a user with no role yet can do nothing ({st})")
        gid = inv["grant_id"]
        st, j, _, _ = c.req("POST", f"/api/v1/role-grants/{gid}/approve", token=admin)
        expect(st == 403 and "second admin" in j["error"], f"the requesting admin cannot approve their own grant: {j}")
        st, j, _, _ = c.req("POST", f"/api/v1/role-grants/{gid}/approve", token=tok)
        expect(st == 403, "the grantee cannot approve it")
        st, j, _, _ = c.req("POST", f"/api/v1/role-grants/{gid}/approve", token=users["admin"]["token"])
        expect(st == 200 and j["state"] == "approved" and j["requested_by"] == "admin", f"a second admin approves: {j}")
        st, j, _, _ = c.req("GET", "/api/v1/me", token=tok)
        expect(st == 200 and j["roles"] == ["approver"], f"the grant applies to the user's session: {j}")
        st, j, _, _ = c.req("POST", f"/api/v1/role-grants/{gid}/approve", token=users["admin"]["token"])
        expect(st == 409, "a grant is decided once")
# A grant for someone who has not enrolled cannot be approved yet; its requester may withdraw it.
st, j, _, _ = c.req("POST", "/api/v1/users", {"username": "u-later", "roles": ["approver", "staff"]}, token=admin)
expect(st == 201 and j["roles"] == ["staff"] and j["pending_roles"] == ["approver"], f"mixed roles split: {j}")
st, g, _, _ = c.req("POST", f"/api/v1/role-grants/{j['grant_id']}/approve", token=users["admin"]["token"])
expect(st == 409 and "not enrolled" in g["error"], f"approval waits for the user's enrolment: {g}")
st, g, _, _ = c.req("GET", "/api/v1/role-grants?pending=1", token=admin)
expect(st == 200 and [x["username"] for x in g["grants"]] == ["u-later"], f"pending grants listed: {g}")
st, g, _, _ = c.req("POST", f"/api/v1/role-grants/{j['grant_id']}/deny", token=admin)
expect(st == 200 and g["state"] == "denied", f"the requester withdraws the grant: {g}")
# Making someone an approver later waits too; so does an MFA reset of an approver (whoever holds the
# new code could become them).
st, j, _, _ = c.req("PUT", "/api/v1/users/u-staff/roles", {"roles": ["staff", "approver"]}, token=admin)
expect(st == 200 and j["roles"] == ["staff"] and j["pending_roles"] == ["approver"], f"roles: approver waits: {j}")
c.req("POST", f"/api/v1/role-grants/{j['grant_id']}/deny", token=users["admin"]["token"])
st, j, _, _ = c.req("POST", "/api/v1/users", {"username": "u-admin", "roles": ["staff"]}, token=admin)
expect(st == 409, "duplicate user name refused (409)")
st, j, _, _ = c.req("POST", "/api/v1/users", {"username": "x", "roles": ["king"]}, token=admin)
expect(st == 400 and "unknown role" in j["error"], "unknown role refused")
st, j, _, _ = c.req("POST", "/api/v1/users", {"username": "x2", "password": "an admin-chosen password",
                                              "roles": ["staff"]}, token=admin)
expect(st == 400 and "password" in j["error"], f"an admin cannot set a user's password: {j}")
# Enrolment: the code is the credential; a short password is refused and loses nothing (the code still works).
st, inv, _, _ = c.req("POST", "/api/v1/users", {"username": "shorty", "roles": ["staff"], "enrol_hours": 1}, token=admin)
expect(st == 201 and inv["code_expires"] - time.time() < 3700, f"enrol_hours: {inv}")
st, j, _, _ = c.req("POST", "/api/v1/enrol", {"code": inv["enrolment_code"]})
ssec = re.search(r"secret=([A-Z2-7]+)", j["otpauth_uri"]).group(1)
expect(st == 200 and j["username"] == "shorty", f"enrol start names the account: {j}")
st, j, _, _ = c.req("POST", "/api/v1/enrol/complete", {"code": inv["enrolment_code"], "password": "short",
                                                       "otp": totp(ssec)})
expect(st == 422 and "shorter than 12" in j["error"], f"short password refused at enrolment: {j}")
st, j, _, _ = c.req("POST", "/api/v1/enrol/complete", {"code": inv["enrolment_code"], "password": "long enough password",
                                                       "otp": "%06d" % ((int(totp(ssec)) + 7) % 1000000)})
expect(st == 403 and "authenticator" in j["error"], f"a wrong authenticator code is refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "shorty", "password": "long enough password", "otp": totp(ssec)})
expect(st == 401 and j["error"] == "invalid credentials", "an account not enrolled yet signs in like a wrong password")
st, j, _, _ = c.req("POST", "/api/v1/enrol/complete", {"code": inv["enrolment_code"], "password": "long enough password",
                                                       "otp": totp(ssec)})
expect(st == 200 and len(j["recovery_codes"]) == 10, f"the code still works after the refusals: {j}")
st, j, _, _ = c.req("POST", "/api/v1/enrol", {"code": inv["enrolment_code"]})
expect(st == 403 and "already used" in j["error"], f"a used code is refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/enrol", {"code": "bwe_" + "B" * 43})
expect(st == 403 and "unknown enrolment code" in j["error"], f"a made-up code is refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/enrol", {"code": users["staff"]["token"]})
expect(st == 403 and "not an enrolment code" in j["error"], f"a session token is no enrolment code: {j}")

# ---- role x route matrix ----
ALL = set(ROLES)
matrix = [
    # method, path, body, roles allowed, expected status when allowed
    ("GET", "/api/v1/me", None, ALL, 200),
    ("GET", "/api/v1/users", None, {"admin", "auditor"}, 200),
    ("POST", "/api/v1/users", {"username": "m-{r}", "roles": ["staff"]}, {"admin"}, 201),
    ("PUT", "/api/v1/users/u-staff/roles", {"roles": ["staff"]}, {"admin"}, 200),
    ("POST", "/api/v1/users/u-staff/enable", None, {"admin"}, 200),
    ("POST", "/api/v1/tokens", {"name": "t-{r}", "scopes": ["{r}"]}, ALL, 201),
    ("DELETE", "/api/v1/tokens/999999", None, ALL, 404),
    ("GET", "/api/v1/audit?from=0&to=3", None, {"admin", "auditor"}, 200),
    ("GET", "/api/v1/log/tile/entries/000.p/1", None, {"admin", "auditor"}, None),
    ("GET", "/log/checkpoint", None, None, 200),
]
for method, path, body, allowed, want in matrix:
    for r in ROLES:
        b = json.loads(json.dumps(body).replace("{r}", r)) if body else None
        st, j, _, _ = c.req(method, path, b, token=users[r]["token"])
        if allowed is None or r in allowed:
            ok = st == want if want else st in (200, 404)
        else:
            ok = st == 403
        expect(ok, f"role {r}: {method} {path} -> {st}")
    if allowed is not None:
        st, j, _, _ = c.req(method, path, None if body is None else {"x": 1})
        expect(st == 401, f"no token: {method} {path} -> {st} (want 401)")

# API tokens: scoped, usable as Bearer, revocable
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "agent", "scopes": ["auditor"]}, token=admin)
expect(st == 422, "token scopes beyond the user's roles refused")
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "agent", "scopes": ["auditor"], "lifetime_days": 7},
                    token=users["auditor"]["token"])
api_tok, api_id = j["token"], j["id"]
st, j, _, _ = c.req("GET", "/api/v1/users", token=api_tok)
expect(st == 200, "API token works as Bearer")
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "x", "scopes": ["auditor"]}, token=api_tok)
expect(st == 403, "an API token cannot mint tokens")
st, j, _, _ = c.req("DELETE", "/api/v1/tokens/%d" % api_id, token=users["staff"]["token"])
expect(st == 404, "others cannot revoke my token")
st, j, _, _ = c.req("DELETE", "/api/v1/tokens/%d" % api_id, token=users["auditor"]["token"])
expect(st == 200, "owner revokes the token")
st, j, _, _ = c.req("GET", "/api/v1/users", token=api_tok)
expect(st == 401, "revoked API token refused")

# disable / last admin / reset-mfa
st, j, _, _ = c.req("POST", "/api/v1/users/u-approver/reset-mfa", {"enrol_hours": 2}, token=admin)
expect(st == 200 and j["pending_roles"] == ["approver"] and j["roles"] == [],
       f"an approver's MFA reset puts the role back to a second admin: {j}")
st, j, _, _ = c.req("POST", "/api/v1/users/u-admin/disable", token=admin)
expect(st == 200, "disable a second admin")
st, j, _, _ = c.req("POST", "/api/v1/users/admin/disable", token=admin)
expect(st == 422 and "last enabled admin" in j["error"], "the last enabled admin cannot be disabled")
st, j, _, _ = c.req("PUT", "/api/v1/users/admin/roles", {"roles": ["staff"]}, token=admin)
expect(st == 422, "the last admin cannot lose the admin role")
st, j, _, _ = c.req("GET", "/api/v1/me", token=users["admin"]["token"])
expect(st == 401, "a disabled user's session is revoked")
st, j, _, _ = c.req("POST", "/api/v1/users/u-vendor/reset-mfa", token=admin)
expect(st == 200 and j["enrolment_code"].startswith("bwe_") and "otpauth_uri" not in j,
       f"reset-mfa issues a new enrolment code (no secret for the admin): {j}")
st, j, _, _ = c.req("GET", "/api/v1/me", token=users["vendor"]["token"])
expect(st == 401, "reset-mfa revokes the user's sessions")
st, j, _, _ = c.req("GET", "/api/v1/users", token=admin)
names = {u["username"]: u for u in j["users"]}
expect(names["u-admin"]["disabled"] and not names["admin"]["disabled"], "user list shows disabled state")

# ---- brute force: 5 failures lock the guessing client out of the name, never the owner ----
wait_fresh_step()
_, vsec, _ = invite(c, admin, "u-victim", ["operator"], password="password of operator", login=False)
victim = {"secret": vsec}
for i in range(5):
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "u-victim", "password": "password of operator",
                                                  "otp": "%06d" % ((int(totp(victim["secret"])) + 1 + i) % 1000000)})
    expect(st == 401, f"wrong code {i + 1} refused")
st, j, r, _ = c.req("POST", "/api/v1/login", {"username": "u-victim", "password": "password of operator",
                                              "otp": totp(victim["secret"])})
expect(st == 429 and r.getheader("Retry-After") is not None, "the guessing client: even the right code refused with 429")
owner = Client(PORT, cert, source="127.0.0.2")
# (the next step's code: this step's confirmed the enrolment)
st, j, _, _ = owner.req("POST", "/api/v1/login", {"username": "u-victim", "password": "password of operator",
                                                  "otp": totp(victim["secret"], 30)})
expect(st == 200, f"the owner signs in from a client that has not failed ({st} {j})")
st, j, _, _ = c.req("GET", "/api/v1/users", token=admin)
expect({u["username"]: u for u in j["users"]}["u-victim"]["locked_clients"] == 1, "the user list counts the locked client")
# An admin clears the locks (e.g. the owner's own client got locked): audited, and the client may try again.
rc, out = api_cli("user", "unlock", "u-victim", server="https://127.0.0.1:%d" % PORT, cacert=cert, token=admin, check=0)
expect("cleared for 1 client(s)" in out, f"bulwark user unlock: {out}")
st, j, _, _ = c.req("GET", "/api/v1/users", token=admin)
expect({u["username"]: u for u in j["users"]}["u-victim"]["locked_clients"] == 0, "no locked client after unlock")
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "u-victim", "password": "wrong password here", "otp": "000000"})
expect(st == 401, f"the unlocked client is checked again (401, not 429): {st}")
st, j, _, _ = c.req("POST", "/api/v1/users/u-victim/unlock", token=users["auditor"]["token"])
expect(st == 403, "only admins unlock")
# An unknown name gets exactly the same answers (nothing tells a real user from a made-up one).
for i in range(5):
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "no-such-operator", "password": "password of operator",
                                                  "otp": "000000"})
    expect(st == 401 and j["error"] == "invalid credentials", f"unknown name, attempt {i + 1}: 401")
st, j, r, _ = c.req("POST", "/api/v1/login", {"username": "no-such-operator", "password": "password of operator",
                                              "otp": "000000"})
expect(st == 429 and r.getheader("Retry-After") is not None, "unknown name: 429 after 5, like a real one")

# ---- the audit trail through the API: bounded, checked against the checkpoint, and itself audited ----
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=2&proofs=1", token=admin)
expect(st == 200 and len(j["events"]) == 2 and all("proof" in e for e in j["events"]) and j["size"] >= 2
       and j["checkpoint"].startswith("bulwark"), f"audit read with proofs: {str(j)[:200]}")
st, j, _, _ = c.req("GET", "/api/v1/audit?from=50&to=10", token=admin)
expect(st == 400 and "need from <= to" in j["error"], f"a reversed range refused: {j}")
st, j, _, _ = c.req("GET", "/api/v1/audit?from=x", token=admin)
expect(st == 400, "a malformed index refused")

# ---- bad input ----
def raw(method, path, data, ctype="application/json", token=None, extra=None):
    h = {"Content-Type": ctype} if ctype else {}
    h.update(extra or {})
    return c.req(method, path, token=token, headers=h, raw=data)

st, j, _, _ = raw("POST", "/api/v1/login", b'{"username": "a",')
expect(st == 400 and "malformed JSON" in j["error"], "malformed JSON -> 400")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"a","username":"b","password":"x","otp":"1"}')
expect(st == 400 and "duplicate" in j["error"], "duplicate keys -> 400")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"\xff\xfe","password":"x","otp":"1"}')
expect(st == 400, "invalid UTF-8 -> 400")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"a","password":"b","otp":"1"}', ctype="text/plain")
expect(st == 415, "wrong content type -> 415")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"a","password":"b","otp":"1","extra":1}')
expect(st == 400 and j["error"] == "invalid request: unknown field: extra", f"unknown field -> 400 naming it: {j}")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"a","password":"b"}')
expect(st == 400 and j["error"] == "invalid request: missing field: otp", f"missing field -> 400 naming it: {j}")
st, j, _, _ = raw("POST", "/api/v1/login", b'{"username":"a","password":"b","otp":1}')
expect(st == 400 and "wrong type: expected string" in j["error"], f"wrong type -> 400 saying so: {j}")
st, j, _, _ = raw("POST", "/api/v1/login", b"[1,2]")
expect(st == 400, "a JSON array body -> 400")
st, j, _, _ = raw("POST", "/api/v1/users", b'{"a":"' + b"x" * 70000 + b'"}', token=admin)
expect(st == 413, "body over 64 KiB -> 413")
st, j, _, _ = c.req("GET", "/api/v1/nothing-here")
expect(st == 404 and j["error"] == "no such route", "unknown route -> 404 JSON")
st, j, _, _ = c.req("DELETE", "/api/v1/me", token=admin)
expect(st == 405, "wrong method -> 405")
st, j, _, _ = c.req("PROPFIND", "/api/v1/me", token=admin, raw=b"x" * 50000)
expect(st == 501 and "method not supported" in j["error"], f"an unknown method -> 501 before any work: {st}")
for path in ("/log/tile/../checkpoint", "/log/tile/0/../../kek", "/log/tile/0/%2e%2e/%2e%2e/kek",
             "/log/tile/0/0001", "/log/tile/0/x000/000", "/log/tile/0/000.p/0", "/log/tile/0/000.p/256",
             "/log/tile/entries/000.p/1", "/log/tile/9/000"):
    st, j, _, payload = c.req("GET", path)
    expect(st in (400, 404) and b"KEK" not in payload.upper()[:0] and b"bulwark-kek" not in payload,
           f"tile path {path} -> {st}, nothing leaked")
st, j, _, _ = c.req("GET", "/log/tile/0/000.p/1")
expect(st in (200, 404), "a well-formed tile path is served or 404")
# oversized headers: refused without crashing
try:
    s = socket.create_connection(("127.0.0.1", PORT))
    t = c.ctx.wrap_socket(s, server_hostname="127.0.0.1")
    t.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 60000 + b"\r\n\r\n")
    resp = t.recv(200)
    expect(resp.startswith(b"HTTP/1.1 4"), f"oversized headers -> 4xx ({resp[:20]!r})")
    t.close()
except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
    pass  # a closed connection is an acceptable refusal
# slow client: the connection is dropped after the timeout
s = socket.create_connection(("127.0.0.1", PORT))
t = c.ctx.wrap_socket(s, server_hostname="127.0.0.1")
t.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
t.settimeout(15)
start = time.time()
try:
    got = t.recv(100)
except (ConnectionResetError, ssl.SSLError, socket.timeout):
    got = b""
expect(got == b"" and time.time() - start < 10, "a slow client is disconnected after the idle timeout")
t.close()
st, j, _, _ = c.req("GET", "/api/v1/me", token=admin)
expect(st == 200, "the server still answers after all bad input")

# ---- slowloris: at most 64 connections per address, and the whole header within 10 s ----
slow, refused_conns = [], 0
for i in range(80):
    try:
        sk = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.9", 0), timeout=5)
        tk = c.ctx.wrap_socket(sk, server_hostname="127.0.0.1")
        tk.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
        slow.append(tk)
    except (ssl.SSLError, OSError):
        refused_conns += 1
expect(len(slow) <= 64 and refused_conns >= 16, f"one address holds at most 64 connections ({len(slow)} held, {refused_conns} refused)")
t0 = time.time()
alive = list(slow)
served_during = False
while alive and time.time() - t0 < 18:
    time.sleep(2)
    st, j, _, _ = c.req("GET", "/api/v1/me", token=admin)
    served_during = served_during or st == 200
    still = []
    for tk in alive:
        try:
            tk.sendall(b"X-Slow: 1\r\n")  # one header line every 2 s: never idle, never done
            tk.settimeout(0.05)
            if tk.recv(1) == b"":
                continue
            still.append(tk)
        except socket.timeout:
            still.append(tk)
        except (OSError, ssl.SSLError):
            pass
    alive = still
slow_secs = time.time() - t0
expect(served_during, "a legitimate client is served during the attack")
expect(not alive and slow_secs < 16, f"every slow header connection is closed at the deadline ({len(alive)} open after {slow_secs:.0f} s)")
for tk in slow:
    tk.close()

# ---- slow bodies: a body must average 1 KiB/s (10 s in hand); a slow but steady one is served ----
def body_client(src, chunk, every, total, result):
    sk = socket.create_connection(("127.0.0.1", PORT), source_address=(src, 0), timeout=5)
    tk = c.ctx.wrap_socket(sk, server_hostname="127.0.0.1")
    body = (b'{"username":"' + b"a" * total)[:total - 2] + b'"}'
    tk.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body))
    t0, sent = time.time(), 0
    try:
        while sent < len(body) and time.time() - t0 < 40:
            tk.sendall(body[sent:sent + chunk])
            sent += chunk
            time.sleep(every)
        tk.settimeout(10)
        result["reply"] = tk.recv(200)
    except (OSError, ssl.SSLError):
        result["reply"] = b""
    result["secs"] = time.time() - t0
    result["sent"] = sent
    tk.close()


trickle, steady = {}, {}
th = [threading.Thread(target=body_client, args=("127.0.0.10", 100, 2, 60000, trickle)),  # 50 B/s
      threading.Thread(target=body_client, args=("127.0.0.11", 1500, 0.5, 45000, steady))]  # 3 KiB/s for 15 s
for x in th:
    x.start()
for x in th:
    x.join(timeout=60)
expect(not trickle["reply"].startswith(b"HTTP/1.1") and trickle["secs"] < 20,
       f"a body trickling at 50 B/s is cut off ({trickle['sent']} bytes in {trickle['secs']:.0f} s): {trickle['reply'][:60]}")
expect(steady["reply"].startswith(b"HTTP/1.1 4") and steady["secs"] >= 14,
       f"a slow but steady body (3 KiB/s for 15 s) is answered: {steady['reply'][:60]} after {steady['secs']:.0f} s")

# ---- log injection: request text that tries to add fields or lines to the server's logs ----
FORGERIES = [b"/x%22,%22forged%22:%22yes", b"/y%0a%7b%22forged%22:1%7d%0a", b"/z%5c%22,%22forged%22:2,%22a%22:%22",
             b"/api/v1/users/%22,%22forged%22:3/disable"]
for path in FORGERIES:
    s = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.5", 0))
    t = c.ctx.wrap_socket(s, server_hostname="127.0.0.1")
    t.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    resp = t.recv(4096)
    t.close()
    expect(resp.startswith(b"HTTP/1.1 4"), f"forged path {path!r} refused ({resp[:16]!r})")
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": 'a","forged":"4\n{"forged":5}', "password": "x" * 12,
                                              "otp": "1"})
expect(st in (400, 401), f"forged user name refused ({st})")
# Bytes that are not UTF-8, and cuts inside a character, are audited like any refusal (never a 503).
st, j, _, _ = Client(PORT, cert, source="127.0.0.4").req("GET", "/api/v1/%FF%FEnot-utf8")
expect(st == 404, f"a path with invalid UTF-8 -> 404, audited ({st})")
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "é" * 40, "password": "x" * 12, "otp": "123456"})
expect(st == 401, f"a user name cut inside a character at the audit bound -> 401, audited ({st})")

# ---- an anonymous flood of refused requests costs the log one summary per interval, not one entry each ----
size0 = c.req("GET", "/api/v1/audit?from=0&to=0", token=admin)[1]["size"]
flood = Client(PORT, cert, source="127.0.0.3")
t0 = time.time()
for i in range(2000):
    st, _, _, _ = flood.req("GET", "/no/such/route/%d" % i)
    if st != 404:
        fail(f"flood request {i}: {st}")
flood_secs = time.time() - t0
deadline = time.time() + 15
summary = None
while time.time() < deadline and summary is None:
    time.sleep(1)
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d" % size0, token=admin)
    hits = [e["event"] for e in j["events"] if e["event"]["action"] == "http.refused_summary"
            and e["event"]["details"]["client"] == "127.0.0.3"]
    if hits:
        summary = hits[0]
expect(summary is not None and summary["details"]["count"] == 2000 and summary["details"]["statuses"] == {"404": 2000}
       and len(summary["details"]["samples"]) == 16, f"2,000 refusals -> one summary event: {summary}")
size1 = c.req("GET", "/api/v1/audit?from=0&to=0", token=admin)[1]["size"]
expect(size1 - size0 < 20, f"the flood added {size1 - size0} log entries")
print(f"server_test: 2,000 anonymous 404s in {flood_secs:.1f} s ({2000 / flood_secs:.0f} req/s, ASan build), "
      f"{size1 - size0} log entries")

# ---- load: 8 clients x 1000 audited requests ----
ids, errors = [], []
lock = threading.Lock()

def worker(n):
    cl = Client(PORT, cert)
    mine = []
    try:
        for i in range(500):
            st, j, r, _ = cl.req("POST", "/api/v1/tokens", {"name": "load-%d-%d" % (n, i), "scopes": ["admin"]},
                                 token=admin)
            mine.append(r.getheader("X-Request-Id"))
            if st != 201:
                raise RuntimeError("create -> %d" % st)
            st, _, r, _ = cl.req("DELETE", "/api/v1/tokens/%d" % j["id"], token=admin)
            mine.append(r.getheader("X-Request-Id"))
            if st != 200:
                raise RuntimeError("revoke -> %d" % st)
    except Exception as e:  # noqa: BLE001 (reported as a test failure)
        errors.append(f"client {n}: {e}")
    with lock:
        ids.extend(mine)

t0 = time.time()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for th in threads:
    th.start()
for th in threads:
    th.join()
elapsed = time.time() - t0
expect(not errors, "8 x 1000 requests without error: " + "; ".join(errors[:3]))
expect(len(ids) == 8000, f"8000 responses ({len(ids)})")
print(f"server_test: 8 clients x 1000 audited requests in {elapsed:.1f} s ({8000 / elapsed:.0f} req/s, ASan build)")

st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=5000", token=admin)
expect(st == 400 and "at most 1000 events" in j["error"], f"more than 1000 events per read refused: {j}")
# Without parameters: the latest page (to is exclusive), with a cursor to the one before.
st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
expect(st == 200 and len(j["events"]) == 1000 and j["to"] == j["size"] and j["from"] == j["size"] - 1000
       and j["events"][-1]["index"] == j["size"] - 1 and j["prev"] == {"from": j["size"] - 2000, "to": j["size"] - 1000}
       and "next" not in j, f"the latest page of a log past 1,000 events: { {k: v for k, v in j.items() if k != 'events'} }")
# The same from the CLI: a table of the latest page, one event with its proof; request text shown inert.
srv_url = f"https://127.0.0.1:{PORT}"
rc, out = api_cli("audit", "list", server=srv_url, cacert=cert, token=admin, check=0)
rows = [l for l in out.splitlines() if re.match(r"^\d+ ", l)]
expect(len(rows) == 1000 and "earlier: bulwark audit list --to" in out, f"bulwark audit list: {len(rows)} rows")
expect("\x1b" not in out and not any("forged" in l and l.count('"') > 0 for l in rows), "no control character reaches the terminal")
# User administration from the CLI while the server runs (through the API).
rc, out = api_cli("user", "add", "frank", "--roles", "staff", server=srv_url, cacert=cert, token=admin, check=0)
expect(re.search(r"^  bwe_[A-Za-z0-9_-]{43}$", out, re.M) and "otpauth" not in out and "bulwark enrol" in out,
       f"CLI user add via the API prints the invitation's code: {out[:300]}")
api_cli("user", "roles", "frank", "--roles", "auditor,staff", server=srv_url, cacert=cert, token=admin, check=0)
api_cli("user", "disable", "frank", server=srv_url, cacert=cert, token=admin, check=0)
rc, out = api_cli("user", "list", server=srv_url, cacert=cert, token=admin, check=0)
expect(re.search(r"frank\s+auditor,staff\s+disabled", out), f"CLI user list via the API: {out}")
rc, out = api_cli("user", "disable", "admin", server=srv_url, cacert=cert, token=admin, check=1)
expect("last enabled admin" in out, f"the API's refusal is shown: {out}")
# Changing one's own password: the current one and a code, checked like a sign-in; then every session goes.
wait_fresh_step()
st, gj, _, _ = c.req("POST", "/api/v1/users", {"username": "gina", "roles": ["staff"]}, token=admin)
gsec, gcodes = enrol(c, gj["enrolment_code"], "gina's first password", otp_offset=-30)
st, gj, _, _ = c.req("POST", "/api/v1/login", {"username": "gina", "password": "gina's first password", "otp": totp(gsec)})
gtok = gj["token"]
st, gj, _, _ = c.req("POST", "/api/v1/me/password", {"current_password": "wrong one, wrong", "otp": totp(gsec, 30),
                                                    "new_password": "gina's second password"}, token=gtok)
expect(st == 403 and "current password or code is wrong" in gj["error"], f"passwd with a wrong current password: {st} {gj}")
st, gj, _, _ = c.req("POST", "/api/v1/me/password", {"current_password": "gina's first password", "otp": totp(gsec, 30),
                                                    "new_password": "short"}, token=gtok)
expect(st == 422 and "new password" in gj["error"], f"passwd with a short new password: {st} {gj}")
st, gj, _, _ = c.req("POST", "/api/v1/me/password", {"current_password": "gina's first password", "otp": totp(gsec, 30),
                                                    "new_password": "gina's second password"}, token=gtok)
expect(st == 200 and gj["changed"], f"passwd: {st} {gj}")
st, gj, _, _ = c.req("GET", "/api/v1/me", token=gtok)
expect(st == 401, "the session that changed the password is revoked with the others")
st, gj, _, _ = c.req("POST", "/api/v1/login", {"username": "gina", "password": "gina's first password", "otp": totp(gsec, 30)})
expect(st == 401, "the old password no longer works")
st, gj, _, _ = c.req("POST", "/api/v1/login", {"username": "gina", "password": "gina's second password", "otp": gcodes[0]})
expect(st == 200, f"the new password works: {st} {gj}")
rc, out = api_cli("passwd", server=srv_url, cacert=cert, token=gj["token"], check=2)
expect("needs BULWARK_PASSWORD" in out, f"bulwark passwd without its secrets (no terminal) says what it needs: {out}")
rc, out = api_cli("audit", "show", "0", server=srv_url, cacert=cert, token=admin, check=0)
expect('"action": "user.bootstrap"' in out and '"proof"' in out and '"checkpoint"' in out, f"bulwark audit show 0: {out[:200]}")
rc, out = api_cli("audit", "show", "99999999", server=srv_url, cacert=cert, token=admin, check=1)
expect("log size" in out, f"audit show past the end names the log size: {out}")
st, j2, _, _ = c.req("GET", f"/api/v1/audit?from={j['prev']['from']}&to={j['prev']['to']}", token=admin)
expect(st == 200 and j2["events"][-1]["index"] == j["from"] - 1 and j2["next"]["from"] == j["from"],
       "the prev cursor reads the page before, whose next cursor points back")
log = stop(srv)
expect('"msg":"shutting down"' in log, "clean shutdown logged")
log_lines = [l for l in log.split("\n") if l.strip()]
parsed = []
for l in log_lines:
    try:
        parsed.append(json.loads(l))
    except ValueError:
        fail(f"a server log line is not one JSON object: {l[:200]!r}")
expect(not any("forged" in o for o in parsed), "no server log line has a forged field")
expect(sum(1 for o in parsed if "%22" not in o.get("path", "x") and "forged" in o.get("path", "")) >= 3,
       "the forged paths are in the log, as escaped values of the path field")

# ---- the audit log: verifies, and holds every request's event ----
logdir = os.path.join(data, "log")
rc, out, _ = run("log", "audit", "--dir", logdir, "--vkey", os.path.join(logdir, "log.vkey"))
expect(rc == 0 and b"audit: OK" in out, "bulwark log audit passes after the run")
events = [json.loads(e) for e in read_entries(logdir)]
logged_ids = {e["request_id"] for e in events}
missing = [i for i in ids if i not in logged_ids]
expect(not missing, f"every load request's event is in the log ({len(missing)} missing)")
acts = [e["action"] for e in events]
lockouts = [e for e in events if e["action"] == "auth.lockout"]
expect(any(e["target"] == "user:u-victim" and e["details"]["client"] == "127.0.0.1" and e["result"] == "alert"
           for e in lockouts) and any(e["target"] == "user:no-such-operator" for e in lockouts),
       f"each lockout is an auth.lockout event naming the client: {lockouts}")
reads = [e for e in events if e["action"] == "audit.read"]
expect(any(e["result"] == "ok" and e["actor"] == "admin" and e["target"] == "audit:0-2" for e in reads)
       and any(e["result"] == "refused" and "need from <= to" in e["details"].get("error", "") for e in reads),
       f"reads of the audit trail are audited, refusals with their reason: {reads[:3]}")
summaries = [e for e in events if e["action"] == "http.refused_summary"]
samples = [x for e in summaries for x in e["details"]["samples"]]
expect(any("\ufffd" in x and "not-utf8" in x for x in samples),
       "the invalid-UTF-8 path's refusal is in the log (a summary's sample), the bad bytes replaced")
expect(any(e["action"] == "auth.login" and e["target"].startswith("user:éé") for e in events),
       "the long user name's login is in the log, cut on a character boundary")
forged_events = [e for e in events if "forged" in json.dumps(e)]
expect(len(forged_events) >= 2 and not any("forged" in e or "forged" in e["details"] for e in forged_events),
       f"forged request text is in {len(forged_events)} audit events, only inside values")
logins = [e for e in events if e["action"] == "auth.login"]
reasons = {e["details"].get("reason") for e in logins}
for want in ("password + TOTP", "TOTP code replayed", "bad password", "unknown user", "bad TOTP code",
             "password + recovery code", "bad recovery code", "locked for this client after failures"):
    expect(want in reasons, f"login reason '{want}' audited")
expect(any(e["action"] == "http.forbidden" and e["result"] == "denied" for e in events), "403s audited")
expect(any("401" in e["details"]["statuses"] for e in summaries), "anonymous 401s are in the refusal summaries")
expect(any("404" in e["details"]["statuses"] for e in summaries), "anonymous 404s are in the refusal summaries")
expect(all(e["source"] == e["details"]["client"] and e["actor"] == "-" for e in summaries), "summaries name their client")
pw = [e for e in events if e["action"] == "user.passwd"]
expect(any(e["result"] == "ok" and e["actor"] == "gina" for e in pw) and
       any(e["result"] == "denied" and "current password" in e["details"].get("error", "") for e in pw),
       f"password changes are audited, refusals with their reason: {pw}")
csrf = [e for e in events if e["action"] == "http.forbidden" and "csrf-victim" in e["target"]]
expect(len(csrf) >= 3 and all(e["actor"] == "admin" and e["details"]["operation"] in ("user.disable", "user.reset_mfa")
                              for e in csrf), f"forged requests are audited naming the user they aimed at: {csrf[:2]}")
own = [e for e in events if e["action"] in ("http.refused", "http.unauthenticated") and e["actor"] == "-"]
expect(not own, f"no anonymous refusal has an event of its own: {own[:3]}")
expect(acts[1] == "server.start" and acts[-1] == "server.stop", "server start and stop audited")
# The log's first event is init's: the first admin, added by the local OS user.
first = events[0]
expect(first["action"] == "user.bootstrap" and first["target"] == "user:admin" and first["details"]["roles"] == ["admin"]
       and first["source"] == "local" and first["actor"].startswith(f"uid {os.getuid()}"),
       f"the first event records the first admin and who ran init: {first}")
expect(all(set(e) == {"time", "actor", "action", "target", "result", "source", "request_id", "details"}
           for e in events), "every event has the documented fields")

# ---- back-off per account/address (default 1 s base) on a second instance ----
data2 = os.path.join(base, "data2")
_, secret2, _ = init(data2)
port2 = free_port()
srv2 = serve(data2, port2)
c2 = Client(port2, os.path.join(data2, "tls/cert.pem"))
st, j, _, _ = c2.req("POST", "/api/v1/login", {"username": "admin", "password": "wrong password!", "otp": "000000"})
expect(st == 401, "first failure -> 401")
st, j, r, _ = c2.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret2)})
expect(st == 429 and int(r.getheader("Retry-After")) >= 1, "immediate retry backs off with 429 + Retry-After")
time.sleep(2.1)
st, j, r, _ = c2.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret2)})
expect(st == 200, "after the back-off the right credentials work")
stop(srv2)

# ---- the user CLI on the stopped server's data directory ----
def cli(*args, env=None, want=0):
    p = subprocess.run([BW, *args], capture_output=True, timeout=120, env=dict(os.environ, **(env or {})))
    if p.returncode != want:
        fail(f"bulwark {' '.join(args)}: exit {p.returncode}, want {want}: {p.stderr.decode()}")
    return p.stdout.decode() + p.stderr.decode()

o = cli("user", "add", "carol", "--data", data, "--roles", "vendor,staff,approver")
expect(re.search(r"^  bwe_[A-Za-z0-9_-]{43}$", o, re.M) and "waiting for a second admin" not in o,
       f"CLI user add --data prints the invitation (roles apply at once from the data directory): {o}")
o = cli("user", "list", "--data", data)
expect(re.search(r"carol\s+approver,vendor,staff\s+enabled,not-enrolled", o) and
       re.search(r"u-admin\s+admin\s+disabled", o),
       "CLI user list shows roles and state")
o = cli("user", "roles", "carol", "--data", data, "--roles", "auditor")
expect("roles: auditor" in o, "CLI user roles")
o = cli("user", "disable", "admin", "--data", data, want=1)
expect("last enabled admin" in o, "CLI refuses to disable the last admin")
o = cli("user", "disable", "carol", "--data", data)
o = cli("user", "reset-mfa", "carol", "--data", data)
expect(re.search(r"^  bwe_[A-Za-z0-9_-]{43}$", o, re.M), f"CLI reset-mfa prints a new enrolment code: {o}")
o = cli("user", "add", "dave", "--data", data, "--roles", "wizard", want=2)
expect("unknown role 'wizard'" in o, "CLI refuses unknown roles")
o = cli("user", "add", "carol", "--data", data, "--roles", "staff", want=1)
expect("already exists" in o or "taken" in o, f"CLI refuses a taken name: {o}")
srv3 = serve(data, PORT)
o = cli("user", "list", "--data", data, want=1)
expect("the server is running" in o, "CLI user commands refuse while the server holds the log")
p = subprocess.run([BW, "serve", "--data", data, "--listen", "127.0.0.1:%d" % free_port()], capture_output=True, timeout=60)
expect(p.returncode != 0 and b"a server is already running" in p.stderr, f"a second serve says so: {p.stderr[-300:]}")
stop(srv3)
srv3 = serve(data, PORT)
other = os.path.join(base, "data-port")
init(other)
p = subprocess.run([BW, "serve", "--data", other, "--listen", "127.0.0.1:%d" % PORT], capture_output=True, timeout=60)
expect(p.returncode != 0 and b"cannot listen on 127.0.0.1:%d" % PORT in p.stderr and b"port 0" not in p.stderr,
       f"a taken port is named as such: {p.stderr[-400:]}")
stop(srv3)
rc, out, _ = run("log", "audit", "--dir", logdir, "--vkey", os.path.join(logdir, "log.vkey"))
events = [json.loads(e) for e in read_entries(logdir)]
# The local CLI's actor is the operating-system user that ran it, from source "local".
cli_events = [e for e in events if e["source"] == "local"]
expect(cli_events and all(e["actor"].startswith(f"uid {os.getuid()}") for e in cli_events),
       f"CLI events name the OS user: {[e['actor'] for e in cli_events][:3]}")
expect(not any(e["actor"] == "cli" for e in events), "no event has the literal actor 'cli'")
cli_acts = [(e["action"], e["result"]) for e in cli_events]
for want in (("user.add", "ok"), ("user.list", "ok"), ("user.roles", "ok"), ("user.disable", "refused"),
             ("user.disable", "ok"), ("user.reset_mfa", "ok"), ("user.add", "refused")):
    expect(want in cli_acts, f"CLI action {want} audited")
# One shape for an event whichever transport caused it: roles are a list of names from the CLI as from the API.
for e in events:
    if e["action"] == "user.add" and e["result"] == "ok":
        expect(isinstance(e["details"].get("roles"), list), f"user.add roles are a list: {e}")
    if e["action"] == "user.roles" and e["result"] == "ok":
        expect(isinstance(e["details"].get("to"), list) and isinstance(e["details"].get("from"), list),
               f"user.roles from/to are lists: {e}")
expect(rc == 0, "log audit passes after the CLI changes")

# ---- passphrase-sealed data directory ----
data3 = os.path.join(base, "data3")
p = subprocess.run([BW, "init", "--data", data3, "--passphrase"], capture_output=True, timeout=120,
                   env=dict(os.environ, BULWARK_ADMIN_PASSWORD=ADMIN_PW, BULWARK_PASSPHRASE="a long passphrase"))
expect(p.returncode == 0 and os.path.exists(os.path.join(data3, "kek.argon2id")) and
       not os.path.exists(os.path.join(data3, "kek")), "init --passphrase derives the KEK (no key file)")
o = cli("user", "list", "--data", data3, env={"BULWARK_PASSPHRASE": "the wrong one!!"}, want=1)
expect("wrong passphrase" in o, "a wrong passphrase is refused")
o = cli("user", "list", "--data", data3, env={"BULWARK_PASSPHRASE": "a long passphrase"})
expect("admin" in o, "the right passphrase opens the data directory")

shutil.rmtree(base)
finish("server_test")
