"""Helpers shared by the integration tests: run the bulwark CLI, read a log directory."""
import os
import time
import shutil
import subprocess
import sys
import tempfile

BW = os.environ.get("BULWARK") or (sys.argv[1] if len(sys.argv) > 1 else "build/bulwark")
FAILURES = []


def run(*args, stdin=None, check=None):
    """Runs bulwark; returns (rc, stdout bytes, stderr text). check=0/1 asserts the exit code."""
    p = subprocess.run([BW, *args], input=stdin, capture_output=True, timeout=300)
    if check is not None and p.returncode != check:
        fail(f"bulwark {' '.join(args)}: exit {p.returncode}, want {check}\n{p.stderr.decode()}")
    return p.returncode, p.stdout, p.stderr.decode()


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_fail(args, want, stdin=None):
    """bulwark must exit non-zero and say `want` (stderr or stdout)."""
    rc, out, err = run(*args, stdin=stdin)
    text = err + out.decode(errors="replace")
    if rc == 0:
        fail(f"bulwark {' '.join(args)} succeeded; expected failure with '{want}'")
    elif want not in text:
        fail(f"bulwark {' '.join(args)}: output lacks '{want}':\n{text}")
    return rc, out, err


def tmpdir():
    d = tempfile.mkdtemp(prefix="bwtest-")
    return d


def tile_path(level, n, width=256):
    groups = []
    while True:
        groups.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    p = "/".join(("x" + g) for g in groups[:-1])
    p = (p + "/" if p else "") + groups[-1]
    prefix = "tile/entries/" if level == "entries" else "tile/%d/" % level
    return prefix + p + (".p/%d" % width if width < 256 else "")


def read_bundle(path):
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        n = data[i] << 8 | data[i + 1]
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


def write_bundle(path, entries):
    with open(path, "wb") as f:
        for e in entries:
            f.write(bytes([len(e) >> 8, len(e) & 255]) + e)


def log_size(d):
    return int(open(os.path.join(d, "checkpoint")).read().split("\n")[1])


def read_entries(d):
    """All entries of the log in d, from its bundles (partial: the exact width)."""
    size = log_size(d)
    out = []
    for n in range((size + 255) // 256):
        w = min(256, size - n * 256)
        out.extend(read_bundle(os.path.join(d, tile_path("entries", n, w)))[:w])
    return out


def finish(name):
    if FAILURES:
        print(f"{name}: {len(FAILURES)} failure(s)", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: all checks passed")


def wait_for(what, fn, secs=30):
    """fn() until it gives something true (returned), at most secs seconds; else the test fails."""
    end = time.time() + secs
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    fail(f"timed out waiting for {what}")
