#!/usr/bin/env python3
"""
Secure patch management end to end, through the CLI and HTTPS: offline keys,
root and targets signed on the "air-gapped" side, `patch publish` to a real
server (per-target audit entries, online snapshot/timestamp, re-signing
before expiry), `agent update` on hosts (TUF workflow, tlog-proof, install,
report), then the attack matrix: each attack served by a malicious mirror,
a hijacked (forked) server, or a repository whose online keys were stolen,
must be refused with its reason and reported into the audit log.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

from bwserver import ADMIN_PW, Client, Mirror, api_cli, free_port, init, invite, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
_, admin_secret, _ = init(data)
CERT = os.path.join(data, "tls/cert.pem")
TLS_KEY = os.path.join(data, "tls/key.pem")
PORT = free_port()
TS_LIFE = 24
SERVE_ARGS = ("--login-backoff-ms", "0", "--timestamp-lifetime-secs", str(TS_LIFE))
srv = serve(data, PORT, *SERVE_ARGS)
URL = "https://127.0.0.1:%d" % PORT
c = Client(PORT, CERT)


def cli(*args, token=None, server=URL, check=None):
    return api_cli(*args, server=server, cacert=CERT, token=token, cwd=base, check=check)


def path(*p):
    return os.path.join(base, *p)


def write(name, data_bytes):
    with open(path(name), "wb") as f:
        f.write(data_bytes)
    return path(name)


def load(name):
    return json.load(open(path(name)))


def save(name, obj):
    json.dump(obj, open(path(name), "w"), indent=1, sort_keys=True)


# ---- people: the admin publishes; each host reports with its own credential (agent enrol) ----
wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(admin_secret)})
admin = j["token"]
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "publisher", "scopes": ["admin"]}, token=admin)
expect(st == 201, "admin API token created")
admin_api = j["token"]
hosts_session, _, _ = invite(c, admin, "hosts", ["operator"])
rc, out = cli("token", "create", "--name", "ops", "--scopes", "operator", "--out", "agent.token", token=hosts_session)
expect(rc == 0 and "written to agent.token" in out, f"bulwark token create: {out}")
expect(os.stat(path("agent.token")).st_mode & 0o777 == 0o600, "token file is 0600")
rc, out = cli("token", "create", "--name", "x", "--scopes", "admin", token=hosts_session)
expect(rc != 0 and "HTTP 4" in out, f"a token cannot exceed the user's roles: {out}")
rc, out = cli("token", "create", "--name", "spare", "--scopes", "operator", token=hosts_session)
spare = out.strip().splitlines()[0]
spare_id = re.search(r"token id (\d+)", out).group(1)
st, j, _, _ = c.req("GET", "/api/v1/patch/status", token=spare)
expect(st == 200, "the spare operator token works")
rc, out = cli("token", "revoke", spare_id, token=hosts_session)
st2, _, _, _ = c.req("GET", "/api/v1/patch/status", token=spare)
expect(rc == 0 and st2 == 401, f"bulwark token revoke: the token is refused afterwards ({rc}, {st2}: {out})")

# ---- offline side: keys, root (2-of-2), targets key; the server's online keys ----
for k in ("r1", "r2", "t1"):
    cli("patch", "keygen", "--out", k + ".key", check=0)
cli("patch", "keys", "--out", "keys", check=0)
for f in ("snapshot.pub", "timestamp.pub", "log.vkey"):
    expect(os.path.exists(path("keys", f)), f"patch keys wrote {f}")
cli("patch", "root", "init", "--out", "root.json", "--root-key", "r1.key", "--root-key", "r2.key", "--threshold", "2",
    "--targets-key", "t1.key", "--snapshot-key", "keys/snapshot.pub", "--timestamp-key", "keys/timestamp.pub", check=0)
rc, out = cli("patch", "sign", "--key", "r1.key", "--role", "targets", "root.json")
expect(rc != 0 and "is root metadata, not targets" in out, f"sign --role guards the file: {out}")
cli("patch", "sign", "--key", "r1.key", "--role", "root", "root.json", check=0)
cli("patch", "sign", "--key", "r2.key", "root.json", check=0)
shutil.copy(path("root.json"), path("root-v1.json"))

hotfix1 = os.urandom(100_000)
write("hotfix.bin", hotfix1)
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "1.0", "--hosts", "web1,web2", check=0)

# publishing unsigned targets is refused
rc, out = cli("patch", "publish", "--targets", "targets.json", "--root", "root.json", "hotfix.bin", token=admin_api)
expect(rc != 0 and "targets signatures" in out, f"unsigned targets refused: {out}")
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
rc, out = cli("patch", "publish", "--targets", "targets.json", "hotfix.bin", token=admin_api)
expect(rc != 0 and "first publication must include the root" in out, f"first publish needs root: {out}")
rc, out = cli("patch", "publish", "--targets", "targets.json", "--root", "root.json", "hotfix.bin", token=admin_api)
expect(rc == 0, f"publish: {out}")
pub = json.loads(out[out.index("{"):out.rindex("}") + 1])
expect(pub["targets_version"] == 1 and len(pub["logged"]) == 1 and pub["logged"][0]["name"] == "hotfix.bin",
       f"publish logged the target: {pub}")
hotfix1_sha = hashlib.sha256(hotfix1).hexdigest()
expect(pub["logged"][0]["sha256"] == hotfix1_sha, "logged sha256 is the file's")

# public repository files
st, _, _, ts_v1_bytes = c.req("GET", "/patch/metadata/timestamp.json")
ts_v1_fetched = time.time()
expect(st == 200, "timestamp.json is public")
st, _, _, snap_v1_bytes = c.req("GET", "/patch/metadata/1.snapshot.json")
expect(st == 200, "1.snapshot.json served")
st, _, r, body = c.req("GET", "/patch/targets/%s.hotfix.bin" % hotfix1_sha)
expect(st == 200 and body == hotfix1, "target served under its consistent-snapshot name")
st, _, _, _ = c.req("GET", "/patch/targets/%s.other.bin" % hotfix1_sha)
expect(st == 404, "the blob is not served under another name")
for bad in ("/patch/metadata/../bulwark.db", "/patch/metadata/0.root.json", "/patch/metadata/x.root.json",
            "/patch/metadata/1.keys.json", "/patch/targets/../../kek", "/patch/targets/%s..x" % hotfix1_sha):
    st, _, _, _ = c.req("GET", bad)
    expect(st in (400, 404), f"{bad}: {st}")
st, _, _, proof = c.req("GET", "/patch/targets/%s.hotfix.bin.tlog-proof" % hotfix1_sha)
expect(st == 200 and proof.startswith(b"c2sp.org/tlog-proof@v1\nextra "), "tlog-proof served next to the target")

# ---- server-side refusals (each audited) ----
st, j, _, _ = c.req("PUT", "/api/v1/patch/blobs/" + "0" * 64, raw=b"data", headers={"Content-Type": "application/octet-stream"})
expect(st == 401, f"anonymous upload refused: {st}")
st, j, _, _ = c.req("PUT", "/api/v1/patch/blobs/" + "0" * 64, raw=b"data", token=admin_api,
                    headers={"Content-Type": "application/octet-stream"})
expect(st == 422 and "hash to" in j["error"], f"upload under the wrong sha256 refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("targets.json")}, token=admin_api)
expect(st == 409 and "not newer" in j["error"], f"republishing the same targets version refused: {j}")
write("notup.bin", b"never uploaded")
cli("patch", "add", "notup.bin", "--targets", "targets.json", "--version", "9", check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("targets.json")}, token=admin_api)
expect(st == 422 and "upload its file first" in j["error"], f"target without its file refused: {j}")
rot = load("root-v1.json")
rot["signed"]["version"] = 2
save("root-v2-one.json", rot)
cli("patch", "sign", "--key", "r1.key", "root-v2-one.json", check=0)
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("targets.json"), "root": load("root-v2-one.json")},
                    token=admin_api)
expect(st == 422 and "root rotation refused" in j["error"], f"root v2 below the old threshold refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("targets.json")})
expect(st == 401, "anonymous publish refused")
evil_name = load("targets.json")
evil_name["signed"]["targets"]["../../etc/cron.d/x"] = evil_name["signed"]["targets"].pop("notup.bin")
evil_name["signed"]["version"] += 5
save("evil-name.json", evil_name)
cli("patch", "sign", "--key", "t1.key", "evil-name.json", check=0)
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("evil-name.json")}, token=admin_api)
expect(st == 422 and "is not allowed" in j["error"], f"a signed target with a traversal name refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", raw=b'{"targets": {"signed": ', token=admin_api,
                    headers={"Content-Type": "application/json"})
expect(st == 400 and "malformed JSON" in j["error"], f"malformed publish body refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/patch/publish", {"targets": load("targets.json"), "extra": 1}, token=admin_api)
expect(st == 400 and "extra" in j["error"], f"unknown publish field refused: {j}")
st, j, _, _ = c.req("POST", "/api/v1/patch/reports", {"host": "web1", "target": "x", "result": "installed"},
                    token=admin_api)
expect(st == 403, f"a user's token (even an admin's) cannot report for a host: {st} {j}")

# ---- hosts ----
def audit_since(n, action):
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d" % n, token=admin_api)
    return [e["event"] for e in j["events"] if e["event"]["action"] == action]


def log_size():
    return c.req("GET", "/api/v1/audit?from=0&to=0", token=admin_api)[1]["size"]


host_credential = {}  # host -> the state directory whose credential the host's later agents share


def agent_init(name, host, server=URL, root="root-v1.json", group=None):
    args = ["agent", "init", "--state", name, "--server", server, "--cacert", CERT, "--root", root,
            "--log-key", "keys/log.vkey", "--host", host, "--report-server", URL,
            "--install", 'printf "%s %s %s" "$BULWARK_PATCH_NAME" "$BULWARK_PATCH_VERSION" "$BULWARK_HOST" > '
            '"$BULWARK_PATCH_FILE.ran"']
    if group:
        args += ["--group", group]
    if host not in host_credential:
        # The admin registers the host and hands its agent the one-time code.
        st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": host, "address": "127.0.0.1", "accounts": ["root"]},
                            token=admin_api)
        expect(st == 201 and j["enrolment_code"].startswith("bwe_"), f"host {host} registered with a code: {st}")
        args += ["--enrol-code", j["enrolment_code"]]
    rc, out = cli(*args, check=0)
    if host not in host_credential:
        expect("enrolled" in out and os.stat(path(name, "credential")).st_mode & 0o777 == 0o600,
               f"agent init --enrol-code stores the host's credential (0600): {out}")
        host_credential[host] = name
    else:
        shutil.copy(path(host_credential[host], "credential"), path(name, "credential"))


# With BULWARK_AGENT_VALGRIND (an unsanitised bulwark; `make check` sets it), every agent update of
# the attack matrix runs under valgrind memcheck: a read of freed or uninitialised memory, also
# inside libjansson, fails the run (exit 99).
VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")
valgrind_runs = 0


# Started as root (as on a host), every update runs privilege-separated: TLS and HTTP, and so every hostile
# answer of the attack matrix, in a child that is nobody; the checks and the install stay root.
PRIVSEP = ["--user", "nobody"] if os.geteuid() == 0 else []


def agent_update(name, want_rc):
    global valgrind_runs
    if VALGRIND_BW:
        env = dict(os.environ, BULWARK_SERVER=URL, BULWARK_CACERT=CERT)
        p = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", "--track-origins=no",
                            VALGRIND_BW, "agent", "update", "--state", name, *PRIVSEP],
                           capture_output=True, timeout=600, env=env, cwd=base)
        rc, out = p.returncode, p.stdout.decode() + p.stderr.decode()
        if rc == 99 or "Invalid read" in out or "uninitialised" in out:
            fail(f"agent update {name}: valgrind memcheck found an error:\n{out[-3000:]}")
        valgrind_runs += 1
    else:
        rc, out = cli("agent", "update", "--state", name, *PRIVSEP)
    if rc != want_rc:
        fail(f"agent update {name}: exit {rc}, want {want_rc}\n{out}")
    return out


agent_init("web1", "web1")
out = agent_update("web1", 0)
expect("installed hotfix.bin version 1.0" in out, f"web1 installs the patch: {out}")
inst = path("web1", "installed", "hotfix.bin")
expect(open(inst, "rb").read() == hotfix1, "installed bytes are the published file")
expect(open(inst + ".ran").read() == "hotfix.bin 1.0 web1", "install command ran with the target's environment")
out = agent_update("web1", 0)
expect("0 installed, 1 current" in out, f"second run has nothing to do: {out}")
if PRIVSEP:
    rc, out = cli("agent", "update", "--state", "web1", "--user", "root")
    expect(rc != 0 and "is root; name an unprivileged user" in out, f"--user root is refused: {out}")
    rc, out = cli("agent", "update", "--state", "web1", "--user", "no-such-user-here")
    expect(rc != 0 and "no user 'no-such-user-here'" in out, f"an unknown --user is refused: {out}")
acts = [json.loads(l) for l in open(path("web1", "hostev", "actions.log"))]
expect([(a["action"], a["object"], a["result"]) for a in acts] == [("patch.installed", "hotfix.bin", "success")] and
       "version 1.0 sha256 " in acts[0]["detail"] and oct(os.stat(path("web1", "hostev")).st_mode & 0o777) == "0o700",
       f"the installation is an agent action in STATE/hostev/actions.log (0700 directory): {acts}")
with open(path("web1", "lock"), "a") as lk:  # another run holds the state directory
    fcntl.flock(lk, fcntl.LOCK_EX)
    rc, out = cli("agent", "update", "--state", "web1")
    expect(rc != 0 and "another agent update is running" in out, f"concurrent runs refused: {out}")
# ---- host credentials: each host reports for itself only; codes work once; revocation ----
web1_cred = open(path("web1", "credential")).read().strip()
st, j, _, _ = c.req("POST", "/api/v1/patch/reports", {"host": "web1", "target": "x", "result": "maybe"}, token=web1_cred)
expect(st == 400 and "result must be" in j["error"], f"bad report refused: {j}")
n0 = log_size()
st, j, _, _ = c.req("POST", "/api/v1/patch/reports", {"host": "db1", "target": "hotfix.bin", "result": "installed"},
                    token=web1_cred)
expect(st == 403 and "cannot report for db1" in j["error"], f"web1's credential cannot report for db1: {st} {j}")
ev = audit_since(n0, "patch.install")
expect(any(e["result"] == "denied" and e["actor"] == "host web1" for e in ev), f"the refused report is audited: {ev}")
st, j, _, _ = c.req("GET", "/api/v1/hosts", token=web1_cred)
expect(st == 403, f"a host credential reads nothing but its own reports' answers: {st}")
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "spare1", "address": "127.0.0.1", "accounts": ["root"]},
                    token=admin_api)
code1 = j["enrolment_code"]
rc, out = cli("agent", "init", "--state", "spare1", "--server", URL, "--cacert", CERT, "--root", "root-v1.json",
              "--log-key", "keys/log.vkey", "--host", "spare1")
rc, out = cli("agent", "enrol", "--state", "web1", "--code", code1)
expect(rc != 0 and "was for host 'spare1', this agent is host 'web1'" in out,
       f"a code for another host is refused by the agent: {out}")
rc, out = cli("agent", "enrol", "--state", "spare1", "--code", code1)
expect(rc != 0 and "already used" in out, f"a code works once: {out}")
rc, out = api_cli("host", "enrol-code", "spare1", "--json", server=URL, cacert=CERT, token=admin_api, check=0)
code2 = json.loads(out)["enrolment_code"]
rc, out = cli("agent", "enrol", "--state", "spare1", "--code", code2, check=0)
spare_cred = open(path("spare1", "credential")).read().strip()
st, _, _, _ = c.req("POST", "/api/v1/patch/reports", {"target": "x.bin", "result": "failed"}, token=spare_cred)
expect(st == 201, f"spare1 reports with its credential (host implied): {st}")
st, j, _, _ = c.req("GET", "/api/v1/hosts", token=admin_api)
sp = [h for h in j["hosts"] if h["name"] == "spare1"][0]
expect(sp["agent"] is not None and sp["agent"]["enrolled_at"] > 0, f"the host list shows the enrolled agent: {sp}")
rc, out = api_cli("host", "revoke", "spare1", server=URL, cacert=CERT, token=admin_api, check=0)
st, _, _, _ = c.req("POST", "/api/v1/patch/reports", {"target": "x.bin", "result": "failed"}, token=spare_cred)
expect(st == 401, f"a revoked credential is refused: {st}")
st, j, _, _ = c.req("POST", "/api/v1/hosts/enrol", {"code": "bwe_" + "A" * 43})
expect(st == 403 and "unknown enrolment code" in j["error"], f"a made-up code is refused: {st} {j}")

agent_init("db1", "db1")
out = agent_update("db1", 0)
expect("0 installed, 0 current" in out, f"a patch for web1,web2 is not installed on db1: {out}")

# a second version, published without the root
hotfix2 = os.urandom(120_000)
write("hotfix.bin", hotfix2)
targets_v1 = load("targets.json")
cli("patch", "add", "hotfix.bin", "--targets", "targets.json", "--version", "1.1", "--hosts", "web1,web2",
    "--expires-days", "10", check=0)  # expires within 14 days: the server alerts
t = load("targets.json")
del t["signed"]["targets"]["notup.bin"]
save("targets.json", t)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
rc, out = cli("patch", "publish", "--targets", "targets.json", "hotfix.bin", token=admin_api)
expect(rc == 0, f"publish v1.1: {out}")
hotfix2_sha = hashlib.sha256(hotfix2).hexdigest()
tv = load("targets.json")["signed"]["version"]
out = agent_update("web1", 0)
expect("installed hotfix.bin version 1.1" in out, f"web1 updates to 1.1: {out}")

# ---- the server re-signs the timestamp on its own before it expires ----
st, ts_now, _, _ = c.req("GET", "/patch/metadata/timestamp.json")
v0 = ts_now["signed"]["version"]
deadline = time.time() + TS_LIFE + 10
while time.time() < deadline:
    time.sleep(2)
    st, ts_now, _, _ = c.req("GET", "/patch/metadata/timestamp.json")
    if ts_now["signed"]["version"] > v0:
        break
expect(ts_now["signed"]["version"] > v0, "timestamp re-signed before expiry without a publication")
st, j, _, _ = c.req("GET", "/api/v1/audit?from=0&to=1000", token=admin_api)
alerts = [e["event"] for e in j["events"] if e["event"]["action"] == "alert.patch_metadata_expiring"]
expect(len(alerts) == 1 and alerts[0]["target"] == "targets" and alerts[0]["details"]["metadata_version"] == tv,
       f"after several sweeps, one alert for targets expiring within 14 days: {alerts}")
out = agent_update("web1", 0)
expect("refused" not in out.split("update:")[0], f"a quiet repository stays fresh for hosts: {out}")


# ---- a malicious mirror / hijacked server: proxies to the real server except for what it replaces ----
mirror = Mirror(PORT, CERT, TLS_KEY)
attacks = []  # (name, phrase the refusal must contain)


# who talks to the network during a privilege-separated update: asked from inside a request to the mirror
if PRIVSEP:
    agent_init("who", "web2", server=mirror.url)
    seen_uids = []
    upd = None

    def who_asks(path):
        if upd is None or not path.endswith("timestamp.json"):
            return
        for kid in open(f"/proc/{upd.pid}/task/{upd.pid}/children").read().split():
            status = open(f"/proc/{kid}/status").read()
            seen_uids.append([ln.split()[1:] for ln in status.splitlines() if ln.startswith(("Uid:", "CapEff:",
                                                                                            "NoNewPrivs:"))])
        seen_uids.append(open(f"/proc/{upd.pid}/status").read().split("Uid:")[1].split()[0])

    mirror.on_get = who_asks
    upd = subprocess.Popen([BW, "agent", "update", "--state", "who", *PRIVSEP], cwd=base, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=dict(os.environ, BULWARK_SERVER=URL, BULWARK_CACERT=CERT))
    out = upd.communicate(timeout=120)[0].decode()
    mirror.on_get = None
    expect(upd.returncode == 0 and "installed hotfix.bin" in out, f"a privilege-separated update installs: {out}")
    expect(len(seen_uids) == 2 and seen_uids[0] == [["65534"] * 4, ["0000000000000000"], ["1"]]
           and seen_uids[1] == "0",
           f"the network side is nobody (no capabilities, no new privileges), the update itself root: {seen_uids}")


def attack(name, host, phrase, overrides, state_from=None, server=None, root="root-v1.json"):
    mirror.overrides = overrides
    if state_from:
        shutil.copytree(path(state_from), path(name))
        cfg = json.load(open(path(name, "config.json")))
        cfg["server"] = server or mirror.url
        json.dump(cfg, open(path(name, "config.json"), "w"))
    else:
        agent_init(name, host, server=server or mirror.url, root=root)
    out = agent_update(name, 1)
    expect(phrase in out, f"{name}: refusal lacks '{phrase}':\n{out}")
    expect("installed" not in out.split("update:")[0], f"{name}: nothing installed:\n{out}")
    # each refusal is also an agent action for `agent run` to ship (source agent)
    acts = [json.loads(l) for l in open(path(name, "hostev", "actions.log"))] \
        if os.path.exists(path(name, "hostev", "actions.log")) else []
    expect(any(a["action"] == "patch.refused" and a["result"] == "failure" and phrase in a["detail"] for a in acts),
           f"{name}: the refusal is recorded as an agent action: {acts[-2:]}")
    attacks.append((name, phrase))
    mirror.overrides = {}
    return out


st, cur_ts, _, _ = c.req("GET", "/patch/metadata/timestamp.json")
snap_path = "/patch/metadata/%d.snapshot.json" % cur_ts["signed"]["meta"]["snapshot.json"]["version"]
targets_path = "/patch/metadata/%d.targets.json" % tv
target_path = "/patch/targets/%s.hotfix.bin" % hotfix2_sha
st, _, _, targets_bytes = c.req("GET", targets_path)

# arbitrary installation: a changed target entry (bad signature), no signatures at all
bad = json.loads(targets_bytes)
bad["signed"]["targets"]["hotfix.bin"]["hashes"]["sha256"] = hashlib.sha256(b"evil").hexdigest()
attack("atk-badsig", "web2", "targets: 1 of 1 keys must sign, 0 valid", {targets_path: json.dumps(bad).encode()})
bad = json.loads(targets_bytes)
bad["signatures"] = []
attack("atk-nosig", "web2", "targets: 1 of 1 keys must sign, 0 valid", {targets_path: json.dumps(bad).encode()})
# below threshold: a root v2 signed by one of the two root keys
attack("atk-threshold", "web2", "2 of 2 keys must sign, 1 valid",
       {"/patch/metadata/2.root.json": open(path("root-v2-one.json"), "rb").read()})
# rollback: a host that trusts the current timestamp is served the first one
attack("atk-rollback", None, "(rollback)", {"/patch/metadata/timestamp.json": ts_v1_bytes}, state_from="web1")
# freeze: the first timestamp, signed but long expired, to a new host
time.sleep(max(0.0, ts_v1_fetched + TS_LIFE + 1 - time.time()))
attack("atk-freeze", "web2", "timestamp metadata expired", {"/patch/metadata/timestamp.json": ts_v1_bytes})
# mix-and-match: an old snapshot under the name the timestamp gives the new one
attack("atk-mixmatch", "web2", "mix-and-match", {snap_path: snap_v1_bytes})
# endless data: the target longer than listed
attack("atk-endless", "web2", "endless data", {target_path: hotfix2 + b"\0" * 4096})
# malicious mirror: another file of the same length under the same name
attack("atk-mirror", "web2", "does not match the signed sha256", {target_path: os.urandom(len(hotfix2))})
# a proof that is not there, or that belongs to another target
attack("atk-noproof", "web2", "not in the audit log", {target_path + ".tlog-proof": None})
st, _, _, proof1 = c.req("GET", "/patch/targets/%s.hotfix.bin.tlog-proof" % hotfix1_sha)
attack("atk-wrongproof", "web2", "does not record this target", {target_path + ".tlog-proof": proof1})

# ---- a forked log: a copy of the server publishes a target the real log never sees ----
if VALGRIND_BW:
    expect(valgrind_runs >= 10, f"the attack matrix ran under valgrind ({valgrind_runs} agent updates)")
print(f"patch_test: {valgrind_runs} agent updates under valgrind memcheck" if VALGRIND_BW else
      "patch_test: agent updates without valgrind (BULWARK_AGENT_VALGRIND unset; make check sets it)")
stop(srv)
fork_data = os.path.join(base, "fork")
shutil.copytree(data, fork_data)
srv = serve(data, PORT, *SERVE_ARGS)
FORK_PORT = free_port()
fork = serve(fork_data, FORK_PORT, *SERVE_ARGS)
FORK_URL = "https://127.0.0.1:%d" % FORK_PORT
backdoor = os.urandom(5000)
write("backdoor.bin", backdoor)
cli("patch", "add", "backdoor.bin", "--targets", "targets.json", "--version", "6.6.6", "--hosts", "web2", check=0)
cli("patch", "sign", "--key", "t1.key", "targets.json", check=0)
rc, out = cli("patch", "publish", "--targets", "targets.json", "backdoor.bin", token=admin_api, server=FORK_URL)
expect(rc == 0, f"publish on the fork: {out}")
c = Client(PORT, CERT)
for _ in range(3):  # the real log moves on past the fork point
    c.req("GET", "/api/v1/audit?from=0&to=1", token=admin_api)
st, _, _, main_cp = c.req("GET", "/log/checkpoint")
agent_init("atk-fork", "web2", server=FORK_URL)
write(os.path.join("atk-fork", "checkpoint"), main_cp)  # this host has seen the real log
out = agent_update("atk-fork", 1)
expect("forked log" in out or "the log was forked" in out, f"fork refused: {out}")
expect("installed backdoor.bin" not in out, "backdoor not installed")
attacks.append(("atk-fork", "fork"))
stop(fork)

# ---- stolen online keys, a fast-forward attack and recovery by root rotation (a static repository) ----
static = path("static")
os.makedirs(os.path.join(static, "patch/metadata"))
os.makedirs(os.path.join(static, "patch/targets"))
for k in ("sk", "tk", "tk2"):
    cli("patch", "keygen", "--out", k + ".key", check=0)
cli("patch", "root", "init", "--out", "sroot.json", "--root-key", "r1.key", "--root-key", "r2.key", "--threshold", "2",
    "--targets-key", "t1.key", "--snapshot-key", "sk.key", "--timestamp-key", "tk.key", check=0)
for k in ("r1", "r2"):
    cli("patch", "sign", "--key", k + ".key", "sroot.json", check=0)
shutil.copy(path("sroot.json"), os.path.join(static, "patch/metadata/1.root.json"))
good = b"offline-signed, never logged"
write("good.bin", good)
cli("patch", "add", "good.bin", "--targets", "stargets.json", "--version", "1", "--hosts", "web3", check=0)
cli("patch", "sign", "--key", "t1.key", "stargets.json", check=0)
shutil.copy(path("stargets.json"), os.path.join(static, "patch/metadata/1.targets.json"))
write(os.path.join("static/patch/targets", hashlib.sha256(good).hexdigest() + ".good.bin"), good)


def static_online(snap_version, ts_version, ts_key="tk"):
    cli("patch", "snapshot", "--targets", "stargets.json", "--out", "ssnap.json", "--version", str(snap_version),
        check=0)
    cli("patch", "sign", "--key", "sk.key", "ssnap.json", check=0)
    shutil.copy(path("ssnap.json"), os.path.join(static, "patch/metadata/%d.snapshot.json" % snap_version))
    cli("patch", "timestamp", "--snapshot", "ssnap.json", "--out", "sts.json", "--version", str(ts_version), check=0)
    cli("patch", "sign", "--key", ts_key + ".key", "sts.json", check=0)
    shutil.copy(path("sts.json"), os.path.join(static, "patch/metadata/timestamp.json"))


static_online(1, 1)
smirror = Mirror(PORT, CERT, TLS_KEY, static_dir=static)
# signed by the offline keys, but its publication was never logged
attack("atk-unlogged", "web3", "not in the audit log", {}, server=smirror.url, root="sroot.json")
# the thief of the snapshot+timestamp keys ships a new target: the targets role is offline
evil = b"evil payload"
st_t = load("stargets.json")
st_t["signed"]["version"] = 2
st_t["signed"]["targets"]["good.bin"] = {"length": len(evil), "hashes": {"sha256": hashlib.sha256(evil).hexdigest()},
                                         "custom": {"version": "2", "hosts": "web3"}}
save("stargets.json", st_t)
cli("patch", "sign", "--key", "sk.key", "stargets.json", check=0)  # the only keys the thief has
shutil.copy(path("stargets.json"), os.path.join(static, "patch/metadata/2.targets.json"))
static_online(2, 2)
attack("atk-stolen-online", "web3", "targets: 1 of 1 keys must sign, 0 valid", {}, server=smirror.url, root="sroot.json")
# fast-forward: the thief pushes timestamp version 1000 to a host, which then trusts it ...
legit = json.load(open(os.path.join(static, "patch/metadata/1.targets.json")))
legit["signed"]["version"] = 2
legit["signatures"] = []
save("stargets.json", legit)
cli("patch", "sign", "--key", "t1.key", "stargets.json", check=0)
shutil.copy(path("stargets.json"), os.path.join(static, "patch/metadata/2.targets.json"))
static_online(3, 1000)
agent_init("ff", "web9", server=smirror.url, root="sroot.json")
out = agent_update("ff", 0)
expect("timestamp 1000" in out, f"the host took the fast-forwarded timestamp (validly signed by the stolen key): {out}")
static_online(4, 2)
out = agent_update("ff", 1)
expect("(rollback)" in out, f"after a fast-forward the real timestamp looks like a rollback: {out}")
attacks.append(("ff", "(rollback)"))
# ... until the offline root keys rotate the timestamp key: root v2 (old and new thresholds)
cli("patch", "root", "init", "--out", "sroot2.json", "--version", "2", "--root-key", "r1.key", "--root-key", "r2.key",
    "--threshold", "2", "--targets-key", "t1.key", "--snapshot-key", "sk.key", "--timestamp-key", "tk2.key", check=0)
for k in ("r1", "r2"):
    cli("patch", "sign", "--key", k + ".key", "sroot2.json", check=0)
shutil.copy(path("sroot2.json"), os.path.join(static, "patch/metadata/2.root.json"))
static_online(5, 1001, ts_key="tk")  # the thief, still with the old key
out = agent_update("ff", 1)
expect("timestamp: 1 of 1 keys must sign, 0 valid" in out, f"the old timestamp key is refused after rotation: {out}")
expect("root: now version 2" in out and "keys rotated" in out, f"rotation taken, old timestamp discarded: {out}")
attacks.append(("ff", "timestamp: 1 of 1 keys must sign"))
static_online(6, 2, ts_key="tk2")
out = agent_update("ff", 0)
expect("timestamp 2," in out and "refused" not in out.split("update:")[0], f"recovered: the new key's timestamp 2 is accepted: {out}")

# ---- the operators' view: published targets and each host's latest report ----
st, j, _, _ = c.req("GET", "/api/v1/patch/status", token=admin_api)
expect(st == 200, f"patch status: {st}")
pubd = {(t["name"], t["version"]) for t in j["targets"]}
expect(("hotfix.bin", "1.0") in pubd and ("hotfix.bin", "1.1") in pubd and len(j["targets"]) == 2,
       f"status lists the two published files: {j['targets']}")
latest = {(h["host"], h["target"]): h for h in j["hosts"]}
w1 = latest.get(("web1", "hotfix.bin"))
expect(w1 is not None and w1["result"] == "installed" and w1["version"] == "1.1" and w1["reported_by"] == "host web1",
       f"web1's latest report: {w1}")
w3 = latest.get(("web3", "good.bin"))
expect(w3 is not None and w3["result"] == "refused" and "not in the audit log" in w3.get("reason", ""),
       f"web3's report on good.bin is the refusal: {w3}")
w3m = latest.get(("web3", "(metadata)"))
expect(w3m is not None and w3m["result"] == "refused" and "targets: 1 of 1 keys must sign" in w3m.get("reason", ""),
       f"web3's metadata refusal: {w3m}")
st, _, _, _ = c.req("GET", "/api/v1/patch/status")
expect(st == 401, "status needs a token")
rc, out = cli("patch", "status", token=admin_api)
expect(rc == 0 and "hotfix.bin" in out and "installed" in out and "refused" in out, f"patch status CLI: {out}")

# ---- the server re-signs only what was published: a changed or rolled-back file on its disk is refused ----
def wait_for(n, action, want, secs=TS_LIFE):
    deadline = time.time() + secs
    while time.time() < deadline:
        hits = [e for e in audit_since(n, action) if want(e)]
        if hits:
            return hits
        time.sleep(1)
    return []

meta = os.path.join(data, "patch", "metadata")
ts_path = os.path.join(meta, "timestamp.json")
cur_ts = open(ts_path, "rb").read()
snap_v = json.loads(cur_ts)["signed"]["meta"]["snapshot.json"]["version"]
targets_v = json.loads(open(os.path.join(meta, "%d.snapshot.json" % snap_v), "rb").read())["signed"]["meta"]["targets.json"]["version"]
tpath = os.path.join(meta, "%d.targets.json" % targets_v)
cur_targets = open(tpath, "rb").read()
# 1. a targets file changed on disk (a length edited): its offline signature no longer verifies
doctored = json.loads(cur_targets)
for t in doctored["signed"]["targets"].values():
    t["length"] += 1
n0 = log_size()
open(tpath, "w").write(json.dumps(doctored))
alerts = wait_for(n0, "alert.patch_repository_changed", lambda e: "targets" in e["details"].get("error", ""))
expect(alerts and alerts[0]["result"] == "alert", f"a doctored targets file is alerted, not re-signed: {alerts}")
expect(open(ts_path, "rb").read() == cur_ts and not audit_since(n0, "patch.resign"),
       "nothing was signed over the doctored file")
# 2. a rolled-back repository: the first publication's timestamp put back (it names older, validly signed metadata)
open(tpath, "wb").write(cur_targets)
n1 = log_size()
open(ts_path, "wb").write(ts_v1_bytes)
alerts = wait_for(n1, "alert.patch_repository_changed", lambda e: "is not the published targets" in e["details"].get("error", ""))
expect(alerts, f"a rolled-back repository is alerted, not re-signed: {audit_since(n1, 'alert.patch_repository_changed')}")
expect(not audit_since(n1, "patch.resign"), "nothing was signed over the rolled-back metadata")
# 3. put back as published: re-signing resumes
n2 = log_size()
open(ts_path, "wb").write(cur_ts)
expect(wait_for(n2, "patch.resign", lambda e: e["result"] == "ok"), "re-signing resumes once the files are as published")

# ---- every refusal is in the audit log ----
events = []
frm = 0
while True:
    st, j, _, _ = c.req("GET", "/api/v1/audit?from=%d&to=%d" % (frm, frm + 1000), token=admin_api)
    expect(st == 200, "audit readable")
    events += [e["event"] for e in j["events"]]
    if len(j["events"]) < 1000 or frm + 1000 >= j["size"]:
        break
    frm += 1000
refused = [e for e in events if e.get("action") == "patch.install" and e.get("result") == "refused"]
for name, phrase in attacks:
    host_reasons = [e["details"].get("reason", "") for e in refused]
    expect(any(phrase in r for r in host_reasons), f"{name}: no audited refusal containing '{phrase}'")
installed = [e for e in events if e.get("action") == "patch.install" and e.get("result") == "ok"]
expect(len([e for e in installed if e["details"]["host"] == "web1"]) == 2, "web1's two installations audited")
logged = [e for e in events if e.get("action") == "patch.target"]
expect(sorted(e["target"] for e in logged) == ["hotfix.bin", "hotfix.bin"], f"one log entry per published file: {logged}")
publishes = {e["request_id"]: e for e in events if e.get("action") == "patch.publish" and e.get("result") == "ok"}
for e in logged:
    expect(e["actor"] == "-" and e["source"] == "-", f"public patch.target entry names no user or address: {e}")
    p = publishes.get(e["request_id"])
    expect(p is not None and p["actor"] == "admin", f"patch.target links to the admin's patch.publish: {e}")
expect(any(e.get("action") == "patch.resign" for e in events), "re-signing audited")
expiring = [e for e in events if e.get("action") == "alert.patch_metadata_expiring"]
expect(1 <= len(expiring) <= 2 and all(e["target"] == "targets" and e["details"]["metadata_version"] == tv for e in expiring),
       f"alerts only for the targets version that expires within 14 days, once per server start: {expiring}")
expect(not any(e.get("target") == "backdoor.bin" for e in events), "the fork's publication is not in the real log")
for want in ("patch.publish",):
    expect(any(e.get("action") == want and e.get("result") == "refused" for e in events), f"refused {want} audited")

stop(srv)
rc, out = cli("log", "audit", "--dir", os.path.join(data, "log"), "--vkey", os.path.join(data, "log", "log.vkey"))
expect(rc == 0, f"log audit passes: {out}")
finish("patch_test")
