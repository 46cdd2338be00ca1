#!/usr/bin/env python3
"""
Reporting through the server: staff report a Dream Job mail and a clean file with `bulwark report submit`
(and the API), get an id at once and later see the verdict in `report mine`; the sample is sealed on disk
(no plaintext, and a sealed file edited or moved under another report does not open: that report's triage
fails with the reason, the queue goes on); analysts read the inbox with reasons and indicators; staff cannot;
a threat raises the shipped alert; bad input is refused with a reason and stores nothing.
"""
import glob
import hashlib
import json
import re
import os
import shutil
import subprocess
import threading
import time

import lures
from bwserver import ADMIN_PW, Client, api_cli, free_port, init, invite, serve, smtp_relay, stop, totp, wait_fresh_step
from bwtest import wait_for, expect, fail, finish, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
# a real SMTP relay for the reporters' feedback
smtpd, SPORT, mails = smtp_relay(os.path.join(base, "Maildir"), cert, os.path.join(data, "tls/key.pem"))

PORT = free_port()
URL = "https://127.0.0.1:%d" % PORT
ARGS = ("--login-backoff-ms", "0", "--org-domain", "bulwark.example", "--smtp", "smtp://127.0.0.1:%d" % SPORT,
        "--smtp-from", "bulwark@bulwark.example", "--smtp-to", "soc@bulwark.example", "--smtp-cacert", cert)
srv = serve(data, PORT, *ARGS)
c = Client(PORT, cert)


def cli(*args, token, check=None):
    return api_cli(*args, server=URL, cacert=cert, token=token, cwd=base, check=check)



try:
    wait_fresh_step()
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
    admin = j["token"]
    staff, _, _ = invite(c, admin, "erin", ["staff"])
    analyst, _, _ = invite(c, admin, "ana", ["analyst"])
    dj = os.path.join(base, "offer.eml")
    open(dj, "wb").write(lures.dream_job_mail())
    rc, out = cli("report", "submit", "--comment", "a recruiter I never contacted", "--name", "", dj, token=staff)
    expect(rc == 0 and "report 1 received" in out, f"report submit prints the id at once: {out}")
    clean = os.path.join(base, "minutes.pdf")
    open(clean, "wb").write(lures.pdf())
    rc, out = cli("report", "submit", clean, token=staff)
    expect(rc == 0 and "report 2 received" in out, f"a second report: {out}")
    # the reporter sees the outcome
    mine = wait_for("both triaged", lambda: (lambda j: all(r["verdict"] != "pending" for r in j["reports"]) and j)(
        c.req("GET", "/api/v1/reports/mine", token=staff)[1]))
    v = {r["id"]: r for r in mine["reports"]}
    expect(v[1]["verdict"] == "threat" and v[1]["comment"] == "a recruiter I never contacted" and v[1]["file_name"] == ""
           and v[2]["verdict"] == "clean" and v[2]["file_name"] == "minutes.pdf" and "triage" not in v[1] and
           "reporter" not in v[1], f"report mine: the verdicts, not the analysis: {mine}")
    rc, out = cli("report", "mine", token=staff)
    expect(rc == 0 and any(l.split()[0] == "1" and "threat" in l.split() for l in out.splitlines()),
           f"bulwark report mine: {out}")
    # analysts read the inbox; staff cannot
    st, j, _, _ = c.req("GET", "/api/v1/reports", token=staff)
    expect(st == 403, f"staff cannot read the inbox: {st}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/1", token=staff)
    expect(st == 403, f"nor another report: {st}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/1", token=analyst)
    codes = {r["code"] for r in j["triage"]["reasons"]}
    expect(st == 200 and j["reporter"] == "erin" and j["reporter_verified"] and j["channel"] == "api" and
           {"shortcut", "double_extension", "password_in_mail"} <= codes and
           {"type": "email", "value": "anna@careers-aero.example"} in j["triage"]["indicators"],
           f"an analyst sees the reasons and indicators: {st} {j}")
    rc, out = cli("report", "show", "1", token=analyst)
    expect(rc == 0 and "verdict threat" in out and "double_extension" in out and
           "(mail)/Senior_Engineer_JD.zip/Senior_Engineer_JD.pdf.lnk" in out, f"bulwark report show: {out}")
    rc, out = cli("report", "list", token=analyst)
    expect(rc == 0 and "erin" in out and "minutes.pdf" in out, f"bulwark report list: {out}")
    # a threat is an alert; every step is in the audit log
    al = wait_for("the threat's alert", lambda: [a for a in c.req("GET", "/api/v1/alerts", token=admin)[1]
                                                 .get("alerts", []) if "reported" in a["rule"]])
    expect(al[0]["level"] == "high", f"a reported threat raises the shipped alert: {al}")
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    evs = [e["event"] for e in j["events"]]
    sub = [e for e in evs if e["action"] == "report.submit"]
    tri = [e for e in evs if e["action"] == "report.triaged"]
    expect(len(sub) == 2 and sub[0]["actor"] == "erin" and sub[0]["target"] == "report:1" and
           len(sub[0]["details"]["sha256"]) == 64 and len(tri) == 2 and
           {t["details"]["verdict"] for t in tri} == {"threat", "clean"} and
           [t["result"] for t in tri if t["details"]["verdict"] == "threat"] == ["alert"],
           f"report.submit and report.triaged in the audit log: {sub} {tri}")
    # sealed at rest: no plaintext on disk, and a sealed file moved under another report does not open
    sealed = sorted(glob.glob(os.path.join(data, "samples", "*.sealed")))
    expect(len(sealed) == 2 and all(os.stat(p).st_mode & 0o777 == 0o600 for p in sealed),
           f"each sample sealed (0600): {sealed}")
    raw = open(dj, "rb").read()
    expect(all(raw[200:260] not in open(p, "rb").read() and b"Senior_Engineer" not in open(p, "rb").read()
               for p in sealed), "no plaintext of the sample on disk")
    open(clean, "wb").write(lures.pdf() + b"% another\n")
    rc, out = cli("report", "submit", clean, token=staff)
    expect(rc == 0 and "report 3 received" in out, f"a third report: {out}")
    # (swap it for report 1's sealed file before the triage thread reads it is racy; instead, after triage:)
    wait_for("report 3 triaged", lambda: c.req("GET", "/api/v1/reports/3", token=analyst)[1]["verdict"] != "pending")
    # ---- the analysts' workflow: received -> in_review -> resolved, verdicts overridden with a reason ----
    rc, out = cli("report", "update", "2", "--status", "in_review", "--assign", "ana", "--reason", "looking", token=analyst)
    expect(rc == 0 and "in_review" in out and "assigned to ana" in out, f"bulwark report update: {out}")
    st, j, _, _ = c.req("POST", "/api/v1/reports/2/update", {"status": "resolved", "reason": "x"}, token=staff)
    expect(st == 403, f"staff cannot move reports: {st}")
    st, j, _, _ = c.req("POST", "/api/v1/reports/2/update", {"status": "resolved"}, token=analyst)
    expect(st == 422 and "reason" in j["error"], f"a change without a reason is refused: {st} {j}")
    st, j, _, _ = c.req("POST", "/api/v1/reports/2/update", {"assignee": "erin", "reason": "x"}, token=analyst)
    expect(st == 422 and "not an enabled analyst" in j["error"], f"only analysts and admins are assigned: {st} {j}")
    st, j, _, _ = c.req("POST", "/api/v1/reports/2/update", {"verdict": "nasty", "reason": "x"}, token=analyst)
    expect(st == 422 and "verdict must be" in j["error"], f"an unknown verdict: {st} {j}")
    rc, out = cli("report", "comment", "2", "--text", "the minutes of the board; the sender confirmed by phone",
                  token=analyst)
    expect(rc == 0, f"bulwark report comment: {out}")
    rc, out = cli("report", "update", "2", "--status", "resolved", "--verdict", "suspicious", "--category", "phishing",
                  "--reason", "a look-alike of the real minutes, the link goes elsewhere", token=analyst)
    expect(rc == 0 and "resolved, verdict suspicious" in out, f"resolved with the analyst's verdict: {out}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/2", token=analyst)
    kinds = [(h["kind"], h["value"], h["actor"]) for h in j["history"]]
    expect(j["verdict"] == "suspicious" and j["triage_verdict"] == "clean" and j["analyst_verdict"] == "suspicious" and
           j["category"] == "phishing" and kinds == [("status", "in_review", "ana"), ("assignee", "ana", "ana"),
                                                      ("comment", "", "ana"), ("status", "resolved", "ana"),
                                                      ("verdict", "suspicious", "ana"), ("category", "phishing", "ana")],
           f"the report's history: {j}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/mine", token=staff)
    mine2 = [r for r in j["reports"] if r["id"] == 2][0]
    expect(mine2["status"] == "resolved" and mine2["verdict"] == "suspicious", f"the reporter sees the outcome: {mine2}")
    rc, out = cli("report", "update", "2", "--status", "resolved", "--reason", "again", token=analyst)
    expect(rc != 0 and "resolved already" in out, f"no change to the same status: {out}")
    rc, out = cli("report", "show", "2", token=analyst)
    expect(rc == 0 and "analyst's verdict suspicious (triage: clean)" in out and "category phishing" in out and
           "ana comment: the minutes of the board; the sender confirmed by phone" in out, f"report show: {out}")
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    ups = [e["event"] for e in j["events"] if e["event"]["action"] in ("report.update", "report.comment") and
           e["event"]["result"] == "ok"]
    refused = [e["event"]["result"] for e in j["events"] if e["event"]["action"] == "report.update" and
               e["event"]["result"] != "ok"]
    expect(len(refused) >= 4 and set(refused) <= {"refused", "denied"}, f"refusals audited too: {refused}")
    expect(len(ups) == 3 and ups[-1]["details"]["verdict"] == "suspicious" and ups[-1]["details"]["category"] == "phishing",
           f"every change audited: {ups}")

    # ---- an analyst takes a sample away: a ZIP encrypted with "infected", audited ----
    zpath = os.path.join(base, "r1.zip")
    rc, out = cli("report", "download", "1", "--out", zpath, token=analyst)
    expect(rc == 0 and os.stat(zpath).st_mode & 0o777 == 0o600, f"bulwark report download: {out}")
    listing = subprocess.run(["bsdtar", "-tf", zpath], capture_output=True, text=True).stdout.split()
    plain = subprocess.run(["bsdtar", "-xOf", zpath, "--passphrase", "infected"], capture_output=True).stdout
    nopass = subprocess.run(["bsdtar", "-xOf", zpath, "--passphrase", "wrong"], capture_output=True)
    expect(listing == ["report-1.eml"] and plain == open(dj, "rb").read() and nopass.stdout != plain,
           f"the archive holds the exact sample, opened only with the password: {listing}")
    st, _, r_, _ = c.req("GET", "/api/v1/reports/1/sample", token=staff)
    expect(st == 403, f"staff cannot download samples: {st}")
    st, _, r_, _ = c.req("GET", "/api/v1/reports/2/sample", token=analyst)
    expect(st == 200 and r_.getheader("Content-Type") == "application/zip" and
           r_.getheader("Content-Disposition") == 'attachment; filename="report-2.zip"', f"the route's headers: {st}")
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    dl = [e["event"] for e in j["events"] if e["event"]["action"] == "report.download"]
    expect(len([d for d in dl if d["result"] == "ok"]) == 2 and dl[-1]["actor"] == "ana" and
           len(dl[-1]["details"]["sha256"]) == 64, f"downloads audited: {dl}")

    # ---- reports by mail: a report button forwards the lure to the report mailbox ----
    rc, out = cli("user", "email", "erin", "--email", "Erin@Bulwark.example", token=admin)
    expect(rc == 0, f"bulwark user email: {out}")
    rc, out = cli("user", "email", "ana", "--email", "erin@bulwark.example", token=admin)
    expect(rc != 0 and "another user has the address" in out, f"an address belongs to one user: {out}")
    rc, out = cli("user", "email", "ana", "--email", "not an address", token=admin)
    expect(rc != 0 and "plain mail address" in out, f"a malformed address is refused: {out}")
    st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "mail-intake", "scopes": ["analyst"], "lifetime_days": 30},
                        token=analyst)
    intake_tok = os.path.join(base, "intake.token")
    open(intake_tok, "w").write(j["token"] + "\n")
    os.chmod(intake_tok, 0o600)

    def mail_in(msg):
        env = dict(os.environ, BULWARK_SERVER=URL, BULWARK_CACERT=cert)
        env.pop("BULWARK_TOKEN", None)
        p = subprocess.run([os.environ.get("BULWARK", "build/bulwark"), "report", "mail", "--authserv-id",
                            "mx.bulwark.example", "--token-file", intake_tok], input=msg, capture_output=True,
                           env=env, timeout=60)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    from email.message import EmailMessage
    from email.policy import SMTP as SMTP_POLICY
    import email as email_pkg

    def forwarded(sender, auth):
        m = EmailMessage()
        m["From"] = sender
        m["To"] = "report@bulwark.example"
        m["Subject"] = "FW: Senior Engineer opportunity"
        if auth:
            m["Authentication-Results"] = auth
        m.set_content("Looks like a fake recruiter, I never applied.")
        m.add_attachment(email_pkg.message_from_bytes(lures.dream_job_mail(), policy=SMTP_POLICY))
        return m.as_bytes(policy=SMTP_POLICY)

    rc, out = mail_in(forwarded("Erin <erin@bulwark.example>", "mx.bulwark.example; dkim=pass header.d=bulwark.example "
                                "header.s=s1; spf=pass smtp.mailfrom=erin@bulwark.example"))
    expect(rc == 0 and "report 4 received from erin@bulwark.example (user erin" in out and "dkim=pass" in out,
           f"bulwark report mail: the forwarded lure, the reporter matched and verified: {rc} {out}")
    j = wait_for("the mailed report triaged", lambda: (lambda j: j["verdict"] != "pending" and j)(
        c.req("GET", "/api/v1/reports/4", token=analyst)[1]))
    expect(j["reporter"] == "erin" and j["reporter_verified"] and j["channel"] == "mail" and
           j["comment"] == "Looks like a fake recruiter, I never applied." and j["verdict"] == "threat" and
           any(r["code"] == "shortcut" for r in j["triage"]["reasons"]),
           f"the original (not the forwarding mail) is triaged, the forwarding text is the comment: {j}")
    # a header forged by the sender under another authserv-id does not verify; an unknown sender matches nobody
    rc, out = mail_in(forwarded("Erin <erin@bulwark.example>", "evil.example; dkim=pass header.d=bulwark.example"))
    expect(rc == 0 and "report 5 received" in out and "reporter unverified" in out, f"a forged header: {out}")
    rc, out = mail_in(forwarded("Mallory <mallory@elsewhere.example>", "mx.bulwark.example; spf=pass "
                                "smtp.mailfrom=mallory@elsewhere.example"))
    expect(rc == 0 and "no registered user" in out, f"an outsider's report: {out}")
    j5 = c.req("GET", "/api/v1/reports/5", token=analyst)[1]
    j6 = c.req("GET", "/api/v1/reports/6", token=analyst)[1]
    expect(j5["reporter"] == "erin" and not j5["reporter_verified"] and j6["reporter"] == "" and
           not j6["reporter_verified"], f"reporter_verified only with the receiving MTA's pass: {j5} {j6}")
    # the same lure reported four times (API, forwarded twice, an outsider): one incident
    wait_for("the mailed reports triaged", lambda: all(c.req("GET", "/api/v1/reports/%d" % i, token=analyst)[1]["verdict"]
                                                         != "pending" for i in (5, 6)))
    j = c.req("GET", "/api/v1/reports/4", token=analyst)[1]
    j2 = c.req("GET", "/api/v1/reports/2", token=analyst)[1]
    expect(j["incident"] != 0 and sorted(j["incident_reports"]) == [1, 4, 5, 6] and j2["incident"] == 0,
           f"reports of the same lure (the shortcut's hash, the sender) grouped into one incident: {j.get('incident')} "
           f"{j.get('incident_reports')} {j2.get('incident')}")
    rc, out = cli("report", "show", "6", token=analyst)
    expect("incident %d: reports 6 5 4 1" % j["incident"] in out, f"report show names the incident: {out}")
    # ---- sharing: a STIX 2.1 bundle of the resolved incident, checked against the specification ----
    st, j, _, _ = c.req("GET", "/api/v1/reports/1/stix", token=analyst)
    expect(st == 409 and "resolved" in j["error"], f"an unresolved report is not shared: {st} {j}")
    rc, out = cli("report", "update", "1", "--status", "resolved", "--category", "phishing", "--reason", "Dream Job lure",
                  token=analyst)
    rc, out = cli("report", "export", "1", "--tlp", "amber+strict", token=analyst)
    expect(rc == 0, f"bulwark report export: {out}")
    b = json.loads(out)
    ids = {o["id"] for o in b["objects"]}
    uuid4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    pattern = (r"\[(file:hashes\.'SHA-256'|url:value|domain-name:value|email-addr:value) = "
               r"'(?:[^'\\]|\\.)*'\]")
    req = {"indicator": ["pattern", "pattern_type", "valid_from", "created", "modified"],
           "report": ["name", "published", "object_refs", "created", "modified"], "identity": ["name"],
           "marking-definition": ["created"]}
    problems = []
    if b["type"] != "bundle" or not re.fullmatch("bundle--" + uuid4, b["id"]):
        problems.append("bundle id")
    for o in b["objects"]:
        if o.get("spec_version") != "2.1":
            problems.append(o["id"] + " spec_version")
        if o["type"] != "marking-definition" and not re.fullmatch(o["type"] + "--" + uuid4, o["id"]):
            problems.append(o["id"] + " id")
        problems += [o["id"] + " lacks " + k for k in req.get(o["type"], []) if k not in o]
        problems += [o["id"] + " bad " + k for k in ("created", "modified", "valid_from", "published")
                     if k in o and not re.fullmatch(stamp, o[k])]
        if o["type"] == "indicator" and o["pattern_type"] == "yara":
            if not o["pattern"].startswith("rule ") or not o["name"].startswith("YARA rule bulwark:"):
                problems.append(o["id"] + " yara pattern " + o["pattern"])
        elif o["type"] == "indicator" and (o["pattern_type"] != "stix" or not re.fullmatch(pattern, o["pattern"])):
            problems.append(o["id"] + " pattern " + o["pattern"])
        refs = o.get("object_refs", []) + o.get("object_marking_refs", []) + \
            ([o["created_by_ref"]] if "created_by_ref" in o else [])
        problems += [o["id"] + " unresolved " + r_ for r_ in refs if r_ not in ids]
    expect(problems == [], f"the bundle holds every mandatory property, identifier and timestamp format: {problems}")
    strict = [o for o in b["objects"] if o["type"] == "marking-definition"]
    expect(strict == [{"type": "marking-definition", "spec_version": "2.1",
                       "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                       "created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER+STRICT",
                       "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                           "extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}],
           f"TLP 2.0 marking as OASIS publishes it: {strict}")
    pats = [o["pattern"] for o in b["objects"] if o["type"] == "indicator"]
    lnk_sha = hashlib.sha256(lures.lnk()).hexdigest()
    expect("[file:hashes.'SHA-256' = '%s']" % lnk_sha in pats and
           "[email-addr:value = 'anna@careers-aero.example']" in pats and
           not any("bulwark.example" in p_ or "erin" in p_ for p_ in pats) and "erin" not in out,
           f"the lure's indicators (of every report of the incident), nothing of the reporter or the "
           f"organisation: {pats}")
    # the YARA rule that matched travels as pattern_type yara; the yara tool compiles it and finds the shortcut
    yr = [o for o in b["objects"] if o["type"] == "indicator" and o["pattern_type"] == "yara"]
    expect(len(yr) >= 1 and any("bulwark_lnk_runs_shell" in o["name"] for o in yr),
           f"the matched YARA rule is shared: {[o['name'] for o in yr]}")
    for o in yr:
        rule_file = os.path.join(base, "shared.yar")
        open(rule_file, "w").write(o["pattern"])
        open(os.path.join(base, "jd.lnk"), "wb").write(lures.lnk())
        p_ = subprocess.run(["yara", rule_file, os.path.join(base, "jd.lnk")], capture_output=True, timeout=60)
        if "lnk" in o["name"]:
            expect(p_.returncode == 0 and b"bulwark_lnk_runs_shell" in p_.stdout,
                   f"the shared rule compiles on its own and matches: {p_.returncode} {p_.stdout} {p_.stderr}")
        else:
            expect(p_.returncode == 0, f"the shared rule {o['name']} compiles on its own: {p_.stderr}")
    rc, out = cli("report", "export", "1", "--format", "misp", "--tlp", "red", token=analyst)
    ev_ = json.loads(out)["Event"] if rc == 0 else {}
    attrs = {(a["type"], a["value"]) for a in ev_.get("Attribute", [])}
    keys = {"uuid", "info", "date", "timestamp", "published", "threat_level_id", "analysis", "distribution", "Orgc",
            "Tag", "Attribute"}
    expect(rc == 0 and keys <= set(ev_) and re.fullmatch(uuid4, ev_["uuid"]) and
           re.fullmatch(r"\d{4}-\d\d-\d\d", ev_["date"]) and ev_["timestamp"].isdigit() and
           ev_["published"] is False and ev_["threat_level_id"] == "1" and ev_["analysis"] == "2" and
           ev_["distribution"] == "0" and ev_["Tag"] == [{"name": "tlp:red"}] and
           ("sha256", lnk_sha) in attrs and ("email-src", "anna@careers-aero.example") in attrs and
           any(a["type"] == "yara" and a["value"].startswith("rule ") for a in ev_["Attribute"]) and
           all(a["to_ids"] is True and a["category"] in ("Payload delivery", "Network activity", "Payload installation") and
               re.fullmatch(uuid4, a["uuid"]) for a in ev_["Attribute"]) and "erin" not in out,
           f"the MISP event (core format): {out[:800]}")
    # against the format's example event: every property one of the example's, of the same JSON type
    ex = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "misp", "event.json")))
    ex_ev, ex_attr = ex["Event"], ex["Event"]["Attribute"][0]
    bad = [k for k in ev_ if k not in ex_ev or type(ev_[k]) is not type(ex_ev[k])]
    bad += ["Orgc." + k for k in ev_.get("Orgc", {}) if type(ev_["Orgc"][k]) is not type(ex_ev["Orgc"].get(k))]
    bad += ["Tag." + k for t_ in ev_.get("Tag", []) for k in t_ if type(t_[k]) is not type(ex_ev["Tag"][0].get(k))]
    bad += ["Attribute." + k for a in ev_.get("Attribute", []) for k in a if type(a[k]) is not type(ex_attr.get(k))]
    expect(bad == [], f"the MISP event's properties and types as the core format's example has them: {bad}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/1/stix?tlp=purple", token=analyst)
    expect(st == 422 and "tlp must be" in j["error"], f"an unknown TLP: {st} {j}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/1/stix", token=staff)
    expect(st == 403, f"staff cannot export: {st}")

    rc, out = mail_in(b"this is not a mail at all")
    expect(rc == 65, f"not a mail: EX_DATAERR for the MTA: {rc} {out}")
    open(os.path.join(base, "bad.token"), "w").write("bwt_nonsense\n")
    env = dict(os.environ, BULWARK_SERVER=URL, BULWARK_CACERT=cert)
    p_ = subprocess.run([os.environ.get("BULWARK", "build/bulwark"), "report", "mail", "--token-file",
                         os.path.join(base, "bad.token")], input=forwarded("a@b.example", None), capture_output=True,
                        env=env, timeout=60)
    expect(p_.returncode == 77, f"a refused token: EX_NOPERM: {p_.returncode} {p_.stderr}")
    p_ = subprocess.run([os.environ.get("BULWARK", "build/bulwark"), "report", "mail", "--server",
                         "https://127.0.0.1:1", "--token-file", intake_tok], input=forwarded("a@b.example", None),
                        capture_output=True, env=env, timeout=60)
    expect(p_.returncode == 75, f"a server that cannot be reached: EX_TEMPFAIL, the MTA retries: {p_.returncode}")
    # feedback: mailed to the reporter's registered address only
    fb = wait_for("feedback for report 4", lambda: [m for m in mails() if b"Your report 4: threat" in m])
    expect(b"To: erin@bulwark.example" in fb[0].replace(b"Erin@Bulwark.example", b"erin@bulwark.example") or
           b"Erin@Bulwark.example" in fb[0], f"feedback to the registered address: {fb[0][:400]}")
    expect(not [m for m in mails() if b"Your report 6" in m], "no feedback to an address that is not registered")
    # ... and once an analyst resolves erin's report 2 (reopened, now that her address is registered), she is told
    rc, out = cli("report", "update", "2", "--status", "in_review", "--reason", "reopened to check", token=analyst)
    expect(rc == 0, f"a resolved report reopened: {out}")
    rc, out = cli("report", "update", "2", "--status", "resolved", "--reason", "checked again", token=analyst)
    expect(rc == 0, f"and resolved again: {out}")
    fb2 = wait_for("feedback on the resolution of report 2",
                   lambda: [m for m in mails() if b"Your report 2: resolved, suspicious" in m])
    expect(b"look-alike" not in fb2[0] and b"bulwark report mine" in fb2[0],
           f"the resolution's outcome, not the analyst's notes: {fb2[0][:600]}")

    # bad input: refused with a reason, nothing stored
    st, j, _, _ = c.req("POST", "/api/v1/reports?name=x%01y", token=staff, raw=b"abc",
                        headers={"Content-Type": "application/octet-stream"})
    expect(st == 422 and "file name" in j["error"], f"a control character in the name: {st} {j}")
    st, j, _, _ = c.req("POST", "/api/v1/reports", token=staff, raw=b"", headers={"Content-Type": "application/octet-stream"})
    expect(st == 422 and "1 byte to 32 MiB" in j["error"], f"an empty report: {st} {j}")
    big = b"x" * ((32 << 20) + 1)
    st, j, _, _ = c.req("POST", "/api/v1/reports", token=staff, raw=big, headers={"Content-Type": "application/octet-stream"})
    expect(st == 413, f"a report over 32 MiB: {st} {j}")
    st, j, _, _ = c.req("GET", "/api/v1/reports", token=analyst)
    expect(len(j["reports"]) == 6 and len(glob.glob(os.path.join(data, "samples", "*.sealed"))) == 6,
           f"refused reports store nothing: {len(j['reports'])}")
    st, j, _, _ = c.req("POST", "/api/v1/reports", raw=b"abc", headers={"Content-Type": "application/octet-stream"})
    expect(st == 401, f"reporting needs a signed-in user: {st}")
    expect(glob.glob(os.path.join(data, "samples", ".upload-*")) == [], "refused uploads leave no temporary file")

    # streamed: sealed on disk as it arrives (never all in memory, never in plaintext); an abandoned upload goes
    import http.client
    import ssl as ssl_
    marker = b"PLAINTEXT-MARKER-0123456789" * 40
    gate = threading.Event()

    def slow_body(n_before, n_after):
        for _ in range(n_before):
            yield marker * 100
        gate.wait(30)
        for _ in range(n_after):
            yield marker * 100

    def upload(n_before, n_after, result):
        conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=ssl_.create_default_context(cafile=cert),
                                           timeout=60)
        try:
            conn.request("POST", "/api/v1/reports?name=big.bin", body=slow_body(n_before, n_after),
                         headers={"Authorization": "Bearer " + staff, "Content-Type": "application/octet-stream"},
                         encode_chunked=True)
            r = conn.getresponse()
            result.append((r.status, json.loads(r.read() or b"null")))
        except OSError as e:
            result.append(("error", str(e)))
        finally:
            conn.close()

    res = []
    t = threading.Thread(target=upload, args=(60, 40, res))
    t.start()
    partial = wait_for("the upload's sealed temporary file", lambda: [
        p_ for p_ in glob.glob(os.path.join(data, "samples", ".upload-*")) if os.path.getsize(p_) > 2 << 20])
    held = open(partial[0], "rb").read()
    expect(held[:4] == b"BWS2" and b"PLAINTEXT-MARKER" not in held,
           f"while it arrives the sample is on disk sealed, not in plaintext ({len(held)} bytes)")
    gate.set()
    t.join(60)
    expect(res and res[0][0] == 201, f"the streamed report is taken: {res}")
    rid = res[0][1]["id"]
    big = wait_for("the streamed report triaged", lambda: (lambda j: j["verdict"] != "pending" and j)(
        c.req("GET", "/api/v1/reports/%d" % rid, token=analyst)[1]))
    want = hashlib.sha256(marker * 100 * 100).hexdigest()
    expect(big["size"] == len(marker) * 100 * 100 and big["sha256"] == want and big["triage"]["verdict"] != "failed",
           f"the streamed sample's size and hash, and it opens for triage: {big['size']} {big['sha256']} "
           f"{big['triage'].get('failed')}")
    expect(glob.glob(os.path.join(data, "samples", ".upload-*")) == [] and
           b"PLAINTEXT-MARKER" not in open(os.path.join(data, "samples", "%d.sealed" % rid), "rb").read(),
           "the temporary file became the sealed sample")
    # an upload abandoned half way: its temporary file goes
    gate.clear()
    res = []
    sock_holder = []

    def abandon():
        conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=ssl_.create_default_context(cafile=cert),
                                           timeout=60)
        conn.connect()
        sock_holder.append(conn)
        conn.putrequest("POST", "/api/v1/reports?name=half.bin")
        conn.putheader("Authorization", "Bearer " + staff)
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(10 << 20))
        conn.endheaders()
        for _ in range(40):
            conn.send(marker * 100)
    abandon()
    wait_for("the abandoned upload's temporary file", lambda: glob.glob(os.path.join(data, "samples", ".upload-*")))
    sock_holder[0].sock.close()
    wait_for("the abandoned upload's temporary file removed",
             lambda: glob.glob(os.path.join(data, "samples", ".upload-*")) == [], secs=40)
    st, j, _, _ = c.req("GET", "/api/v1/reports", token=analyst)
    expect(all(r_["file_name"] != "half.bin" for r_ in j["reports"]), "an abandoned upload is no report")

    # the triage zygote killed: the next report is triaged all the same, by a zygote started again as a new
    # program (`bulwark triage-zygote`) that sees none of the server's environment
    def zygotes():
        out_ = []
        for d in glob.glob("/proc/[0-9]*"):
            try:
                stat = open(d + "/stat").read()
                if int(stat.rsplit(")", 1)[1].split()[1]) == srv.pid and open(d + "/comm").read().strip() == \
                        "bulwark-triage":
                    out_.append(int(os.path.basename(d)))
            except (OSError, ValueError, IndexError):
                pass
        return out_
    first = zygotes()
    expect(len(first) == 1, f"one triage zygote under the server: {first}")
    os.kill(first[0], 9)
    open(os.path.join(base, "after.pdf"), "wb").write(lures.pdf() + b"% after the zygote died\n")
    rc, out = cli("report", "submit", os.path.join(base, "after.pdf"), token=staff)
    rid = int(out.split("report ")[1].split()[0])
    after = wait_for("the report after the zygote died", lambda: (lambda j: j["verdict"] != "pending" and j)(
        c.req("GET", "/api/v1/reports/%d" % rid, token=analyst)[1]))
    expect(after["verdict"] == "clean" and after["triage"].get("failed") is None,
           f"triaged by a zygote started again: {after['verdict']} {after['triage'].get('failed')}")
    again = zygotes()
    expect(len(again) == 1 and again != first, f"a new zygote: {first} -> {again}")
    cmdline = open("/proc/%d/cmdline" % again[0], "rb").read().split(b"\0")
    environ = open("/proc/%d/environ" % again[0], "rb").read()
    expect(cmdline[1:3] == [b"triage-zygote", b"--org-domain"] and b"bulwark.example" in cmdline and
           b"BULWARK" not in environ, f"the new zygote's command and environment: {cmdline} {environ[:300]}")
finally:
    stop(srv)

# ---- a sealed sample that was tampered with: its triage fails with the reason, the queue goes on ----
s1, s3 = os.path.join(data, "samples", "1.sealed"), os.path.join(data, "samples", "3.sealed")
shutil.copy(s1, s3)  # report 1's sealed sample put where report 3's was
subprocess.run(["sqlite3", os.path.join(data, "bulwark.db"),
                "UPDATE reports SET verdict = 'pending', triage = NULL WHERE id = 3; "
                "UPDATE reports SET created_at = created_at - 100 * 86400 WHERE id = 2"], check=True)
srv = serve(data, PORT, *ARGS, "--sample-retention-days", "30")
try:
    # retention: report 2's sample is 100 days old: deleted, its report and triage stay
    wait_for("the old sample deleted", lambda: not os.path.exists(os.path.join(data, "samples", "2.sealed")))
    st, j, _, _ = c.req("GET", "/api/v1/reports/2/sample", token=analyst)
    expect(st == 410 and "retention" in j["error"], f"a purged sample: 410: {st} {j}")
    st, j, _, _ = c.req("GET", "/api/v1/reports/2", token=analyst)
    expect(st == 200 and j["verdict"] == "suspicious" and os.path.exists(os.path.join(data, "samples", "1.sealed")),
           f"the report and its triage stay; newer samples too: {st}")
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    pu = [e["event"] for e in j["events"] if e["event"]["action"] == "report.purge"]
    expect(len(pu) == 1 and pu[0]["details"]["count"] == 1, f"retention audited: {pu}")
    j = wait_for("report 3 triaged again", lambda: (lambda j: j["verdict"] != "pending" and j)(
        c.req("GET", "/api/v1/reports/3", token=analyst)[1]))
    expect(j["verdict"] == "failed" and "does not verify" in j["triage"]["failed"],
           f"a sealed file moved under another report does not open: triage failed with the reason: {j}")
finally:
    stop(srv)
smtpd.terminate()
finish("reports_test")
