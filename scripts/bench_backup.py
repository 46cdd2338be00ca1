#!/usr/bin/env python3
"""
Backup and restore speed: a data directory made here (`bulwark init`, then reported samples as the server seals
them: random, incompressible; and a database grown with text rows, compressible), `bulwark backup` and `bulwark
restore` timed beside the same data through `tar -cz | openssl enc -aes-256-ctr` and back (compression and
encryption without the consistency, the manifest or the checks) in the same run.
    bench_backup.py BUILD [DIR]
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import time

build = sys.argv[1]
d = sys.argv[2] if len(sys.argv) > 2 else "/tmp/bulwark-bench-backup"
BW = os.path.join(build, "bulwark")
shutil.rmtree(d, ignore_errors=True)
os.makedirs(d)
data = os.path.join(d, "data")
env = dict(os.environ, BULWARK_ADMIN_PASSWORD="bench password 123", BULWARK_BACKUP_PASSPHRASE="bench passphrase 123")
subprocess.run([BW, "init", "--data", data, "--origin", "bench.local/audit"], env=env, check=True, capture_output=True)
SAMPLES_MB, DB_MB = 96, 96
os.makedirs(os.path.join(data, "samples"), exist_ok=True)
for i in range(SAMPLES_MB):
    open(os.path.join(data, "samples", "%d.sealed" % (i + 1)), "wb").write(os.urandom(1 << 20))
db = sqlite3.connect(os.path.join(data, "bulwark.db"))
db.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, line TEXT)")
line = ("2026-11-28T21:00:00Z host web%d sshd accepted publickey for root from 192.0.2.%d port 22 ssh2 "
        "serial 1234 CA ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
db.executemany("INSERT INTO bench_rows (line) VALUES (?)",
               ((line % (i % 97, i % 251),) for i in range(DB_MB * (1 << 20) // (len(line) + 20))))
db.commit()
db.close()


def size_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total / (1 << 20)


def timed(cmd, **kw):
    t = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, env=env, **kw)
    return time.monotonic() - t


mb = size_mb(data)
out = os.path.join(d, "b.bwb")
t_backup = timed([BW, "backup", "--data", data, "--out", out])
t_restore = timed([BW, "restore", "--in", out, "--data", os.path.join(d, "restored"), "--kek", os.path.join(data, "kek")])
base_out = os.path.join(d, "b.tar.gz.enc")
t_base_c = timed(["sh", "-c", f"tar -C {data} -czf - . | openssl enc -aes-256-ctr -pbkdf2 -pass pass:x > {base_out}"])
os.makedirs(os.path.join(d, "untarred"))
t_base_x = timed(["sh", "-c", f"openssl enc -d -aes-256-ctr -pbkdf2 -pass pass:x < {base_out} | "
                              f"tar -C {d}/untarred -xzf -"])
print(f"data directory: {mb:.0f} MiB ({SAMPLES_MB} MiB of sealed samples, a {DB_MB} MiB database of text rows)")
print(f"{'':34} {'seconds':>8} {'MiB/s':>8} {'file MiB':>9}")
print(f"{'bulwark backup':34} {t_backup:8.2f} {mb / t_backup:8.1f} {os.path.getsize(out) / (1 << 20):9.1f}")
print(f"{'tar -cz | openssl enc (baseline)':34} {t_base_c:8.2f} {mb / t_base_c:8.1f} "
      f"{os.path.getsize(base_out) / (1 << 20):9.1f}")
print(f"{'bulwark restore (checked, audited)':34} {t_restore:8.2f} {mb / t_restore:8.1f}")
print(f"{'openssl enc -d | tar -xz (baseline)':34} {t_base_x:8.2f} {mb / t_base_x:8.1f}")
shutil.rmtree(d, ignore_errors=True)
