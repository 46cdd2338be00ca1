#!/usr/bin/env python3
"""
How long from an event's append to its alert being visible through the API, with and without
load, in the same run.   bench_alert_latency.py BUILD [BENCH_DIR]

A server with one custom rule (an API token was created -> alert). Each sample creates a token
(the request returns once its event is sequenced in the audit log) and polls GET /api/v1/alerts
until the new alert shows; the time between is the latency. Baseline: an idle server. Under
load: wrk sends sign-in attempts with an oversized one-time code (each refused before any
password hashing, and each an audited auth.login event) on 8 connections for BENCH_SECONDS (20),
sampling meanwhile.
"""
import http.client
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import time

BUILD = sys.argv[1]
DIR = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DIR", "/tmp/bulwark-bench-alerts")
SAMPLES = int(os.environ.get("BENCH_ALERT_SAMPLES", "60"))
LOAD_SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
PORT = 18653
BW = os.path.join(BUILD, "bulwark")
PW = "bench password 123"

shutil.rmtree(DIR, ignore_errors=True)
os.makedirs(os.path.join(DIR, "rules"))
with open(os.path.join(DIR, "rules", "token.yml"), "w") as f:
    f.write("title: An API token was created\nlogsource:\n    product: bulwark\ndetection:\n    sel:\n"
            "        action: 'token.create'\n    condition: sel\nlevel: low\n")
env = dict(os.environ, BULWARK_ADMIN_PASSWORD=PW)
init = subprocess.run([BW, "init", "--data", os.path.join(DIR, "data")], env=env, capture_output=True, text=True,
                      check=True).stdout
secret = init.split("secret=")[1].split("&")[0].split()[0]
srv = subprocess.Popen([BW, "serve", "--data", os.path.join(DIR, "data"), "--listen", f"127.0.0.1:{PORT}",
                        "--login-backoff-ms", "0", "--lock-after", "1000000", "--rules", os.path.join(DIR, "rules")],
                       stderr=open(os.path.join(DIR, "serve.err"), "w"))
ctx = ssl.create_default_context(cafile=os.path.join(DIR, "data", "tls", "cert.pem"))


def req(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


try:
    for _ in range(100):
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=30)
            conn.connect()
            break
        except OSError:
            time.sleep(0.05)
    otp = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True, check=True).stdout.strip()
    st, j = req(conn, "POST", "/api/v1/login", {"username": "admin", "password": PW, "otp": otp})
    assert st == 200, (st, j)
    token = j["token"]
    poll = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=30)

    def alerts():
        st, j = req(poll, "GET", "/api/v1/alerts?limit=500", token=token)
        assert st == 200, (st, j)
        return j["alerts"] if isinstance(j, dict) else j

    def sample(n):
        lat = []
        for i in range(n):
            known = {a["id"] for a in alerts()}
            st, j = req(conn, "POST", "/api/v1/tokens", {"name": f"bench{time.time_ns()}", "scopes": ["admin"]},
                        token=token)
            assert st == 201, (st, j)
            t0 = time.monotonic()
            while True:
                if any(a["id"] not in known and a["rule"] == "An API token was created" for a in alerts()):
                    lat.append(time.monotonic() - t0)
                    break
                if time.monotonic() - t0 > 10:
                    lat.append(float("inf"))
                    break
                time.sleep(0.005)
            time.sleep(0.05)
        return lat

    def report(name, lat):
        lat = sorted(lat)
        print(f"{name}: median {statistics.median(lat) * 1000:.0f} ms, p90 {lat[int(len(lat) * 0.9)] * 1000:.0f} ms, "
              f"max {lat[-1] * 1000:.0f} ms ({len(lat)} alerts)")

    report("baseline (idle server)", sample(SAMPLES))
    lua = os.path.join(DIR, "login.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = \'{"username":"nobody","password":"x","otp":"' + "9" * 80 + '"}\'\n')
    wrk = subprocess.Popen(["wrk", "-t2", "-c8", f"-d{LOAD_SECONDS}s", "-s", lua,
                            f"https://127.0.0.1:{PORT}/api/v1/login"], stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    t_load = time.monotonic()
    lat = []
    while wrk.poll() is None and time.monotonic() - t_load < LOAD_SECONDS - 3:
        lat += sample(1)
    secs = time.monotonic() - t_load
    out = wrk.communicate()[0]
    report("under load", lat)
    rate = [ln for ln in out.splitlines() if "Requests/sec" in ln]
    print(f"load: refused sign-ins (each an audit event) on 8 connections: {rate[0].split()[-1] if rate else '?'} "
          f"req/s over the run ({secs:.0f} s of samples)")
finally:
    srv.terminate()
    srv.wait(timeout=30)
