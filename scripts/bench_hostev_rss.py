#!/usr/bin/env python3
"""
Memory of the agent and the server over a long run at a steady rate: one `bulwark agent run`
follows an auditd log that a writer appends to at BENCH_RSS_RATE events/s (default 2,000) for
BENCH_RSS_SECONDS (default 600); the resident memory (VmRSS) of both is sampled every 30 s.
   bench_hostev_rss.py BUILD [BENCH_DIR]
"""
import os
import shutil
import subprocess
import sys
import time

from hostev_bench_setup import Server, proc_kb

BUILD = sys.argv[1]
DIR = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DIR", "/tmp/bulwark-bench-hostev-rss")
RATE = int(os.environ.get("BENCH_RSS_RATE", "2000"))
SECONDS = int(os.environ.get("BENCH_RSS_SECONDS", "600"))
PORT = 18655
BW = os.path.join(BUILD, "bulwark")
T0 = 1795845114000


def event_text(serial):
    t = T0 + serial
    ts = "%d.%03d" % (t // 1000, t % 1000)
    return (f"type=SYSCALL msg=audit({ts}:{serial}): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 "
            f"pid={2000 + serial % 30000} auid=1000 uid=1000 comm=\"grep\" exe=\"/usr/bin/grep\" key=\"bulwark-exec\"\n"
            f"type=EXECVE msg=audit({ts}:{serial}): argc=3 a0=\"grep\" a1=\"-r\" a2=\"x{serial}\"\n"
            f"type=EOE msg=audit({ts}:{serial}): \n")


shutil.rmtree(DIR, ignore_errors=True)
os.makedirs(DIR)
srv = Server(BW, DIR, PORT)
agent = None
try:
    state = srv.agent_init("web1")
    log = os.path.join(DIR, "audit.log")
    open(log, "w").close()
    agent = subprocess.Popen([BW, "agent", "run", "--state", state, "--audit-log", log],
                             stderr=open(os.path.join(DIR, "agent.err"), "w"))
    print(f"== {RATE} events/s for {SECONDS} s: VmRSS every 30 s (KiB)")
    print("  t(s)  events   agent  server")
    serial, t_start, next_sample = 1, time.time(), 0
    with open(log, "a") as f:
        while time.time() - t_start < SECONDS:
            due = int((time.time() - t_start) * RATE)
            while serial <= due:
                f.write(event_text(serial))
                serial += 1
            f.flush()
            if time.time() - t_start >= next_sample:
                print(f"{int(time.time() - t_start):6d} {serial - 1:7d} {proc_kb(agent.pid, 'VmRSS'):7d} "
                      f"{proc_kb(srv.proc.pid, 'VmRSS'):7d}", flush=True)
                next_sample += 30
            time.sleep(0.05)
    time.sleep(3)
    logged = srv.logged()
    print(f"written {serial - 1}, logged {logged}; final VmRSS agent {proc_kb(agent.pid, 'VmRSS')} KiB, "
          f"server {proc_kb(srv.proc.pid, 'VmRSS')} KiB")
finally:
    if agent is not None:
        agent.terminate()
        agent.wait(timeout=60)
    srv.stop()
    shutil.rmtree(DIR, ignore_errors=True)
