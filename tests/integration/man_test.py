#!/usr/bin/env python3
"""
Man pages and bash completion, both taken from bulwark's own --help: scripts/man.sh writes bulwark(1) and a page
for every command `bulwark --help` lists, each rendering without a groff warning and holding that command's usage;
contrib/bash-completion/bulwark completes commands, subcommands and options (with and without the bash-completion
package's helpers loaded).
"""
import os
import re
import subprocess

from bwtest import BW, expect, finish, tmpdir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
base = tmpdir()
out = os.path.join(base, "man")
p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "man.sh"), BW, out], capture_output=True, timeout=120)
expect(p.returncode == 0, f"scripts/man.sh: {p.stderr.decode()}")
top = subprocess.run([BW, "--help"], capture_output=True).stdout.decode()
cmds = [m for m in re.findall(r"^  ([a-z][a-z-]*)  ", top, re.M) if m != "version"]
expect(len(cmds) >= 20, f"the commands of bulwark --help: {cmds}")
for name in ["bulwark"] + ["bulwark-" + c for c in cmds]:
    page = os.path.join(out, name + ".1")
    if not os.path.exists(page):
        expect(False, f"{name}.1 is missing")
        continue
    g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-P-cbou", page], capture_output=True, timeout=60)
    text = g.stdout.decode()
    expect(g.returncode == 0 and g.stderr == b"", f"{name}.1 renders without warnings: {g.stderr.decode()[:300]}")
    if name != "bulwark":
        helptext = subprocess.run([BW, name[8:], "--help"], capture_output=True).stdout.decode() or \
            subprocess.run([BW, name[8:], "--help"], capture_output=True).stderr.decode()
        first = helptext.strip().splitlines()[0].split()
        expect(all(w in text for w in first[:4]), f"{name}.1 holds its usage ({' '.join(first[:4])})")

# bash completion, from a directory where `bulwark` is this build
bindir = os.path.join(base, "bin")
os.makedirs(bindir)
os.symlink(os.path.abspath(BW), os.path.join(bindir, "bulwark"))
comp = os.path.abspath(os.path.join(ROOT, "contrib", "bash-completion", "bulwark"))


def complete(words, with_package):
    pre = "source /usr/share/bash-completion/bash_completion 2>/dev/null; " if with_package else ""
    script = pre + "source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE='%s'; COMP_POINT=${#COMP_LINE}; _bulwark; " \
        "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (comp, " ".join("'%s'" % w for w in words), len(words) - 1, " ".join(words))
    r = subprocess.run(["bash", "-c", script], capture_output=True, timeout=60,
                       env=dict(os.environ, PATH=bindir + ":" + os.environ["PATH"]))
    return sorted(r.stdout.decode().split())


for pkg in (False, True):
    if pkg and not os.path.exists("/usr/share/bash-completion/bash_completion"):
        expect(False, "the bash-completion package is installed (scripts/deps.sh)")
        continue
    how = "with bash-completion" if pkg else "on its own"
    expect(complete(["bulwark", "rep"], pkg) == ["report"], f"a command ({how}): {complete(['bulwark', 'rep'], pkg)}")
    expect(complete(["bulwark", "report", "sh"], pkg) == ["share", "show"],
           f"subcommands ({how}): {complete(['bulwark', 'report', 'sh'], pkg)}")
    expect("--collection" in complete(["bulwark", "report", "share", "--col"], pkg), f"an option ({how})")
    expect(complete(["bulwark", "feed", "add", "x", "--partner-c"], pkg) == ["--partner-cacert"], f"another ({how})")
finish("man_test")
