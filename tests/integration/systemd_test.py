#!/usr/bin/env python3
"""
Running as a systemd service: the units pass `systemd-analyze verify`, the server's exposure under `systemd-analyze
security --offline=true` stays low (every hardening its job allows), and `bulwark serve` speaks the notify protocol
to a NOTIFY_SOCKET the test provides (systemd is not PID 1 here): READY=1 once it listens, RELOADING=1 and READY=1
around SIGHUP's reload of the rules and the TLS certificate (a renewed certificate is what `openssl s_client` gets next,
without a restart; a key that is not the certificate's is refused and the one in use stays), STOPPING=1 on SIGTERM.
"""
import os
import re
import signal
import socket
import subprocess

from bwserver import free_port, init
from bwtest import BW, expect, fail, finish, tmpdir

HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = os.path.join(HERE, "..", "..", "contrib", "systemd")
base = tmpdir()

for unit in ("bulwark-server.service", "bulwark-agent-events.service"):
    text = open(os.path.join(UNITS, unit)).read().replace("/usr/bin/bulwark", os.path.abspath(BW))
    path = os.path.join(base, unit)
    open(path, "w").write(text)
    p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, timeout=120)
    expect(p.returncode == 0 and p.stderr.strip() == b"", f"systemd-analyze verify {unit}: {p.returncode} {p.stderr.decode()}")
p = subprocess.run(["systemd-analyze", "security", "--offline=true", os.path.join(base, "bulwark-server.service")],
                   capture_output=True, timeout=120)
m = re.search(rb"Overall exposure level for bulwark-server.service: ([0-9.]+) (\w+)", p.stdout)
expect(m is not None and float(m.group(1)) <= 2.0 and m.group(2) == b"OK",
       f"the server's exposure (systemd-analyze security): {m.group(0) if m else p.stdout[-500:]}")
print("systemd-analyze security: %s" % (m.group(0).decode() if m else "?"))

# the notify protocol, on a socket of the test's
data = os.path.join(base, "data")
init(data)
sock_path = os.path.join(base, "notify.sock")
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(sock_path)
ns.settimeout(60)
port = free_port()
logf = open(os.path.join(base, "serve.log"), "w+")
srv = subprocess.Popen([BW, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port], stderr=logf,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, NOTIFY_SOCKET=sock_path))


def cert_fp(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"], capture_output=True,
                          check=True).stdout.decode().strip().split("=", 1)[1]


def fingerprint():
    """The certificate a new TLS connection gets (openssl s_client)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3"], input=b"",
                       capture_output=True, timeout=30)
    pem = p.stdout.decode(errors="replace")
    m = pem[pem.find("-----BEGIN CERTIFICATE-----"):pem.find("-----END CERTIFICATE-----") + 25]
    q = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=m.encode(), capture_output=True)
    return q.stdout.decode().strip().split("=", 1)[-1]


def message():
    try:
        return ns.recv(4096).decode()
    except socket.timeout:
        fail("no notification within 60 s")
        return ""


try:
    ready = message()
    expect(ready.startswith("READY=1") and "STATUS=serving https://127.0.0.1:%d/" % port in ready,
           f"READY=1 once it listens: {ready!r}")
    first = fingerprint()
    expect(first == cert_fp(os.path.join(data, "tls/cert.pem")), f"openssl s_client sees the certificate: {first}")
    # a new certificate and key put in place: SIGHUP, and new connections get it without a restart
    new_cert, new_key = os.path.join(base, "new.pem"), os.path.join(base, "new.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                    "30", "-subj", "/CN=bulwark renewed", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", new_key,
                    "-out", new_cert], check=True, capture_output=True)
    old_key = open(os.path.join(data, "tls/key.pem"), "rb").read()
    open(os.path.join(data, "tls/cert.pem"), "wb").write(open(new_cert, "rb").read())
    open(os.path.join(data, "tls/key.pem"), "wb").write(open(new_key, "rb").read())
    srv.send_signal(signal.SIGHUP)
    reload1, reload2 = message(), message()
    expect(reload1.startswith("RELOADING=1") and reload2.startswith("READY=1"), f"around a reload: {reload1!r} {reload2!r}")
    second = fingerprint()
    expect(second == cert_fp(new_cert) and second != first, f"the renewed certificate without a restart: {first} -> {second}")
    # a key that is not the certificate's: refused, the one in use stays
    open(os.path.join(data, "tls/key.pem"), "wb").write(old_key)
    srv.send_signal(signal.SIGHUP)
    message(), message()
    expect(fingerprint() == second, "a mismatched key is not put in use")
    logf.seek(0)
    expect("the TLS certificate was not reloaded" in logf.read(), "and the server says why")
    srv.send_signal(signal.SIGTERM)
    stopping = message()
    expect(stopping.startswith("STOPPING=1"), f"STOPPING=1 on SIGTERM: {stopping!r}")
    expect(srv.wait(timeout=60) == 0, "and it stops")
finally:
    if srv.poll() is None:
        srv.kill()
    ns.close()
finish("systemd_test")
