#!/usr/bin/env python3
"""
The audit log's key rotated on a real data directory and followed by real agents: `bulwark log rotate-key`
is refused while the server runs; with it stopped it records log.key_transition naming the new key, signs the
handover checkpoint with both keys and erases the old sealed key; `log audit` pinned to the first key follows
the transition; the restarted server signs with the new key only and lists the transition at
/log/key-transitions; an agent pinned to the first key installs a patch published after the rotation by
following the transition (once), a fresh agent too; a tampered transition in an agent's state, a hijacked
server announcing its own key, and a server hiding the transition are each refused with nothing installed.
"""
import base64
import hashlib
import json
import os
import subprocess
import threading
import time

from bwserver import ADMIN_PW, Client, Mirror, api_cli, free_port, init, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, run, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data, origin="bulwark.test/rotate")
CERT = os.path.join(data, "tls/cert.pem")
TLS_KEY = os.path.join(data, "tls/key.pem")
PORT = free_port()
URL = "https://127.0.0.1:%d" % PORT
srv = serve(data, PORT, "--login-backoff-ms", "0")
c = Client(PORT, CERT)


def cli(*args, token=None, server=URL, check=None):
    return api_cli(*args, server=server, cacert=CERT, token=token, cwd=base, check=check)


def path(*p):
    return os.path.join(base, *p)


def sealed_key():
    return open(os.path.join(data, "keys/log.sealed"), "rb").read()


wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
admin = j["token"]
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "publisher", "scopes": ["admin"]}, token=admin)
api = j["token"]

# ---- a repository and a host that pinned the log's first key ----
for k in ("r1", "t1"):
    cli("patch", "keygen", "--out", k + ".key", check=0)
cli("patch", "keys", "--out", "keys", check=0)
first = open(path("keys", "log.vkey")).read().strip()
cli("patch", "root", "init", "--out", "root.json", "--root-key", "r1.key", "--threshold", "1", "--targets-key",
    "t1.key", "--snapshot-key", "keys/snapshot.pub", "--timestamp-key", "keys/timestamp.pub", check=0)
cli("patch", "sign", "--key", "r1.key", "--role", "root", "root.json", check=0)
HOSTS = "web1,web2,web3,web4,web5"
open(path("hotfix.bin"), "wb").write(os.urandom(5000))
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "1.0", "--hosts", HOSTS, check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
cli("patch", "publish", "--targets", "targets.json", "--root", "root.json", "hotfix.bin", token=api, check=0)


def agent_init(name, server=URL):
    st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": name, "address": "127.0.0.1", "accounts": ["root"]},
                        token=api)
    expect(st == 201, f"host {name} registered: {st} {j}")
    cli("agent", "init", "--state", name, "--server", server, "--cacert", CERT, "--root", "root.json", "--log-key",
        "keys/log.vkey", "--host", name, "--report-server", URL, "--enrol-code", j["enrolment_code"], "--install",
        'cp "$BULWARK_PATCH_FILE" "$BULWARK_PATCH_FILE.v$BULWARK_PATCH_VERSION"', check=0)


# With BULWARK_AGENT_VALGRIND (an unsanitised bulwark; `make check` sets it), the updates that read a hostile
# server's answer run under valgrind memcheck (libjansson parses it, outside ASan's view).
VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")


def hostile_update(name):
    if not VALGRIND_BW:
        return cli("agent", "update", "--state", name)
    env = dict(os.environ, BULWARK_SERVER=URL, BULWARK_CACERT=CERT)
    p = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", VALGRIND_BW, "agent", "update",
                        "--state", name], capture_output=True, timeout=600, env=env, cwd=base)
    out = p.stdout.decode() + p.stderr.decode()
    if p.returncode == 99 or "Invalid read" in out or "uninitialised" in out:
        fail(f"agent update {name}: valgrind memcheck found an error:\n{out[-3000:]}")
    return p.returncode, out


def installed(name, version):
    return os.path.exists(path(name, "installed", "hotfix.bin.v" + version))


agent_init("web1")
rc, out = cli("agent", "update", "--state", "web1")
expect(rc == 0 and installed("web1", "1.0"), f"web1 installs 1.0 under the first key: {out}")
st, j, _, _ = c.req("GET", "/log/key-transitions")
expect(st == 200 and j == {"origin": "bulwark.test/rotate", "transitions": []}, f"no transition yet: {st} {j}")


def key_transitions_metric():
    st, _, _, body = c.req("GET", "/metrics", token=api)
    line = [l for l in body.decode().splitlines() if l.startswith("bulwark_audit_log_key_transitions ")]
    return int(line[0].split()[1]) if st == 200 and line else None


expect(key_transitions_metric() == 0, "the metric counts no transition yet")

# ---- the rotation: refused while the server runs, done with it stopped ----
before = sealed_key()
rc, out, err = run("log", "rotate-key", "--data", data)
expect(rc != 0 and "the server is running" in err, f"rotate-key refused while the server runs: {rc} {err}")
expect(sealed_key() == before and not os.path.exists(os.path.join(data, "keys/log.next.sealed")),
       "a refused rotation changes no key file")
stop(srv)
rc, out, err = run("log", "rotate-key", "--data", data)
text = out.decode()
expect(rc == 0, f"rotate-key: {rc} {err}")
new = next((l.split(None, 2)[2] for l in text.splitlines() if l.startswith("new key:")), "")
handover = int(text.split("the checkpoint of size ")[1].split()[0]) if "the checkpoint of size " in text else 0
expect(new.startswith("bulwark.test/rotate+") and new != first and handover > 0, f"rotate-key says what it did: {text}")
expect(sealed_key() != before and not os.path.exists(os.path.join(data, "keys/log.next.sealed")),
       "the old sealed key is replaced and nothing stays staged")
expect(open(os.path.join(data, "log/log.vkey")).read().strip() == new, "log.vkey is the new key")
expect(os.listdir(os.path.join(data, "log/key-transitions")) == ["%d.tlog-proof" % handover],
       "the transition's proof is kept beside the log")
rc, out, err = run("log", "audit", "--dir", os.path.join(data, "log"), "--vkey", first)
expect(rc == 0 and b"1 key transition followed: entry %d (handover at size %d)" % (handover - 1, handover) in out,
       f"log audit pinned to the first key follows the transition: {out.decode()} {err}")
open(path("stale.vkey"), "w").write(first + "\n")
rc, out, err = run("note", "verify", "--vkey", path("stale.vkey"), os.path.join(data, "log/checkpoint"))
expect(rc == 0, "the handover checkpoint is signed by the old key too")

# ---- the restarted server: the new key signs, the transition is public ----
srv = serve(data, PORT, "--login-backoff-ms", "0")
st, j, _, _ = c.req("GET", "/api/v1/patch/status", token=api)
expect(st == 200, f"the API works after the rotation: {st}")
st, j, _, _ = c.req("GET", "/log/key-transitions")
expect(st == 200 and [t["size"] for t in j["transitions"]] == [handover], f"/log/key-transitions: {j}")
expect(key_transitions_metric() == 1, "GET /metrics counts the transition")
rc, out = cli("status", token=api)
expect(rc == 0 and "its key rotated 1 time" in out, f"bulwark status says the key was rotated: {out}")
proof = j["transitions"][0]["proof"] if j.get("transitions") else ""
st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d&to=%d" % (handover - 1, handover), token=api)
ev = j["events"][0]["event"] if st == 200 and j.get("events") else {}
expect(ev.get("action") == "log.key_transition" and ev.get("details", {}).get("log_key") == new and
       ev["details"].get("log_previous_key") == first and ev.get("source") == "local",
       f"the transition is an audit event naming both keys: {ev}")
st, _, _, cp = c.req("GET", "/log/checkpoint")
open(path("cp"), "wb").write(cp)
rc, _, _ = run("note", "verify", "--vkey", path("stale.vkey"), path("cp"))
expect(rc != 0, "the old key signs no checkpoint past the handover")
open(path("new.vkey"), "w").write(new + "\n")
rc, _, _ = run("note", "verify", "--vkey", path("new.vkey"), path("cp"))
expect(rc == 0, "the new key signs the latest checkpoint")

# ---- a patch published after the rotation: hosts that pinned the first key follow the transition ----
open(path("hotfix.bin"), "wb").write(os.urandom(6000))
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "2.0", "--hosts", HOSTS, check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
cli("patch", "publish", "--targets", "targets.json", "hotfix.bin", token=api, check=0)
for name in ("web2", "web4"):
    agent_init(name)
rc, out = cli("agent", "update", "--state", "web1")
expect(rc == 0 and "followed 1 key transition" in out and installed("web1", "2.0"),
       f"web1 (pinned to the first key) follows the transition and installs 2.0: {out}")
expect(os.path.exists(path("web1", "log-key-transitions.json")), "the agent keeps the transition it followed")
rc, out = cli("agent", "update", "--state", "web1")
expect(rc == 0 and "followed" not in out, f"a transition is followed once: {out}")
rc, out = cli("agent", "update", "--state", "web2")
expect(rc == 0 and installed("web2", "2.0"), f"a fresh host pinned to the first key installs 2.0: {out}")

# a transition in an agent's state whose handover signature was altered: the agent refuses to start its update
t = json.load(open(path("web2", "log-key-transitions.json")))
lines = t[0].split("\n")
sig_at = max(i for i, l in enumerate(lines) if l.startswith("\u2014 "))
head, sig = lines[sig_at].rsplit(" ", 1)
raw = bytearray(base64.b64decode(sig))
raw[-1] ^= 1
lines[sig_at] = head + " " + base64.b64encode(bytes(raw)).decode()
json.dump(["\n".join(lines)], open(path("web2", "log-key-transitions.json"), "w"))
rc, out = cli("agent", "update", "--state", "web2")
expect(rc != 0 and "log-key-transitions.json" in out, f"a tampered transition in the state is refused: {out}")

# a hijacked server announces its own key for the log: not signed by the key the host holds
mirror = Mirror(PORT, CERT, TLS_KEY)
rc, evil_vkey, _ = run("note", "keygen", "--name", "bulwark.test/rotate", "--out", path("evil.key"))
evil_vkey = evil_vkey.decode().strip()
entry = json.dumps({"action": "log.key_transition", "details": {"log_key": evil_vkey}}).encode()
root = base64.b64encode(hashlib.sha256(b"\0" + entry).digest()).decode()
open(path("evil-cp"), "w").write("bulwark.test/rotate\n1\n%s\n" % root)
rc, signed, _ = run("note", "sign", "--key", path("evil.key"), path("evil-cp"))
forged = "c2sp.org/tlog-proof@v1\nextra %s\nindex 0\n\n%s" % (base64.b64encode(entry).decode(), signed.decode())
mirror.overrides["/log/key-transitions"] = json.dumps(
    {"origin": "bulwark.test/rotate", "transitions": [{"size": 1, "proof": forged}]}).encode()
agent_init("web3", server=mirror.url)
rc, out = hostile_update("web3")
expect(rc != 0 and "key transition" in out and "current key" in out and not installed("web3", "2.0"),
       f"a transition signed by another key is refused, nothing installed: {out}")

# malformed answers: refused with what was wrong, nothing installed
for bad, why in ((b"not json", "not JSON"), (b'{"transitions": 5}', "not an array"),
                 (b'{"transitions": [{"size": "7", "proof": "x"}]}', "needs a size and a proof"),
                 (b'{"transitions": [{"size": 7, "proof": "c2sp.org/tlog-proof@v1\\nindex 6\\n\\n"}]}', "key transition at size 7")):
    mirror.overrides["/log/key-transitions"] = bad
    rc, out = hostile_update("web3")
    expect(rc != 0 and why in out and not installed("web3", "2.0"), f"answer {bad[:40]!r} refused ({why}): {out}")

# a server that hides the transition: the new key's checkpoints are not the pinned key's to sign
mirror.overrides["/log/key-transitions"] = None
agent_init("web5", server=mirror.url)
rc, out = hostile_update("web5")
expect(rc != 0 and not installed("web5", "2.0") and not installed("web5", "1.0"),
       f"without the transition, proofs under the new key are refused: {out}")
rc, out = cli("agent", "update", "--state", "web4")
expect(rc == 0 and installed("web4", "2.0"), f"the real server's answer still works: {out}")

# offline: a proof of an entry past the handover verifies from the first key only with the transition given
st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d&to=%d&proofs=1" % (handover, handover + 1), token=api)
open(path("entry-after"), "wb").write(base64.b64decode(j["events"][0]["entry"]))
rc, proof_after, err = run("log", "prove", "--dir", os.path.join(data, "log"), "--index", str(handover))
open(path("after.tlog-proof"), "wb").write(proof_after)
open(path("transition.tlog-proof"), "w").write(proof)
rc, out, err = run("log", "verify-proof", "--vkey", first, "--entry", path("entry-after"), path("after.tlog-proof"))
expect(rc != 0, "a proof under the new key does not verify with the first key alone")
rc, out, err = run("log", "verify-proof", "--vkey", first, "--entry", path("entry-after"), "--transition",
                   path("transition.tlog-proof"), path("after.tlog-proof"))
expect(rc == 0 and b"OK: entry %d" % handover in out, f"verify-proof follows --transition: {out} {err}")
rc, out, err = run("log", "verify-proof", "--vkey", new, "--entry", path("entry-after"), "--transition",
                   path("transition.tlog-proof"), path("after.tlog-proof"))
expect(rc == 0, f"pinned to the new key, the transition starts the chain at its handover: {out} {err}")

# ---- online: an admin rotates the running server's key while requests keep coming ----
st, j, _, _ = c.req("POST", "/api/v1/log/key/rotate")
expect(st == 401, f"an anonymous rotation is refused: {st}")
load_errors, load_done, stop_load = [], [0], threading.Event()


def load():
    c2 = Client(PORT, CERT)
    while not stop_load.is_set():
        st2, _, _, _ = c2.req("GET", "/api/v1/audit?from=0&to=1", token=api)   # each read is an audit event
        if st2 != 200:
            load_errors.append(st2)
        load_done[0] += 1


loader = threading.Thread(target=load)
loader.start()
time.sleep(0.5)
rc, out = cli("log", "rotate-key", token=api)
time.sleep(0.5)
stop_load.set()
loader.join()
third = next((l.split(None, 2)[2] for l in out.splitlines() if l.startswith("new key:")), "")
handover2 = int(out.split("the checkpoint of size ")[1].split()[0]) if "the checkpoint of size " in out else 0
expect(rc == 0 and third.startswith("bulwark.test/rotate+") and third not in (first, new) and handover2 > handover,
       f"log rotate-key through the API: {out}")
expect(not load_errors and load_done[0] > 5, f"requests during the rotation all answered ({load_done[0]}): {load_errors}")
st, j, _, _ = c.req("GET", "/log/key-transitions")
expect([t["size"] for t in j["transitions"]] == [handover, handover2], f"two transitions listed: {j}")
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=0", token=api)
expect(st == 200 and j.get("log_vkey") == third, f"the server presents the third key at once: {j.get('log_vkey')}")
st, _, _, cp = c.req("GET", "/log/checkpoint")
open(path("cp3"), "wb").write(cp)
open(path("third.vkey"), "w").write(third + "\n")
rc, _, _ = run("note", "verify", "--vkey", path("third.vkey"), path("cp3"))
expect(rc == 0, "the third key signs the latest checkpoint")
rc, out, err = run("log", "audit", "--dir", os.path.join(data, "log"), "--vkey", first)
expect(rc == 0 and b"2 key transitions followed" in out, f"log audit follows both transitions: {out.decode()} {err}")
expect(not os.path.exists(os.path.join(data, "keys/log.next.sealed")), "nothing stays staged")
open(path("hotfix.bin"), "wb").write(os.urandom(7000))
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "3.0", "--hosts", HOSTS, check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
cli("patch", "publish", "--targets", "targets.json", "hotfix.bin", token=api, check=0)
rc, out = cli("agent", "update", "--state", "web1")
expect(rc == 0 and "followed 1 key transition" in out and installed("web1", "3.0"),
       f"web1 follows the second transition and installs 3.0: {out}")

# a backup taken after the rotation carries the transition: the restored log audits from the first key
env = dict(os.environ, BULWARK_BACKUP_PASSPHRASE="backup passphrase for the test")
p = subprocess.run([BW, "backup", "--data", data, "--out", path("after.bwb")], env=env, capture_output=True, timeout=300)
expect(p.returncode == 0, f"backup after the rotation: {p.stderr.decode()}")
p = subprocess.run([BW, "restore", "--in", path("after.bwb"), "--data", path("restored"), "--kek",
                    os.path.join(data, "kek")], env=env, capture_output=True, timeout=300)
expect(p.returncode == 0, f"restore: {p.stdout.decode()} {p.stderr.decode()}")
rc, out, err = run("log", "audit", "--dir", path("restored", "log"), "--vkey", first)
expect(rc == 0 and b"2 key transitions followed" in out, f"the restored log follows the transitions: {out.decode()} {err}")

# ---- on a schedule: a key that has signed longer than --log-key-rotate-days is rotated by the server itself ----
stop(srv)
aged = time.time() - 2 * 86400
os.utime(os.path.join(data, "keys/log.sealed"), (aged, aged))
srv = serve(data, PORT, "--login-backoff-ms", "0", "--log-key-rotate-days", "1", "--timestamp-lifetime-secs", "20")
sizes = []
for _ in range(100):
    st, j, _, _ = c.req("GET", "/log/key-transitions")
    sizes = [t["size"] for t in j.get("transitions", [])] if st == 200 else []
    if len(sizes) == 3:
        break
    time.sleep(0.3)
expect(len(sizes) == 3, f"a key older than --log-key-rotate-days is rotated by the server's sweep: {sizes}")
if len(sizes) == 3:
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d&to=%d" % (sizes[2] - 1, sizes[2]), token=api)
    ev = j["events"][0]["event"] if st == 200 and j.get("events") else {}
    expect(ev.get("action") == "log.key_transition" and ev.get("actor") == "-",
           f"the scheduled rotation is the system's transition: {ev}")
time.sleep(5)
st, j, _, _ = c.req("GET", "/log/key-transitions")
expect(len(j["transitions"]) == 3, f"a fresh key is not rotated again: {[t['size'] for t in j['transitions']]}")
stop(srv)
rc, out, err = run("log", "audit", "--dir", os.path.join(data, "log"), "--vkey", first)
expect(rc == 0 and b"3 key transitions followed" in out, f"the log audits from the first key at the end: {out.decode()} {err}")
finish("log_key_test")
