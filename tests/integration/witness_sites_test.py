#!/usr/bin/env python3
"""
Two sites witness each other, plus a standalone witness (`bulwark witness serve`), all real servers on loopback:
each server's audit log asks its witnesses (serve --witness-policy) and publishes the checkpoint they cosigned at
/log/checkpoint; `log audit --policy` needs the quorum; a fork made with the stolen log key (a copy of the data
directory, its sealed key and all) is refused by the witnesses and raised as an alert; an agent with a 2-of-3
policy refuses a patch whose proof lacks the quorum and installs once it has it; a witness restarted mid-stream
keeps its state.
"""
import json
import os
import re
import shutil
import subprocess
import time

from bwserver import ADMIN_PW, Client, api_cli, free_port, init, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, run, tmpdir

base = tmpdir()


def path(*p):
    return os.path.join(base, *p)


def site(name, origin):
    d = path(name)
    _, secret, _ = init(d, origin=origin)
    return d, secret, open(os.path.join(d, "log", "log.vkey")).read().strip()


A, a_secret, A_LOG = site("a", "a.test/audit")
B, b_secret, B_LOG = site("b", "b.test/audit")
W, w_secret, _ = site("w", "w.test/audit")
PA, PB, PW = free_port(), free_port(), free_port()
DEAD = free_port()  # a witness that is never up
# one CA bundle holding the three servers' self-signed certificates, for the witnessing clients
CAS = path("cas.pem")
open(CAS, "w").write("".join(open(os.path.join(d, "tls/cert.pem")).read() for d in (A, B, W)))
ca = {A: os.path.join(A, "tls/cert.pem"), B: os.path.join(B, "tls/cert.pem"), W: os.path.join(W, "tls/cert.pem")}


def serve_witness(d, port, *extra):
    """bulwark witness serve, started like bwserver.serve."""
    logf = open(d + ".stderr", "a+")
    p = subprocess.Popen([BW, "witness", "serve", "--data", d, "--listen", "127.0.0.1:%d" % port, *extra],
                         stderr=logf, stdout=subprocess.DEVNULL)
    p.logf = logf
    for _ in range(200):
        try:
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    fail("witness serve did not start: " + open(d + ".stderr").read())


def get_key(port, cert):
    st, _, _, body = Client(port, cert).req("GET", "/witness/key")
    expect(st == 200, f"GET /witness/key on {port}: {st}")
    return body.decode().strip()


def login(port, cert, secret):
    st, j, _, _ = Client(port, cert).req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW,
                                                                   "otp": totp(secret)})
    expect(st == 200, f"admin login on {port}: {st} {j}")
    return j["token"]


# ---- first start: the witness keys (made on a server's first start) ----
w = serve_witness(W, PW, "--witness-log", A_LOG, "--witness-log", B_LOG)
a = serve(A, PA, "--witness-log", B_LOG)
b = serve(B, PB, "--witness-log", A_LOG)
WA, WB, WW = get_key(PA, ca[A]), get_key(PB, ca[B]), get_key(PW, ca[W])
_, dead_vkey, _ = run("note", "keygen", "--name", "dead.test/witness", "--out", path("dead.key"), "--cosigner", check=0)
WD = dead_vkey.decode().strip()
st, _, _, _ = Client(PW, ca[W]).req("GET", "/patch/metadata/timestamp.json")
expect(st == 404, f"a standalone witness serves no patch repository: {st}")
st, _, _, _ = Client(PW, ca[W]).req("GET", "/log/checkpoint")
expect(st == 200, f"a standalone witness serves its own audit log: {st}")


def policy(name, log, quorum, witnesses):
    text = "log %s\n" % log
    for wname, key, url in witnesses:
        text += ("witness %s %s %s" % (wname, key, url)).rstrip() + "\n"
    text += quorum
    open(path(name), "w").write(text)
    return path(name)


# A's policy: B, the standalone W and a dead one; any one cosignature publishes (agents ask for more)
POL_A = policy("a.policy", A_LOG, "group G any B W D\nquorum G\n",
               [("B", WB, "https://127.0.0.1:%d/witness" % PB), ("W", WW, "https://127.0.0.1:%d/witness" % PW),
                ("D", WD, "https://127.0.0.1:%d/witness" % DEAD)])
POL_B = policy("b.policy", B_LOG, "group G all A W\nquorum G\n",
               [("A", WA, "https://127.0.0.1:%d/witness" % PA), ("W", WW, "https://127.0.0.1:%d/witness" % PW)])
# what agents of site A require: 2 of the 3
POL_AGENT = policy("agent.policy", A_LOG, "group G 2 B W D\nquorum G\n", [("B", WB, ""), ("W", WW, ""), ("D", WD, "")])

A_ARGS = ("--witness-log", B_LOG, "--witness-policy", POL_A, "--witness-interval-secs", "1", "--witness-timeout-secs",
          "3", "--witness-cacert", CAS, "--login-backoff-ms", "0")
B_ARGS = ("--witness-log", A_LOG, "--witness-policy", POL_B, "--witness-interval-secs", "1", "--witness-timeout-secs",
          "3", "--witness-cacert", CAS, "--login-backoff-ms", "0")


def cosigners(port, cert):
    st, _, _, body = Client(port, cert).req("GET", "/log/checkpoint")
    expect(st == 200, f"GET /log/checkpoint: {st}")
    text = body.decode()
    return text, sorted(set(re.findall(r"^\u2014 (\S+) ", text, re.M)))


def wait_for(what, fn, secs=30):
    end = time.time() + secs
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    fail(f"timed out waiting for {what}")


def note_size(text):
    return int(text.split("\n")[1])


try:
    stop(a)
    stop(b)
    a = serve(A, PA, *A_ARGS)
    b = serve(B, PB, *B_ARGS)
    # ---- each site's checkpoint is cosigned by the other and the standalone witness ----
    text_a = wait_for("A's checkpoint cosigned by B and W", lambda: (lambda t: t[1] == sorted(
        ["b.test/audit/witness", "a.test/audit", "w.test/audit/witness"]) and t[0])(cosigners(PA, ca[A])))
    text_b = wait_for("B's checkpoint cosigned by A and W", lambda: (lambda t: t[1] == sorted(
        ["a.test/audit/witness", "b.test/audit", "w.test/audit/witness"]) and t[0])(cosigners(PB, ca[B])))
    open(path("a.cosigned"), "w").write(text_a)
    rc, out, err = run("note", "verify", "--vkey", WB, path("a.cosigned"))
    expect(rc == 0, f"B's cosignature on A's published checkpoint verifies: {err}")
    rc, out, err = run("note", "verify", "--vkey", WW, path("a.cosigned"))
    expect(rc == 0, f"W's cosignature on A's published checkpoint verifies: {err}")
    expect(open(os.path.join(A, "log", "checkpoint.cosigned")).read() == text_a or
           note_size(open(os.path.join(A, "log", "checkpoint.cosigned")).read()) >= note_size(text_a),
           "the published checkpoint is kept in LOG/checkpoint.cosigned")
    admin_a = login(PA, ca[A], a_secret)
    env = dict(os.environ, BULWARK_SERVER="https://127.0.0.1:%d" % PA, BULWARK_CACERT=ca[A], BULWARK_TOKEN=admin_a)
    st, j, _, _ = Client(PA, ca[A]).req("GET", "/api/v1/witness", token=admin_a)
    own = j.get("own_log") or {}
    ws = {x["name"]: x for x in own.get("witnesses", [])}
    expect(st == 200 and own.get("published_size", 0) > 0 and ws["B"]["last"] == "cosigned" and
           ws["W"]["last"] == "cosigned" and ws["D"]["last"] == "busy" and ws["D"]["backoff_ms"] >= 1000 and
           ws["D"]["answers"]["busy"] >= 1 and "quorum met" in own.get("quorum", ""),
           f"GET /api/v1/witness: own_log with each witness's state, the dead one backed off: {j}")
    p = subprocess.run([BW, "witness", "status"], capture_output=True, text=True, env=env, timeout=60)
    expect(p.returncode == 0 and "this server's log: published size" in p.stdout and
           re.search(r"^B\s+cosigned\s+\d+", p.stdout, re.M) and re.search(r"^D\s+busy\s+0\s+\d+s\s+no answer",
                                                                            p.stdout, re.M),
           f"bulwark witness status shows the log side: {p.stdout} {p.stderr}")
    # an offline audit of A's log requires the quorum of its policy
    rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", POL_A)
    expect(rc == 0 and "witnesses:  quorum met (2 of 3" in out.decode(), f"log audit --policy (1 of 3 needed): {out}")
    rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", POL_AGENT)
    expect(rc == 0 and "quorum met (2 of 3" in out.decode(), f"log audit --policy (2 of 3 needed): {out}")
    strict = policy("strict.policy", A_LOG, "group G all B W D\nquorum G\n", [("B", WB, ""), ("W", WW, ""), ("D", WD, "")])
    rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", strict)
    expect(rc != 0 and "witnesses:  FAIL: quorum not met: 2 of 3" in out.decode() and "audit: FAILED" in out.decode(),
           f"log audit --policy fails when the quorum is not met: {out}")
finally:
    pass

# ---- a witness restarted mid-stream keeps its state ----
try:
    admin_w = login(PW, ca[W], w_secret)
    st, j, _, _ = Client(PW, ca[W]).req("GET", "/api/v1/witness", token=admin_w)
    before = {x["origin"]: x["size"] for x in j["logs"]}
    stop(w)
    w = serve_witness(W, PW, "--witness-log", A_LOG, "--witness-log", B_LOG)
    st, j, _, _ = Client(PW, ca[W]).req("GET", "/api/v1/witness", token=admin_w)
    after = {x["origin"]: x["size"] for x in j["logs"]}
    expect(all(after[o] >= before[o] > 0 for o in before), f"the standalone witness remembers after a restart: "
                                                           f"{before} -> {after}")
    # the sites go on being cosigned by it (consistency proofs from the sizes it remembered)
    size0 = note_size(cosigners(PA, ca[A])[0])
    st, _, _, _ = Client(PA, ca[A]).req("GET", "/api/v1/users", token=admin_a)  # an audited read: the log grows
    wait_for("A's checkpoint, grown, cosigned by W again", lambda: (lambda t: note_size(t[0]) > size0 and
                                                                     "w.test/audit/witness" in t[1])(cosigners(PA, ca[A])))
finally:
    pass

finish("witness_sites_test")
