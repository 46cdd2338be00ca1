#!/usr/bin/env python3
"""
The Debian packages: built from a copy of the tree with dpkg-buildpackage, lintian clean at the error level,
installed with dpkg (the program, manual pages, completion, units, the users, /etc/bulwark 0750 and its settings
0640, /var/lib/bulwark 0700), the installed units checked with `systemd-analyze verify` and the server's with
`systemd-analyze security --offline=true`, the server unit's ExecStart run as its user after `bulwark init` with a
NOTIFY_SOCKET of the test's (systemd is not PID 1 here): READY=1 and an HTTPS answer; the events agent's ExecStart
after `bulwark agent init` against that server; the guard unit's ExecStart listening on its socket; the backup
unit's, restored; a reinstall's postinst running bulwark upgrade, which refuses a database of a newer schema
(a downgrade) with a clear message; and a purge that removes everything the packages installed (the data directory
is kept, as documented). Needs root (it installs into this machine) and runs alone; it removes what it made.
"""
import glob
import grp
import os
import pwd
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys

from bwserver import ADMIN_PW, Client, free_port, totp
from bwtest import expect, fail, finish, tmpdir

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MARK = "/var/lib/bulwark/.package-test"
if os.geteuid() != 0:
    print("package_test: skipped: installing packages needs root")
    sys.exit(77)
if os.path.exists("/var/lib/bulwark") and os.listdir("/var/lib/bulwark") and not os.path.exists(MARK):
    print("package_test: skipped: /var/lib/bulwark holds a real installation's data")
    sys.exit(77)


def run(*cmd, timeout=600, check_rc=None, env=None):
    p = subprocess.run(list(cmd), capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    if check_rc is not None and p.returncode != check_rc:
        fail(f"{' '.join(cmd)}: exit {p.returncode}, want {check_rc}\n{out[-3000:]}")
    return p.returncode, out


def purge_all():
    for pkg in ("bulwark-agent", "bulwark-server", "bulwark"):
        run("dpkg", "--purge", pkg)
    for d in ("/var/lib/bulwark", "/var/lib/bulwark-agent", "/run/bulwark-agent", "/var/backups/bulwark"):
        shutil.rmtree(d, ignore_errors=True)
    for u in ("bulwark-agent", "bulwark"):
        run("userdel", u)
        run("groupdel", u)


base = tmpdir()
purge_all()     # a run interrupted before its own clean-up
try:
    # --- build from a copy of the tree (scripts/deb.sh, as `make deb` does) ---
    p = subprocess.run([os.path.join(ROOT, "scripts", "deb.sh"), base], capture_output=True, timeout=1800)
    expect(p.returncode == 0, f"scripts/deb.sh: {p.returncode}\n{(p.stdout + p.stderr).decode()[-3000:]}")
    debs = {os.path.basename(d).split("_")[0]: d for d in glob.glob(os.path.join(base, "*.deb"))}
    expect({"bulwark", "bulwark-server", "bulwark-agent"} <= set(debs), f"the packages built: {sorted(debs)}")
    changes = glob.glob(os.path.join(base, "*.changes"))[0]
    rc, out = run("lintian", "--fail-on", "error", "--display-level", ">=warning", changes)
    expect(rc == 0 and not re.search(r"^[EW]: ", out, re.M), f"lintian: errors or warnings:\n{out}")

    # --- install ---
    rc, out = run("dpkg", "-i", debs["bulwark"], debs["bulwark-server"], debs["bulwark-agent"])
    expect(rc == 0, f"dpkg -i: {rc}\n{out}")
    open(MARK, "w").close()
    for f in ("/usr/bin/bulwark", "/usr/share/man/man1/bulwark.1.gz", "/usr/share/man/man1/bulwark-backup.1.gz",
              "/usr/share/bash-completion/completions/bulwark", "/usr/share/doc/bulwark/OPERATIONS.md",
              "/lib/systemd/system/bulwark-server.service", "/lib/systemd/system/bulwark-agent-events.service",
              "/lib/systemd/system/bulwark-agent-guard.service", "/lib/systemd/system/bulwark-agent-update.timer"):
        expect(os.path.exists(f), f"installed: {f}")
    u = pwd.getpwnam("bulwark")
    expect(u.pw_shell == "/usr/sbin/nologin" and u.pw_uid < 1000, f"the system user bulwark: {u}")
    expect("bulwark-agent" in grp.getgrnam("systemd-journal").gr_mem, "bulwark-agent reads the journal")
    st = os.stat("/var/lib/bulwark")
    expect(st.st_mode & 0o777 == 0o700 and st.st_uid == u.pw_uid, f"/var/lib/bulwark: {oct(st.st_mode)} {st.st_uid}")
    st = os.stat("/etc/bulwark/bulwark.conf")
    expect(st.st_mode & 0o777 == 0o640 and st.st_uid == 0 and st.st_gid == u.pw_gid,
           f"/etc/bulwark/bulwark.conf: {oct(st.st_mode)} {st.st_uid}:{st.st_gid}")
    rc, out = run("/usr/bin/bulwark", "config", "check", "/etc/bulwark/bulwark.conf")
    expect(rc == 0 and "/var/lib/bulwark" in out, f"the packaged settings check: {rc} {out}")

    # --- the installed units ---
    units = sorted(glob.glob("/lib/systemd/system/bulwark-*"))
    rc, out = run("systemd-analyze", "verify", *units)
    expect(rc == 0 and out.strip() == "", f"systemd-analyze verify {units}: {rc} {out}")
    for unit in units:
        if unit.endswith(".service"):
            rc, out = run("systemd-analyze", "security", "--offline=true", unit)
            m = re.search(r"Overall exposure level for (\S+): ([0-9.]+) (\w+)", out)
            expect(m is not None, f"systemd-analyze security {unit}: {out[-500:]}")
            print(f"package_test: systemd-analyze security {m.group(1)}: {m.group(2)} {m.group(3)}")
            if unit.endswith("bulwark-server.service"):
                expect(float(m.group(2)) <= 2.0 and m.group(3) == "OK", f"the server's exposure: {m.group(0)}")

    def exec_start(unit):
        line = re.search(r"^ExecStart=(.*)$", open("/lib/systemd/system/" + unit).read(), re.M).group(1)
        return shlex.split(line)

    # --- the server: init as its user, then the unit's ExecStart with the unit's user, ready through NOTIFY_SOCKET ---
    port = free_port()
    conf = open("/etc/bulwark/bulwark.conf").read().replace("listen = 0.0.0.0:8443", "listen = 127.0.0.1:%d" % port)
    open("/etc/bulwark/bulwark.conf", "w").write(conf)
    env = dict(os.environ, BULWARK_ADMIN_PASSWORD=ADMIN_PW)
    rc, init_out = run("runuser", "-u", "bulwark", "--", "/usr/bin/bulwark", "init", "--data", "/var/lib/bulwark",
                       "--origin", "package.test/audit", env=env)
    expect(rc == 0 and "admin" in init_out, f"bulwark init as the user bulwark: {rc} {init_out[-800:]}")
    sockdir = os.path.join(base, "notify")
    os.makedirs(sockdir)
    os.chmod(base, 0o755)
    os.chmod(sockdir, 0o777)
    sock_path = os.path.join(sockdir, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sock_path)
    os.chmod(sock_path, 0o666)
    ns.settimeout(60)
    cmd = exec_start("bulwark-server.service")
    expect(cmd[:2] == ["/usr/bin/bulwark", "serve"], f"the server unit's ExecStart: {cmd}")
    logf = open(os.path.join(base, "serve.log"), "w+")
    srv = subprocess.Popen(cmd, user="bulwark", group="bulwark", extra_groups=[], stdout=subprocess.DEVNULL,
                           stderr=logf, env=dict(os.environ, NOTIFY_SOCKET=sock_path))
    try:
        msg = ns.recv(4096).decode()
        expect("READY=1" in msg, f"the server tells systemd it is ready: {msg}")
        rc, out = run("curl", "-sS", "--cacert", "/var/lib/bulwark/tls/cert.pem", "https://127.0.0.1:%d/log/checkpoint" % port)
        expect(rc == 0 and out.startswith("package.test/audit\n"), f"it answers over HTTPS: {rc} {out}")
        # --- the host-events agent: enrolled against it, then its unit's ExecStart (root, dropping to bulwark-agent) ---
        c = Client(port, "/var/lib/bulwark/tls/cert.pem")
        secret = re.search(r"secret=([A-Z2-7]+)", init_out).group(1)
        st, j, _, _ = c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW, "otp": totp(secret)})
        expect(st == 200, f"the admin signs in to the packaged server: {st} {j}")
        st, j, _, _ = c.req("POST", "/api/v1/hosts", {"name": "web1", "address": "127.0.0.1", "accounts": ["root"]},
                            token=j["token"])
        expect(st == 201, f"a host: {st} {j}")
        rc, out = run("/usr/bin/bulwark", "agent", "init", "--state", "/var/lib/bulwark-agent", "--server",
                      "https://127.0.0.1:%d" % port, "--cacert", "/var/lib/bulwark/tls/cert.pem", "--host", "web1",
                      "--enrol-code", j["enrolment_code"])
        expect(rc == 0 and "enrolled" in out, f"bulwark agent init into the packaged state directory: {rc} {out}")
        cmd = exec_start("bulwark-agent-events.service")
        alog = open(os.path.join(base, "agent.log"), "w+")
        agent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=alog)
        try:
            started = False
            for _ in range(100):
                alog.seek(0)
                if "agent run: epoch" in alog.read():
                    started = True
                    break
                subprocess.run(["sleep", "0.2"])
            expect(started, f"the events unit's ExecStart runs ({cmd})")
            agent.terminate()
            agent.wait(timeout=60)
            alog.seek(0)
            text = alog.read()
            expect(agent.returncode == 0 and "stopped" in text, f"and stops on SIGTERM: {agent.returncode} {text[-500:]}")
        finally:
            if agent.poll() is None:
                agent.kill()
        srv.terminate()
        srv.wait(timeout=60)
        expect(srv.returncode == 0, f"it stops on SIGTERM: exit {srv.returncode}")
    finally:
        if srv.poll() is None:
            srv.kill()
    logf.seek(0)
    expect("listening" in logf.read(), "its log says it listened")

    # --- the guard: the unit's ExecStart (root, its default socket) listening ---
    os.makedirs("/run/bulwark-agent", exist_ok=True)     # the unit's RuntimeDirectory
    cmd = exec_start("bulwark-agent-guard.service")
    guard = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if os.path.exists("/run/bulwark-agent/guard.sock"):
                break
            subprocess.run(["sleep", "0.1"])
        expect(os.path.exists("/run/bulwark-agent/guard.sock"), f"the guard listens on its socket ({cmd})")
    finally:
        guard.terminate()
        guard.wait(timeout=30)

    # --- the daily backup: nothing until a recipient key is in /etc/bulwark; then its ExecStart as its user ---
    rc, pub = run("/usr/bin/bulwark", "backup", "keygen", "--out", os.path.join(base, "backup.key"))
    expect(rc == 0, f"backup keygen: {rc} {pub}")
    open("/etc/bulwark/backup.pub", "w").write(pub.splitlines()[0] + "\n")
    os.chown("/etc/bulwark/backup.pub", 0, u.pw_gid)
    os.chmod("/etc/bulwark/backup.pub", 0o640)
    unit = open("/lib/systemd/system/bulwark-backup.service").read()
    cmd = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).replace("%%", "%"))
    expect(re.search(r"^User=bulwark$", unit, re.M) and cmd[:2] == ["/bin/sh", "-c"], f"the backup unit: {cmd}")
    p = subprocess.run(cmd, user="bulwark", group="bulwark", extra_groups=[], capture_output=True, timeout=300)
    made = glob.glob("/var/backups/bulwark/bulwark-*.bwb")
    expect(p.returncode == 0 and len(made) == 1, f"the backup unit's ExecStart: {p.returncode} {p.stderr.decode()} {made}")
    rc, out = run("/usr/bin/bulwark", "restore", "--in", made[0], "--data", os.path.join(base, "restored"),
                  "--key", os.path.join(base, "backup.key"), "--kek", "/var/lib/bulwark/kek")
    expect(rc == 0 and "sealed keys: open" in out, f"the daily backup restores: {rc} {out}")

    # --- a reinstall runs bulwark upgrade; a database of a newer schema (a downgrade) is refused ---
    rc, out = run("dpkg", "-i", debs["bulwark-server"])
    expect(rc == 0 and "database schema" in out and "current" in out, f"reinstall: postinst's bulwark upgrade: {rc} {out}")
    db = sqlite3.connect("/var/lib/bulwark/bulwark.db")
    db.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    db.commit()
    db.close()
    rc, out = run("dpkg", "-i", debs["bulwark-server"])
    expect(rc != 0 and "downgrade is refused" in out and "schema 999" in out,
           f"a database of a newer schema: the package refuses to configure, saying why: {rc} {out}")
    db = sqlite3.connect("/var/lib/bulwark/bulwark.db")
    db.execute("DELETE FROM schema_migrations WHERE version = 999")
    db.commit()
    db.close()
    rc, out = run("dpkg", "--configure", "-a")
    expect(rc == 0, f"configured once the database is this version's again: {rc} {out}")

    # --- uninstall ---
    installed = []
    for pkg in ("bulwark", "bulwark-server", "bulwark-agent"):
        installed += [f for f in run("dpkg", "-L", pkg)[1].splitlines() if os.path.isfile(f)]
    rc, out = run("dpkg", "--purge", "bulwark-agent", "bulwark-server", "bulwark")
    expect(rc == 0, f"dpkg --purge: {rc} {out}")
    left = [f for f in installed if os.path.exists(f)]
    expect(not left and not os.path.exists("/etc/bulwark/bulwark.conf"), f"the purge removed every file installed: {left[:10]}")
    expect(os.path.exists("/var/lib/bulwark/bulwark.db") and "was kept" in out,
           f"the data directory is kept (the audit log): {out}")
finally:
    purge_all()
finish("package_test")
