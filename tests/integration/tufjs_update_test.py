#!/usr/bin/env python3
"""
TUF interop with the real client: a stock tuf-js Updater (npm, no bulwark code
beyond its configuration) updates from a bulwark server's repository over
HTTPS, follows a root rotation, downloads and verifies targets, and refuses a
file a mirror swapped. In the other direction, metadata signed offline with
@tufjs/models is published through bulwark and installed by `bulwark agent`.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

from bwserver import ADMIN_PW, Client, Mirror, api_cli, free_port, init, serve, stop, totp, wait_fresh_step
from bwtest import expect, finish, read_entries, tmpdir

HERE = os.path.dirname(os.path.abspath(__file__))
base = tmpdir()
work = os.environ.get("TUFJS_WORK") or os.path.join(base, "npm")
os.makedirs(work, exist_ok=True)
shutil.copy(os.path.join(HERE, "..", "interop", "tufjs_update.mjs"), work)
open(os.path.join(work, "package.json"), "w").write('{"private":true,"type":"module"}\n')
pkgs = ["tuf-js@5.0.1", "@tufjs/models@4.1.1", "@tufjs/canonical-json@2.0.0"]
if not os.path.isdir(os.path.join(work, "node_modules", "tuf-js")):
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *pkgs], cwd=work, capture_output=True, timeout=600)
    if p.returncode != 0:
        print(p.stdout.decode(), p.stderr.decode(), file=sys.stderr)
        raise SystemExit("npm install of tuf-js failed")

data = os.path.join(base, "data")
_, secret, _ = init(data)
CERT = os.path.join(data, "tls/cert.pem")
PORT = free_port()
srv = serve(data, PORT, "--login-backoff-ms", "0")
URL = "https://127.0.0.1:%d" % PORT
c = Client(PORT, CERT)
wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "publisher", "scopes": ["admin"]}, token=j["token"])
token = j["token"]
open(os.path.join(base, "token"), "w").write(token + "\n")


def cli(*args, check=0):
    return api_cli(*args, server=URL, cacert=CERT, token=token, cwd=base, check=check)


def tufjs(*args):
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=CERT)
    p = subprocess.run(["node", "tufjs_update.mjs", *args], cwd=work, capture_output=True, env=env, timeout=300)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def b(*p):
    return os.path.join(base, *p)


# ---- a bulwark repository: offline root (v1) and targets, published to the server ----
for k in ("r1", "r2", "t1"):
    cli("patch", "keygen", "--out", k + ".key")
cli("patch", "keys", "--out", "keys")
cli("patch", "root", "init", "--out", "root.json", "--root-key", "r1.key", "--threshold", "1", "--targets-key", "t1.key",
    "--snapshot-key", "keys/snapshot.pub", "--timestamp-key", "keys/timestamp.pub")
cli("patch", "sign", "--key", "r1.key", "root.json")
shutil.copy(b("root.json"), b("root-v1.json"))
os.makedirs(b("pkg"))


def publish_firmware(version, size, root=True):
    """fw/firmware-VERSION.bin of random bytes: added to the targets, signed, published (with root.json)."""
    data = os.urandom(size)
    src = "pkg/firmware-%s.bin" % version
    open(b(src), "wb").write(data)
    cli("patch", "add", src, "--name", "fw/firmware-%s.bin" % version, "--targets", "targets.json",
        "--version", version)
    cli("patch", "sign", "--key", "t1.key", "targets.json")
    cli("patch", "publish", "--targets", "targets.json", *(["--root", "root.json"] if root else []), src)
    return data


fw = publish_firmware("2.1", 300_000)

META, TGT = URL + "/patch/metadata", URL + "/patch/targets"
rc, out = tufjs("update", META, TGT, b("root-v1.json"), b("tufjs-client"), "fw/firmware-2.1.bin")
expect(rc == 0, f"tuf-js updated from bulwark: {out}")
expect(out.startswith(hashlib.sha256(fw).hexdigest()), f"tuf-js downloaded the published bytes: {out}")

# root rotation 1 -> 2 (new root key r2, signed by old and new) with a new target version
cli("patch", "root", "init", "--out", "root.json", "--version", "2", "--root-key", "r2.key", "--threshold", "1",
    "--targets-key", "t1.key", "--snapshot-key", "keys/snapshot.pub", "--timestamp-key", "keys/timestamp.pub")
cli("patch", "sign", "--key", "r1.key", "root.json")
cli("patch", "sign", "--key", "r2.key", "root.json")
fw2 = publish_firmware("2.2", 200_000)
rc, out = tufjs("update", META, TGT, b("root-v1.json"), b("tufjs-client"), "fw/firmware-2.2.bin")
expect(rc == 0 and out.startswith(hashlib.sha256(fw2).hexdigest()), f"tuf-js followed the rotation: {out}")
trusted = json.load(open(b("tufjs-client", "metadata", "root.json")))
expect(trusted["signed"]["version"] == 2, "tuf-js now trusts root version 2")

# online keys rotated: staged (the keys in use go on signing), named by root v3, then they sign; tuf-js follows


def ts_keyids():
    st, _, _, body = c.req("GET", "/patch/metadata/timestamp.json")
    return [sg["keyid"] for sg in json.loads(body)["signatures"]]


old_ts = json.load(open(b("keys", "timestamp.pub")))["keyid"]
rc, out = cli("patch", "keys", "--out", "keys3", "--rotate")
new_ts = json.load(open(b("keys3", "timestamp.pub")))["keyid"]
expect(rc == 0 and "staged timestamp key" in out and new_ts != old_ts, f"patch keys --rotate stages new keys: {out}")
rc, out2 = cli("patch", "keys", "--out", "keys3b", "--next")
expect(rc == 0 and json.load(open(b("keys3b", "timestamp.pub")))["keyid"] == new_ts, "--next: the same staged keys")
fw3 = publish_firmware("2.3", 100_000, root=False)      # root v2 still names the keys in use
expect(ts_keyids() == [old_ts], f"until a root names the staged keys, the keys in use sign: {ts_keyids()}")
cli("patch", "root", "init", "--out", "root.json", "--version", "3", "--root-key", "r2.key", "--threshold", "1",
    "--targets-key", "t1.key", "--snapshot-key", "keys3/snapshot.pub", "--timestamp-key", "keys3/timestamp.pub")
cli("patch", "sign", "--key", "r2.key", "root.json")
fw4 = publish_firmware("2.4", 100_000)
expect(ts_keyids() == [new_ts], f"root v3 published: the staged keys sign: {ts_keyids()}")
st, j, _, _ = c.req("GET", "/api/v1/patch/keys")
expect(j["timestamp"]["keyid"] == new_ts and "next" not in j, f"they are the keys in use now: {j}")
rc, out = tufjs("update", META, TGT, b("root-v1.json"), b("tufjs-client"), "fw/firmware-2.4.bin")
expect(rc == 0 and out.startswith(hashlib.sha256(fw4).hexdigest()), f"tuf-js followed the online keys' rotation: {out}")
stop(srv)
srv = serve(data, PORT, "--login-backoff-ms", "0")
st, j, _, _ = c.req("GET", "/api/v1/patch/keys")
expect(j["timestamp"]["keyid"] == new_ts, "after a restart too")
events = [e for e in read_entries(os.path.join(data, "log")) if b'"patch.keys_' in e]
expect(len(events) == 3 and b'"patch.keys_rotate"' in events[0] and new_ts.encode() in events[0] and
       all(b'"patch.keys_active"' in e for e in events[1:]), f"the rotation in the audit log: {events}")

# a mirror that swaps the file: tuf-js refuses it (length/hash), like bulwark's agent
mirror = Mirror(PORT, CERT, os.path.join(data, "tls/key.pem"))
sha2 = hashlib.sha256(fw2).hexdigest()
mirror.overrides = {"/patch/targets/fw/%s.firmware-2.2.bin" % sha2: os.urandom(len(fw2))}
rc, out = tufjs("update", mirror.url + "/patch/metadata", mirror.url + "/patch/targets", b("root-v1.json"),
                b("tufjs-mirror"), "fw/firmware-2.2.bin")
expect(rc != 0 and "hash" in out.lower(), f"tuf-js refused the swapped file: {out}")

# ---- the other way: metadata signed by @tufjs/models, published through bulwark, installed by the agent ----
os.makedirs(b("js"))
payload = os.urandom(50_000)
open(b("js", "tool.bin"), "wb").write(payload)
# a second server: a repository starts from its own root v1
stop(srv)
data2 = os.path.join(base, "data2")
_, secret2, _ = init(data2)
CERT2 = os.path.join(data2, "tls/cert.pem")
srv = serve(data2, PORT, "--login-backoff-ms", "0")
CERT = CERT2
c = Client(PORT, CERT)
wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret2)})
st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "publisher", "scopes": ["admin"]}, token=j["token"])
token = j["token"]
open(b("token"), "w").write(token + "\n")
cli("patch", "keys", "--out", "keys2")
rc, out = tufjs("sign-repo", b("js"), b("keys2", "snapshot.pub"), b("keys2", "timestamp.pub"), b("js", "tool.bin"),
                "tool.bin", "3.0", "web1")
expect(rc == 0, f"@tufjs/models signed a repository: {out}")
cli("patch", "verify", "--root", b("js", "root.json"), "--role", "root", b("js", "root.json"))
cli("patch", "verify", "--root", b("js", "root.json"), "--role", "targets", b("js", "targets.json"))
rc, out = cli("patch", "publish", "--targets", b("js", "targets.json"), "--root", b("js", "root.json"),
              b("js", "tool.bin"))
expect(rc == 0, f"bulwark published tuf-js-signed metadata: {out}")
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "web1", "address": "127.0.0.1", "accounts": ["root"]}, token=token)
cli("agent", "init", "--state", "agent", "--server", URL, "--cacert", CERT, "--root", b("js", "root.json"),
    "--log-key", b("keys2", "log.vkey"), "--host", "web1", "--enrol-code", j["enrolment_code"])
rc, out = cli("agent", "update", "--state", "agent", check=None)
expect(rc == 0 and "installed tool.bin version 3.0" in out, f"bulwark's agent installed the tuf-js-signed target: {out}")
expect(open(b("agent", "installed", "tool.bin"), "rb").read() == payload, "installed bytes")
rc, out = tufjs("update", URL + "/patch/metadata", URL + "/patch/targets", b("js", "root.json"), b("tufjs-js"),
                "tool.bin")
expect(rc == 0 and out.startswith(hashlib.sha256(payload).hexdigest()),
       f"tuf-js also installs from the tuf-js-signed bulwark repository: {out}")
stop(srv)
finish("tufjs_update_test")
