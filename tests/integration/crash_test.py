#!/usr/bin/env python3
"""
Crash test: `bulwark log append` is fed continuously and killed with SIGKILL at
random moments. After every kill:
  - every index it printed (acknowledged) is present with its exact bytes,
  - every committed entry is the input line of that position (nothing
    reordered, lost in the middle or invented),
  - the next writer recovers (whatever the killed batch left is discarded),
  - `bulwark log audit` passes against the log's key.
CRASH_TRIALS (default 60) sets the number of kills; CRASH_SEED the seed.
"""
import os
import random
import re
import shutil
import subprocess
import threading
import time

from bwtest import BW, expect, fail, finish, log_size, read_entries, run, tmpdir

trials = int(os.environ.get("CRASH_TRIALS", "60"))
seed = int(os.environ.get("CRASH_SEED", str(int(time.time()))))
rng = random.Random(seed)
print(f"crash_test: {trials} trials, CRASH_SEED={seed}")

base = tmpdir()
d = os.path.join(base, "log")
run("log", "init", "--dir", d, "--origin", "bulwark.test/crash", check=0)
vkey = open(d + "/log.vkey").read().strip()
expected = []          # expected[i] = bytes of entry i (committed ones)
killed_mid_batch = 0
real_kills = 0          # trials where SIGKILL hit a running writer
integration_cut = 0     # kills during an integration: its files past the checkpoint were set aside
torn_tails = 0          # kills during a journal write: the torn tail was set aside
replayed = 0            # trials whose acknowledged entries were only in the journal (sequenced, not integrated)

for t in range(trials):
    size0 = log_size(d)
    if size0 != len(expected):
        fail(f"trial {t}: log size {size0} but {len(expected)} entries known")
        break
    n = rng.randint(1000, 20000)
    lines = [b"t%d-%d-%s" % (t, k, os.urandom(rng.randint(1, 40)).hex().encode()) for k in range(n)]
    batch = rng.choice([1, 3, 64, 500, 4096])
    delay = rng.choice([0, 1, 5])
    integrate = rng.choice([1, 5, 50, 250])
    p = subprocess.Popen([BW, "log", "append", "--dir", d, "--batch", str(batch),
                          "--max-delay-ms", str(delay), "--integrate-ms", str(integrate)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = []

    def feed():
        try:
            for i in range(0, n, 256):
                p.stdin.write(b"\n".join(lines[i:i + 256]) + b"\n")
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def drain():
        out.append(p.stdout.read())

    tw, tr = threading.Thread(target=feed), threading.Thread(target=drain)
    tw.start()
    tr.start()
    time.sleep(rng.uniform(0.002, 0.08))
    p.kill()
    p.wait()
    tw.join()
    tr.join()
    p.stderr.close()
    text = out[0].decode()
    acked = [int(x) for x in text.split("\n")[:-1]]  # the last piece may be cut mid-line
    if p.returncode == -9:
        real_kills += 1
    elif p.returncode != 0:
        fail(f"trial {t}: append exited {p.returncode} before the kill")
        break
    # acknowledged indexes are contiguous from size0
    if acked != list(range(size0, size0 + len(acked))):
        fail(f"trial {t}: acknowledged indexes not contiguous from {size0}: {acked[:5]}...")
        break
    # acknowledged but not integrated at the kill: the journal alone holds them
    if log_size(d) < size0 + len(acked):
        replayed += 1
    # recovery: the next writer opens the log (discarding any half-written batch, replaying the journal)
    rc, _, err = run("log", "append", "--dir", d, stdin=b"")
    if rc != 0:
        fail(f"trial {t}: recovery failed: {err}")
        break
    m = re.search(r"moved to (\S+)", err if isinstance(err, str) else err.decode())
    if m:
        aside = os.listdir(m.group(1))
        if "journal-tail" in aside:
            torn_tails += 1
        if any(f != "journal-tail" for f in aside):
            integration_cut += 1
    size1 = log_size(d)
    if size1 < size0 + len(acked):
        fail(f"trial {t}: acknowledged entries lost: size {size1} < {size0 + len(acked)}")
        break
    if size1 - size0 > n:
        fail(f"trial {t}: log grew by {size1 - size0} > {n} lines sent")
        break
    if size1 > size0 + len(acked):
        killed_mid_batch += 1  # durable but the ack was not printed before the kill: allowed
    got = read_entries(d)
    expected.extend(lines[:size1 - size0])
    if got != expected:
        bad = next(i for i in range(min(len(got), len(expected))) if got[i] != expected[i]) \
            if len(got) == len(expected) else f"len {len(got)} vs {len(expected)}"
        fail(f"trial {t}: stored entries differ from the input at {bad}")
        break
    rc, out_a, _ = run("log", "audit", "--dir", d, "--vkey", vkey)
    if rc != 0:
        fail(f"trial {t}: audit failed after the kill:\n{out_a.decode()}")
        break

print(f"crash_test: log size {log_size(d)}; SIGKILL hit a running writer in {real_kills} of "
      f"{trials} trials; {killed_mid_batch} landed between a durable group and its printed acknowledgement; "
      f"{replayed} left acknowledged entries only in the journal (recovered by replay); "
      f"{integration_cut} cut an integration short (its files set aside); {torn_tails} tore a journal write")
expect(log_size(d) > 0, "something was appended")
expect(real_kills >= trials // 2, "most trials killed a running writer (else the test proves little)")
expect(replayed > 0, "some kills landed between sequencing and integration (the journal replay was exercised)")
expect(killed_mid_batch > 0, "some kills landed during sequencing (a group durable before its acknowledgement)")
expect(integration_cut > 0, "some kills landed during an integration (its files were set aside, then replayed)")
shutil.rmtree(base)
finish("crash_test")
