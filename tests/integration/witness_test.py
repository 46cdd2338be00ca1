#!/usr/bin/env python3
"""
bulwark serve as a C2SP tlog-witness for another log (made with `bulwark log`): add-checkpoint with the spec's
answers (200 with a cosignature/v1 line checked here with openssl, 409 text/x.tlog.size, 422, 403, 404, 400),
the state kept across a restart, and a fork (the log's key signing another tree of a size it had) refused,
kept as evidence and raised as an alert.
"""
import base64
import os
import shutil
import subprocess
import time

from bwserver import ADMIN_PW, Client, free_port, init, serve, stop, totp
from bwtest import BW, expect, finish, run, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
ext = os.path.join(base, "ext")
rc, out, _ = run("log", "init", "--dir", ext, "--origin", "example.com/ext", check=0)
PORT = free_port()
srv = serve(data, PORT, "--login-backoff-ms", "0", "--witness-log", os.path.join(ext, "log.vkey"))
c = Client(PORT, cert)


def append(d, *lines):
    run("log", "append", "--dir", d, stdin=("".join(l + "\n" for l in lines)).encode(), check=0)


def request(d, old):
    rc, out, err = run("log", "consistency", "--dir", d, "--old", str(old), check=0)
    return out


def add(body):
    return c.req("POST", "/witness/add-checkpoint", raw=body, headers={"Content-Type": "text/plain"})


st, _, r, key = c.req("GET", "/witness/key")
wkey = key.decode().strip()
name, kid, kb64 = wkey.split("+", 2)
pk = base64.b64decode(kb64)
expect(st == 200 and name == "bulwark.test/server/witness" and pk[0] == 4 and len(pk) == 33,
       f"GET /witness/key: a cosignature/v1 key named for this server: {st} {wkey}")


def cosig_ok(body, line):
    """The line verifies over the body's checkpoint with the witness key (openssl, Ed25519)."""
    text = body.split(b"\n\n", 1)[1].split(b"\n\n", 1)[0] + b"\n"
    parts = line.decode().rstrip("\n").split(" ")
    raw = base64.b64decode(parts[2])
    if parts[0] != "\u2014" or parts[1] != name or raw[:4] != bytes.fromhex(kid) or len(raw) != 76:
        return False, 0
    ts = int.from_bytes(raw[4:12], "big")
    msg = b"cosignature/v1\ntime %d\n" % ts + text
    der = bytes.fromhex("302a300506032b6570032100") + pk[1:]
    pub = os.path.join(base, "w.pub.der")
    open(pub, "wb").write(der)
    open(os.path.join(base, "msg"), "wb").write(msg)
    open(os.path.join(base, "sig"), "wb").write(raw[12:])
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", pub, "-rawin",
                        "-in", os.path.join(base, "msg"), "-sigfile", os.path.join(base, "sig")], capture_output=True)
    return p.returncode == 0, ts


try:
    append(ext, "a", "b", "c")
    body = request(ext, 0)
    st, _, r, line = add(body)
    ok, ts = cosig_ok(body, line)
    expect(st == 200 and ok and abs(ts - time.time()) < 60,
           f"the first checkpoint (old 0) is cosigned, verified by openssl: {st} {line[:120]}")
    append(ext, "d", "e", "f", "g")
    body = request(ext, 3)
    st, _, r, line = add(body)
    expect(st == 200 and cosig_ok(body, line)[0], f"3 -> 7 with its consistency proof: {st} {line[:100]}")
    st, _, r, out = add(request(ext, 0))
    expect(st == 409 and out == b"7\n" and r.getheader("Content-Type") == "text/x.tlog.size",
           f"a stale old size: 409 with the size cosigned: {st} {out} {r.getheader('Content-Type')}")
    st, _, r, line = add(request(ext, 7))
    expect(st == 200, f"the same tree again is cosigned anew: {st}")
    # a proof that does not hold
    fork = os.path.join(base, "fork")  # the same log, key and all, at size 7: to be signed differently
    shutil.copytree(ext, fork, ignore=shutil.ignore_patterns("lock"))
    append(ext, "h")
    good = request(ext, 7)
    lines = good.split(b"\n")
    bad = b"\n".join([lines[0], base64.b64encode(b"\0" * 32)] + lines[2:])
    st, _, r, out = add(bad)
    expect(st == 422 and b"consistency proof" in out, f"a proof that does not verify: 422 (no fork alert: anyone "
                                                      f"can attach a wrong proof to a public checkpoint): {st} {out}")
    st, _, r, out = add(b"old 01\n\nx")
    expect(st == 400 and b"leading zeros" in out, f"a malformed request: 400 naming the line: {st} {out}")
    st, _, r, out = add(b"")
    expect(st == 400 and b"empty request" in out, f"an empty request: 400: {st} {out}")
    # another log (unknown), and the log's name with another key
    other = os.path.join(base, "other")
    run("log", "init", "--dir", other, "--origin", "example.com/other", check=0)
    append(other, "x")
    st, _, r, out = add(request(other, 0))
    expect(st == 404 and b"unknown log" in out, f"an unknown log: 404: {st} {out}")
    forged = os.path.join(base, "forged")
    run("log", "init", "--dir", forged, "--origin", "example.com/ext", check=0)
    append(forged, "x")
    st, _, r, out = add(request(forged, 0))
    expect(st == 403, f"the log's name signed by another key: 403: {st} {out}")
    # a fork: the log's own key signs another tree of size 8
    st, _, r, line = add(good)
    expect(st == 200, f"7 -> 8: {st}")
    append(fork, "evil")
    st, _, r, out = add(request(fork, 8))
    expect(st == 422 and b"another root" in out, f"size 8 with another root from the log's key: 422: {st} {out}")
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
    admin = j["token"]
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    forks = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "witness.fork"]
    expect(len(forks) == 1 and forks[0]["result"] == "alert" and forks[0]["target"] == "witness:example.com/ext"
           and forks[0]["details"]["count"] == 1 and "another root" in forks[0]["details"]["reason"],
           f"the fork is an alert event, its evidence kept: {forks}")
    for _ in range(50):
        st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
        al = [a for a in j.get("alerts", []) if "fork" in a["rule"]]
        if al:
            break
        time.sleep(0.2)
    expect(len(al) == 1 and al[0]["level"] == "critical", f"the shipped rule raises a critical alert: {al}")
    routine = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "witness.add"]
    expect(routine == [], "routine witness answers are not audited")
    # the state survives a restart
    stop(srv)
    srv = serve(data, PORT, "--login-backoff-ms", "0", "--witness-log", os.path.join(ext, "log.vkey"))
    st, _, r, out = add(request(ext, 0))
    expect(st == 409 and out == b"8\n", f"after a restart the witness remembers size 8: {st} {out}")
    append(ext, "i")
    st, _, r, line = add(request(ext, 8))
    expect(st == 200, f"and goes on from it: {st}")
    # the witness's state through the API and the CLI (admins and auditors)
    st, j, _, _ = c.req("GET", "/api/v1/witness", token=admin)
    logs = j.get("logs", []) if st == 200 else []
    expect(st == 200 and j["key"] == wkey and len(logs) == 1 and logs[0]["origin"] == "example.com/ext" and
           logs[0]["size"] == 9 and logs[0]["forks"] == 1 and logs[0]["updated_at"] > 0,
           f"GET /api/v1/witness: {st} {j}")
    st, j, _, _ = c.req("GET", "/api/v1/witness")
    expect(st == 401, f"the witness state is for signed-in admins and auditors: {st}")
    env = dict(os.environ, BULWARK_SERVER="https://127.0.0.1:%d" % PORT, BULWARK_CACERT=cert, BULWARK_TOKEN=admin)
    p = subprocess.run([BW, "witness", "status"], capture_output=True, text=True, env=env, timeout=60)
    expect(p.returncode == 0 and "witness key: " + wkey in p.stdout and
           any(l.split()[:2] == ["example.com/ext", "9"] and l.split()[-1] == "1" for l in p.stdout.splitlines()),
           f"bulwark witness status: {p.stdout} {p.stderr}")
    # ---- the log side: bulwark log witness asks the policy's witnesses (learning their size from a 409) ----
    append(ext, "j", "k")
    other_key = os.path.join(base, "x.key")
    _, xv, _ = run("note", "keygen", "--name", "x.example", "--out", other_key, "--cosigner", check=0)
    pol = os.path.join(base, "ext.policy")
    for quorum, want_rc in (("any", 0), ("all", 1)):
        open(pol, "w").write("log %s\nwitness W %s https://127.0.0.1:%d/witness\nwitness X %s https://127.0.0.1:1/witness\n"
                             "group G %s W X\nquorum G\n"
                             % (open(os.path.join(ext, "log.vkey")).read().strip(), wkey, PORT, xv.decode().strip(),
                                quorum))
        rc, out, err = run("log", "witness", "--dir", ext, "--policy", pol, "--cacert", cert)
        expect(rc == want_rc and "W: cosigned" in err and "X: " in err and
               out.decode().count("\u2014 " + name + " ") == 1 and ("quorum met (1 of 2" in err) == (want_rc == 0),
               f"log witness (quorum {quorum}): rc {rc}, {err}")
        open(os.path.join(base, "cosigned.note"), "wb").write(out)
        rc2, _, err2 = run("note", "verify", "--vkey", wkey, os.path.join(base, "cosigned.note"))
        expect(rc2 == 0, f"the cosignature it printed verifies: {err2}")
finally:
    stop(srv)

# ---- a trust policy required by an offline verifier: bulwark log verify-proof --policy ----
vp = os.path.join(base, "vp")
os.makedirs(vp)
run("log", "init", "--dir", os.path.join(vp, "log"), "--origin", "example.com/vp", check=0)
run("log", "append", "--dir", os.path.join(vp, "log"), stdin=b"first\nsecond\n", check=0)
_, proof, _ = run("log", "prove", "--dir", os.path.join(vp, "log"), "--index", "1", check=0)
open(os.path.join(vp, "entry"), "wb").write(b"second")
wv = []
for i in (1, 2, 3):
    _, out, _ = run("note", "keygen", "--name", "w%d.example" % i, "--out", os.path.join(vp, "w%d.key" % i), "--cosigner",
                    check=0)
    wv.append(out.decode().strip())
open(os.path.join(vp, "policy"), "w").write(
    "log %s\nwitness A %s\nwitness B %s\nwitness C %s\ngroup G 2 A B C\nquorum G\n"
    % (open(os.path.join(vp, "log", "log.vkey")).read().strip(), wv[0], wv[1], wv[2]))
head, note = proof.split(b"\n\n", 1)


def with_cosigs(keys):
    n = note
    for k in keys:
        _, n, _ = run("note", "cosign", "--key", os.path.join(vp, k), stdin=n, check=0)
    path = os.path.join(vp, "proof-" + "-".join(keys))
    open(path, "wb").write(head + b"\n\n" + n)
    return path


args = ["log", "verify-proof", "--vkey", os.path.join(vp, "log", "log.vkey"), "--entry", os.path.join(vp, "entry"),
        "--policy", os.path.join(vp, "policy")]
rc, out, err = run(*args, with_cosigs([]))
expect(rc != 0 and "quorum not met: 0 of 3" in err, f"no cosignature: the policy refuses: {rc} {err}")
rc, out, err = run(*args, with_cosigs(["w1.key"]))
expect(rc != 0 and "quorum not met: 1 of 3" in err, f"1 of a 2-of-3 group: refused: {rc} {err}")
rc, out, err = run(*args, with_cosigs(["w1.key", "w3.key"]))
expect(rc == 0 and b"quorum met (2 of 3" in out, f"2 of 3: accepted: {rc} {out} {err}")
rc, out, err = run(*args[:-2], with_cosigs([]))
expect(rc == 0, f"without --policy the log's signature is enough, as before: {rc} {err}")
open(os.path.join(vp, "bad-policy"), "w").write("log nonsense\nquorum none\n")
rc, out, err = run(*args[:-1], os.path.join(vp, "bad-policy"), with_cosigs([]))
expect(rc != 0 and "policy line 1" in err, f"a malformed policy is refused naming the line: {err}")

shutil.rmtree(base)
finish("witness_test")
