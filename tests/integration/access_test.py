#!/usr/bin/env python3
"""
Remote-maintenance access end to end over the HTTPS API with a real sshd:
hosts, a vendor's request, four-eyes approval (never by the requester; two
approvals for critical hosts), certificate download, login through a real
sshd that trusts bulwark's CA and enforces host-scoped principals, the
session ended at the window's end by the session wrapper, revocation via the
served KRL, bad requests refused, the permission review, and every step in
the audit log.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

from bwssh import Sshd
from bwserver import ADMIN_PW, Client, free_port, init, invite, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, read_entries, run, tmpdir

base = tmpdir()
os.chmod(base, 0o755)
data = os.path.join(base, "data")
_, admin_secret, _ = init(data)
cert_pem = os.path.join(data, "tls/cert.pem")
wrapper = os.path.join(base, "ssh-session")
PORT = free_port()
srv = serve(data, PORT, "--login-backoff-ms", "0", "--session-wrapper", wrapper, "--max-window-secs", "28800")
c = Client(PORT, cert_pem)

wait_fresh_step()
st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(admin_secret)})
admin = j["token"]

# ---- people and hosts ----
people = {"vendor1": ["vendor"], "appr1": ["approver"], "appr2": ["approver"], "both": ["vendor", "approver"],
          "staff1": ["staff"]}
tok = {}
for name, roles in people.items():
    tok[name], _, _ = invite(c, admin, name, roles)
enrol_codes = {}
for h in ({"name": "web1", "address": "127.0.0.1", "group": "default", "accounts": ["root", "maint"]},
          {"name": "db1", "address": "127.0.0.1", "group": "critical", "accounts": ["root"]}):
    st, j, _, _ = c.req("POST", "/api/v1/hosts", h, token=admin)
    expect(st == 201, f"host {h['name']} added")
    enrol_codes[h["name"]] = j.get("enrolment_code")
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "web1", "address": "x", "accounts": ["root"]}, token=admin)
expect(st == 409, "duplicate host refused")
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "Bad Name", "address": "x", "accounts": ["root"]}, token=admin)
expect(st == 422, "bad host name refused")
st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "h2", "address": "x", "accounts": ["root"]}, token=tok["vendor1"])
expect(st == 403, "a vendor cannot add hosts")

# ---- the host side: CA, wrapper, principals, KRL, real sshd ----
key = os.path.join(base, "vendor_key")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
pub = open(key + ".pub").read().strip()
st, _, _, ca_line = c.req("GET", "/api/v1/access/ca")
open(os.path.join(base, "ca.pub"), "wb").write(ca_line)
st, _, _, script = c.req("GET", "/api/v1/access/session-wrapper")
guard_sock = os.path.join(base, "guard.sock")
# Installed as a host administrator would, with this machine's bulwark and guard socket.
open(wrapper, "wb").write(script.replace(b"BULWARK=/usr/local/bin/bulwark", b"BULWARK=" + BW.encode())
                          .replace(b"GUARD_SOCKET=/run/bulwark-agent/guard.sock", b"GUARD_SOCKET=" + guard_sock.encode()))
os.chmod(wrapper, 0o755)
expect(b"agent session-begin" in script, "the wrapper registers each session with the session guard")
st, _, _, cfg = c.req("GET", "/api/v1/hosts/web1/sshd-config", token=admin)
expect(b"TrustedUserCAKeys" in cfg and b"echo 'root@web1' > /etc/ssh/bulwark_principals/root" in cfg,
       "sshd-config snippet names the CA, KRL and principals files")
# The snippet's fetch lines run as written (paths moved into a scratch directory): they verify the
# server with its certificate and leave a file only when it arrived whole.
hostdir = os.path.join(base, "hostroot")
os.makedirs(hostdir + "/etc/ssh", exist_ok=True)
os.makedirs(hostdir + "/usr/local/lib/bulwark", exist_ok=True)
shutil.copy(cert_pem, hostdir + "/etc/ssh/bulwark_server.pem")
lines = [l[4:] for l in cfg.decode().splitlines() if l.startswith("#   curl ")]
expect(len(lines) == 3 and all("--cacert /etc/ssh/bulwark_server.pem" in l for l in lines),
       f"each fetch line verifies the server: {lines}")
script_text = "\n".join(l.replace("/etc/ssh/", hostdir + "/etc/ssh/").replace("/usr/local/lib/bulwark/", hostdir + "/usr/local/lib/bulwark/")
                        for l in lines)
p = subprocess.run(["sh", "-ec", script_text], capture_output=True, timeout=60)
expect(p.returncode == 0, f"the fetch lines run: {p.stderr.decode()}")
expect(open(hostdir + "/etc/ssh/bulwark_user_ca.pub", "rb").read() == ca_line, "the CA key fetched as served")
expect(os.path.getsize(hostdir + "/etc/ssh/bulwark_revoked.krl") > 0 and
       os.access(hostdir + "/usr/local/lib/bulwark/ssh-session", os.X_OK), "the KRL and the executable wrapper fetched")
bad = [l.replace("127.0.0.1:%d" % PORT, "127.0.0.1:1") for l in lines]
os.remove(hostdir + "/etc/ssh/bulwark_user_ca.pub")
p = subprocess.run(["sh", "-c", bad[1].replace("/etc/ssh/", hostdir + "/etc/ssh/")], capture_output=True, timeout=60)
expect(p.returncode != 0 and not os.path.exists(hostdir + "/etc/ssh/bulwark_user_ca.pub"),
       "a failed fetch leaves no file in place")
krl = os.path.join(base, "revoked.krl")


def fetch_krl():
    st, _, _, body = c.req("GET", "/api/v1/access/krl")
    expect(st == 200 and body[:8] == b"SSHKRL\n\0", "KRL served")
    open(krl, "wb").write(body)


fetch_krl()
# This sshd plays host web1: root may log in with principal root@web1.
sshd = Sshd(base, os.path.join(base, "ca.pub"), {"root": ["root@web1"]}, krl)


def ssh(cert, cmd="echo logged-in", timeout=60):
    return sshd.ssh(key, cert, cmd, timeout)


guard_log = open(os.path.join(base, "guard.log"), "a+")  # O_APPEND: the guard's writes never land where we seek
guard = sshd2 = sshd_db1 = None
agents = []


# Each host's agent ships its sshd's messages: sshd logs to a file here (-e), which relay() copies into the
# host's auth log as the host's syslog daemon would (RFC 3339 time, "HOST sshd[PID]: MESSAGE").
def start_host_agent(name):
    state = os.path.join(base, "agent-" + name)
    p = subprocess.run([BW, "agent", "init", "--state", state, "--server", f"https://127.0.0.1:{PORT}", "--cacert",
                        cert_pem, "--host", name, "--enrol-code", enrol_codes[name]], capture_output=True, text=True,
                       timeout=60)
    expect(p.returncode == 0, f"agent init for {name}: {p.stdout} {p.stderr}")
    authlog = os.path.join(base, f"auth-{name}.log")
    open(authlog, "w").close()
    agents.append(subprocess.Popen([BW, "agent", "run", "--state", state, "--syslog", authlog, "--flush-ms", "200"],
                                   stderr=open(state + ".log", "a"), stdout=subprocess.DEVNULL))
    return authlog


relayed, relay_from, relay_stop = {}, [], threading.Event()


def relay(d, name, authlog):
    """Copies the sshd's new login messages into the host's auth log, stamped with the time of copying."""
    lines = [l for l in open(os.path.join(d.base, "sshd.log")).read().splitlines()
             if l.startswith(("Accepted ", "Failed "))]
    new = lines[relayed.get(name, 0):]
    relayed[name] = len(lines)
    with open(authlog, "a") as f:
        for l in new:
            t = time.time()
            f.write(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+00:00 %s sshd[%d]: %s\n"
                    % (int(t % 1 * 1e6), name, d.proc.pid, l))


def relay_loop():
    while not relay_stop.wait(0.05):
        for d, name, authlog in list(relay_from):
            relay(d, name, authlog)


def relayed_with(authlog, text, n=1, limit_s=10):
    """The lines of a host's auth log that hold text, once there are n."""
    t0 = time.time()
    while True:
        got = [l for l in open(authlog).read().splitlines() if text in l]
        if len(got) >= n or time.time() - t0 > limit_s:
            return got
        time.sleep(0.05)


relay_thread = threading.Thread(target=relay_loop, daemon=True)
relay_thread.start()


def start_guard():
    global guard
    # --state: the guard records its actions where web1's agent ships them from (source agent)
    guard = subprocess.Popen([BW, "agent", "guard", "--socket", guard_sock, "--state-file",
                              os.path.join(base, "guard-sessions.json"), "--state", os.path.join(base, "agent-web1")],
                             stderr=guard_log)
    for _ in range(100):
        if os.path.exists(guard_sock):
            return
        time.sleep(0.05)
    fail("the session guard did not start")


def guard_says(text):
    """True when the guard's log holds text ("" gives the log itself)."""
    guard_log.flush()
    guard_log.seek(0)
    log = guard_log.read()
    return (text in log) if text else log


def request(token, **kw):
    now = int(time.time())
    body = {"hosts": ["web1"], "accounts": ["root"], "valid_after": now - 10, "valid_before": now + 600,
            "reason": "patch the web server", "ticket": "CHG-1234", "public_key": pub}
    body.update(kw)
    return c.req("POST", "/api/v1/access/requests", {k: v for k, v in body.items() if v is not None}, token=token)


try:
    # ---- request, self-approval refused, approval, download, login ----
    st, r1, _, _ = request(tok["vendor1"])
    expect(st == 201 and r1["state"] == "pending" and r1["principals"] == ["root@web1"], "request filed, pending")
    rid = r1["id"]
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{rid}/certificate", token=tok["vendor1"])
    expect(st == 409, "no certificate before approval")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/approve", {}, token=tok["vendor1"])
    expect(st == 403, "the requester (no approver role) cannot approve")
    st, rb, _, _ = request(tok["both"])
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rb['id']}/approve", {}, token=tok["both"])
    expect(st == 422 and "cannot review their own request" in j["error"],
           "a requester holding the approver role still cannot approve their own request")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/approve", {"reason": "ok, CHG-1234"}, token=tok["appr1"])
    expect(st == 200 and j["state"] == "issued" and j["approvers"] == ["appr1"], "approved and issued")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/approve", {}, token=tok["appr2"])
    expect(st == 422 and "not pending" in j["error"], "double approval refused")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{rid}/certificate", token=tok["staff1"])
    expect(st == 403, "staff cannot download certificates")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{rid}/certificate", token=tok["vendor1"])
    expect(st == 200 and j["certificate"].startswith("ssh-ed25519-cert-v01@openssh.com ") and "Host bulwark-web1" in j["ssh_config"],
           "the requester downloads the certificate and an ssh_config snippet")
    cert = os.path.join(base, f"cert-{rid}.pub")
    open(cert, "w").write(j["certificate"])
    L = subprocess.run(["ssh-keygen", "-L", "-f", cert], capture_output=True).stdout.decode()
    expect(f'Key ID: "req-{rid}:vendor1:approvers=appr1"' in L and f"Serial: {rid}" in L, "key id and serial")
    expect(re.search(r"force-command " + re.escape(wrapper) + r" \d+", L), "force-command goes through the session wrapper")
    expect("permit-pty" in L and "permit-port-forwarding" not in L and "permit-agent-forwarding" not in L,
           "only the approved extensions (pty)")
    rc, out, err = ssh(cert)
    expect(rc != 0 and "session guard did not take this session" in err and "logged-in" not in out,
           f"with no session guard running on the host, the wrapper refuses the session ({rc}: {err.strip()[-200:]})")
    auth_web1 = start_host_agent("web1")
    auth_db1 = start_host_agent("db1")
    start_guard()
    rc, out, err = ssh(cert)
    expect(rc == 0 and "logged-in" in out, f"login to web1 as root with the certificate ({err.strip()[-200:]})")
    expect(guard_says("guard: session "), "the guard took the session")
    relay_from.append((sshd, "web1", auth_web1))
    got = relayed_with(auth_web1, f"(serial {rid}) CA ED25519 SHA256:", 2)
    expect(len(got) == 2 and all("Accepted publickey for root" in l for l in got),
           f"sshd logged both logins with the certificate's serial and CA: {got}")
    # Inside a session, the vendor cannot register it again with a later deadline (the wrapper's came first) ...
    rc, out, err = ssh(cert, f"{BW} agent session-begin --socket {guard_sock} $(( $(date +%s) + 3000 ))")
    expect(rc != 0 and "registered already" in err, f"a session is registered once, by its wrapper: {err[-300:]}")
    # ... and a process outside any login session (no audit session id) cannot register at all.
    p = subprocess.run([BW, "agent", "session-begin", "--socket", guard_sock, str(int(time.time()) + 60)],
                       capture_output=True, timeout=30)
    expect(p.returncode != 0 and b"no audit session" in p.stderr, f"no audit session, no registration: {p.stderr}")
    # Without --socket: the default socket (/run/bulwark-agent/guard.sock), a clear refusal when no guard is there.
    if not os.path.exists("/run/bulwark-agent/guard.sock"):
        p = subprocess.run([BW, "agent", "session-begin", str(int(time.time()) + 60)], capture_output=True, timeout=30)
        expect(p.returncode == 1 and b"/run/bulwark-agent/guard.sock" in p.stderr,
               f"session-begin's default socket: {p.returncode} {p.stderr}")

    # ---- host scoping: a certificate for db1 does not open web1 ----
    st, r2, _, _ = request(tok["vendor1"], hosts=["db1"])
    expect(r2["approvals_needed"] == 2, "critical host needs two approvals")
    c.req("POST", f"/api/v1/access/requests/{r2['id']}/approve", {}, token=tok["appr1"])
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r2['id']}", token=tok["vendor1"])
    expect(j["state"] == "pending" and j["approvals"] == 1, "one approval is not enough for a critical host")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{r2['id']}/approve", {}, token=tok["appr2"])
    expect(st == 200 and j["state"] == "issued", "second approval issues")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r2['id']}/certificate", token=tok["vendor1"])
    cert_db = os.path.join(base, "cert-db.pub")
    open(cert_db, "w").write(j["certificate"])
    rc, out, err = ssh(cert_db)
    expect(rc != 0, "a certificate for db1 is refused by web1 (host-scoped principals)")
    # ... unless a host's principals file lets another host's grant in: db1's sshd here also takes root@web1.
    base_db1 = os.path.join(base, "db1")
    os.makedirs(base_db1)
    sshd_db1 = Sshd(base_db1, os.path.join(base, "ca.pub"), {"root": ["root@db1", "root@web1"]}, krl, pam=False)
    relay_from.append((sshd_db1, "db1", auth_db1))
    rc, out, err = sshd_db1.ssh(key, cert, "true")
    got = relayed_with(auth_db1, "Accepted publickey for root")
    expect(any(f"(serial {rid})" in l for l in got),
           f"db1's sshd took web1's certificate: {got} {err[-200:]}")
    sshd_db1.stop()

    # ---- the window: a session does not outlive it, nor does anything it started ----
    now = int(time.time())
    st, r3, _, _ = request(tok["vendor1"], valid_after=now - 5, valid_before=now + 10)
    c.req("POST", f"/api/v1/access/requests/{r3['id']}/approve", {}, token=tok["appr1"])
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r3['id']}/certificate", token=tok["vendor1"])
    short = os.path.join(base, "cert-short.pub")
    open(short, "w").write(j["certificate"])
    # A pty session whose children ignore SIGTERM, leave the process group (setsid) and double-fork,
    # while idle clients flood the guard's socket (they must not hold off the end of the window).
    flood_stop = threading.Event()

    def flood():
        held = []
        while not flood_stop.is_set():
            try:
                sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sk.connect(guard_sock)
                held.append((time.time(), sk))
            except OSError:
                pass
            while held and time.time() - held[0][0] > 3:
                held.pop(0)[1].close()
            time.sleep(0.02)
        for _, sk in held:
            sk.close()

    flooder = threading.Thread(target=flood)
    flooder.start()
    t0 = time.time()
    p = subprocess.run(["ssh", "-tt", "-F", "/dev/null", "-i", key, "-o", f"CertificateFile={short}",
                        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-p", str(sshd.port), "root@127.0.0.1",
                        "(trap '' TERM HUP; exec sleep 301) & setsid sh -c \"trap '' TERM HUP; exec sleep 302\" & "
                        "(setsid sh -c 'sleep 303 &' &) ; "
                        "echo started; sleep 300; echo not-reached"], capture_output=True, timeout=90,
                       stdin=subprocess.DEVNULL)
    took = time.time() - t0
    out = p.stdout.decode()
    end = r3["valid_before"] - t0
    expect("started" in out and "not-reached" not in out and p.returncode != 0 and took < end + 6,
           f"the pty session ended within seconds of the window's end (rc {p.returncode}, {took:.1f} s, end "
           f"{end:.0f} s): {out[-200:]} {p.stderr.decode()[-300:]}")
    left = subprocess.run(["pgrep", "-f", "sleep 30[123]"], capture_output=True).stdout.decode().split()
    deadline = time.time() + 8
    while left and time.time() < deadline:  # the guard's SIGKILL follows its SIGTERM by 3 s
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-f", "sleep 30[123]"], capture_output=True).stdout.decode().split()
    flood_stop.set()
    flooder.join()
    expect(not left and time.time() < r3["valid_before"] + 10,
           f"no process of the session outlives the window (TERM ignored, setsid, double fork), "
           f"idle clients flooding the guard notwithstanding: {left}")
    expect(guard_says("window over: SIGTERM") and guard_says("SIGKILL to"),
           f"the guard sent SIGTERM at the deadline, then SIGKILL to what ignored it: {guard_says('')}")
    # the guard's actions reached the server as web1's host events (source agent)
    want = {("session.begin", "success"), ("session.begin", "failure"), ("session.terminate", "success"),
            ("session.kill", "success"), ("session.end", "success")}
    for _ in range(100):
        st, j, _, _ = c.req("GET", "/api/v1/events?host=web1&source=agent&limit=100", token=admin)
        acts = j.get("events", []) if st == 200 else []
        if {(e["action"], e["result"]) for e in acts} >= want:
            break
        time.sleep(0.2)
    expect({(e["action"], e["result"]) for e in acts} >= want and
           all(e["subject"].startswith("uid=") and e["object"].startswith("session ") for e in acts) and
           any(e["action"] == "session.begin" and e["result"] == "failure" and "registered again" in e["raw"]
               for e in acts) and
           any(e["action"] == "session.end" and "ended by the guard" in e["raw"] for e in acts),
           f"the guard's starts, refusal, SIGTERM, SIGKILL and ends are host events of web1: "
           f"{[(e['action'], e['result']) for e in acts]}")
    # ... and the shipped rule over them raised one alert for web1 (the second registration, the SIGKILL)
    for _ in range(50):
        st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
        outlive = [a for a in j.get("alerts", []) if a["rule"] == "A maintenance session tried to outlive its window"]
        if outlive and outlive[0]["count"] >= 2:
            break
        time.sleep(0.2)
    expect(len(outlive) == 1 and outlive[0]["group"] == "host:web1" and outlive[0]["log"] == "hosts" and
           outlive[0]["count"] >= 2, f"a session that tried to outlive its window raised an alert: {outlive}")
    time.sleep(max(0, r3["valid_before"] - time.time()) + 1)
    rc, out, err = ssh(short)
    expect(rc != 0, "after the window the certificate no longer logs in")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r3['id']}", token=tok["vendor1"])
    expect(j["state"] == "expired", "the request shows as expired")

    # ---- revocation ----
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/revoke", {"reason": "vendor left"}, token=tok["vendor1"])
    expect(st == 403, "a vendor cannot revoke")
    # An over-long reason is refused before anything changes, and the refusal is in the log with its reason.
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/revoke", {"reason": "x" * 60000}, token=tok["appr2"])
    expect(st in (413, 422), f"a 60 KB revoke reason is refused ({st})")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{rid}", token=tok["appr2"])
    expect(j["state"] != "revoked", f"the refused revoke changed nothing: {j['state']}")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/revoke", {"reason": "y" * 600}, token=tok["appr2"])
    expect(st == 422 and "reason must be 1..500" in j["error"], f"a 600-character revoke reason is refused: {j}")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{rid}", token=tok["appr2"])
    expect(j["state"] != "revoked", "still not revoked")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/revoke", {"reason": "vendor left"}, token=tok["appr2"])
    expect(st == 200 and j["state"] == "revoked", "an approver revokes")
    # web1 has not fetched the new KRL yet: its sshd still takes the revoked certificate
    time.sleep(1.1)  # (the login's second comes after the revocation's)
    n_before = len(relayed_with(auth_web1, f"(serial {rid}) CA ED25519 SHA256:", 0))
    ssh(cert, "true")
    got = relayed_with(auth_web1, f"(serial {rid}) CA ED25519 SHA256:", n_before + 1)
    expect(len(got) == n_before + 1, f"with a stale KRL web1's sshd took the revoked certificate: {got}")
    # the alerts: a certificate login outside its grant, on db1 (not in the grant) and on web1 (revoked);
    # the logins within the grant raised none
    want_title = "A maintenance certificate logged in outside its grant"
    grant_alerts = []
    for _ in range(150):
        st, j, _, _ = c.req("GET", "/api/v1/alerts", token=admin)
        grant_alerts = [a for a in j.get("alerts", []) if a["rule"] == want_title]
        if len(grant_alerts) >= 2:
            break
        time.sleep(0.2)
    expect(sorted(a["group"] for a in grant_alerts) == ["host:db1", "host:web1"] and
           all(a["count"] == 1 and a["log"] == "hosts" and a["level"] == "critical" for a in grant_alerts),
           f"one alert per host for the logins outside the grant, none for those within it: {grant_alerts}")
    for a in grant_alerts:
        for _ in range(50):  # (the search index follows the host-event log on its own)
            st, ev, _, _ = c.req("GET", "/api/v1/events?host=%s&action=login&limit=10" % a["group"][5:], token=admin)
            hit = [e for e in ev.get("events", []) if e.get("index") == a.get("first_index")]
            if hit:
                break
            time.sleep(0.2)
        expect(len(hit) == 1 and f"(serial {rid})" in hit[0]["raw"],
               f"the alert names the host event of the login ({a['group']}): {a} {ev}")
    fetch_krl()
    q = subprocess.run(["ssh-keygen", "-Q", "-f", krl, cert], capture_output=True)
    expect(b"REVOKED" in q.stdout, "the served KRL revokes the certificate")
    rc, out, err = ssh(cert)
    expect(rc != 0, "a revoked certificate is refused by sshd")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/approve", {}, token=tok["appr1"])
    expect(st == 422, "a revoked request cannot be approved")
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{rid}/revoke", {}, token=tok["appr1"])
    expect(st == 422, "revoking twice is refused")
    # denial
    st, r4, _, _ = request(tok["vendor1"])
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{r4['id']}/deny", {"reason": "no ticket"}, token=tok["appr1"])
    expect(st == 200 and j["state"] == "denied", "denied")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r4['id']}/certificate", token=tok["vendor1"])
    expect(st == 409, "no certificate for a denied request")

    # ---- bad requests: refused, nothing signed ----
    now = int(time.time())
    bad = [
        ({"public_key": "ssh-ed25519 AAAA"}, "public_key"),
        ({"public_key": open(key + ".pub").read().replace("AAAA", "BBBB", 1)}, "public_key"),
        ({"valid_after": now - 4000, "valid_before": now - 3000}, "ends in the past"),
        ({"valid_after": now + 600, "valid_before": now + 60}, "valid_before must be after"),
        ({"valid_after": now, "valid_before": now + 9 * 3600}, "longer than the policy"),
        ({"hosts": ["nosuch"]}, "unknown host"),
        ({"accounts": ["maint"], "hosts": ["db1"]}, "not allowed on host 'db1'"),
        ({"reason": "x" * 600}, "reason"),
        ({"reason": ""}, "reason"),
        ({"source_address": "10.0.0.300"}, "not an IP address"),
        ({"permits": ["root-shell"]}, "unknown permit"),
        ({"group": "critical"}, "either hosts or group"),
    ]
    for change, want in bad:
        st, j, _, _ = request(tok["vendor1"], **change)
        expect(400 <= st < 500 and want in j.get("error", ""), f"bad request {list(change)} -> {st} {j}")
    now = int(time.time())
    st, r6, _, _ = request(tok["vendor1"], valid_after=now - 5, valid_before=now + 2)
    time.sleep(3)
    st, j, _, _ = c.req("POST", f"/api/v1/access/requests/{r6['id']}/approve", {}, token=tok["appr1"])
    expect(st == 422 and "expired" in j["error"], "a request whose window ended cannot be approved")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r6['id']}/certificate", token=tok["vendor1"])
    expect(st == 409, "nothing was signed for it")
    st, j, _, _ = c.req("POST", "/api/v1/access/requests/999999/approve", {}, token=tok["appr1"])
    expect(st == 404, "approving an unknown request -> 404")
    st, j, _, _ = c.req("GET", f"/api/v1/access/requests/{r2['id']}", token=tok["staff1"])
    expect(st == 404, "others' requests are invisible to staff")

    # ---- the permission review ----
    st, rv, _, _ = c.req("GET", "/api/v1/access/review", token=admin)
    expect(st == 200 and any(x["id"] == r2["id"] for x in rv["active_windows"]), "review: active windows")
    expect(set(rv["approvers"]) >= {"appr1", "appr2", "both"}, "review: approvers")
    expect(any(u["username"] == "admin" and u["roles"] == ["admin"] for u in rv["standing_privileged_users"]),
           f"review: standing privileged users with role names: {rv['standing_privileged_users']}")
    st, r5, _, _ = request(tok["vendor1"], valid_after=int(time.time()) + 3600, valid_before=int(time.time()) + 7200)
    c.req("POST", f"/api/v1/access/requests/{r5['id']}/approve", {}, token=tok["appr1"])
    st, rv, _, _ = c.req("GET", "/api/v1/access/review", token=tok["appr2"])
    expect(any(x["id"] == r5["id"] for x in rv["future_windows"]) and any(x["id"] == r5["id"] for x in rv["approved_unused"]),
           "review: future windows and approved-but-unused grants")
    st, j, _, _ = c.req("GET", "/api/v1/access/review", token=tok["vendor1"])
    expect(st == 403, "vendors do not see the review")
    # ---- the same workflow through the CLI (an API client) ----
    def cli(token, *args, want=0, env=None):
        e = dict(os.environ, BULWARK_SERVER=f"https://127.0.0.1:{PORT}", BULWARK_CACERT=cert_pem, **(env or {}))
        if token:
            e["BULWARK_TOKEN"] = token
        else:
            e.pop("BULWARK_TOKEN", None)
        p = subprocess.run([BW, *args], capture_output=True, timeout=60, env=e)
        if p.returncode != want:
            fail(f"bulwark {' '.join(args)}: exit {p.returncode} (want {want}): {p.stderr.decode()}")
        return p.stdout.decode() + p.stderr.decode()

    # An invitation through the CLI: the admin gets a code, never a password or secret ...
    out = cli(admin, "user", "add", "clivendor", "--roles", "vendor")
    code = re.search(r"(bwe_[A-Za-z0-9_-]{43})", out).group(1)
    expect("password" not in out.lower() and "otpauth" not in out, f"the admin sees no secret of the new user: {out}")
    # ... and the vendor enrols with `bulwark enrol`, answering the prompts on standard input.
    e = dict(os.environ, BULWARK_SERVER=f"https://127.0.0.1:{PORT}", BULWARK_CACERT=cert_pem,
             BULWARK_NEW_PASSWORD="password of cli")
    e.pop("BULWARK_TOKEN", None)
    p = subprocess.Popen([BW, "enrol", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e, start_new_session=True)  # no terminal: the code is read from standard input
    shown = b""
    while b"secret=" not in shown:
        line = p.stdout.readline()
        if not line:
            break
        shown += line
    m = re.search(rb"secret=([A-Z2-7]+)", shown)
    expect(m is not None, f"bulwark enrol shows the authenticator secret: {shown[-300:]}")
    cli_secret = m.group(1).decode()
    rest, err = p.communicate((totp(cli_secret) + "\n").encode(), timeout=60)
    expect(p.returncode == 0 and b"is enrolled" in rest and len(re.findall(rb"^  [a-z2-7-]{19}$", rest, re.M)) == 10,
           f"bulwark enrol: {p.returncode} {rest.decode()} {err.decode()}")
    p = subprocess.run([BW, "enrol", code], capture_output=True, env=e, timeout=60, stdin=subprocess.DEVNULL)
    expect(p.returncode != 0 and b"already used" in p.stderr, f"an enrolment code works once: {p.stderr.decode()}")
    # The enrolment used this step's code: sign in with the next one, then see a reused one refused.
    # (the same code both times: computed twice, a step boundary between would make the second a new one)
    next_code = totp(cli_secret, 30)
    out = cli(None, "login", "--user", "clivendor", env={"BULWARK_PASSWORD": "password of cli",
                                                         "BULWARK_OTP": next_code})
    vtok = out.strip()
    expect(vtok.startswith("bws_"), "bulwark login prints a session token")
    out = cli(None, "login", "--user", "clivendor", want=1,
              env={"BULWARK_PASSWORD": "password of cli", "BULWARK_OTP": next_code})
    expect("each TOTP code works once" in out, f"a reused code: the CLI says a fresh code is needed: {out}")
    out = cli(None, "host", "list", want=1)
    expect("bulwark login" in out, f"a 401 suggests bulwark login: {out}")
    other_ca = os.path.join(base, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(base, "other-ca.key"), "-out", other_ca, "-subj", "/CN=other", "-days", "1"],
                   check=True, capture_output=True)
    out = cli(vtok, "host", "list", "--cacert", other_ca, want=1)
    expect("--cacert" in out, f"a certificate error suggests --cacert: {out}")
    # web2 is a second real sshd, registered with its port in the address (host:port)
    base2 = os.path.join(base, "web2")
    os.makedirs(base2)
    sshd2 = Sshd(base2, os.path.join(base, "ca.pub"), {"root": ["root@web2"]}, krl)
    out = cli(admin, "host", "add", "web2", "--address", "127.0.0.1:%d" % sshd2.port, "--accounts", "root,deploy")
    expect("host add: host web2; one-time enrolment code" in out and re.search(r"^  bwe_", out, re.M),
           f"CLI host add prints the agent's code: {out}")
    out = cli(admin, "host", "list")
    expect(re.search(r"^web2 +127\.0\.0\.1:\d+ +default +root,deploy +not enrolled$", out, re.M) and
           re.search(r"^web1 ", out, re.M) and out.startswith("NAME "), f"CLI host list: a table (admin: every host): {out}")
    out = cli(admin, "host", "list", "--json")
    expect({h["name"] for h in json.loads(out)["hosts"]} >= {"web1", "web2"}, "CLI host list --json")
    out = cli(vtok, "host", "list", "--json")
    expect(json.loads(out)["hosts"] == [], f"a vendor with no request sees no host: {out}")
    out = cli(admin, "host", "sshd-config", "web1")
    expect("TrustedUserCAKeys" in out and "bulwark_principals/root" in out, "CLI host sshd-config")
    # A private key given by mistake is refused before anything is sent.
    n_before = len(c.req("GET", "/api/v1/access/requests", token=vtok)[1]["requests"])
    out = cli(vtok, "access", "request", "--host", "web1", "--account", "root", "--reason", "cli maintenance",
              "--key", key, "--minutes", "30", want=2)
    expect("is a private key" in out and "nothing was sent" in out, f"a private key is refused locally: {out}")
    out = cli(vtok, "access", "request", "--host", "web1", "--account", "root", "--reason", "cli maintenance",
              "--key", cert_pem, "--minutes", "30", want=2)
    expect("nothing was sent" in out, f"a file that is no public key is refused locally: {out}")
    expect(len(c.req("GET", "/api/v1/access/requests", token=vtok)[1]["requests"]) == n_before,
           "no request was created from the refused keys")
    out = cli(vtok, "access", "request", "--host", "web1", "--account", "root",
              "--key", key + ".pub", "--minutes", "30", "--ticket", "CHG-77", "--reason", "cli maintenance")
    expect(re.search(r"^state +pending$", out, re.M) and re.search(r"^ticket +CHG-77$", out, re.M) and
           re.search(r"^reason +cli maintenance$", out, re.M), f"CLI access request prints the request for people: {out}")
    cid = int(re.search(r"^request +(\d+)$", out, re.M).group(1))
    out = cli(vtok, "access", "show", str(cid), "--json")
    expect(json.loads(out)["id"] == cid, "CLI access show --json")
    out = cli(vtok, "access", "list")
    expect(re.search(r"^%d +pending +clivendor +web1 +root +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +" % cid, out, re.M),
           f"CLI access list: a table with UTC times: {out}")
    out = cli(vtok, "host", "list", "--json")
    names = {h["name"] for h in json.loads(out)["hosts"]}
    expect(names == {"web1"}, f"a vendor sees only the hosts their own requests name: {out}")
    out = cli(vtok, "access", "approve", str(cid), want=1)
    expect("HTTP 403" in out, "CLI: the vendor cannot approve (403 shown)")
    out = cli(tok["appr1"], "access", "approve", str(cid), "--reason", "ok via cli")
    expect(re.search(r"^state +issued$", out, re.M), f"CLI approve issues the certificate: {out}")
    ccert = os.path.join(base, "cli-cert.pub")
    out = cli(vtok, "access", "ssh-config", str(cid), "--out", ccert)
    expect("Host bulwark-web1" in out and open(ccert).read().startswith("ssh-ed25519-cert-v01@openssh.com"),
           "CLI ssh-config writes the certificate and prints the snippet")
    rc, o, e = ssh(ccert)
    expect(rc == 0 and "logged-in" in o, "login with the certificate fetched by the CLI")
    # The README's first-use path as written: request, approval, ssh-config into ~/.ssh/config, ssh bulwark-web2.
    home = os.path.join(base, "vendor-home")
    os.makedirs(home + "/.ssh", mode=0o700)
    shutil.copy(key, home + "/.ssh/id_ed25519")
    shutil.copy(key + ".pub", home + "/.ssh/id_ed25519.pub")
    os.chmod(home + "/.ssh/id_ed25519", 0o600)
    out = cli(vtok, "access", "request", "--host", "web2", "--account", "root", "--reason", "first use",
              "--key", home + "/.ssh/id_ed25519.pub", "--minutes", "30", "--json")
    rid2 = json.loads(out)["id"]
    cli(tok["appr1"], "access", "approve", str(rid2))
    out = cli(vtok, "access", "ssh-config", str(rid2), env={"HOME": home})
    snippet = "\n".join(l for l in out.splitlines() if not l.startswith("certificate written"))
    expect("    HostName 127.0.0.1\n    Port %d\n" % sshd2.port in snippet
           and "    IdentityFile %s/.ssh/id_ed25519\n" % home in snippet
           and os.path.exists(home + "/.ssh/bulwark-%d-cert.pub" % rid2), f"ssh-config names host, port and key: {snippet}")
    open(home + "/.ssh/config", "w").write(snippet + "\n")
    # (-F: this test's stand-in for the vendor's ~/.ssh/config; ssh finds ~ in the password database, not $HOME)
    p = subprocess.run(["ssh", "-F", home + "/.ssh/config", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "bulwark-web2", "echo logged-in-web2"],
                       capture_output=True, timeout=60, env=dict(os.environ, HOME=home))
    expect(p.returncode == 0 and b"logged-in-web2" in p.stdout, f"ssh bulwark-web2 works as written: {p.stderr.decode()[-300:]}")
    out = cli(vtok, "access", "ssh-config", str(rid2), "--identity", key + "-missing", env={"HOME": home}, want=0)
    expect("no private key found" in out, f"a wrong --identity is reported: {out[-200:]}")
    sshd2.stop()
    out = cli(tok["appr1"], "access", "revoke", str(cid), "--reason", "done")
    expect(re.search(r"^state +revoked$", out, re.M), f"CLI revoke: {out}")
    out = cli(admin, "access", "review")
    expect("active windows:" in out and re.search(r"^approvers: .*appr1", out, re.M) and
           re.search(r"^  admin +admin$", out, re.M), f"CLI access review: role names, not a mask: {out}")
    out = cli(vtok, "access", "show", "x", want=2)
    expect("ID" in out, "CLI rejects a malformed request id")
    out = cli(vtok, "access", "request", "--host", "web1", "--account", "root", "--reason", "r", "--key", key + ".pub",
              "--minutes", "100000", want=2)
    expect("--minutes must be" in out, "CLI rejects an absurd window before calling the server")
finally:
    relay_stop.set()
    sshd.stop()
    if sshd_db1 is not None:
        sshd_db1.stop()
    for p in agents:
        p.terminate()
        p.wait(timeout=30)
    if sshd2 is not None:
        sshd2.stop()  # (stopped twice is harmless; left running it would hold the test's output open)
    if guard is not None:
        guard.terminate()
        guard.wait(timeout=10)
    stop(srv)

# ---- the audit log holds every step ----
logdir = os.path.join(data, "log")
rc, out, _ = run("log", "audit", "--dir", logdir, "--vkey", os.path.join(logdir, "log.vkey"))
expect(rc == 0, "log audit passes")
events = [json.loads(e) for e in read_entries(logdir)]
revokes = [e for e in events if e["action"] == "access.revoke"]
expect(any(e["result"] == "refused" and "reason must be 1..500" in e["details"].get("error", "") for e in revokes)
       and any(e["result"] == "ok" for e in revokes), f"revokes audited, the refused one with its reason: {revokes}")
acts = {(e["action"], e["result"]) for e in events}
for want in (("host.add", "ok"), ("access.request", "ok"), ("access.approve", "ok"), ("access.issued", "ok"),
             ("access.downloaded", "ok"), ("access.revoke", "ok"), ("access.deny", "ok"), ("access.request", "refused"),
             ("access.approve", "refused"), ("access.review", "ok"), ("access.expired", "ok")):
    expect(want in acts, f"audited: {want}")
issued = [e for e in events if e["action"] == "access.issued"]
expect(issued and all("serial" in e["details"] and "key_fingerprint" in e["details"] for e in issued),
       "issuance events carry the serial and key fingerprint")

shutil.rmtree(base)
finish("access_test")
