#!/usr/bin/env python3
"""
Live detection in the server: every audit event is matched as it is recorded against bulwark's own
rules and those of --rules DIR; a match raises an alert (stored, an alert.raise event in the log
carrying the matched event's index), visible through the API within a second; repeats of a rule
for the same target count into one alert; alerts move open -> acknowledged -> resolved with roles;
alert events are never matched again (no loops); a refused rule file does not stop the server.
"""
import os
import signal
import time

from bwtest import expect, finish, tmpdir
from bwserver import ADMIN_PW, Client, api_cli, free_port, init, invite, serve, stop, totp, wait_fresh_step

# bulwark's shipped rules (rules/bulwark): one per YAML document, loaded beside the test's own
_SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules", "bulwark")
SHIPPED = sum(open(os.path.join(_SHIPPED_DIR, f)).read().count("\n---\n") + 1
              for f in os.listdir(_SHIPPED_DIR) if f.endswith(".yml"))
base = tmpdir()
data = os.path.join(base, "data")
_, admin_secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
rules = os.path.join(base, "rules")
os.makedirs(rules)
with open(os.path.join(rules, "invited.yml"), "w") as f:
    f.write("""title: A user was invited
id: 11111111-2222-4333-8444-555555555555
status: test
logsource:
    product: bulwark
detection:
    sel:
        action: 'user.add'
        result: 'ok'
    condition: sel
level: low
""")
with open(os.path.join(rules, "roles.yml"), "w") as f:
    f.write("""title: Roles changed
logsource:
    product: bulwark
detection:
    sel:
        action: 'user.roles'
        result: 'ok'
    condition: sel
level: medium
""")
with open(os.path.join(rules, "every_alert.yml"), "w") as f:
    # Would match every alert.raise if alerts were fed back into the engine (a loop).
    f.write("""title: Any alert event
logsource:
    product: bulwark
detection:
    sel:
        action|startswith: 'alert.'
    condition: sel
level: informational
""")
BROKEN = "title: broken\nlogsource:\n    product: bulwark\ndetection:\n    sel:\n        a|nope: x\n    condition: sel\n"
with open(os.path.join(rules, "broken.yml"), "w") as f:
    f.write(BROKEN)

PORT = free_port()
URL = "https://127.0.0.1:%d" % PORT
wait_fresh_step()
srv = serve(data, PORT, "--login-backoff-ms", "0", "--lock-after", "3", "--rules", rules)
c = Client(PORT, cert)
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(admin_secret)})
expect(st == 200, f"admin signs in: {st} {j}")
admin = j["token"]


def alerts(token, query=""):
    st, j, _, _ = c.req("GET", "/api/v1/alerts" + query, token=token)
    expect(st == 200, f"GET /api/v1/alerts{query}: {st} {j}")
    return j.get("alerts", []) if st == 200 else []


def wait_alert(token, rule, count=1, limit_s=1.0):
    """The alert of rule with at least count matches, polled until limit_s after the event."""
    t0 = time.time()
    while True:
        found = [a for a in alerts(token) if a["rule"] == rule and a["count"] >= count]
        if found or time.time() - t0 > limit_s:
            return found[0] if found else None, time.time() - t0
        time.sleep(0.02)


# ---- a custom rule fires on an invitation, within a second ----
tok_op, _, inv = invite(c, admin, "olga", ["operator"])
a, took = wait_alert(admin, "A user was invited")
expect(a is not None, f"the invitation raised an alert within 1 s ({took:.2f} s)")
if a:
    expect(a["level"] == "low" and a["state"] == "open" and a["count"] == 1 and a["group"] == "user:olga",
           f"alert fields: {a}")
    # the matched event is the user.add in the audit log, at the alert's index
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d&to=%d" % (a["first_index"], a["first_index"] + 1), token=admin)
    ev = j["events"][0]["event"] if st == 200 and j.get("events") else {}
    expect(ev.get("action") == "user.add" and ev.get("target") == "user:olga",
           f"the alert's first_index is the matching event: {ev}")

# a second invitation of another user is another group: another alert; the same target repeats into one
tok_au, _, _ = invite(c, admin, "aud", ["auditor"])
b, _ = wait_alert(admin, "A user was invited")
time.sleep(0.3)
invited = [x for x in alerts(admin) if x["rule"] == "A user was invited"]
expect(len(invited) >= 2 and {"user:olga", "user:aud"} <= {x["group"] for x in invited},
       f"one alert per invited user: {invited}")

# repeats of a rule for the same target within the window count into one alert
invite(c, admin, "rob", ["auditor"], login=False)
for roles in (["operator", "auditor"], ["operator"]):
    st, j, _, _ = c.req("PUT", "/api/v1/users/rob/roles", {"roles": roles}, token=admin)
    expect(st == 200, f"roles of rob: {st} {j}")
rep, took = wait_alert(admin, "Roles changed", count=2)
expect(rep is not None and rep["count"] == 2 and rep["first_index"] < rep["last_index"] and rep["group"] == "user:rob",
       f"two role changes of one user: one alert counted twice ({rep})")
expect(len([x for x in alerts(admin) if x["rule"] == "Roles changed"]) == 1, "no second alert for the repeat")

# ---- a shipped rule: repeated failed sign-ins lock a client out ----
for i in range(3):
    c.req("POST", "/api/v1/login", {"username": "olga", "password": "wrong password", "otp": "000000"})
lock, took = wait_alert(admin, "Sign-in locked out after repeated failures")
expect(lock is not None and lock["level"] == "medium", f"a lockout raised the shipped rule's alert ({took:.2f} s)")

# ---- a shipped correlation: wrong one-time codes (right password), then a sign-in from elsewhere ----
_, tess_secret, _ = invite(c, admin, "tess", ["auditor"], login=False)
for i in range(3):
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "tess", "password": "password of tess", "otp": "000000"})
    expect(st in (401, 403, 429), f"a wrong one-time code is refused: {st} {j}")
expect(wait_alert(admin, "Repeated wrong one-time codes for an account, then a successful sign-in",
                  limit_s=0.5)[0] is None, "no correlation alert before the sign-in succeeds")
c2 = Client(PORT, cert, source="127.0.0.2")
st, j, _, _ = c2.req("POST", "/api/v1/login", {"username": "tess", "password": "password of tess",
                                                "otp": totp(tess_secret, 30)})
expect(st == 200, f"tess signs in from another client: {st} {j}")
corr, took = wait_alert(admin, "Repeated wrong one-time codes for an account, then a successful sign-in")
expect(corr is not None and corr["level"] == "high" and corr["group"] == "target=user:tess",
       f"the correlation raised its alert, grouped by the account ({corr}; {took:.2f} s)")
expect(not [x for x in alerts(admin) if x["rule"] in ("A successful sign-in", "Several wrong one-time codes for one account",
                                                     "A sign-in with the right password and a wrong one-time code")],
       "the rules a correlation uses raise no alerts of their own")

# ---- no loops: alert events are never matched ----
time.sleep(0.5)
expect(not [x for x in alerts(admin) if x["rule"] == "Any alert event"], "alert events are not fed back into the rules")

# ---- roles and the workflow ----
st, j, _, _ = c.req("GET", "/api/v1/alerts", token=tok_au)
expect(st == 200, f"an auditor reads alerts: {st}")
aid = a["id"] if a else 1
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/ack" % aid, {}, token=tok_au)
expect(st == 403, f"an auditor cannot acknowledge: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/ack" % aid, {"reason": "looking"}, token=tok_op)
expect(st == 200 and j.get("state") == "acknowledged" and j.get("decided_by") == "olga", f"operator acks: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/ack" % aid, {}, token=tok_op)
expect(st == 422 and "already" in j.get("error", ""), f"a second ack is refused: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/resolve" % aid, {"resolution": "maybe", "reason": "x"}, token=admin)
expect(st == 422 and "resolution must be" in j.get("error", ""), f"an unknown resolution is refused: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/resolve" % aid, {"resolution": "benign", "reason": ""}, token=admin)
expect(st == 422 and "needs a reason" in j.get("error", ""), f"resolving needs a reason: {st} {j}")
rc, out = api_cli("alert", "resolve", str(aid), "--resolution", "benign", "--reason", "planned hire",
                  server=URL, cacert=cert, token=admin)
expect(rc == 0 and '"state": "resolved"' in out and '"resolution": "benign"' in out, f"alert resolve (CLI): {out}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/resolve" % aid, {"resolution": "benign", "reason": "again"}, token=admin)
expect(st == 422 and "resolved already" in j.get("error", ""), f"a resolved alert stays resolved: {st} {j}")
# assignee and comments, audited
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/assign" % aid, {"user": "aud"}, token=admin)
expect(st == 422 and "cannot act on alerts" in j.get("error", ""), f"only admins and operators take alerts: {st} {j}")
rc, out = api_cli("alert", "assign", str(aid), "olga", server=URL, cacert=cert, token=admin)
expect(rc == 0 and '"assignee": "olga"' in out, f"alert assign (CLI): {out}")
rc, out = api_cli("alert", "comment", str(aid), "--text", "checked with HR: planned hire", server=URL, cacert=cert,
                  token=tok_au)
expect(rc == 0, f"an auditor comments: {out}")
st, j, _, _ = c.req("POST", "/api/v1/alerts/%d/comments" % aid, {"text": ""}, token=tok_op)
expect(st == 422, f"an empty comment is refused: {st}")
st, j, _, _ = c.req("GET", "/api/v1/alerts/%d" % aid, token=tok_op)
expect(st == 200 and j["assignee"] == "olga" and [x["text"] for x in j["comments"]] == ["checked with HR: planned hire"]
       and j["comments"][0]["author"] == "aud", f"the alert shows assignee and comments: {j}")
st, j, _, _ = c.req("GET", "/api/v1/alerts/999999", token=admin)
expect(st == 404, f"an unknown alert is 404: {st}")
st, j, _, _ = c.req("GET", "/api/v1/alerts?state=bogus", token=admin)
expect(st == 422, f"a bad state filter is refused (422): {st}")
expect(all(x["state"] == "resolved" for x in alerts(admin, "?state=resolved")) and
       len(alerts(admin, "?state=resolved")) == 1, "the state filter")
rc, out = api_cli("alert", "list", server=URL, cacert=cert, token=tok_au)
lines = out.splitlines()
RANK = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
levels = [RANK[ln.split()[1]] for ln in lines[1:] if ln.strip()]
expect(rc == 0 and lines[0].split()[:3] == ["ID", "LEVEL", "STATE"] and lines[1].split()[1] == "high" and
       levels == sorted(levels, reverse=True), f"alert list: most severe first: {out}")

# ---- the log: every alert is an alert.raise event carrying the matched event's index ----
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=100000", token=admin)
raises = [e for e in j.get("events", []) if e["event"]["action"] == "alert.raise"]
expect(len(raises) >= 3 and all(e["event"]["result"] == "alert" and
                                "event_index" in e["event"]["details"] for e in raises),
       f"alert.raise events in the log: {raises[:2]}")
acted = [e["event"]["action"] for e in j.get("events", [])]
expect("alert.ack" in acted and "alert.resolve" in acted and "alert.assign" in acted and "alert.comment" in acted,
       "the workflow is audited")

# ---- an admin switches a rule off, or gives it exceptions ----
RID = "11111111-2222-4333-8444-555555555555"  # "A user was invited"
n_inv = lambda: len([x for x in alerts(admin) if x["rule"] == "A user was invited"])
before = n_inv()
rc, out = api_cli("rules", "set", RID, "--enabled", "false", server=URL, cacert=cert, token=admin)
expect(rc == 0 and "disabled" in out, f"rules set --enabled false: {out}")
invite(c, admin, "dora", ["auditor"], login=False)
time.sleep(0.8)
expect(n_inv() == before, "a switched-off rule raises nothing")
rc, out = api_cli("rules", "set", RID, "--enabled", "true", "--except", "target=USER:ERIN", server=URL, cacert=cert,
                  token=admin)
expect(rc == 0, f"rules set with an exception: {out}")
invite(c, admin, "erin", ["auditor"], login=False)
invite(c, admin, "finn", ["auditor"], login=False)
time.sleep(0.8)
groups = {x["group"] for x in alerts(admin) if x["rule"] == "A user was invited"}
expect("user:finn" in groups and "user:erin" not in groups and "user:dora" not in groups,
       f"the exception (case-insensitive) keeps erin's invitation quiet, finn's fires: {groups}")
st, j, _, _ = c.req("PUT", "/api/v1/rules/%s/settings" % RID, {"enabled": True}, token=tok_op)
expect(st == 403, f"only admins change rules: {st}")
st, j, _, _ = c.req("PUT", "/api/v1/rules/%s/settings" % RID, {"enabled": True, "exceptions": [{"field": "x"}]},
                    token=admin)
expect(st == 422 and "exception 1" in j.get("error", ""), f"a malformed exception is refused: {st} {j}")
rc, out = api_cli("rules", "settings", server=URL, cacert=cert, token=tok_au)
expect(rc == 0 and '"field": "target"' in out and '"updated_by": "admin"' in out, f"rules settings: {out}")
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=100000", token=admin)
sets = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "rules.set"]
expect([(x["result"], x["details"].get("enabled")) for x in sets] == [("ok", False), ("ok", True), ("refused", True)],
       f"rule settings are audited: {sets}")

# ---- SIGHUP reloads the rules: all or nothing ----
def reload_events():
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=100000", token=admin)
    return [e["event"] for e in j.get("events", []) if e["event"]["action"] == "rules.reload"]


os.remove(os.path.join(rules, "broken.yml"))
with open(os.path.join(rules, "tokens.yml"), "w") as f:
    f.write("title: An API token was created\nlogsource:\n    product: bulwark\ndetection:\n    sel:\n"
            "        action: 'token.create'\n    condition: sel\nlevel: low\n")
srv.send_signal(signal.SIGHUP)
t0 = time.time()
while not reload_events() and time.time() - t0 < 5:
    time.sleep(0.05)
ev = reload_events()
expect(len(ev) == 1 and ev[0]["result"] == "ok" and ev[0]["details"]["count"] == SHIPPED + 4,
       f"SIGHUP reloaded {SHIPPED} shipped + 4 own rules: {ev}")
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "ci", "scopes": ["admin"]}, token=admin)
tk, took = wait_alert(admin, "An API token was created")
expect(st == 201 and tk is not None, f"a rule added by the reload fires ({st} {j}; {took:.2f} s)")
with open(os.path.join(rules, "broken.yml"), "w") as f:
    f.write(BROKEN)
os.remove(os.path.join(rules, "tokens.yml"))
srv.send_signal(signal.SIGHUP)
t0 = time.time()
while len(reload_events()) < 2 and time.time() - t0 < 5:
    time.sleep(0.05)
ev = reload_events()
expect(len(ev) == 2 and ev[1]["result"] == "refused" and "broken.yml" in ev[1]["details"].get("error", "") and
       "kept" in ev[1]["details"].get("error", ""), f"a reload with a refused file is refused and audited: {ev[-1:]}")
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "ci2", "scopes": ["admin"]}, token=admin)
t0 = time.time()
while len([x for x in alerts(admin) if x["rule"] == "An API token was created"]) < 2 and time.time() - t0 < 1:
    time.sleep(0.02)
expect(st == 201 and len([x for x in alerts(admin) if x["rule"] == "An API token was created"]) == 2,
       "the rules in use stayed (the token rule fires for the second token)")

# the same through the API (admins only): refused while the broken file is there, then loaded
st, j, _, _ = c.req("POST", "/api/v1/rules/reload", token=tok_au)
expect(st == 403, f"an auditor may not reload the rules: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/rules/reload", token=admin)
expect(st == 422 and "broken.yml" in j.get("error", ""), f"an API reload with a refused file is refused (422): {st} {j}")
os.remove(os.path.join(rules, "broken.yml"))
rc, out = api_cli("rules", "reload", server=URL, cacert=cert, token=admin)
expect(rc == 0 and f"rules reloaded: {SHIPPED + 3} in use" in out, f"bulwark rules reload: {rc} {out}")
ev = reload_events()
expect(len(ev) == 4 and [e["result"] for e in ev[2:]] == ["refused", "ok"] and
       ev[3]["details"]["count"] == SHIPPED + 3 and ev[3]["actor"] == "admin" and ev[2]["actor"] == "admin",
       f"each admin's API reload is audited (refused, then ok with the count): {ev[2:]}")

# the live detection's counters (the correlation state is bounded and shown)
st, j, _, _ = c.req("GET", "/api/v1/detection", token=tok_au)
expect(st == 200 and j["rules"] == SHIPPED + 3 and j["events"] > 20 and j["matches"] >= j["alerts"] > 5 and
       j["queue"]["dropped"] == 0 and j["correlation"]["max_groups"] == 65536 and
       j["correlation"]["max_bytes"] == 64 << 20 and j["correlation"]["evicted"] == 0,
       f"GET /api/v1/detection: {st} {j}")
rc, out = api_cli("rules", "status", server=URL, cacert=cert, token=tok_au)
expect(rc == 0 and '"correlation": {' in out and f'"rules": {SHIPPED + 3}' in out, f"bulwark rules status: {rc} {out}")
st, j, _, _ = c.req("GET", "/api/v1/detection")
expect(st == 401, f"the detection counters need a signed-in user: {st}")

log = stop(srv)
expect("a detection rule was refused" in log and "broken.yml" in log and "unsupported modifier" in log,
       f"the refused rule is reported at start: {log[-2000:]}")
finish("alerts_test")
