#!/usr/bin/env python3
"""
bulwark backup under write load and bulwark restore: every API token made (and audited) before the backup began
works on a server started on the restored directory, and its audit log holds their events; the restored logs pass
`bulwark log audit`; a backup to a recipient key; the KEK left out unless asked (then warned); and restore refuses
a wrong passphrase or key, an edited, cut or extended file, and a non-empty target, leaving nothing behind. With
BULWARK_AGENT_VALGRIND (an unsanitised bulwark; `make check` sets it) a restore and a refused one run under
valgrind memcheck, and so does a backup (the archive is written and read by libarchive, the manifest by jansson,
which ASan does not see into).
"""
import json
import os
import subprocess
import threading
import time

from bwserver import ADMIN_PW, Client, free_port, init, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, tmpdir, wait_for

base = tmpdir()
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert = os.path.join(data, "tls/cert.pem")
PASS = "backup passphrase for the test"
ENV = dict(os.environ, BULWARK_BACKUP_PASSPHRASE=PASS)
VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")


def bw(*args, env=ENV, valgrind=False):
    cmd = [BW, *args]
    if valgrind and VALGRIND_BW:
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
               VALGRIND_BW, *args]
    p = subprocess.run(cmd, capture_output=True, timeout=900, env=env, cwd=base)
    out = p.stdout.decode() + p.stderr.decode()
    if p.returncode == 99:
        fail(f"valgrind memcheck found an error in bulwark {' '.join(args)}:\n{out[-3000:]}")
    return p.returncode, out


def leftovers():
    """Temporaries of a backup (the output's partial file, the databases' copies in the data directory) or a restore."""
    return sorted([n for n in os.listdir(base) if ".restore-" in n or n.endswith(".partial")] +
                  [n for n in os.listdir(data) if n.startswith(".backup-")])


PORT = free_port()
srv = serve(data, PORT)
c = Client(PORT, cert)
made = []          # (token, id, completed at) of tokens whose creation was acknowledged
stop_load = threading.Event()
load_errors = []


def load(admin):
    """Writes while the backup runs: tokens made (each a database row and an audit event), bounded in count and time."""
    cl = Client(PORT, cert)
    t0 = time.monotonic()
    for i in range(5000):
        if stop_load.is_set() or time.monotonic() - t0 > 120:
            break
        st, j, _, _ = cl.req("POST", "/api/v1/tokens", {"name": "load-%d" % i, "scopes": ["admin"], "lifetime_days": 1},
                             token=admin)
        if st != 201:
            load_errors.append((st, j))
            break
        made.append((j["token"], j["id"], time.monotonic()))


try:
    wait_fresh_step()
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
    expect(st == 200, f"admin signs in: {st} {j}")
    admin = j["token"]
    st, j, _, _ = c.req("POST", "/api/v1/tokens", {"name": "reader", "scopes": ["admin"], "lifetime_days": 1},
                        token=admin)
    expect(st == 201, f"an admin-scoped token to read the restored audit log with: {st} {j}")
    reader = j["token"]
    st, j, _, _ = c.req("POST", "/api/v1/reports?name=lure.txt", token=admin, raw=b"a sample to keep" * 100,
                        headers={"Content-Type": "application/octet-stream"})
    expect(st == 201, f"a report (a sealed sample on disk): {st} {j}")

    worker = threading.Thread(target=load, args=(admin,))
    worker.start()
    wait_for("the load to start", lambda: len(made) >= 50 or load_errors)
    began = time.monotonic()
    rc, out = bw("backup", "--data", data, "--out", os.path.join(base, "b1.bwb"))
    ended = time.monotonic()
    n_end = len(made)
    wait_for("writes after the backup", lambda: len(made) >= n_end + 20 or load_errors or not worker.is_alive())
    stop_load.set()
    worker.join(timeout=150)
    expect(not load_errors, f"the load ran without errors: {load_errors[:3]}")
    before = [(t, i) for t, i, at in made if at < began]
    after = [t for t, _, at in made if at > ended]
    expect(rc == 0 and "backup written to" in out and "key-encryption key is not in it" in out,
           f"backup under load: {rc} {out}")
    expect(len(before) >= 5 and len(after) >= 1,
           f"writes went on before and after the backup: {len(before)} before, {len(after)} after, {len(made)} in all")
    expect(leftovers() == [], f"no temporary files left: {leftovers()}")
    print(f"backup_test: {len(before)} tokens made before the backup, {len(made) - len(before) - len(after)} during, "
          f"{len(after)} after; the backup said: {' '.join(out.split())}")
    stop(srv)
    srv = None

    # --- restore: checked whole, then a server on it ---
    r1 = os.path.join(base, "r1")
    rc, out = bw("restore", "--in", "b1.bwb", "--data", r1, "--kek", os.path.join(data, "kek"), valgrind=True)
    expect(rc == 0 and "every file matches the manifest" in out and "logs audited" in out and
           "sealed keys: open" in out, f"restore: {rc} {out}")
    expect(oct(os.stat(r1).st_mode & 0o777) == "0o700", "the restored directory is 0700")
    for d in ("log", "hostlog"):
        rc, aout = bw("log", "audit", "--dir", os.path.join(r1, d), "--vkey", os.path.join(r1, d, "log.vkey"))
        expect(rc == 0, f"bulwark log audit of the restored {d}: {rc} {aout}")
    expect(os.listdir(os.path.join(r1, "samples")) == os.listdir(os.path.join(data, "samples")),
           "the sealed sample is back")
    port2 = free_port()
    srv = serve(r1, port2)
    c2 = Client(port2, os.path.join(r1, "tls/cert.pem"))
    bad = [t for t, _ in before if c2.req("GET", "/api/v1/me", token=t)[0] != 200]
    expect(not bad, f"every token made before the backup began works on the restored server ({len(bad)} of "
                    f"{len(before)} do not)")
    gone = [t for t in after if c2.req("GET", "/api/v1/me", token=t)[0] != 401]
    expect(not gone, f"tokens made after the backup ended are not in it ({len(gone)} of {len(after)} are)")
    st, j, _, _ = c2.req("GET", "/api/v1/audit", token=reader)
    ids = set()

    def token_ids(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "token_id":
                    ids.add(v)
                token_ids(v)
        elif isinstance(o, list):
            for v in o:
                token_ids(v)
    token_ids(j.get("events"))
    missing = [i for _, i in before if i not in ids]
    expect(st == 200 and not missing and len(ids) >= len(before),
           f"the restored audit log holds the event of every token made before the backup: {st}, missing {missing[:5]}")
    stop(srv)
    srv = None

    # --- refusals: nothing left behind, the target untouched ---
    blob = open(os.path.join(base, "b1.bwb"), "rb").read()

    def refused(name, content, want, *extra, env=ENV, target="r2", valgrind=False):
        path = os.path.join(base, name)
        if content is not None:
            open(path, "wb").write(content)
        rc, out = bw("restore", "--in", path, "--data", os.path.join(base, target), *extra, env=env, valgrind=valgrind)
        expect(rc != 0 and want in out, f"restore of {name}: refused with '{want}': {rc} {out}")
        expect(not os.path.exists(os.path.join(base, "r2")), f"{name}: no target directory appeared")
        expect(leftovers() == [], f"{name}: nothing left behind: {leftovers()}")

    mid = len(blob) // 2
    refused("edited.bwb", blob[:mid] + bytes([blob[mid] ^ 1]) + blob[mid + 1:], "does not verify", valgrind=True)
    refused("cut.bwb", blob[:-100], "truncated")
    refused("cut-at-chunk.bwb", blob[:len(blob) - 1], "truncated")
    refused("extended.bwb", blob + b"\0", "after the final chunk")
    refused("header.bwb", blob.replace(b'"key":"passphrase"', b'"key":"passphrasX"', 1), "unknown key kind")
    refused("b1.bwb", None, "wrong passphrase", env=dict(ENV, BULWARK_BACKUP_PASSPHRASE="not the passphrase"))
    refused("b1.bwb", None, "is not empty", target="r1")
    refused("notabackup.bwb", b"hello" * 100, "not a bulwark backup file")

    # --- to a recipient key; the KEK included on request (and warned) ---
    rc, pub = bw("backup", "keygen", "--out", "backup.key")
    expect(rc == 0 and pub.startswith("bulwark-backup-key ") and
           oct(os.stat(os.path.join(base, "backup.key")).st_mode & 0o777) == "0o600", f"backup keygen: {rc} {pub}")
    rc, out = bw("backup", "--data", r1, "--out", "b2.bwb", "--to", pub.splitlines()[0], "--include-kek",
                 env={k: v for k, v in ENV.items() if k != "BULWARK_BACKUP_PASSPHRASE"}, valgrind=True)
    expect(rc == 0 and "warning: the backup holds the key-encryption key" in out, f"backup --to --include-kek: {rc} {out}")
    refused("b2.bwb", None, "encrypted to a recipient key")
    rc, _ = bw("backup", "keygen", "--out", "other.key")
    refused("b2.bwb", None, "another recipient key", "--key", "other.key")
    rc, out = bw("restore", "--in", "b2.bwb", "--data", os.path.join(base, "r3"), "--key", "backup.key")
    expect(rc == 0 and "sealed keys: open" in out, f"restore with the recipient's key (KEK inside): {rc} {out}")
    expect(open(os.path.join(base, "r3", "kek"), "rb").read() == open(os.path.join(data, "kek"), "rb").read(),
           "the KEK restored is the data directory's")
    rc, out = bw("backup", "--data", r1, "--out", "b2.bwb")
    expect(rc != 0 and "exists already" in out, f"a backup never overwrites a file: {rc} {out}")
    os.makedirs(os.path.join(base, "empty"))
    rc, out = bw("restore", "--in", "b1.bwb", "--data", os.path.join(base, "empty"), "--kek", os.path.join(data, "kek"))
    expect(rc == 0 and os.path.exists(os.path.join(base, "empty", "bulwark.db")), f"restore into an empty directory: {rc} {out}")

    # --- a data directory whose KEK comes from a passphrase: nothing to include; keys checked with the passphrase ---
    pdata = os.path.join(base, "pdata")
    p = subprocess.run([BW, "init", "--data", pdata, "--passphrase"], capture_output=True, timeout=120,
                       env=dict(os.environ, BULWARK_ADMIN_PASSWORD="admin password 123",
                                BULWARK_PASSPHRASE="the data directory's passphrase"))
    expect(p.returncode == 0, f"init --passphrase: {p.stderr.decode()}")
    rc, out = bw("backup", "--data", pdata, "--out", "p.bwb", "--include-kek")
    expect(rc != 0 and "derived from its passphrase" in out and not os.path.exists(os.path.join(base, "p.bwb")),
           f"--include-kek with a passphrase directory: {rc} {out}")
    rc, out = bw("backup", "--data", pdata, "--out", "p.bwb")
    expect(rc == 0, f"backup of a passphrase directory: {rc} {out}")
    rc, out = bw("restore", "--in", "p.bwb", "--data", os.path.join(base, "p1"))
    expect(rc == 0 and "sealed keys: not checked" in out, f"restored without its passphrase: keys not checked: {out}")
    rc, out = bw("restore", "--in", "p.bwb", "--data", os.path.join(base, "p2"),
                 env=dict(ENV, BULWARK_PASSPHRASE="the data directory's passphrase"))
    expect(rc == 0 and "sealed keys: open" in out, f"restored with its passphrase: keys opened: {out}")
    rc, out = bw("restore", "--in", "p.bwb", "--data", os.path.join(base, "p3"), env=dict(ENV, BULWARK_PASSPHRASE="wrong one!!!!"))
    expect(rc != 0 and "wrong passphrase" in out and not os.path.exists(os.path.join(base, "p3")),
           f"restored with a wrong data-directory passphrase: refused, nothing left: {rc} {out}")
finally:
    stop_load.set()
    if srv is not None:
        srv.kill()
finish("backup_test" + (" (a backup and restores under valgrind memcheck)" if VALGRIND_BW else ""))
