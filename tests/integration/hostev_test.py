#!/usr/bin/env python3
"""
Host events end to end with real parts: `bulwark agent run` follows an auditd log while it is written,
rotated twice, and while the server is killed (SIGKILL) and started again; every event arrives exactly
once (the serials and contents compared end to end through GET /api/v1/events). With the server down the
spool fills to its bound, reading stops (the log file holds the rest), and everything drains when the
server is back. A batch naming another host is refused and audited; a rotation the agent missed is
reported as a loss and raises an alert; a host whose agent stops raises host.silent.
"""
import gzip
import json
import os
import re
import signal
import subprocess
import threading
import time

from bwtest import BW, expect, finish, tmpdir
from bwserver import ADMIN_PW, Client, api_cli, free_port, init, serve, stop, totp

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
PORT = free_port()
URL = "https://127.0.0.1:%d" % PORT
SERVE_ARGS = ("--login-backoff-ms", "0", "--host-silent-secs", "3")
srv = serve(data, PORT, *SERVE_ARGS)
c = Client(PORT, cert)


st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
expect(st == 200, f"admin signs in: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "hostev", "scopes": ["admin"]}, token=j.get("token"))
expect(st == 201, f"an API token (it outlives server restarts): {st} {j}")
admin = j.get("token")


def add_host(name):
    st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": name, "address": "127.0.0.1", "accounts": ["root"]},
                        token=admin)
    expect(st == 201, f"host {name} added: {st} {j}")
    state = os.path.join(base, "agent-" + name)
    p = subprocess.run([BW, "agent", "init", "--state", state, "--server", URL, "--cacert", cert, "--host", name,
                        "--enrol-code", j["enrolment_code"]], capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and "enrolled" in p.stdout, f"agent init for {name}: {p.stdout} {p.stderr}")
    cfg = json.load(open(os.path.join(state, "config.json")))
    expect(cfg.get("cacert") == os.path.join(os.path.realpath(state), "server-ca.pem") and
           open(cfg["cacert"]).read() == open(cert).read(), f"the server certificate is pinned in the state: {cfg}")
    return state


state = add_host("web1")
state2 = add_host("web2")
AUDIT = os.path.join(base, "audit.log")
T0 = 1795845114000


def event_text(serial):
    """One auditd event: an execve with EOE, or (every 7th) a single-record user event without EOE."""
    t = T0 + serial
    ts = "%d.%03d" % (t // 1000, t % 1000)
    if serial % 7 == 0:
        return (f"type=USER_AUTH msg=audit({ts}:{serial}): pid=1 uid=0 auid=1000 ses=1 msg='op=PAM:authentication "
                f"grantors=pam_unix acct=\"u{serial}\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh "
                f"res=success'\n")
    return (f"type=SYSCALL msg=audit({ts}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
            f"items=1 ppid=1 pid={1000 + serial % 30000} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 "
            f"egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm=\"job\" exe=\"/usr/bin/job{serial}\" key=(null)\n"
            f"type=EXECVE msg=audit({ts}:{serial}): argc=2 a0=\"job\" a1=\"n{serial}\"\n"
            f"type=EOE msg=audit({ts}:{serial}): \n")


def serial_of(ev, host="web1"):
    """The serial an event carries, from its raw record (and, for execs, its object)."""
    raw = ev["raw"]
    s = int(raw.split(":", 1)[1].split(")", 1)[0])
    if 'exe="/tmp/' in raw:
        return s
    if s % 7 != 0:
        expect(ev["object"] == f"/usr/bin/job{s}" and ev["action"] == "execve" and ev["subject"] == "1000" and
               f'a1="n{s}"' in raw and ev["host"] == host and ev["source"] == "auditd",
               f"event {s} arrived as written: {ev}")
    else:
        expect(ev["action"] == "user_auth" and ev["result"] == "success" and f'acct="u{s}"' in raw,
               f"event {s} arrived as written: {ev}")
    return s


def write_events(first, last, pace=0.0):
    with open(AUDIT, "a") as f:
        for s in range(first, last):
            f.write(event_text(s))
            if pace and s % 100 == 0:
                f.flush()
                time.sleep(pace)


def all_events(host="web1"):
    """Every host event of host, paging with before."""
    out, before = [], None
    for _ in range(200):
        q = "/api/v1/events?host=%s&limit=1000" % host + ("&before=%d" % before if before else "")
        st, j, _, _ = c.req("GET", q, token=admin)
        expect(st == 200, f"GET {q}: {st} {j}")
        if st != 200:
            break
        out += j["events"]
        before = j.get("next_before")
        if not before:
            break
    return out


def wait_count(n, limit_s=60, host="web1"):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        evs = all_events(host)
        if len(evs) >= n:
            return evs
        time.sleep(0.5)
    return all_events(host)


VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")


def start_agent(st, *extra, valgrind=False, audit=True):
    log = open(st + ".log", "a")
    cmd = [BW]
    if valgrind and VALGRIND_BW:
        # auditd's records go through libauparse and the agent's state through jansson: uninstrumented libraries
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
               VALGRIND_BW]
    return subprocess.Popen([*cmd, "agent", "run", "--state", st, *(["--audit-log", AUDIT] if audit else []),
                             "--flush-ms", "200",
                             "--heartbeat-secs", "1", *extra], stderr=log, stdout=subprocess.DEVNULL)


def stop_agent(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        expect(False, "the agent did not stop on SIGTERM")
    expect(p.returncode == 0, f"agent exit code {p.returncode} after SIGTERM (99: valgrind memcheck found an error)")


# ---- collection across two rotations and a killed server: every event exactly once ----
open(AUDIT, "w").close()
agent = start_agent(state)
# a second agent on the same state directory is refused (it would reuse batch numbers and the spool)
time.sleep(0.5)
p = subprocess.run([BW, "agent", "run", "--state", state, "--audit-log", AUDIT], capture_output=True, text=True,
                   timeout=30)
expect(p.returncode != 0 and "another `bulwark agent run` is using" in p.stderr,
       f"a second agent run on one state directory: {p.returncode} {p.stderr}")
N1 = 3000
write_events(1, 1000, pace=0.01)
os.rename(AUDIT, AUDIT + ".1")                    # auditd's rotation: rename, then a new file
write_events(1000, 1500, pace=0.01)
srv.kill()                                        # the server dies while the agent sends
srv.wait()
write_events(1500, 2000, pace=0.01)
time.sleep(1.0)
srv = serve(data, PORT, *SERVE_ARGS)
write_events(2000, 2500, pace=0.01)
os.rename(AUDIT + ".1", AUDIT + ".2")
os.rename(AUDIT, AUDIT + ".1")
write_events(2500, N1 + 1, pace=0.01)
evs = wait_count(N1)
serials = [serial_of(e) for e in evs]
expect(len(serials) == N1 and set(serials) == set(range(1, N1 + 1)),
       f"every event arrived exactly once across rotations and a server kill: {len(serials)} events, "
       f"{len(set(serials))} distinct, missing {sorted(set(range(1, N1 + 1)) - set(serials))[:10]}")
idx = [e["index"] for e in evs]
expect(len(set(idx)) == len(idx), "each event has its own log index")

# the host list shows the agent's heartbeat and counters
st, j, _, _ = c.req("GET", "/api/v1/hosts", token=admin)
hb = [h for h in j.get("hosts", []) if h["name"] == "web1"][0].get("heartbeat") if st == 200 else None
expect(hb is not None and hb["state"] == "ok" and hb["counters"]["read"] >= 1 and hb["counters"]["lost"] == 0,
       f"the host list shows web1's heartbeat: {hb}")
# (a heartbeat comes every second: wait for one sent after the batches were acknowledged)
for _ in range(50):
    st, j, _, _ = c.req("GET", "/api/v1/hosts", token=admin)
    ctr = ([h for h in j.get("hosts", []) if h["name"] == "web1"][0].get("heartbeat") or {}).get("counters", {})
    if ctr.get("sent", 0) >= N1:
        break
    time.sleep(0.2)
expect(ctr.get("bytes_sent", 0) > 0 and ctr.get("bytes_raw", 0) > 3 * ctr.get("bytes_sent", 0),
       f"batches went compressed (bytes on the wire against their JSON): {ctr}")
# GET /metrics: the hosts, the host-event log and the agents' counters (summed over hosts' latest heartbeats)
st, _, _, body = c.req("GET", "/metrics", token=admin)
mtext = body.decode()


def metric(name):
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", mtext, re.M)
    return float(m.group(1)) if m else None


expect(st == 200 and metric('bulwark_hosts{state="reporting"}') == 1 and metric('bulwark_hosts{state="silent"}') == 0
       and (metric("bulwark_host_events_logged") or 0) >= N1
       and metric('bulwark_host_agent_events{counter="sent"}') == ctr.get("sent")
       and metric('bulwark_host_agent_events{counter="lost"}') == ctr.get("lost"),
       f"the hosts in /metrics: {[l for l in mtext.splitlines() if 'host' in l]} (heartbeat {ctr})")

# ---- the spool fills while the server is down, reading stops, and it drains afterwards ----
stop(srv)
stop_agent(agent)
agent = start_agent(state, "--spool-max-mb", "1", "--batch-max", "7")
N2 = N1 + 6000
write_events(N1 + 1, N2 + 1)
spool = os.path.join(state, "hostev", "spool")


def spool_bytes():
    total = 0
    for f in os.listdir(spool):
        try:
            total += os.path.getsize(os.path.join(spool, f))
        except FileNotFoundError:
            pass  # a batch being written (.tmp) was renamed, or one was delivered, between the listing and the stat
    return total


deadline = time.time() + 30
while time.time() < deadline and spool_bytes() < (1 << 20):
    time.sleep(0.2)
time.sleep(1.0)
size = os.path.getsize(AUDIT)
pos = json.load(open(os.path.join(state, "hostev", "positions.json")))
expect(spool_bytes() >= (1 << 20) and spool_bytes() < (1 << 20) + (512 << 10),
       f"the spool filled to its bound and no further: {spool_bytes()} bytes")
expect(pos["auditd"]["offset"] < size, f"reading stopped with the spool full ({pos['auditd']['offset']} of {size})")
sizes = []
for name in sorted(os.listdir(spool)):
    with open(os.path.join(spool, name)) as f:
        meta, body = f.read().split("\n", 1)
    sizes.append((json.loads(meta)["events"], len(json.loads(body)["events"])))
expect(sizes and all(m == b and 1 <= b <= 7 for m, b in sizes),
       f"no batch passes --batch-max 7, though the log was read in 64 KiB pieces: {sorted(set(sizes))}")
srv = serve(data, PORT, *SERVE_ARGS)
evs = wait_count(N2, limit_s=90)
serials = [serial_of(e) for e in evs]
expect(len(serials) == N2 and set(serials) == set(range(1, N2 + 1)),
       f"the spool drained and the rest was read: {len(serials)} events, {len(set(serials))} distinct")
expect(len(os.listdir(spool)) == 0, f"the spool is empty once everything is acknowledged: {os.listdir(spool)}")

# ---- a batch naming another host is refused, and audited ----
cred2 = open(os.path.join(state2, "credential")).read().strip()
batch = {"host": "web1", "epoch": "0" * 32, "seq": 1,
         "events": [{"source": "auditd", "time": T0, "raw": "type=EOE msg=audit(1.000:1): "}]}
st, j, _, _ = c.req("POST", "/api/v1/agent/events", batch, token=cred2)
expect(st == 403 and "may not send events of web1" in j.get("error", ""), f"a forged batch is refused: {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
refused = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "host.events"]
expect(any(e["result"] == "denied" and e["actor"] == "host web2" for e in refused),
       f"the forged batch is in the audit log: {refused[-2:]}")
st, j, _, _ = c.req("GET", "/api/v1/events?host=web1&limit=1", token=admin)
expect(st == 200 and j["events"][0]["time"] != T0, "nothing of the forged batch was logged")
for bad in ({"epoch": "x", "seq": 1, "events": []}, {"epoch": "0" * 32, "seq": 0, "events": [{}]},
            {"epoch": "0" * 32, "seq": 1, "events": [{"source": "nope", "time": 1, "raw": "x"}]},
            {"epoch": "0" * 32, "seq": 1, "extra": 1, "events": [{"source": "auditd", "time": 1, "raw": "x"}]}):
    st, j, _, _ = c.req("POST", "/api/v1/agent/events", bad, token=cred2)
    expect(st == 400 and "batch" in j.get("error", ""), f"a malformed batch is refused with a reason: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/agent/events", batch, token=admin)
expect(st == 403, f"a user may not send host events: {st}")
# batches may come gzip-compressed (as the agent sends them): inflated, then checked as any batch
GZ = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
st, j, _, _ = c.req("POST", "/api/v1/agent/events", token=cred2, headers=GZ, raw=gzip.compress(json.dumps(batch).encode()))
expect(st == 403 and "may not send events of web1" in j.get("error", ""), f"a gzip batch is read like any: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/agent/events", token=cred2, headers=GZ,
                    raw=gzip.compress(json.dumps({"epoch": "x", "seq": 1, "events": []}).encode()))
expect(st == 400 and "batch" in j.get("error", ""), f"a malformed gzip batch: {st} {j}")
for raw, want_st, want in ((b"not gzip at all", 400, "gzip body: not gzip data"),
                           (gzip.compress(b"{}")[:-6], 400, "gzip body"),
                           (gzip.compress(b"{}") + b"x", 400, "bytes after the end"),
                           (gzip.compress(b" " * (70 << 20)), 413, "decompressed body larger than")):
    st, j, _, _ = c.req("POST", "/api/v1/agent/events", token=cred2, headers=GZ, raw=raw)
    expect(st == want_st and want in j.get("error", ""), f"a bad gzip body ({len(raw)} bytes): {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/agent/events", token=cred2, raw=json.dumps(batch).encode(),
                    headers={"Content-Type": "application/json", "Content-Encoding": "br"})
expect(st == 415 and "(gzip is)" in j.get("error", ""), f"another encoding is refused: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/agent/heartbeat", token=cred2, headers=GZ, raw=gzip.compress(b"{}"))
expect(st == 415, f"routes that take no gzip refuse it: {st} {j}")

# ---- a rotation the agent missed is a counted loss, and an alert ----
stop_agent(agent)
write_events(N2 + 1, N2 + 51)
os.remove(AUDIT)                      # rotated away (past .1) before the agent read it
os.rename(AUDIT + ".1", AUDIT + ".2")
write_events(N2 + 51, N2 + 61)
with open(AUDIT, "a") as f:   # a program run from /tmp: a shipped rule over process_creation fires on it
    f.write(event_text(N2 + 61).replace("/usr/bin/job%d" % (N2 + 61), "/tmp/.x/run"))
# and a batch the server will refuse (as a bug or a damaged disk could leave one): set aside, not retried forever
pos = json.load(open(os.path.join(state, "hostev", "positions.json")))
bad_seq = pos["seq"] + 1
with open(os.path.join(spool, "%020d.batch" % bad_seq), "w") as f:
    f.write(json.dumps(dict(pos, seq=bad_seq, events=1)) + "\n" +
            json.dumps({"epoch": pos["epoch"], "seq": bad_seq, "events": [{"source": "bogus", "time": 1, "raw": "x"}]}))
agent = start_agent(state, valgrind=True)


def wait_alert(rule, limit_s):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
        found = [a for a in j.get("alerts", []) if a["rule"] == rule]
        if found:
            return found[0]
        time.sleep(0.5)
    return None


a = wait_alert("A host went silent, lost events, or runs on a far-off clock", 20)
expect(a is not None and a["group"] == "host:web1" and a["log"] == "audit", f"the loss raised an alert: {a}")
st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
losses = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "host.losses"]
expect(len(losses) >= 1 and losses[-1]["details"]["lost"] >= 2 and all(e["result"] == "alert" for e in losses),
       f"host.losses recorded (the missed rotation and the refused batch): {losses}")
for _ in range(100):   # the batch after the refused one may come a little later (e.g. under valgrind)
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    gaps = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "host.gap"]
    if gaps:
        break
    time.sleep(0.2)
expect(len(gaps) == 1 and gaps[0]["details"]["count"] == 1 and gaps[0]["details"]["seq"] == bad_seq + 1,
       f"the skipped batch number is recorded as host.gap: {gaps}")
expect(os.listdir(os.path.join(spool, "rejected")) == ["%020d.batch" % bad_seq],
       "the refused batch is kept in spool/rejected/")
evs = wait_count(N2 + 11)
got = {serial_of(e) for e in evs}
a = wait_alert("A program ran from /tmp, /dev/shm or a hidden directory", 20)
expect(a is not None and a["log"] == "hosts" and a["group"] == "host:web1", f"a host event raised an alert: {a}")
if a:
    st, j, _, _ = c.req("GET", "/api/v1/events?limit=1&before=%d" % (a["first_index"] + 1), token=admin)
    expect(st == 200 and j["events"][0]["index"] == a["first_index"] and j["events"][0]["object"] == "/tmp/.x/run",
           f"the alert's first_index is the host event in the host-event log: {j}")
for _ in range(50):
    st, j, _, _ = c.req("GET", "/api/v1/detection", token=admin)
    if st != 200 or j["host_events"]["matched_upto"] == j["host_events"]["logged"]:
        break
    time.sleep(0.2)
expect(st == 200 and j["host_events"]["matched_upto"] == j["host_events"]["logged"] > N2,
       f"detection has matched every host event logged: {j.get('host_events')}")
expect(set(range(N2 + 51, N2 + 61)) <= got and not (set(range(N2 + 1, N2 + 51)) & got),
       "after the missed rotation the new file is read from its start")

# ---- a host whose agent stops goes silent ----
stop_agent(agent)
t0 = time.time()
while time.time() - t0 < 30:
    st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
    silent = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "host.silent"]
    if silent:
        break
    time.sleep(0.5)
expect(len(silent) == 1 and silent[0]["details"]["host"] == "web1" and silent[0]["result"] == "alert",
       f"the silent host raised host.silent within 30 s: {silent}")
st, j, _, _ = c.req("GET", "/api/v1/hosts", token=admin)
hb = [h for h in j.get("hosts", []) if h["name"] == "web1"][0].get("heartbeat") if st == 200 else None
expect(hb is not None and hb["state"] == "silent", f"the host list shows web1 silent: {hb}")

# ---- searching: by action, free text, refused parameters, and auditors only ----
st, j, _, _ = c.req("GET", "/api/v1/events?text=job43%20n43", token=admin)
expect(st == 200 and [e["object"] for e in j["events"]] == ["/usr/bin/job43"], f"free-text search: {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/events?text=%22u42%22", token=admin)
expect(st == 200 and len(j["events"]) == 1 and 'acct="u42"' in j["events"][0]["raw"],
       f"free-text search with quotes in the text: {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/events?action=user_auth&limit=5", token=admin)
expect(st == 200 and len(j["events"]) == 5 and all(e["action"] == "user_auth" for e in j["events"]),
       f"search by action: {st}")
for q in ("limit=0", "limit=1001", "before=x", "from=yesterday"):
    st, j, _, _ = c.req("GET", "/api/v1/events?" + q, token=admin)
    expect(st == 400, f"GET /api/v1/events?{q} is refused: {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/events", token=cred2)
expect(st == 403, f"a host credential may not search: {st}")
rc, out = api_cli("events", "search", "--host", "web1", "--text", "job43 n43", server=URL, cacert=cert, token=admin)
rows = [ln for ln in out.splitlines() if "/usr/bin/job43" in ln]
expect(rc == 0 and len(rows) == 1 and " web1 " in rows[0] and " execve " in rows[0],
       f"bulwark events search: {rc} {out}")
rc, out = api_cli("events", "search", "--action", "user_auth", "--limit", "2", "--json", server=URL, cacert=cert,
                  token=admin)
got = json.loads(out) if rc == 0 else {}
expect(len(got.get("events", [])) == 2 and "next_before" in got and "acct=" in got["events"][0]["raw"],
       f"bulwark events search --json: {rc} {out[:300]}")
rc, out = api_cli("events", "search", "--limit", "0", server=URL, cacert=cert, token=admin)
expect(rc != 0 and "limit must be 1 to 1000" in out, f"a refused search says why: {rc} {out}")

# ---- the systemd journal (files made by systemd-journal-remote) and a syslog file, from web2 ----
JDIR = os.path.join(base, "journal")
os.makedirs(JDIR)
JREMOTE = "/lib/systemd/systemd-journal-remote"
AUTHLOG = os.path.join(base, "auth.log")


def journal_add(entries, first):
    """Appends entries [(ident, pid, message)] to the journal file, through systemd-journal-remote."""
    out = []
    for k, (ident, pid, msg) in enumerate(entries):
        i = first + k
        out.append(f"__CURSOR=s=0;i={i}\n__REALTIME_TIMESTAMP={(T0 + i) * 1000}\n__MONOTONIC_TIMESTAMP={1000 + i}\n"
                   f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web2\nSYSLOG_IDENTIFIER={ident}\n"
                   + (f"_PID={pid}\n" if pid else "") + f"MESSAGE={msg}\n")
    exp = os.path.join(base, "export.txt")
    with open(exp, "w") as f:
        f.write("\n".join(out) + "\n")
    p = subprocess.run([JREMOTE, "-o", os.path.join(JDIR, "remote.journal"), exp], capture_output=True, text=True)
    expect(p.returncode == 0, f"systemd-journal-remote wrote the journal: {p.stderr}")


journal_add([("sshd", 700, "Accepted publickey for alice from 10.0.0.7 port 50022 ssh2: ED25519 SHA256:x"),
             ("kernel", 0, "eth0: link up"),
             ("sudo", 701, "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"),
             ("sshd", 702, "Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2"),
             ("cron", 703, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")], 1)
with open(AUTHLOG, "w") as f:
    f.write("Nov 28 08:00:01 web2 sshd[800]: Invalid user oracle from 198.51.100.4 port 22\n"
            "2026-11-28T08:00:02.250000+01:00 web2 su[801]: (to root) alice on pts/1\n"
            "Nov 28 08:00:03 web2 kernel: [ 12.3] usb 1-1: new device\n"
            "this is not a syslog line\n"
            "Nov 28 08:00:04 web2 sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 "
            "euid=0 tty=/dev/pts/1 ruser=alice rhost=  user=alice\n")
agent2 = start_agent(state2, "--journal-dir", JDIR, "--syslog", AUTHLOG, audit=False)


def web2_events(n, limit_s=30):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        evs = all_events("web2")
        if len(evs) >= n:
            break
        time.sleep(0.3)
    return sorted(all_events("web2"), key=lambda e: e["index"])


evs = web2_events(7)
got = {(e["source"], e["action"], e["subject"], e["object"], e["result"]) for e in evs}
want = {("journal", "login", "alice", "10.0.0.7", "success"), ("journal", "sudo", "alice", "/usr/bin/id", "success"),
        ("journal", "login", "admin", "203.0.113.9", "failure"), ("journal", "cron", "", "", ""),
        ("syslog", "login", "oracle", "198.51.100.4", "failure"), ("syslog", "su", "", "root", "success"),
        ("syslog", "sudo", "alice", "", "failure")}
expect(len(evs) == 7 and got == want, f"journal and syslog messages, normalised (noise left out): {got ^ want}")
raws = {e["raw"] for e in evs}
expect("sshd[700]: Accepted publickey for alice from 10.0.0.7 port 50022 ssh2: ED25519 SHA256:x" in raws and
       any(e["source"] == "syslog" and e["action"] == "su" and e["time"] == 1795849202250 for e in evs),
       f"raw records and times (RFC 3339 with an offset): {[(e['raw'], e['time']) for e in evs]}")
stop_agent(agent2)
# while the agent is down both grow; it resumes at the journal's cursor and the file's offset: each once
journal_add([("sshd", 710, "Accepted password for bob from 10.0.0.8 port 50100 ssh2")], 10)
with open(AUTHLOG, "a") as f:
    f.write("Nov 28 08:01:00 web2 sshd[811]: Accepted publickey for carol from 10.0.0.9 port 50200 ssh2\n")
agent2 = start_agent(state2, "--journal-dir", JDIR, "--syslog", AUTHLOG, audit=False)
evs = web2_events(9)
subjects = sorted(e["subject"] for e in evs if e["action"] == "login" and e["result"] == "success")
expect(len(evs) == 9 and subjects == ["alice", "bob", "carol"],
       f"after a restart only the new messages arrive, once: {len(evs)} events, logins {subjects}")
# a password guessed from one address: five failures, then a success (journal -> sshd log source -> correlation)
journal_add([("sshd", 720 + k, f"Failed password for carol from 192.0.2.77 port {4000 + k} ssh2") for k in range(5)] +
            [("sshd", 730, "Accepted password for carol from 192.0.2.77 port 4100 ssh2")], 20)
a = wait_alert("Repeated failed SSH logins from one address, then a successful login from it", 20)
expect(a is not None and a["log"] == "hosts" and "192.0.2.77" in a["group"] and "web2" in a["group"],
       f"the shipped correlation over sshd's journal messages raised an alert: {a}")
st, j, _, _ = c.req("GET", "/api/v1/hosts", token=admin)
hb2 = [h for h in j.get("hosts", []) if h["name"] == "web2"][0].get("heartbeat") if st == 200 else None
srcs = {x["name"]: x for x in (hb2 or {}).get("sources", [])}
expect(hb2 is not None and srcs.get("journal", {}).get("state") == "ok" and srcs.get("syslog", {}).get("state") == "ok"
       and hb2["counters"]["source_errors"] >= 1, f"web2's heartbeat names its sources: {hb2}")
stop_agent(agent2)

# ---- file integrity: a watched directory changed while the agent runs, and while it is stopped ----
FDIR = os.path.join(base, "etc-ssh")
os.makedirs(os.path.join(FDIR, "sshd_config.d"))
with open(os.path.join(FDIR, "sshd_config"), "w") as f:
    f.write("PermitRootLogin no\n")
with open(os.path.join(FDIR, "authorized_keys"), "w") as f:
    f.write("ssh-ed25519 AAAA one\n")
n_before = len(all_events("web2"))
agent2 = start_agent(state2, "--fim", FDIR, "--fim-scan-secs", "3600", audit=False)
time.sleep(1.5)                                   # the first scan makes the baseline: no events
with open(os.path.join(FDIR, "sshd_config"), "w") as f:
    f.write("PermitRootLogin yes\n")            # content
os.chmod(os.path.join(FDIR, "authorized_keys"), 0o666)     # mode
with open(os.path.join(FDIR, "sshd_config.d", "evil.conf.tmp"), "w") as f:
    f.write("AuthorizedKeysFile /tmp/k\n")
os.rename(os.path.join(FDIR, "sshd_config.d", "evil.conf.tmp"), os.path.join(FDIR, "sshd_config.d", "evil.conf"))


def fim_events(n, limit_s=20):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        evs = [e for e in all_events("web2") if e["source"] == "fim"]
        if len(evs) >= n:
            return evs
        time.sleep(0.3)
    return [e for e in all_events("web2") if e["source"] == "fim"]


evs = fim_events(3)
by = {(e["action"], os.path.basename(e["object"])): e for e in evs}
old_sha = __import__("hashlib").sha256(b"PermitRootLogin no\n").hexdigest()
new_sha = __import__("hashlib").sha256(b"PermitRootLogin yes\n").hexdigest()
ch = by.get(("changed", "sshd_config"))
expect(len(evs) == 3 and ch is not None and f"old_sha256={old_sha}" in ch["raw"] and f"new_sha256={new_sha}" in ch["raw"]
       and ("attributes", "authorized_keys") in by and "old_mode=0644" in by[("attributes", "authorized_keys")]["raw"]
       and "new_mode=0666" in by[("attributes", "authorized_keys")]["raw"] and ("created", "evil.conf") in by,
       f"file integrity events (changed with both hashes, attributes with both modes, created): {sorted(by)}")
stop_agent(agent2)
os.remove(os.path.join(FDIR, "sshd_config.d", "evil.conf"))   # while the agent is stopped
agent2 = start_agent(state2, "--fim", FDIR, "--fim-scan-secs", "3600", audit=False)
evs = fim_events(4)
expect(len(evs) == 4 and evs[0]["action"] == "deleted" and evs[0]["object"].endswith("/evil.conf"),
       f"a change made while the agent was stopped is found by its first scan, once: {[(e['action'], e['object']) for e in evs]}")
stop_agent(agent2)
expect(len(all_events("web2")) == n_before + 4, "nothing else was sent for web2")

# ---- auditd's dispatcher: records on stdin, through contrib/audit/audisp-bulwark's command line ----
n_before = len(all_events("web2"))
disp = subprocess.Popen([BW, "agent", "run", "--state", state2, "--audit-stdin", "--flush-ms", "200"],
                        stdin=subprocess.PIPE, stderr=open(state2 + ".log", "a"))
text = "".join(event_text(s) for s in range(20001, 20031))
disp.stdin.write(text[: len(text) // 2].encode())    # cut inside a record: the rest comes in the next write
disp.stdin.flush()
time.sleep(0.5)
disp.stdin.write(text[len(text) // 2:].encode())
disp.stdin.close()                                   # auditd stops the plugin
disp.wait(timeout=60)
expect(disp.returncode == 0, f"the dispatcher agent stops cleanly at the end of its input: {disp.returncode}")
evs = [e for e in web2_events(n_before + 30) if e["source"] == "auditd"]
expect(len(all_events("web2")) == n_before + 30 and sorted(serial_of(e, "web2") for e in evs) == list(range(20001, 20031)),
       f"every event from the dispatcher arrived once: {len(evs)}")
# both ways at once (the dispatcher and the log file): each event shipped once, whichever way brings it first
n_before = len(all_events("web2"))
BOTH = os.path.join(base, "both-audit.log")
with open(BOTH, "w") as f:  # the log has what the dispatcher missed (21051..21060) and not its last five
    f.write("".join(event_text(s) for s in range(21001, 21061)))
both = subprocess.Popen([BW, "agent", "run", "--state", state2, "--audit-stdin", "--audit-log", BOTH, "--flush-ms", "200",
                         "--heartbeat-secs", "1"], stdin=subprocess.PIPE, stderr=open(state2 + ".log", "a"))
both.stdin.write("".join(event_text(s) for s in list(range(21001, 21051)) + list(range(21061, 21066))).encode())
both.stdin.flush()
evs = [e for e in web2_events(n_before + 65) if e["source"] == "auditd"]
both.stdin.close()  # auditd stops the plugin: the agent goes on with the log
time.sleep(1.0)
expect(both.poll() is None, "with the log file too, the agent goes on when the dispatcher's pipe closes")
with open(BOTH, "a") as f:
    f.write("".join(event_text(s) for s in range(21066, 21071)))
evs = [e for e in web2_events(n_before + 70) if e["source"] == "auditd"]
stop_agent(both)
got = sorted(serial_of(e, "web2") for e in evs if 21000 < serial_of(e, "web2") < 22000)
expect(got == list(range(21001, 21071)) and len(all_events("web2")) == n_before + 70,
       f"read both ways, each event arrived once: {len(got)} events, {len(set(got))} distinct")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "audit", "bulwark.conf")) as f:
    conf = dict(ln.split(" = ", 1) for ln in f.read().splitlines() if " = " in ln and not ln.startswith("#"))
expect(conf.get("path") == "/usr/lib/bulwark/audisp-bulwark" and len(conf.get("args", "").split()) <= 2 and
       conf.get("format") == "string", f"the plugin configuration keeps auditd's limit of 2 arguments: {conf}")

# ---- the shipped systemd unit for `agent run` passes systemd's own checks ----
unit_src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "systemd",
                        "bulwark-agent-events.service")
unit = os.path.join(base, "bulwark-agent-events.service")
with open(unit_src) as f, open(unit, "w") as g:
    g.write(f.read().replace("/usr/bin/bulwark", os.path.abspath(BW)))
p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
expect(p.returncode == 0 and "bulwark-agent-events" not in p.stderr, f"systemd-analyze verify: {p.stderr}")
p = subprocess.run(["systemd-analyze", "security", "--offline=true", unit], capture_output=True, text=True)
level = p.stdout.split("Overall exposure level for bulwark-agent-events.service:")[-1].split()[0] if p.returncode == 0 else "?"
expect(p.returncode == 0 and float(level) <= 3.0, f"systemd-analyze security: exposure {level} (want <= 3.0)")
expect("--user bulwark-agent" in open(unit_src).read(), "the shipped unit runs the agent privilege-separated")

# ---- privilege separation: --user nobody; a root helper only opens the (root-only) source files ----
state3 = add_host("web3")
pdir = os.path.join(base, "priv")  # root's only, as /var/log/audit is
os.makedirs(pdir, mode=0o700)
PAUDIT = os.path.join(pdir, "audit.log")
with open(PAUDIT, "w") as f:
    for n in range(1, 101):
        f.write(event_text(n))
os.chmod(PAUDIT, 0o600)
cmd3 = [BW, "agent", "run", "--state", state3, "--audit-log", PAUDIT, "--flush-ms", "200", "--heartbeat-secs", "1"]
p = subprocess.run(cmd3 + ["--user", "root"], capture_output=True, text=True, timeout=30)
expect(p.returncode != 0 and "is root; name an unprivileged user" in p.stderr, f"--user root is refused: {p.stderr}")
# file integrity of a root-only directory: the helper watches and hashes it, the agent ships what changed
FIMDIR3 = os.path.join(pdir, "etc")
os.makedirs(FIMDIR3, mode=0o700)
open(os.path.join(FIMDIR3, "sudoers"), "w").write("root ALL=(ALL) ALL\n")
os.chmod(os.path.join(FIMDIR3, "sudoers"), 0o440)
agent3 = subprocess.Popen(cmd3 + ["--user", "nobody", "--fim", FIMDIR3, "--fim-scan-secs", "1"],
                          stderr=open(state3 + ".log", "a"), stdout=subprocess.DEVNULL)
evs3 = wait_count(100, host="web3")
os.rename(PAUDIT, PAUDIT + ".1")  # rotated: the new file, too, only root can open
with open(PAUDIT, "w") as f:
    for n in range(101, 151):
        f.write(event_text(n))
os.chmod(PAUDIT, 0o600)
with open(os.path.join(FIMDIR3, "sudoers"), "a") as f:  # root changes a file only root can read
    f.write("nobody ALL=(ALL) NOPASSWD: ALL\n")
evs3 = wait_count(151, host="web3")
fim3 = [e for e in evs3 if e["source"] == "fim"]
evs3 = [e for e in evs3 if e["source"] == "auditd"]
expect(len(fim3) == 1 and fim3[0]["action"] == "changed" and fim3[0]["object"] == os.path.join(FIMDIR3, "sudoers")
       and "new_sha256=" in fim3[0]["raw"], f"file integrity through the helper: {fim3}")
expect(os.path.exists(os.path.join(state3, "fim-baseline.json")) and
       os.stat(os.path.join(state3, "fim-baseline.json")).st_uid == 0,
       "the helper's baseline is in root's part of the state")
got3 = sorted(serial_of(e, "web3") for e in evs3)
expect(got3 == list(range(1, 151)), f"as nobody, through the root helper, across a rotation, each event once: "
                                    f"{len(got3)} {got3[:3]}...{got3[-3:]}")
status = open(f"/proc/{agent3.pid}/status").read()
kids = open(f"/proc/{agent3.pid}/task/{agent3.pid}/children").read().split()
helper_status = open(f"/proc/{kids[0]}/status").read() if len(kids) == 1 else ""
expect("\nUid:\t65534\t65534\t65534\t65534\n" in status and "\nGid:\t65534\t65534\t65534\t65534\n" in status and
       "\nNoNewPrivs:\t1\n" in status and "\nCapEff:\t0000000000000000\n" in status,
       f"the agent itself runs as nobody, no capabilities, no new privileges: {status[:600]}")
expect("\nUid:\t0\t0\t0\t0\n" in helper_status, f"its one helper keeps root: {kids} {helper_status[:300]}")
st3 = os.stat(state3)
expect(st3.st_uid == 0 and st3.st_mode & 0o777 == 0o700 and os.stat(os.path.join(state3, "hostev")).st_uid == 65534,
       "the state directory stays root's (0700); its hostev part is nobody's")
stop_agent(agent3)
expect(len(kids) == 1 and not os.path.exists(f"/proc/{kids[0]}"), "the helper ends with the agent")

# ---- the host-event log is a tlog like the audit log: public checkpoint and hash tiles, entries for auditors ----
st, _, _, cp = c.req("GET", "/hostlog/checkpoint")
lines = cp.decode().split("\n")
expect(st == 200 and lines[0] == "bulwark.test/server/hosts" and int(lines[1]) > N2,
       f"GET /hostlog/checkpoint: {st} {lines[:2]}")
st, _, _, tile = c.req("GET", "/hostlog/tile/0/000")
expect(st == 200 and len(tile) == 256 * 32, f"a full hash tile: {st}")
st, j, _, _ = c.req("GET", "/hostlog/tile/entries/000")
expect(st == 404, f"entry bundles are not public: {st}")
st, j, _, _ = c.req("GET", "/api/v1/hostlog/tile/entries/000")
expect(st == 401, f"entry bundles need a signed-in auditor or admin: {st}")
st, _, _, bundle = c.req("GET", "/api/v1/hostlog/tile/entries/000", token=admin)
first = json.loads(bundle[2:2 + int.from_bytes(bundle[:2], "big")]) if st == 200 else {}
expect(st == 200 and first.get("host") == "web1" and first.get("seq") == 1 and first.get("n") == 0,
       f"the first entry bundle holds the first host event: {st} {first}")
p = subprocess.run([BW, "log", "audit", "--dir", os.path.join(data, "hostlog"), "--vkey",
                    os.path.join(data, "hostlog", "log.vkey")], capture_output=True, text=True, timeout=300)
expect(p.returncode == 0 and "audit: OK" in p.stdout, f"bulwark log audit verifies the host-event log: {p.stdout[-500:]}")
shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules", "bulwark")
p = subprocess.run([BW, "rules", "hunt", shipped, "--log", os.path.join(data, "hostlog")], capture_output=True,
                   text=True, timeout=300)
hits = [ln for ln in p.stdout.splitlines() if "no alert of its own" not in ln and ln.startswith("entry ")]
expect(p.returncode == 0 and any("A program ran from /tmp" in ln for ln in hits) and
       any("Repeated failed SSH logins" in ln and "192.0.2.77" in ln for ln in hits),
       f"bulwark rules hunt over the host-event log finds what the live detection found: {p.stdout[-800:]}")

# ---- retention: the oldest entry bundles pruned; the tree still verifies; tiles, search and hunts say so ----
size = int(lines[1])
st, j, _, _ = c.req("POST", "/api/v1/hostlog/prune", {"older_than_secs": 0}, token=cred2)
expect(st == 403, f"a host credential may not prune: {st}")
st, j, _, _ = c.req("POST", "/api/v1/hostlog/prune", {"older_than_secs": -1}, token=admin)
expect(st == 422, f"a negative age is refused: {st} {j}")
st, j, _, _ = c.req("POST", "/api/v1/hostlog/prune", {"older_than_secs": 3600}, token=admin)
expect(st == 200 and j["entries"] == 0 and j["pruned_upto"] == 0, f"nothing is an hour old yet: {st} {j}")
for _ in range(100):  # (pruning waits for the index and the detection to be past a bundle)
    st, d, _, _ = c.req("GET", "/api/v1/detection", token=admin)
    if d.get("host_events", {}).get("matched_upto", 0) >= size - size % 256:
        break
    time.sleep(0.2)
st, j, _, _ = c.req("POST", "/api/v1/hostlog/prune", {"older_than_secs": 0}, token=admin)
P = j.get("pruned_upto", 0)
expect(st == 200 and P == size - size % 256 and j["entries"] == P and P >= 2048 and j["newest"] > 0,
       f"every full bundle the index and the detection are past is pruned (size {size}): {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/hostlog/tile/entries/000", token=admin)
expect(st == 410 and "pruned for retention" in j.get("error", ""), f"a pruned bundle says so: {st} {j}")
st, _, _, tile = c.req("GET", "/hostlog/tile/0/000")
expect(st == 200 and len(tile) == 256 * 32, f"its hash tile stays: {st}")
st, j, _, _ = c.req("GET", "/api/v1/events?limit=1000&before=%d" % P, token=admin)
expect(st == 200 and j["events"] == [], f"the search forgets pruned events: {st} {len(j.get('events', []))}")
st, j, _, _ = c.req("GET", "/api/v1/events?limit=5", token=admin)
expect(st == 200 and len(j["events"]) == min(5, size - P) and all(e["raw"] for e in j["events"]),
       f"newer events are still found, with their records: {st} {j}")
st, j, _, _ = c.req("GET", "/api/v1/audit", token=admin)
pr = [e["event"] for e in j.get("events", []) if e["event"]["action"] == "hostlog.prune"]
ok = [e for e in pr if e["result"] == "ok"]
expect(len(ok) == 2 and any(e["result"] == "refused" and e["details"].get("status") == 422 for e in pr) and
       ok[-1]["details"]["count"] == P and ok[-1]["details"]["last_at"] > 0 and
       ok[-1]["details"]["pruned_upto"] == P and ok[-1]["actor"] == "admin",
       f"each prune an admin asked for is audited, with what it pruned (and a refused one): {pr}")
rc, out = api_cli("events", "prune", "--older-than-secs", "0", server=URL, cacert=cert, token=admin)
expect(rc == 0 and f"0 entries pruned now; entries below {P} are pruned" in out, f"bulwark events prune: {out}")
rc, out = api_cli("events", "prune", server=URL, cacert=cert, token=admin)
expect(rc == 2, f"events prune needs --older-than-secs: {rc} {out}")
p = subprocess.run([BW, "log", "audit", "--dir", os.path.join(data, "hostlog"), "--vkey",
                    os.path.join(data, "hostlog", "log.vkey")], capture_output=True, text=True, timeout=300)
expect(p.returncode == 0 and "audit: OK" in p.stdout and f"pruned:     entries 0..{P - 1}" in p.stdout,
       f"bulwark log audit still verifies the tree, naming the pruned entries: {p.stdout[-600:]}")
p = subprocess.run([BW, "rules", "hunt", shipped, "--log", os.path.join(data, "hostlog")], capture_output=True,
                   text=True, timeout=300)
expect(p.returncode == 0 and f"entries 0..{P - 1} were pruned for retention: not hunted" in p.stdout and
       f"{size - P} entries read" in p.stdout, f"rules hunt skips the pruned entries: {p.stdout[-400:]}")
# the index made anew (deleted while the server was down) begins where the entries do
stop(srv)
os.remove(os.path.join(data, "hostevents.db"))
srv = serve(data, PORT, *SERVE_ARGS)
st, j, _, _ = c.req("GET", "/api/v1/events?limit=1000", token=admin)
expect(st == 200 and len(j["events"]) == min(1000, size - P) and min(e["index"] for e in j["events"]) >= P,
       f"a rebuilt index holds the entries left: {st} {len(j.get('events', []))}")
# a tampered pruned-marker cannot hide a rewritten bundle: the audit recomputes from the hash tiles
open(os.path.join(data, "hostlog", "pruned"), "w").write("%d\n" % (size + 256 - size % 256))
p = subprocess.run([BW, "log", "audit", "--dir", os.path.join(data, "hostlog"), "--vkey",
                    os.path.join(data, "hostlog", "log.vkey")], capture_output=True, text=True, timeout=300)
expect(p.returncode != 0 and "past its full bundles" in p.stdout, f"a marker past the log is a finding: {p.stdout[-400:]}")
open(os.path.join(data, "hostlog", "pruned"), "w").write("%d\n" % P)

stop(srv)
print("hostev_test: an agent run under valgrind memcheck" if VALGRIND_BW else
      "hostev_test: no agent run under valgrind (BULWARK_AGENT_VALGRIND unset; make check sets it)")
finish("hostev_test")
