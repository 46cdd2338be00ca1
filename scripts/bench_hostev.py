#!/usr/bin/env python3
"""
Host events per second end to end: several `bulwark agent run` processes on loopback each ship a
prepared auditd log (read, grouped, batched, spooled, HTTPS) to one server, which logs every event
durably in the host-event log, indexes it and matches it against the rules. Beside it, in the same
run and on the same disk: the durable log's own append rate (`bulwark log append` of lines the
size of a host-event entry).   bench_hostev.py BUILD [BENCH_DIR]

Figures: events acknowledged and integrated (the host-event log's signed checkpoint reaches the
total) per second; indexed per second (the index database's position); matched by the detection
(GET /api/v1/detection); the server's peak RSS. The load generators (the agents) share the
machine's cores with the server: the figure is for the whole host. BENCH_HOSTEV_EVENTS (default
1,000,000) events over BENCH_HOSTEV_AGENTS (default 4) agents.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

from hostev_bench_setup import Server, proc_kb

BUILD = sys.argv[1]
DIR = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DIR", "/tmp/bulwark-bench-hostev")
EVENTS = int(os.environ.get("BENCH_HOSTEV_EVENTS", "1000000"))
AGENTS = int(os.environ.get("BENCH_HOSTEV_AGENTS", "4"))
PORT = 18654
BW = os.path.join(BUILD, "bulwark")
T0 = 1795845114000


def event_text(serial):
    t = T0 + serial // 4
    ts = "%d.%03d" % (t // 1000, t % 1000)
    if serial % 10 >= 8:
        return (f"type=USER_START msg=audit({ts}:{serial}): pid=1 uid=0 auid=1000 ses=3 msg='op=PAM:session_open "
                f"grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.7 addr=10.0.0.7 "
                f"terminal=ssh res=success'\n")
    return (f"type=SYSCALL msg=audit({ts}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
            f"items=1 ppid=1 pid={2000 + serial % 30000} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 "
            f"fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"grep\" exe=\"/usr/bin/grep\" "
            f"key=\"bulwark-exec\"\n"
            f"type=EXECVE msg=audit({ts}:{serial}): argc=4 a0=\"grep\" a1=\"-r\" a2=\"TODO\" a3=\"src/\"\n"
            f"type=CWD msg=audit({ts}:{serial}): cwd=\"/home/alice/project\"\n"
            f"type=EOE msg=audit({ts}:{serial}): \n")


shutil.rmtree(DIR, ignore_errors=True)
os.makedirs(DIR)
print(f"== machine: {os.cpu_count()} cores; {EVENTS} events from {AGENTS} agents")

# ---- baseline: the durable log's own appends of entries of the same size ----
entry = '{"host":"web1","epoch":"0123456789abcdef0123456789abcdef","seq":1,"n":0,"received":1795845114000,' \
        '"source":"auditd","time":1795845114000,"subject":"1000","action":"execve","object":"/usr/bin/grep",' \
        '"result":"success","raw":"' + event_text(1).replace("\n", "\\n").replace('"', '\\"') + '"}'
with open(os.path.join(DIR, "lines"), "w") as f:
    for _ in range(EVENTS):
        f.write(entry + "\n")
subprocess.run([BW, "log", "init", "--dir", os.path.join(DIR, "base"), "--origin", "bulwark.bench/base"],
               check=True, capture_output=True)
t = time.time()
with open(os.path.join(DIR, "lines")) as fin, open(os.path.join(DIR, "acks"), "w") as fout:
    subprocess.run([BW, "log", "append", "--dir", os.path.join(DIR, "base")], stdin=fin, stdout=fout, check=True)
base = EVENTS / (time.time() - t)
print(f"baseline: bulwark log append of {EVENTS} entries of {len(entry)} bytes: {base:,.0f} appends/s")
os.remove(os.path.join(DIR, "lines"))

# ---- the server and its agents ----
srv = Server(BW, DIR, PORT, "--login-backoff-ms", "0")
data, req, admin = srv.data, srv.req, srv.admin
agents = []
try:
    per = EVENTS // AGENTS
    for a in range(AGENTS):
        srv.agent_init(f"host{a}")
        with open(os.path.join(DIR, f"audit-{a}.log"), "w") as f:
            for s in range(a * per + 1, (a + 1) * per + 1):
                f.write(event_text(s))
    total = per * AGENTS
    t_start = time.time()
    for a in range(AGENTS):
        agents.append(subprocess.Popen([BW, "agent", "run", "--state", os.path.join(DIR, f"agent-host{a}"),
                                        "--audit-log", os.path.join(DIR, f"audit-{a}.log"), "--batch-max", "4096",
                                        "--heartbeat-secs", "5"], stderr=open(os.path.join(DIR, f"agent{a}.err"), "w")))

    def indexed():
        try:
            db = sqlite3.connect(f"file:{os.path.join(data, 'hostevents.db')}?mode=ro", uri=True, timeout=5)
            v = db.execute("SELECT value FROM meta WHERE key = 'indexed_upto'").fetchone()[0]
            db.close()
            return v
        except sqlite3.Error:
            return 0

    def matched():
        st, det = req("GET", "/api/v1/detection", token=admin)
        return det["host_events"]["matched_upto"]

    def cpu_s(pid):
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

    t_logged = t_indexed = t_matched = None
    deadline = time.time() + 1800
    cpu_agents = 0.0
    while time.time() < deadline and (t_logged is None or t_indexed is None or t_matched is None):
        if t_logged is None and srv.logged() >= total:
            t_logged = time.time() - t_start
            cpu_server = cpu_s(srv.proc.pid)
            cpu_agents = sum(cpu_s(p.pid) for p in agents)
        if t_indexed is None and indexed() >= total:
            t_indexed = time.time() - t_start
        if t_matched is None and matched() >= total:
            t_matched = time.time() - t_start
        time.sleep(0.05)
    st, det = req("GET", "/api/v1/detection", token=admin)
    peak = proc_kb(srv.proc.pid, "VmHWM")
    agent_peak = max(proc_kb(p.pid, "VmHWM") for p in agents)
    print(f"server: {total} host events logged and integrated in {t_logged:.1f} s: {total / t_logged:,.0f} events/s "
          f"({100 * total / t_logged / base:.0f}% of the log's own append rate)")
    print(f"server: indexed in {t_indexed:.1f} s: {total / t_indexed:,.0f} events/s; matched by the detection in "
          f"{t_matched:.1f} s: {total / t_matched:,.0f} events/s ({det['matches']} matches)")
    print(f"cpu until logged: server {cpu_server:.1f} s, agents {cpu_agents:.1f} s of {2 * t_logged:.1f} s on "
          f"{os.cpu_count()} cores; server peak RSS {peak / 1024:.0f} MiB, agent peak RSS {agent_peak / 1024:.1f} MiB")
finally:
    for p in agents:
        p.terminate()
        p.wait(timeout=60)
    srv.stop()
    shutil.rmtree(DIR, ignore_errors=True)
