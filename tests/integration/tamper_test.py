#!/usr/bin/env python3
"""
`bulwark log audit` tamper matrix: each way an intruder could rewrite history
must be detected, with a message naming what failed:
edited entry, deleted entry, truncated tail, reordered entries, replaced tile,
checkpoint signed by another key, fork (same size, other root), rollback
(log smaller than a trusted checkpoint), and a consistent rewrite re-signed
with the stolen log key (only a trusted checkpoint can catch it).
"""
import os
import shutil
import subprocess

from bwtest import (BW, expect, expect_fail, fail, finish, log_size, read_bundle, run, tile_path,
                    tmpdir, write_bundle)

base = tmpdir()
pristine = os.path.join(base, "pristine")
run("log", "init", "--dir", pristine, "--origin", "bulwark.test/tamper", check=0)
vkey = open(pristine + "/log.vkey").read().strip()
events = b"".join(b'{"seq":%d,"actor":"vendor","action":"ssh.login"}\n' % i for i in range(700))
run("log", "append", "--dir", pristine, "--batch", "100", stdin=events, check=0)
trusted = os.path.join(base, "trusted-700")
open(trusted, "wb").write(open(pristine + "/checkpoint", "rb").read())
run("log", "append", "--dir", pristine, stdin=b"later 1\nlater 2\n", check=0)
SIZE = log_size(pristine)  # 702

rc, out, _ = run("log", "audit", "--dir", pristine, "--vkey", vkey, "--trusted", trusted, check=0)
expect(b"entries:    0..701 recomputed" in out, "pristine audit covers 0..701")

n = 0


def case(name, mutate, want, trusted_cp=None):
    """Copies the pristine log, applies mutate(dir), expects audit to fail saying `want`."""
    global n
    n += 1
    d = os.path.join(base, "case%d" % n)
    shutil.copytree(pristine, d)
    mutate(d)
    args = ["log", "audit", "--dir", d, "--vkey", vkey]
    if trusted_cp:
        args += ["--trusted", trusted_cp]
    rc, out, err = run(*args)
    text = out.decode() + err
    if rc == 0:
        fail(f"{name}: audit passed a tampered log")
    elif want not in text:
        fail(f"{name}: audit output lacks '{want}':\n{text}")
    else:
        print(f"detected {name}: " + [l for l in text.splitlines() if l.startswith("FAIL")][0])


def edit_entry(d):
    p = os.path.join(d, tile_path("entries", 1))
    es = read_bundle(p)
    es[17] = es[17].replace(b"ssh.login", b"ssh.logon")
    write_bundle(p, es)


def delete_entry(d):
    p = os.path.join(d, tile_path("entries", 1))
    es = read_bundle(p)
    del es[17]
    write_bundle(p, es)


def truncate_tail(d):
    os.remove(os.path.join(d, tile_path("entries", 2, SIZE - 512)))


def reorder(d):
    p = os.path.join(d, tile_path("entries", 0))
    es = read_bundle(p)
    es[3], es[4] = es[4], es[3]
    write_bundle(p, es)


def replace_tile(d):
    p = os.path.join(d, tile_path(0, 1))
    data = bytearray(open(p, "rb").read())
    data[32 * 9] ^= 0x40
    open(p, "wb").write(data)


def foreign_key(d):
    # Re-sign the same checkpoint body with another key of the same name.
    other = os.path.join(d + "-k")
    run("log", "init", "--dir", other, "--origin", "bulwark.test/tamper", check=0)
    body = open(os.path.join(d, "checkpoint"), "rb").read().split(b"\n\n")[0] + b"\n"
    bodyf = os.path.join(d + "-k", "body")
    open(bodyf, "wb").write(body)
    rc, note, _ = run("note", "sign", "--key", os.path.join(other, "log.key"), bodyf, check=0)
    open(os.path.join(d, "checkpoint"), "wb").write(note)


def rewrite_with_stolen_key(d):
    # The intruder holds log.key: rebuild the log with one event changed and re-sign it.
    shutil.rmtree(os.path.join(d, "tile"))
    os.remove(os.path.join(d, "checkpoint"))
    key = open(os.path.join(d, "log.key")).read()
    fresh = d + "-re"
    run("log", "init", "--dir", fresh, "--origin", "bulwark.test/tamper", check=0)
    open(os.path.join(fresh, "log.key"), "w").write(key)
    # checkpoint of the empty tree re-signed with the stolen key
    rc, note, _ = run("note", "sign", "--key", os.path.join(fresh, "log.key"),
                      stdin=b"bulwark.test/tamper\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", check=0)
    open(os.path.join(fresh, "checkpoint"), "wb").write(note)
    forged = events.replace(b'{"seq":5,"actor":"vendor"', b'{"seq":5,"actor":"nobody"')
    run("log", "append", "--dir", fresh, stdin=forged + b"later 1\nlater 2\n", check=0)
    shutil.rmtree(d)
    shutil.copytree(fresh, d)


def roll_back(d):
    # Restore an older copy of the log (size 600), signed by the real key.
    shutil.rmtree(d)
    run("log", "init", "--dir", d, "--origin", "bulwark.test/tamper", check=0)
    shutil.copy(os.path.join(pristine, "log.key"), os.path.join(d, "log.key"))
    rc, note, _ = run("note", "sign", "--key", os.path.join(d, "log.key"),
                      stdin=b"bulwark.test/tamper\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", check=0)
    open(os.path.join(d, "checkpoint"), "wb").write(note)
    run("log", "append", "--dir", d, stdin=b"".join(events.splitlines(True)[:600]), check=0)


case("edited entry", edit_entry, "tile/0/001: hash 17 (entries 273..273) does not match")
case("deleted entry", delete_entry, "tile/entries/001")
case("truncated tail", truncate_tail, "tile/entries/002.p/190: missing")
case("reordered entries", reorder, "tile/0/000: hash 3 (entries 3..3) does not match")
case("replaced tile", replace_tile, "tile/0/001: hash 9 (entries 265..265) does not match")
case("checkpoint signed by another key", foreign_key, "checkpoint: checkpoint signature")
case("fork (rewrite re-signed with the stolen key)", rewrite_with_stolen_key,
     "fork: the entries give another root at the trusted size 700", trusted)
case("rollback (smaller than trusted)", roll_back, "is smaller than the trusted checkpoint (size 700)",
     trusted)



def edit_and_rebuild_tiles(d):
    # Entry and every tile rewritten consistently, but the signed checkpoint kept.
    cp = open(os.path.join(d, "checkpoint"), "rb").read()
    rewrite_with_stolen_key(d)
    open(os.path.join(d, "checkpoint"), "wb").write(cp)


case("edited entry with all tiles recomputed", edit_and_rebuild_tiles,
     "the entries give another root than the checkpoint at size 702")

# Same size, other root, both signed by the real key: a fork at equal size.
fork = os.path.join(base, "fork")
shutil.copytree(pristine, fork)
same_size_trusted = os.path.join(base, "trusted-702")
open(same_size_trusted, "wb").write(open(pristine + "/checkpoint", "rb").read())


def fork_same_size(d):
    rewrite_with_stolen_key(d)


case("fork at the same size", fork_same_size,
     "fork: the log has the trusted checkpoint's size 702 but another root", same_size_trusted)

# Without a trusted checkpoint the stolen-key rewrite is self-consistent: audit passes, and
# says so honestly (this is why checkpoints must be kept off-host / witnessed).
d = os.path.join(base, "stolen")
shutil.copytree(pristine, d)
rewrite_with_stolen_key(d)
rc, out, _ = run("log", "audit", "--dir", d, "--vkey", vkey)
expect(rc == 0, "a consistent rewrite with the real key passes without a trusted checkpoint")

# A rolled-back checkpoint (an older one, validly signed): the next writer must refuse to
# "recover" (which would set the newer entries aside), and say why; the trusted checkpoint
# exposes the rollback.
d = os.path.join(base, "rolled")
shutil.copytree(pristine, d)
before = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
open(os.path.join(d, "checkpoint"), "wb").write(open(trusted, "rb").read())  # size 700 < 702
rc, out, err = run("log", "append", "--dir", d, stdin=b"after rollback\n")
expect(rc != 0 and "older than the tiles" in err, f"the writer refuses a rolled-back checkpoint ({err.strip()})")
after = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
expect(before == after, "nothing was moved or deleted")
later = os.path.join(base, "trusted-702b")
open(later, "wb").write(open(pristine + "/checkpoint", "rb").read())
rc, out, _ = run("log", "audit", "--dir", d, "--vkey", vkey, "--trusted", later)
expect(rc != 0 and b"smaller than the trusted checkpoint" in out, "the audit exposes the rollback")

# The pristine log is untouched by all of this.
run("log", "audit", "--dir", pristine, "--vkey", vkey, "--trusted", trusted, check=0)
shutil.rmtree(base)
finish("tamper_test")
