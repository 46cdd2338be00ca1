#!/usr/bin/env python3
"""bulwark log CLI: every command, its output, and its refusals of bad input."""
import os
import shutil
import subprocess

from bwtest import (BW, expect, expect_fail, fail, finish, log_size, read_entries, run,
                    tile_path, tmpdir)

base = tmpdir()
log = os.path.join(base, "log")

# init
rc, out, _ = run("log", "init", "--dir", log, "--origin", "bulwark.test/cli", check=0)
vkey = out.decode().strip()
expect(vkey.startswith("bulwark.test/cli+") and vkey == open(log + "/log.vkey").read().strip(),
       "init prints the verifier key stored in log.vkey")
expect(os.stat(log + "/log.key").st_mode & 0o777 == 0o600, "signer key file is mode 0600")
expect(open(log + "/log.key").read().startswith("PRIVATE+KEY+bulwark.test/cli+"), "signer key text")
expect_fail(["log", "init", "--dir", log, "--origin", "bulwark.test/cli"], "already holds a log")
expect_fail(["log", "init", "--dir", base + "/x", "--origin", "bad origin"], "invalid key name")
expect_fail(["log", "init", "--dir", base + "/y"], "needs --dir and --origin")
expect_fail(["log", "init", "--dir", base + "/y", "--origin", "o", "--bogus"], "unknown option --bogus")
expect_fail(["log", "init", "--dir", base + "/y", "--dir", base + "/z", "--origin", "o"], "option --dir given more than once")
rc, out, _ = run("log", "checkpoint", "--dir", log, check=0)
expect(out.decode().startswith("bulwark.test/cli\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"),
       "new log: checkpoint of the empty tree")

# append from stdin: indexes printed in order
lines = [b"event %d" % i for i in range(600)]
rc, out, _ = run("log", "append", "--dir", log, "--batch", "64", stdin=b"\n".join(lines) + b"\n", check=0)
expect(out.decode().split() == [str(i) for i in range(600)], "append prints 0..599")
expect(read_entries(log) == lines, "entries stored exactly, in order")
# last line without a newline; CR kept as data
rc, out, _ = run("log", "append", "--dir", log, stdin=b"a\r\nb", check=0)
expect(out.decode().split() == ["600", "601"], "append continues at 600")
expect(read_entries(log)[600:] == [b"a\r", b"b"], "bytes kept exactly (no newline, CR kept)")
# files: one entry each, all or nothing
f1, f2, empty, big = (os.path.join(base, n) for n in ("f1", "f2", "empty", "big"))
open(f1, "wb").write(b'{"file": 1}\n')
open(f2, "wb").write(bytes(range(256)) * 10)
open(empty, "wb").close()
open(big, "wb").write(b"x" * 65536)
rc, out, _ = run("log", "append", "--dir", log, f1, f2, check=0)
expect(out.decode().split() == ["602", "603"], "files appended as entries 602, 603")
expect(read_entries(log)[602:] == [b'{"file": 1}\n', bytes(range(256)) * 10], "file bytes exact")
expect_fail(["log", "append", "--dir", log, f1, big], "entries are 1..65535 bytes")
expect_fail(["log", "append", "--dir", log, f1, empty], "is empty")
expect_fail(["log", "append", "--dir", log, f1, base + "/missing"], "cannot open")
expect(log_size(log) == 604, "refused file lists append nothing")
# a bad line: earlier lines committed and printed, then a precise error
rc, out, err = expect_fail(["log", "append", "--dir", log], "stdin line 3: empty line",
                           stdin=b"ok1\nok2\n\nnever\n")
expect(out.decode().split() == ["604", "605"], "lines before the bad one are committed and printed")
expect(log_size(log) == 606, "nothing after the bad line")
rc, out, err = expect_fail(["log", "append", "--dir", log], "stdin line 2", stdin=b"ok\n" + b"y" * 70000 + b"\n")
expect(log_size(log) == 607, "an over-long line is refused")
# long argument lists: 300 files are 300 entries (none dropped); past the parser's limit, a refusal
many = []
for i in range(300):
    many.append(os.path.join(base, "many-%d" % i))
    open(many[-1], "wb").write(b"file %d" % i)
start = log_size(log)
rc, out, _ = run("log", "append", "--dir", log, *many, check=0)
expect(out.decode().split() == [str(start + i) for i in range(300)], "300 files appended as 300 entries")
expect(read_entries(log)[start:start + 300] == [b"file %d" % i for i in range(300)], "every one of the 300 files, in order")
expect_fail(["log", "append", "--dir", log] + [many[0]] * 9000, "too many arguments (9002; at most 8192)")
expect(log_size(log) == start + 300, "a refused argument list appends nothing")
expect_fail(["log", "append", "--dir", log, "--batch", "0"], "--batch must be 1..16777216")
expect_fail(["log", "append", "--dir", log, "--batch", "01"], "not a decimal number")
expect_fail(["log", "append", "--dir", base + "/nolog"], "cannot open")

# the writer lock: a second writer is refused while one runs
holder = subprocess.Popen([BW, "log", "append", "--dir", log], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
holder.stdin.write(b"held\n")
holder.stdin.flush()
holder.stdout.readline()  # its first entry is durable: it holds the lock
expect_fail(["log", "append", "--dir", log], "another writer holds the log lock", stdin=b"x\n")
holder.stdin.close()
holder.wait(timeout=30)
expect(holder.returncode == 0, "lock holder finished cleanly")
run("log", "append", "--dir", log, stdin=b"after\n", check=0)
size = log_size(log)

# prove / verify-proof
entries = read_entries(log)
entry = os.path.join(base, "entry")
for idx in (0, 255, 256, 511, 600, size - 1):
    rc, proof, _ = run("log", "prove", "--dir", log, "--index", str(idx), check=0)
    p = os.path.join(base, "p%d" % idx)
    open(p, "wb").write(proof)
    open(entry, "wb").write(entries[idx])
    rc, out, _ = run("log", "verify-proof", "--vkey", log + "/log.vkey", "--entry", entry, p, check=0)
    expect(b"OK: entry %d is in log bulwark.test/cli" % idx in out, "verify-proof OK for %d" % idx)
    expect(proof.startswith(b"c2sp.org/tlog-proof@v1\nindex %d\n" % idx), "tlog-proof header")
# wrong entry, wrong key, tampered proof, wrong index
open(entry, "wb").write(entries[600] + b"!")
expect_fail(["log", "verify-proof", "--vkey", log + "/log.vkey", "--entry", entry, base + "/p600"],
            "computed root does not match")
open(entry, "wb").write(entries[600])
other = os.path.join(base, "other")
rc, out, _ = run("log", "init", "--dir", other, "--origin", "bulwark.test/cli", check=0)
expect_fail(["log", "verify-proof", "--vkey", out.decode().strip(), "--entry", entry, base + "/p600"],
            "no signature by a trusted key")
pr = open(base + "/p600", "rb").read().split(b"\n")
pr[2] = (b"B" if pr[2][:1] != b"B" else b"C") + pr[2][1:]
open(base + "/bad", "wb").write(b"\n".join(pr))
expect_fail(["log", "verify-proof", "--vkey", log + "/log.vkey", "--entry", entry, base + "/bad"],
            "does not match")
pr = open(base + "/p600", "rb").read().replace(b"index 600", b"index 601")
open(base + "/bad", "wb").write(pr)
expect_fail(["log", "verify-proof", "--vkey", log + "/log.vkey", "--entry", entry, base + "/bad"],
            "does not match")
pr = open(base + "/p600", "rb").read().replace(b"index 600", b"index 0600")
open(base + "/bad", "wb").write(pr)
expect_fail(["log", "verify-proof", "--vkey", log + "/log.vkey", "--entry", entry, base + "/bad"],
            "line 2: expected \"index N\"")
expect_fail(["log", "prove", "--dir", log, "--index", str(size)], "is not in the log")
expect_fail(["log", "prove", "--dir", log, "--index", "x"], "not a decimal number")
expect_fail(["log", "verify-proof", "--vkey", "garbage+key", "--entry", entry, base + "/p600"], "--vkey")
rc, proof, _ = run("log", "prove", "--dir", log, "--index", "3", "--extra", "aGVsbG8=", check=0)
expect(b"\nextra aGVsbG8=\nindex 3\n" in proof, "--extra carried")

# consistency: tlog-witness form, and it verifies against the old checkpoint
old_cp = open(log + "/checkpoint", "rb").read()
old_size = log_size(log)
run("log", "append", "--dir", log, stdin=b"later 1\nlater 2\nlater 3\n", check=0)
rc, out, _ = run("log", "consistency", "--dir", log, "--old", str(old_size), check=0)
expect(out.startswith(b"old %d\n" % old_size), "consistency: old line")
expect(out.endswith(open(log + "/checkpoint", "rb").read()), "consistency: ends with the checkpoint")
expect_fail(["log", "consistency", "--dir", log, "--old", str(log_size(log) + 1)], "larger than the log")
rc, out, _ = run("log", "consistency", "--dir", log, "--old", "0", check=0)
expect(out.startswith(b"old 0\n\n"), "consistency from 0 is empty")

# audit of the healthy log, with the old checkpoint as trusted
tr = os.path.join(base, "trusted")
open(tr, "wb").write(old_cp)
rc, out, _ = run("log", "audit", "--dir", log, "--vkey", log + "/log.vkey", "--trusted", tr, check=0)
expect(b"audit: OK" in out and b"the log only grew from it" in out, "audit OK with trusted checkpoint")

# readers run beside a writer: proofs and audits of a log that grows under them
import random
import threading
conc = os.path.join(base, "conc")
run("log", "init", "--dir", conc, "--origin", "bulwark.test/conc", check=0)
run("log", "append", "--dir", conc, stdin=b"seed 0\nseed 1\n", check=0)
writer = subprocess.Popen([BW, "log", "append", "--dir", conc, "--batch", "300", "--max-delay-ms", "1"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
feed = threading.Thread(target=lambda: (writer.stdin.write(
    b"".join(b"concurrent %d\n" % i for i in range(150000))), writer.stdin.close()))
feed.start()
rng = random.Random(7)
checked = 0
for k in range(25):
    size_now = log_size(conc)
    idx = rng.randrange(size_now)
    rc, proof, err = run("log", "prove", "--dir", conc, "--index", str(idx))
    if rc != 0:
        fail(f"prove beside a writer: {err}")
        break
    pf = os.path.join(base, "cp")
    open(pf, "wb").write(proof)
    open(entry, "wb").write(b"seed %d" % idx if idx < 2 else b"concurrent %d" % (idx - 2))
    rc, out, err = run("log", "verify-proof", "--vkey", conc + "/log.vkey", "--entry", entry, pf)
    if rc != 0:
        fail(f"verify-proof beside a writer (index {idx}): {err}")
        break
    checked += 1
    if k % 8 == 0:
        rc, out, err = run("log", "audit", "--dir", conc, "--vkey", conc + "/log.vkey")
        if rc != 0:
            fail(f"audit beside a writer: {out.decode()} {err}")
            break
feed.join()
writer.wait(timeout=120)
expect(writer.returncode == 0 and log_size(conc) == 150002, "the writer finished all lines")
expect(checked == 25, "25 proofs verified while the log grew")

# help and unknown commands
rc, out, _ = run("log", "--help", check=0)
expect(b"verify-proof --vkey VKEY --entry FILE [--transition T]... [--policy POLICY] PROOF" in out and b"rotate-key [--data DIR]" in out,
       "log --help documents commands")
rc, out, _ = run("log", "append", "--help", check=0)
expect_fail(["log", "frobnicate"], "unknown command")
expect_fail(["nosuch"], "unknown command")

shutil.rmtree(base)
finish("log_cli_test")
