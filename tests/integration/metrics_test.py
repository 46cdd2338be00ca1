#!/usr/bin/env python3
"""
GET /metrics: the Prometheus text format, checked by Prometheus's own `promtool check metrics`; requests counted
by route template, method and status (a made-up path never becomes a label value); the audit log's commits and
their latency histogram; counts of the server's state. Authenticated: admins and auditors (an API token scoped to
auditor, as a scraper would use), nobody else.
"""
import os
import re
import subprocess

from bwserver import ADMIN_PW, Client, free_port, init, invite, serve, stop, totp, wait_fresh_step
from bwtest import expect, finish, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
PORT = free_port()
srv = serve(data, PORT, "--login-backoff-ms", "0")
c = Client(PORT, cert)


def metrics(token):
    st, _, r, body = c.req("GET", "/metrics", token=token)
    return st, r, body.decode(errors="replace")


def value(text, name, **labels):
    """The sample of name with exactly these labels (None when absent)."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and (m.group(2) or "") == want:
            return float(m.group(3))
    return None


try:
    wait_fresh_step()
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
    admin = j["token"]
    staff, _, _ = invite(c, admin, "erin", ["staff"])
    auditor, _, _ = invite(c, admin, "audrey", ["auditor"])
    st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "prometheus", "scopes": ["auditor"], "lifetime_days": 30},
                        token=auditor)
    expect(st == 201, f"a scraper's token (auditor scope): {st} {j}")
    scraper = j["token"]
    # some traffic: a failed sign-in, a path nobody routes, a refused read
    for _ in range(3):
        c.req("POST", "/api/v1/login", {"username": "admin", "password": "wrong", "otp": "000000"})
    c.req("GET", "/this-path-is-made-up-%0A-\"quoted\"")
    c.req("GET", "/api/v1/users", token=staff)

    st, r, text = metrics(None)
    expect(st == 401, f"no token: 401: {st}")
    st, r, text = metrics(staff)
    expect(st == 403, f"staff: 403: {st}")
    st, r, text = metrics(scraper)
    expect(st == 200 and r.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8",
           f"the scraper reads them: {st} {r.getheader('Content-Type')}")
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    expect(p.returncode == 0, f"promtool check metrics: {p.returncode} {p.stdout.decode()} {p.stderr.decode()}\n{text[:2000]}")
    expect((value(text, "bulwark_http_requests_total", route="/api/v1/login", method="POST", code="401") or 0) >= 3 and
           (value(text, "bulwark_http_requests_total", route="/api/v1/login", method="POST", code="200") or 0) >= 3 and
           (value(text, "bulwark_http_requests_total", route="/api/v1/users", method="GET", code="403") or 0) >= 1 and
           (value(text, "bulwark_http_requests_total", route="none", method="any", code="404") or 0) >= 1,
           f"requests by route template, method and status: {[l for l in text.splitlines() if 'requests_total' in l]}")
    expect("made-up" not in text and "quoted" not in text, "a raw path never becomes a label value")
    entries = value(text, "bulwark_audit_log_entries")
    commits = value(text, "bulwark_audit_commit_seconds_count")
    buckets = [float(m) for m in re.findall(r'^bulwark_audit_commit_seconds_bucket\{le="[^"]+"\} (\S+)$', text, re.M)]
    expect(entries and entries >= 10 and commits and commits >= 1 and buckets == sorted(buckets) and buckets[-1] == commits,
           f"the audit log: {entries} entries, {commits} commits, buckets {buckets}")
    expect(value(text, "bulwark_access_windows_active") == 0 and value(text, "bulwark_alerts_open", level="high") is not None
           and value(text, "bulwark_users_enabled") == 3 and value(text, "bulwark_build_info", version="0.1.0") == 1,
           "the state's counts and the build")
    # counted as they happen: the scrape itself is a GET /metrics 200 the next time
    st, r, text2 = metrics(admin)
    expect((value(text2, "bulwark_http_requests_total", route="/metrics", method="GET", code="200") or 0) >= 1 and
           (value(text2, "bulwark_http_requests_total", route="/metrics", method="GET", code="401") or 0) >= 1,
           "the scrapes are counted")
    # bulwark status: the same at a glance
    env = dict(os.environ, BULWARK_SERVER="https://127.0.0.1:%d" % PORT, BULWARK_CACERT=cert, BULWARK_TOKEN=scraper)
    from bwtest import BW
    p = subprocess.run([BW, "status"], capture_output=True, env=env, timeout=60)
    out = p.stdout.decode()
    expect(p.returncode == 0 and re.search(r"^audit log +\d+ entries; \d+ commits", out, re.M) and
           re.search(r"sign-in failures [3-9]", out) and "0 windows in force" in out, f"bulwark status: {out} {p.stderr}")
    p = subprocess.run([BW, "status", "--raw"], capture_output=True, env=env, timeout=60)
    expect(p.returncode == 0 and b"# TYPE bulwark_http_requests_total counter" in p.stdout, "bulwark status --raw")
    p = subprocess.run([BW, "status"], capture_output=True, env=dict(env, BULWARK_TOKEN=staff), timeout=60)
    expect(p.returncode == 1 and b"403" in p.stdout + p.stderr, f"bulwark status as staff: {p.returncode} {p.stderr}")
finally:
    stop(srv)
finish("metrics_test")
