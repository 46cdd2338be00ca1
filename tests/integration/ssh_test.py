#!/usr/bin/env python3
"""
bulwark's OpenSSH user certificates and KRLs against the real OpenSSH tools:
`ssh-keygen -L` shows every field as issued, `ssh-keygen -Q` reads the KRL,
and a real sshd on a loopback port (TrustedUserCAKeys = bulwark's CA,
AuthorizedPrincipalsFile, RevokedKeys) accepts the real ssh client inside
the window with the right principal and refuses it before and after the
window, with another principal, with another CA's certificate, when revoked
and from outside source-address.
"""
import os
import re
import shutil
import socket
import subprocess
import time

from bwssh import Sshd
from bwtest import expect, fail, finish, tmpdir

TOOL = os.environ.get("SSHCERT_TOOL", "build/tests/sshcert_tool")
base = tmpdir()
os.chmod(base, 0o755)
NOW = int(time.time())


def sh(*args, check=True, inp=None):
    p = subprocess.run(args, capture_output=True, input=inp, timeout=60)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {p.stderr.decode()}")
    return p


def keygen(name, *opts):
    path = os.path.join(base, name)
    sh("ssh-keygen", "-q", "-N", "", "-C", name, "-f", path, *opts)
    return path


def sign(ca, pub, serial, principals, after, before, *opts, check=True):
    p = sh(TOOL, "sign", ca, pub, str(serial), f"req-{serial}:vendor1:alice", principals, str(after), str(before),
           *opts, check=check)
    cert = pub.replace(".pub", "") + f"-{serial}-cert.pub"
    open(cert, "wb").write(p.stdout)
    return cert, p


ca = os.path.join(base, "ca.seed")
ca_pub = os.path.join(base, "ca.pub")
open(ca_pub, "wb").write(sh(TOOL, "ca", ca).stdout)
other_ca = os.path.join(base, "other.seed")
sh(TOOL, "ca", other_ca)
ca_fp = sh("ssh-keygen", "-lf", ca_pub).stdout.decode().split()[1]

# ---- key types: accepted and refused ----
keys = {
    "ed25519": keygen("k-ed25519", "-t", "ed25519"),
    "ecdsa256": keygen("k-ecdsa256", "-t", "ecdsa", "-b", "256"),
    "ecdsa384": keygen("k-ecdsa384", "-t", "ecdsa", "-b", "384"),
    "ecdsa521": keygen("k-ecdsa521", "-t", "ecdsa", "-b", "521"),
    "rsa3072": keygen("k-rsa3072", "-t", "rsa", "-b", "3072"),
}
for name, k in keys.items():
    out = sh(TOOL, "check", k + ".pub").stdout.decode().split()
    ref = sh("ssh-keygen", "-lf", k + ".pub").stdout.decode().split()
    expect(out[2] == ref[1], f"{name}: fingerprint matches ssh-keygen -l ({out[2]} vs {ref[1]})")
weak = keygen("k-rsa2048", "-t", "rsa", "-b", "2048")
p = sh(TOOL, "check", weak + ".pub", check=False)
expect(p.returncode != 0 and b"3072..16384 bits (this one has 2048)" in p.stderr, "RSA 2048 refused")
bad = os.path.join(base, "bad.pub")
import base64
dss = base64.b64encode(b"\x00\x00\x00\x07ssh-dss\x00\x00\x00\x01\x01")
for text, want in ((b"ssh-dss " + dss + b" x\n", b"not accepted"),
                   (b"ssh-ed25519 !!!! x\n", b"not valid base64"),
                   (b"ssh-ed25519\n", b"TYPE BASE64"),
                   (b"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIFm0WSopPNuUD7gNLVbPQnuIYM6JO+u4bCCJSRCqIB3W x\n", b"does not match"),
                   (b"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= x\n",
                    b"not a valid uncompressed point")):
    open(bad, "wb").write(text)
    p = sh(TOOL, "check", bad, check=False)
    expect(p.returncode != 0 and want in p.stderr, f"bad key refused with '{want.decode()}': {p.stderr!r}")

# ---- ssh-keygen -L shows exactly what was issued ----
for name, k in keys.items():
    cert, _ = sign(ca, k + ".pub", 7, "root,maint", NOW - 60, NOW + 3600, "source=127.0.0.1/32,::1",
                   "force=/usr/bin/true")
    L = sh("ssh-keygen", "-L", "-f", cert).stdout.decode()
    expect("user certificate" in L and f"Signing CA: ED25519 {ca_fp}" in L, f"{name}: user cert signed by the CA")
    expect('Key ID: "req-7:vendor1:alice"' in L and "Serial: 7" in L, f"{name}: key id and serial")
    expect(re.search(r"Principals: \n\s+root\n\s+maint\n", L), f"{name}: principals")
    expect("force-command /usr/bin/true" in L and "source-address 127.0.0.1/32,::1" in L, f"{name}: critical options")
    expect("Extensions: (none)" in L, f"{name}: starts from clear: no permit-* extensions")
cert, _ = sign(ca, keys["ed25519"] + ".pub", 8, "root", NOW - 60, NOW + 3600, "pty", "agent", "port", "x11", "userrc")
L = sh("ssh-keygen", "-L", "-f", cert).stdout.decode()
for ext in ("permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"):
    expect(ext in L, f"extension {ext} when approved")
for bad_args, want in ((("root", NOW + 10, NOW), b"empty or reversed"), (("bad principal!", NOW, NOW + 10), b"invalid principal")):
    _, p = sign(ca, keys["ed25519"] + ".pub", 9, bad_args[0], bad_args[1], bad_args[2], check=False)
    expect(p.returncode != 0 and want in p.stderr, f"refused: {want.decode()}")

# ---- KRL: ssh-keygen -Q ----
krl = os.path.join(base, "revoked.krl")
open(krl, "wb").write(sh(TOOL, "krl", ca, "1", "7", "100").stdout)
c7, _ = sign(ca, keys["ed25519"] + ".pub", 7, "root", NOW - 60, NOW + 3600)
c9, _ = sign(ca, keys["ed25519"] + ".pub", 9, "root", NOW - 60, NOW + 3600)
q7 = sh("ssh-keygen", "-Q", "-f", krl, c7, check=False)
q9 = sh("ssh-keygen", "-Q", "-f", krl, c9, check=False)
expect(q7.returncode != 0 and b"REVOKED" in q7.stdout, f"KRL revokes serial 7 ({q7.stdout!r})")
expect(q9.returncode == 0 and b"ok" in q9.stdout, f"KRL leaves serial 9 ({q9.stdout!r})")

# ---- a real sshd ----
live_krl = os.path.join(base, "live.krl")
open(live_krl, "wb").write(sh(TOOL, "krl", ca, "1").stdout)  # empty list to start
sshd = Sshd(base, ca_pub, {"root": ["maint-root"]}, live_krl)
login = sshd.ssh
sshd_says = sshd.says


k = keys["ed25519"]
try:
    for name, key in keys.items():
        cert, _ = sign(ca, key + ".pub", 20 + len(name), "maint-root", NOW - 60, NOW + 600)
        rc, out, err = login(key, cert)
        expect(rc == 0 and "logged-in" in out, f"{name}: login inside the window as an allowed principal ({err.strip()})")
    cert, _ = sign(ca, k + ".pub", 31, "maint-root", NOW + 300, NOW + 900)
    rc, out, err = login(k, cert)
    expect(rc != 0 and sshd_says("not yet valid"), "refused before the window")
    cert, _ = sign(ca, k + ".pub", 32, "maint-root", NOW - 900, NOW - 300)
    rc, out, err = login(k, cert)
    expect(rc != 0 and sshd_says("expired"), "refused after the window")
    cert, _ = sign(ca, k + ".pub", 33, "other-account", NOW - 60, NOW + 600)
    rc, out, err = login(k, cert)
    expect(rc != 0 and sshd_says("does not contain an authorized principal"), "refused with another principal")
    other_cert = k + "-other-cert.pub"
    p = sh(TOOL, "sign", other_ca, k + ".pub", "34", "x", "maint-root", str(NOW - 60), str(NOW + 600))
    open(other_cert, "wb").write(p.stdout)
    rc, out, err = login(k, other_cert)
    expect(rc != 0, "refused: certificate signed by another CA")
    cert, _ = sign(ca, k + ".pub", 35, "maint-root", NOW - 60, NOW + 600, "source=10.9.9.9/32")
    rc, out, err = login(k, cert)
    expect(rc != 0 and sshd_says("Refused by certificate options"), "refused from outside source-address")
    cert, _ = sign(ca, k + ".pub", 36, "maint-root", NOW - 60, NOW + 600, "source=127.0.0.1/32")
    rc, out, err = login(k, cert)
    expect(rc == 0, "accepted from inside source-address")
    cert, _ = sign(ca, k + ".pub", 37, "maint-root", NOW - 60, NOW + 600, "force=echo forced-command")
    rc, out, err = login(k, cert, "echo not-this")
    expect(rc == 0 and "forced-command" in out and "not-this" not in out, "force-command replaces the command")
    # Revocation: the same certificate works, then not once its serial is in the KRL.
    cert, _ = sign(ca, k + ".pub", 38, "maint-root", NOW - 60, NOW + 600)
    rc, out, err = login(k, cert)
    expect(rc == 0, "certificate 38 works before revocation")
    open(live_krl, "wb").write(sh(TOOL, "krl", ca, "2", "38").stdout)
    rc, out, err = login(k, cert)
    expect(rc != 0 and sshd_says("revoked"), "refused once its serial is in the KRL")
    expect(sshd_says('ID req-20:vendor1:alice'.replace("20", str(20 + len("ed25519")))),
           "sshd logs the certificate key id (request id and requester)")
finally:
    sshd.stop()

shutil.rmtree(base)
finish("ssh_test")
