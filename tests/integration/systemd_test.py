#!/usr/bin/env python3
"""
Running as a systemd service: the units pass `systemd-analyze verify`, the server's exposure under `systemd-analyze
security --offline=true` stays low (every hardening its job allows), and `bulwark serve` speaks the notify protocol
to a NOTIFY_SOCKET the test provides (systemd is not PID 1 here): READY=1 once it listens, RELOADING=1 and READY=1
around SIGHUP's reload of the rules, STOPPING=1 on SIGTERM.
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
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.close()
    srv.send_signal(signal.SIGHUP)
    reload1, reload2 = message(), message()
    expect(reload1.startswith("RELOADING=1") and reload2.startswith("READY=1"), f"around a reload: {reload1!r} {reload2!r}")
    srv.send_signal(signal.SIGTERM)
    stopping = message()
    expect(stopping.startswith("STOPPING=1"), f"STOPPING=1 on SIGTERM: {stopping!r}")
    expect(srv.wait(timeout=60) == 0, "and it stops")
finally:
    if srv.poll() is None:
        srv.kill()
    ns.close()
finish("systemd_test")
