#!/usr/bin/env python3
"""
Memory of the agent and the server over a long run at a steady rate: one `bulwark agent run`
follows an auditd log that a writer appends to at BENCH_RSS_RATE events/s (default 2,000) for
BENCH_RSS_SECONDS (default 600); the resident memory (VmRSS) of both is sampled every 30 s.
   bench_hostev_rss.py BUILD [BENCH_DIR]
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import time

BUILD = sys.argv[1]
DIR = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DIR", "/tmp/bulwark-bench-hostev-rss")
RATE = int(os.environ.get("BENCH_RSS_RATE", "2000"))
SECONDS = int(os.environ.get("BENCH_RSS_SECONDS", "600"))
PORT = 18655
BW = os.path.join(BUILD, "bulwark")
PW = "bench password 123"
T0 = 1795845114000


def event_text(serial):
    t = T0 + serial
    ts = "%d.%03d" % (t // 1000, t % 1000)
    return (f"type=SYSCALL msg=audit({ts}:{serial}): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 "
            f"pid={2000 + serial % 30000} auid=1000 uid=1000 comm=\"grep\" exe=\"/usr/bin/grep\" key=\"bulwark-exec\"\n"
            f"type=EXECVE msg=audit({ts}:{serial}): argc=3 a0=\"grep\" a1=\"-r\" a2=\"x{serial}\"\n"
            f"type=EOE msg=audit({ts}:{serial}): \n")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


shutil.rmtree(DIR, ignore_errors=True)
os.makedirs(DIR)
env = dict(os.environ, BULWARK_ADMIN_PASSWORD=PW)
init = subprocess.run([BW, "init", "--data", os.path.join(DIR, "data")], env=env, capture_output=True, text=True,
                      check=True).stdout
data = os.path.join(DIR, "data")
srv = subprocess.Popen([BW, "serve", "--data", data, "--listen", f"127.0.0.1:{PORT}"],
                       stderr=open(os.path.join(DIR, "serve.err"), "w"))
cert = os.path.join(data, "tls", "cert.pem")
ctx = ssl.create_default_context(cafile=cert)
agent = None
try:
    for _ in range(100):
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=60)
            conn.connect()
            break
        except OSError:
            time.sleep(0.1)
    secret = init.split("secret=")[1].split("&")[0].split()[0]
    otp = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
    conn.request("POST", "/api/v1/login", body=json.dumps({"username": "admin", "password": PW, "otp": otp}),
                 headers={"Content-Type": "application/json"})
    admin = json.loads(conn.getresponse().read())["token"]
    conn.request("POST", "/api/v1/hosts", body=json.dumps({"name": "web1", "address": "127.0.0.1",
                                                           "accounts": ["root"]}),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + admin})
    code = json.loads(conn.getresponse().read())["enrolment_code"]
    state = os.path.join(DIR, "agent")
    subprocess.run([BW, "agent", "init", "--state", state, "--server", f"https://127.0.0.1:{PORT}", "--cacert", cert,
                    "--host", "web1", "--enrol-code", code], check=True, capture_output=True)
    log = os.path.join(DIR, "audit.log")
    open(log, "w").close()
    agent = subprocess.Popen([BW, "agent", "run", "--state", state, "--audit-log", log],
                             stderr=open(os.path.join(DIR, "agent.err"), "w"))
    print(f"== {RATE} events/s for {SECONDS} s: VmRSS every 30 s (KiB)")
    print("  t(s)  events   agent  server")
    serial, t_start, next_sample = 1, time.time(), 0
    with open(log, "a") as f:
        while time.time() - t_start < SECONDS:
            due = int((time.time() - t_start) * RATE)
            while serial <= due:
                f.write(event_text(serial))
                serial += 1
            f.flush()
            if time.time() - t_start >= next_sample:
                print(f"{int(time.time() - t_start):6d} {serial - 1:7d} {rss_kb(agent.pid):7d} {rss_kb(srv.pid):7d}",
                      flush=True)
                next_sample += 30
            time.sleep(0.05)
    time.sleep(3)
    with open(os.path.join(data, "hostlog", "checkpoint")) as f:
        logged = int(f.read().split("\n")[1])
    print(f"written {serial - 1}, logged {logged}; final VmRSS agent {rss_kb(agent.pid)} KiB, server {rss_kb(srv.pid)} KiB")
finally:
    if agent is not None:
        agent.terminate()
        agent.wait(timeout=60)
    srv.terminate()
    srv.wait(timeout=120)
    shutil.rmtree(DIR, ignore_errors=True)
