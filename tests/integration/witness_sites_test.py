#!/usr/bin/env python3
"""
Two sites witness each other, plus a standalone witness (`bulwark witness serve`), all real servers on loopback:
each server's audit log asks its witnesses (serve --witness-policy) and publishes the checkpoint they cosigned at
/log/checkpoint; `log audit --policy` needs the quorum; a fork made with the stolen log key (a copy of the data
directory, its sealed key and all) is refused by the witnesses and raised as an alert; an agent with a 2-of-3
policy refuses a patch whose proof lacks the quorum and installs once it has it; a witness restarted mid-stream
keeps its state.
"""
import atexit
import http.server
import ssl
import threading
import json
import os
import re
import shutil
import subprocess
import time

from bwserver import ADMIN_PW, Client, api_cli, free_port, init, serve, stop, totp, wait_fresh_step
from bwtest import wait_for, BW, expect, fail, finish, run, tmpdir

base = tmpdir()
running = []


@atexit.register
def kill_left():
    for p_ in running:
        if p_.poll() is None:
            p_.kill()


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
    return serve(d, port, *extra, cmd=("witness", "serve"))


def start(fn, *args):
    p = fn(*args)
    running.append(p)
    return p


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
w = start(serve_witness, W, PW, "--witness-log", A_LOG, "--witness-log", B_LOG)
a = start(serve, A, PA, "--witness-log", B_LOG)
b = start(serve, B, PB, "--witness-log", A_LOG)
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


class FakeWitness:
    """A witness that answers as real ones do when they misbehave: 429, too slow, 409 without a size, or a
    real cosignature (made with `bulwark note cosign`). Serves HTTPS with B's certificate (in the CA bundle)."""

    def __init__(self, port, key):
        self.mode, self.key, self.asked = "429", key, 0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fake.asked += 1
                mode = fake.mode
                if mode == "slow":
                    time.sleep(5)
                if mode == "cosign":
                    note = body.split(b"\n\n", 1)[1]
                    p = subprocess.run([BW, "note", "cosign", "--key", fake.key], input=note, capture_output=True)
                    out, code = p.stdout[len(note):], 200
                elif mode == "409empty":
                    out, code = b"", 409
                elif mode == "429":
                    out, code = b"", 429
                else:
                    out, code = b"down\n", 503
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(os.path.join(B, "tls/cert.pem"), os.path.join(B, "tls/key.pem"))
        self.httpd.socket = sctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


PX = free_port()
_, x_vkey, _ = run("note", "keygen", "--name", "x.test/witness", "--out", path("x.key"), "--cosigner", check=0)
WX = x_vkey.decode().strip()
fake = FakeWitness(PX, path("x.key"))
POL_A = policy("a.policy", A_LOG, "group G any B W D\nquorum G\n",
               [("B", WB, "https://127.0.0.1:%d/witness" % PB), ("W", WW, "https://127.0.0.1:%d/witness" % PW),
                ("D", WD, "https://127.0.0.1:%d/witness" % DEAD), ("X", WX, "https://127.0.0.1:%d/witness" % PX)])
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



def note_size(text):
    return int(text.split("\n")[1])


stop(a)
stop(b)
a = start(serve, A, PA, *A_ARGS)
b = start(serve, B, PB, *B_ARGS)
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
expect(rc == 0 and "witnesses:  quorum met (2 of 4" in out.decode(), f"log audit --policy (1 of 3 needed): {out}")
rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", POL_AGENT)
expect(rc == 0 and "quorum met (2 of 3" in out.decode(), f"log audit --policy (2 of 3 needed): {out}")
strict = policy("strict.policy", A_LOG, "group G all B W D\nquorum G\n", [("B", WB, ""), ("W", WW, ""), ("D", WD, "")])
rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", strict)
expect(rc != 0 and "witnesses:  FAIL: quorum not met: 2 of 3" in out.decode() and "audit: FAILED" in out.decode(),
       f"log audit --policy fails when the quorum is not met: {out}")

# ---- a misbehaving witness (X, outside A's quorum group) is tolerated: 429, too slow, then an alarm ----


def own_x():
    st, j, _, _ = Client(PA, ca[A]).req("GET", "/api/v1/witness", token=admin_a)
    return j["own_log"], {x["name"]: x for x in j["own_log"]["witnesses"]}["X"]


x = own_x()[1]
expect(x["last"] == "busy" and "429" in x["why"] and x["answers"]["busy"] >= 1 and x["backoff_ms"] >= 1000,
       f"429 from a witness: busy, backed off: {x}")
fake.mode = "slow"
pub0 = own_x()[0]["published_size"]
Client(PA, ca[A]).req("GET", "/api/v1/users", token=admin_a)  # an audited read: the log grows
x = wait_for("the slow witness given up on", lambda: (lambda x: "Timeout" in x["why"] and x)(own_x()[1]))
expect(x["last"] == "busy", f"a witness slower than --witness-timeout-secs: busy: {x}")
wait_for("A's publication going on while a witness hangs", lambda: own_x()[0]["published_size"] > pub0)
fake.mode = "cosign"
Client(PA, ca[A]).req("GET", "/api/v1/users", token=admin_a)
wait_for("X's cosignature once it answers", lambda: own_x()[1]["last"] == "cosigned", secs=60)
fake.mode = "409empty"
Client(PA, ca[A]).req("GET", "/api/v1/users", token=admin_a)
x = wait_for("X's 409 without a size", lambda: (lambda x: x["last"] == "conflict" and x)(own_x()[1]), secs=60)
expect("409 without a size" in x["why"] and x["backoff_ms"] >= 60000, f"a same-size conflict (v1.0.0): {x}")
fake.mode = "down"
st, j, _, _ = Client(PA, ca[A]).req("GET", "/api/v1/audit", token=admin_a)
alarms = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "log.witness_alarm"]
expect(len(alarms) == 1 and alarms[0]["target"] == "witness:X" and alarms[0]["result"] == "alert" and
       "409 without a size" in alarms[0]["details"]["reason"], f"log.witness_alarm recorded once: {alarms}")
wait_for("the alert on A", lambda: [a_ for a_ in Client(PA, ca[A]).req("GET", "/api/v1/alerts", token=admin_a)[1].get(
    "alerts", []) if "holds another history" in a_["rule"] and a_["level"] == "critical"])

# ---- an agent with a 2-of-3 policy: a patch whose proof lacks the quorum is refused, then installed ----
URL_A = "https://127.0.0.1:%d" % PA


def cli(*args, token=None, check=None):
    return api_cli(*args, server=URL_A, cacert=ca[A], token=token, cwd=base, check=check)


admin_w = login(PW, ca[W], w_secret)
st, j, _, _ = Client(PW, ca[W]).req("GET", "/api/v1/witness", token=admin_w)
before = {x["origin"]: x["size"] for x in j["logs"]}
stop(w)  # the standalone witness goes down: A's checkpoints get B's cosignature only
for k in ("r1", "t1"):
    cli("patch", "keygen", "--out", k + ".key", check=0)
cli("patch", "keys", "--out", "keys", check=0)
cli("patch", "root", "init", "--out", "root.json", "--root-key", "r1.key", "--threshold", "1", "--targets-key",
    "t1.key", "--snapshot-key", "keys/snapshot.pub", "--timestamp-key", "keys/timestamp.pub", check=0)
cli("patch", "sign", "--key", "r1.key", "--role", "root", "root.json", check=0)
open(path("hotfix.bin"), "wb").write(os.urandom(5000))
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "1.0", "--hosts", "web1", check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
rc, out = cli("patch", "publish", "--targets", "targets.json", "--root", "root.json", "hotfix.bin", token=admin_a)
expect(rc == 0, f"patch publish on site A: {out}")
logged = json.loads(out[out.index("{"):out.rindex("}") + 1])["logged"][0]["log_index"]
st, j, _, _ = Client(PA, ca[A]).req("POST", "/api/v1/hosts", {"name": "web1", "address": "127.0.0.1",
                                                                 "accounts": ["root"]}, token=admin_a)
expect(st == 201, f"host web1 registered: {st} {j}")
rc, out = cli("agent", "init", "--state", "web1", "--server", URL_A, "--cacert", ca[A], "--root", "root.json",
              "--log-key", "keys/log.vkey", "--host", "web1", "--install", "true", "--enrol-code",
              j["enrolment_code"], "--witness-policy", POL_AGENT)
expect(rc == 0 and open(path("web1", "witness.policy")).read() == open(POL_AGENT).read(),
       f"agent init pins the witness policy: {out}")
rc, out = cli("agent", "init", "--state", "web1b", "--server", URL_A, "--cacert", ca[A], "--root", "root.json",
              "--log-key", "keys/log.vkey", "--host", "web1", "--witness-policy", POL_B)
expect(rc != 0 and "names no log a.test/audit" in out, f"a policy that does not name the pinned log key: {out}")
# A publishes the checkpoint with the entry once B alone has cosigned it (A's own quorum: any one)
wait_for("A's published checkpoint covering the target with B's cosignature only", lambda: (
    lambda t: note_size(t[0]) > logged and t[1] == ["a.test/audit", "b.test/audit/witness"])(cosigners(PA, ca[A])))
rc, out = cli("agent", "update", "--state", "web1")
expect(rc != 0 and "quorum not met: 1 of 3" in out and "installed hotfix.bin" not in out,
       f"the agent (2 of 3) refuses a proof that lacks the quorum: {out}")
# ---- the standalone witness restarted mid-stream keeps its state ----
w = start(serve_witness, W, PW, "--witness-log", A_LOG, "--witness-log", B_LOG)
st, j, _, _ = Client(PW, ca[W]).req("GET", "/api/v1/witness", token=admin_w)
after = {x["origin"]: x["size"] for x in j["logs"]}
expect(all(after[o] >= before[o] > 0 for o in before), f"the standalone witness remembers after a restart: "
                                                       f"{before} -> {after}")
wait_for("A's checkpoint cosigned by W again (a consistency proof from the size it remembered)", lambda: (
    lambda t: note_size(t[0]) > logged and "w.test/audit/witness" in t[1])(cosigners(PA, ca[A])), secs=60)
rc, out = cli("agent", "update", "--state", "web1")
expect(rc == 0 and "installed hotfix.bin version 1.0" in out, f"with the quorum the agent installs: {out}")

# ---- a fork made with the stolen log key is refused by the witnesses and raised as an alert ----
stop(a)
F = path("f")
shutil.copytree(A, F, ignore=shutil.ignore_patterns("lock"))  # the thief's copy: the sealed key and its KEK
size_s = note_size(open(os.path.join(F, "log", "checkpoint")).read())
a = start(serve, A, PA, *A_ARGS)


def a_settled():
    """A's events of its start all integrated and cosigned by B and W: the size they hold for A."""
    t = cosigners(PA, ca[A])
    latest = note_size(open(os.path.join(A, "log", "checkpoint")).read())
    return len(t[1]) == 3 and note_size(t[0]) == latest > size_s and latest


size_a = wait_for("A's restart cosigned by B and W", a_settled)
time.sleep(0.5)
expect(a_settled() == size_a, "A is idle at the size its witnesses cosigned")
PF = free_port()
f = start(serve, F, PF, *A_ARGS)
size_f = wait_for("the copy's first checkpoint", lambda: note_size(open(os.path.join(F, "log", "checkpoint")).read()) >=
                  size_a and note_size(open(os.path.join(F, "log", "checkpoint")).read()))
expect(size_f == size_a, f"the copy reached the size A has, with another root: {size_f} {size_a}")


def audit_events(port, cert, token, action):
    st, j, _, _ = Client(port, cert).req("GET", "/api/v1/audit", token=token)
    return [e["event"] for e in j.get("events", []) if e["event"]["action"] == action]


def alerts(port, cert, token, words):
    st, j, _, _ = Client(port, cert).req("GET", "/api/v1/alerts", token=token)
    return [x for x in j.get("alerts", []) if words in x["rule"]]


forks_w = wait_for("the standalone witness's fork alert",
                   lambda: alerts(PW, ca[W], admin_w, "showed a fork"))
ev = audit_events(PW, ca[W], admin_w, "witness.fork")
expect(len(ev) == 1 and ev[0]["target"] == "witness:a.test/audit" and "another root" in ev[0]["details"]["reason"]
       and forks_w[0]["level"] == "critical", f"W refused the fork and raised it: {ev} {forks_w}")
admin_b = login(PB, ca[B], b_secret)
wait_for("B's fork alert", lambda: alerts(PB, ca[B], admin_b, "showed a fork"))
st, j, _, _ = Client(PW, ca[W]).req("GET", "/api/v1/witness", token=admin_w)
wl = {x["origin"]: x for x in j["logs"]}
expect(wl["a.test/audit"]["forks"] == 1 and wl["a.test/audit"]["size"] >= size_a,
       f"W kept the evidence and A's history stays the one it cosigns: {wl}")
text_f = cosigners(PF, ca[A])[0]
expect(note_size(text_f) < size_f, f"the copy publishes no checkpoint past the fork: it gets no cosignature: {text_f}")
# the thief's copy itself learns that the witnesses hold another history (its own log records the alarm)
wait_for("the copy's log.witness_alarm", lambda: "log.witness_alarm" in subprocess.run(
    [BW, "log", "checkpoint", "--dir", os.path.join(F, "log")], capture_output=True).stdout.decode() or
    any(b"log.witness_alarm" in open(os.path.join(dp, fn), "rb").read()
        for dp, _, fns in os.walk(os.path.join(F, "log", "tile", "entries")) for fn in fns))
stop(f)
rc, out, err = run("log", "audit", "--dir", os.path.join(A, "log"), "--vkey", A_LOG, "--policy", POL_AGENT)
expect(rc == 0 and "quorum met" in out.decode(), f"A's own log still audits with the quorum: {out}")

for p_ in (a, b, w):
    stop(p_)
finish("witness_sites_test")
