#!/usr/bin/env python3
"""
`bulwark agent audit-rules`: the audit rules bulwark's detection rules expect. Bad design-data
directories are refused with the path named. Then the real auditctl loads every rule printed
(when this machine's kernel audit is free to use: root, no auditd running, no rules loaded; the
rules are removed and auditing is put back as it was afterwards). When audit cannot be used here
the test says so and exits 77, which ctest reports as skipped, not passed.
"""
import os
import shutil
import subprocess
import sys

from bwtest import expect, finish, run, tmpdir

base = tmpdir()
design = os.path.join(base, "design data")  # a space: refused
os.makedirs(design)
plain = os.path.join(base, "designs")
os.makedirs(plain)

rc, out, err = run("agent", "audit-rules", "--design-dir", plain)
out = out.decode()
rules = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
expect(rc == 0, f"audit-rules: exit {rc} {err}")
for want in ["-a always,exit -F arch=b64 -S execve,execveat -k bulwark-exec",
             "-w /etc/passwd -p wa -k bulwark-identity",
             "-w /etc/ssh/sshd_config -p wa -k bulwark-identity",
             "-w /etc/ld.so.preload -p wa -k bulwark-loader",
             "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k bulwark-modules",
             "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k bulwark-time",
             f"-w {plain} -p r -k bulwark-design"]:
    expect(want in rules, f"audit-rules prints {want!r}:\n{out}")
for bad, why in [(design, "spaces and control characters"), ("relative/dir", "not an absolute path"),
                 (plain + "/../x", "'.' and '..' are not allowed"), (os.path.join(base, "missing"), "not a directory")]:
    rc, _, err = run("agent", "audit-rules", "--design-dir", bad)
    expect(rc == 2 and why in err and bad[:40] in err, f"audit-rules refuses {bad!r} ({why}): {rc} {err}")

# ---- the real auditctl loads every rule ----
auditctl = shutil.which("auditctl") or "/usr/sbin/auditctl"
expect(os.path.exists(auditctl), "auditctl (Debian package auditd) is installed")


def actl(*args):
    return subprocess.run([auditctl, *args], capture_output=True, text=True, timeout=60)


status = actl("-s") if os.geteuid() == 0 and os.path.exists(auditctl) else None
usable = (status is not None and status.returncode == 0 and "pid 0" in status.stdout and
          actl("-l").stdout.strip() == "No rules")
if not usable:
    finish("audit_rules_test (rule text)")
    print("audit_rules_test: SKIPPED the auditctl load: kernel audit is not free to use here "
          "(needs root, no auditd running, no rules loaded)")
    sys.exit(77)
enabled = [ln.split()[1] for ln in status.stdout.splitlines() if ln.startswith("enabled ")]
path = os.path.join(base, "50-bulwark.rules")
with open(path, "w") as f:
    f.write(out)
try:
    p = actl("-R", path)
    expect(p.returncode == 0, f"auditctl -R loads every rule audit-rules printed: {p.returncode} {p.stderr}")
    listed = [ln for ln in actl("-l").stdout.splitlines() if ln.strip()]
    expect(len(listed) == len(rules), f"auditctl lists {len(listed)} rules, audit-rules printed {len(rules)}")
    expect(any("bulwark-design" in ln and plain in ln for ln in listed), f"the design watch is loaded: {listed}")
finally:
    actl("-D")
    if enabled:
        actl("-e", enabled[0])
expect(actl("-l").stdout.strip() == "No rules", "the rules were removed again")
print(f"audit_rules_test: auditctl loaded all {len(rules)} rules")
finish("audit_rules_test")
