#!/usr/bin/env python3
"""
The SSH user CA rotated with an overlap window, checked by a real sshd and ssh-keygen: `access ca rotate` publishes
the new CA beside the old one (GET /api/v1/access/ca gives both lines; certificates are still signed by the old
one), activation is refused before the overlap has passed, then the new CA signs; a host that fetched the CA file
during the overlap accepts certificates of both; the KRL revokes a serial under both CAs; retiring is refused while
a certificate the old CA signed is valid (revoked ones too), and afterwards only the new CA is published and its
file is gone; each step is an audit event; a restart keeps the state; only admins rotate.
"""
import os
import subprocess
import time

from bwssh import Sshd
from bwserver import Client, free_port, init, invite, serve, stop, totp, wait_fresh_step, ADMIN_PW
from bwtest import BW, expect, finish, read_entries, tmpdir

base = tmpdir()
os.chmod(base, 0o755)
data = os.path.join(base, "data")
_, secret, _ = init(data)
cert_pem = os.path.join(data, "tls/cert.pem")
PORT = free_port()
srv = serve(data, PORT, "--login-backoff-ms", "0", "--session-wrapper", "none")
c = Client(PORT, cert_pem)
wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
admin = j["token"]
tok = {n: invite(c, admin, n, roles)[0] for n, roles in (("vendor1", ["vendor"]), ("appr1", ["approver"]),
                                                          ("aud1", ["auditor"]))}
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "web1", "address": "127.0.0.1", "group": "default",
                                              "accounts": ["root"]}, token=admin)
expect(st == 201, f"host web1: {st} {j}")
key = os.path.join(base, "vendor_key")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
pub = open(key + ".pub").read().strip()
ca_file = os.path.join(base, "ca.pub")
krl = os.path.join(base, "revoked.krl")


def fetch_ca():
    st, _, _, body = c.req("GET", "/api/v1/access/ca")
    expect(st == 200, f"the CA file: {st}")
    open(ca_file, "wb").write(body)
    return [l for l in body.decode().splitlines() if l]


def fetch_krl():
    st, _, _, body = c.req("GET", "/api/v1/access/krl")
    expect(st == 200 and body[:8] == b"SSHKRL\n\0", "the KRL")
    open(krl, "wb").write(body)


def fingerprint(line):
    p = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=line.encode(), capture_output=True, check=True)
    return p.stdout.decode().split()[1]


def issue():
    """A window for web1, approved: its certificate in a file; (id, path)."""
    now = int(time.time())
    st, r, _, _ = c.req("POST", "/api/v1/access/requests", {"hosts": ["web1"], "accounts": ["root"], "valid_after": now - 10,
                                                           "valid_before": now + 600, "reason": "rotation test",
                                                           "public_key": pub}, token=tok["vendor1"])
    expect(st == 201, f"request: {st} {r}")
    st, a, _, _ = c.req("POST", f"/api/v1/access/requests/{r['id']}/approve", {}, token=tok["appr1"])
    expect(st == 200 and a["state"] == "issued", f"approved: {st} {a}")
    st, d, _, _ = c.req("GET", f"/api/v1/access/requests/{r['id']}/certificate", token=tok["vendor1"])
    expect(st == 200, f"the certificate: {st} {d}")
    path = os.path.join(base, "cert-%d.pub" % r["id"])
    open(path, "w").write(d["certificate"] + "\n")
    return r["id"], path


def signed_by(cert):
    out = subprocess.run(["ssh-keygen", "-L", "-f", cert], capture_output=True, check=True).stdout.decode()
    return [l.split("CA: ")[1].split()[1] for l in out.splitlines() if "Signing CA:" in l][0]


def sshd_dir():
    """A directory of its own for each sshd started."""
    d = os.path.join(base, "sshd-%d" % len([n for n in os.listdir(base) if n.startswith("sshd-")]))
    os.makedirs(d)
    os.chmod(d, 0o755)
    return d


def ca_post(step, body=None, token=None):
    return c.req("POST", "/api/v1/access/ca/" + step, body, token=token or admin)


sshd = None
try:
    old = fetch_ca()
    expect(len(old) == 1 and old[0].startswith("ssh-ed25519 "), f"one CA before a rotation: {old}")
    old_fp = fingerprint(old[0])
    fetch_krl()
    sshd = Sshd(sshd_dir(), ca_file, {"root": ["root@web1"]}, krl, pam=False)
    id1, cert1 = issue()
    expect(signed_by(cert1) == old_fp, "signed by the CA in use")
    rc, out, err = sshd.ssh(key, cert1)
    expect(rc == 0 and "logged-in" in out, f"a login with it: {rc} {err[-300:]}")

    # --- only admins rotate ---
    st, j, _, _ = ca_post("rotate", {"overlap_minutes": 0}, token=tok["appr1"])
    expect(st == 403, f"an approver cannot rotate the CA: {st}")
    st, j, _, _ = c.req("GET", "/api/v1/access/ca/rotation", token=tok["aud1"])
    expect(st == 200 and j["phase"] == "settled" and j["signing"] == old_fp, f"an auditor reads the state: {st} {j}")

    # --- stage: both published, the old one still signs; activation waits for the overlap ---
    st, j, _, _ = ca_post("rotate", {"overlap_minutes": 60})
    expect(st == 200 and j["phase"] == "staged" and j["signing"] == old_fp and j.get("other") not in (None, old_fp),
           f"rotate: {st} {j}")
    new_fp = j["other"]
    st, j2, _, _ = ca_post("rotate", {"overlap_minutes": 0})
    expect(st == 409 and "under way" in j2["error"], f"one rotation at a time: {st} {j2}")
    st, j2, _, _ = ca_post("activate")
    expect(st == 409 and "activation possible in" in j2["error"], f"not before the overlap: {st} {j2}")
    both = fetch_ca()
    expect(len(both) == 2 and {fingerprint(l) for l in both} == {old_fp, new_fp}, f"both CAs published: {both}")
    id2, cert2 = issue()
    expect(signed_by(cert2) == old_fp, "while staged, certificates are still signed by the old CA")

    # --- a restart keeps the state (the overlap is shortened by restaging: retire/activate are the only ways on) ---
    stop(srv)
    srv = serve(data, PORT, "--login-backoff-ms", "0", "--session-wrapper", "none")
    st, j, _, _ = c.req("GET", "/api/v1/access/ca/rotation", token=admin)
    expect(st == 200 and j["phase"] == "staged" and j["other"] == new_fp and j["activate_from"] > time.time() + 3000,
           f"the staged CA survives a restart: {st} {j}")

    # The test cannot wait an hour: a second data directory runs the whole rotation with an overlap of 0 below.
    rc = subprocess.run([BW, "access", "ca", "status", "--server", f"https://127.0.0.1:{PORT}", "--token", admin,
                         "--cacert", cert_pem], capture_output=True, timeout=60)
    out = rc.stdout.decode()
    expect(rc.returncode == 0 and "staged" in out and new_fp in out and "activate   from" in out,
           f"bulwark access ca status: {out} {rc.stderr.decode()}")
    stop(srv)
    srv = None
    sshd.stop()
    sshd = None

    # --- the whole rotation, overlap 0 ---
    data = os.path.join(base, "data2")
    _, secret, _ = init(data)
    cert_pem = os.path.join(data, "tls/cert.pem")
    srv = serve(data, PORT, "--login-backoff-ms", "0", "--session-wrapper", "none")
    c = Client(PORT, cert_pem)
    wait_fresh_step()
    st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
    admin = j["token"]
    tok = {n: invite(c, admin, n, roles)[0] for n, roles in (("vendor1", ["vendor"]), ("appr1", ["approver"]))}
    c.req("POST", "/api/v1/hosts", {"name": "web1", "address": "127.0.0.1", "group": "default", "accounts": ["root"]},
          token=admin)
    old_fp = fingerprint(fetch_ca()[0])
    fetch_krl()
    id_a, cert_a = issue()                      # old CA
    id_r, cert_r = issue()                      # old CA, to be revoked
    cli = [BW, "access", "ca", "--server", f"https://127.0.0.1:{PORT}", "--token", admin, "--cacert", cert_pem]
    p = subprocess.run(cli[:3] + ["rotate", "--overlap-minutes", "0"] + cli[3:], capture_output=True, timeout=60)
    expect(p.returncode == 0 and b"staged" in p.stdout, f"bulwark access ca rotate: {p.stdout} {p.stderr}")
    both = fetch_ca()                           # the host fetches the CA file during the overlap
    new_fp = [fingerprint(l) for l in both if fingerprint(l) != old_fp][0]
    p = subprocess.run(cli[:3] + ["activate"] + cli[3:], capture_output=True, timeout=60)
    expect(p.returncode == 0 and b"activated" in p.stdout and new_fp.encode() in p.stdout,
           f"bulwark access ca activate: {p.stdout} {p.stderr}")
    id_b, cert_b = issue()
    expect(signed_by(cert_b) == new_fp and signed_by(cert_a) == old_fp, "after activation the new CA signs")
    expect(len(fetch_ca()) == 2, "both still published after activation")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{id_r}/revoke", {"reason": "done"}, token=tok["appr1"])
    expect(st == 200, f"revoke: {st} {j}")
    fetch_krl()
    for cert, want in ((cert_a, "ok"), (cert_b, "ok"), (cert_r, "REVOKED")):
        p = subprocess.run(["ssh-keygen", "-Q", "-f", krl, cert], capture_output=True)
        expect(want in p.stdout.decode(), f"ssh-keygen -Q {os.path.basename(cert)}: {p.stdout.decode()} (want {want})")
    sshd = Sshd(sshd_dir(), ca_file, {"root": ["root@web1"]}, krl, pam=False)
    for cert, ok in ((cert_a, True), (cert_b, True), (cert_r, False)):
        rc, out, err = sshd.ssh(key, cert)
        expect((rc == 0) == ok, f"sshd with both CAs: {os.path.basename(cert)} {'accepted' if ok else 'refused'}: "
                                f"{rc} {err[-200:]}")
    # --- retire: refused while the old CA's certificates are valid (the revoked one too) ---
    st, j, _, _ = ca_post("retire")
    expect(st == 409 and "2 certificate(s) signed by the old CA" in j["error"], f"retire refused: {st} {j}")
    db = __import__("sqlite3").connect(os.path.join(data, "bulwark.db"))
    db.execute("UPDATE access_requests SET valid_before = ? WHERE id IN (?, ?)", (int(time.time()) - 1, id_a, id_r))
    db.commit()
    db.close()
    st, j, _, _ = ca_post("retire")
    expect(st == 200 and j["phase"] == "settled" and j["signing"] == new_fp and "other" not in j, f"retire: {st} {j}")
    after = fetch_ca()
    expect([fingerprint(l) for l in after] == [new_fp], f"only the new CA published: {after}")
    expect(not os.path.exists(os.path.join(data, "keys/ssh_user_ca.sealed")), "the old CA's key file is gone")
    sshd.stop()
    fetch_krl()
    sshd = Sshd(sshd_dir(), ca_file, {"root": ["root@web1"]}, krl, pam=False)
    rc, out, err = sshd.ssh(key, cert_b)
    expect(rc == 0, f"a host with the new CA file accepts the new CA's certificate: {rc} {err[-200:]}")
    rc, out, err = sshd.ssh(key, cert_a)
    expect(rc != 0, "and no longer the old CA's")
    stop(srv)
    srv = serve(data, PORT, "--login-backoff-ms", "0", "--session-wrapper", "none")
    expect([fingerprint(l) for l in fetch_ca()] == [new_fp], "after a restart: the new CA")
    stop(srv)
    srv = None
    events = [e.decode() for e in read_entries(os.path.join(data, "log")) if b'"access.ca_' in e]
    done = [e for e in events if '"result":"ok"' in e]
    expect(len(done) == 3 and '"access.ca_rotate"' in done[0] and '"access.ca_activate"' in done[1] and
           '"access.ca_retire"' in done[2] and new_fp in done[2] and old_fp in done[2],
           f"each step in the audit log, with the CAs: {done}")
    expect(any('"access.ca_retire"' in e and '"result":"refused"' in e and "signed by the old CA" in e for e in events),
           "the refused retirement too, with why")
finally:
    if sshd is not None:
        sshd.stop()
    if srv is not None:
        srv.kill()
finish("ca_rotation_test")
