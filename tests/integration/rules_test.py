#!/usr/bin/env python3
"""
`bulwark rules check`: every SigmaHQ Linux rule loads unmodified (the count is in docs/DETECT.md);
hostile and malformed rule files are refused one by one with the file, the line and the reason,
while the good file beside them loads; nothing a rule file holds reaches the terminal raw.
With BULWARK_AGENT_VALGRIND (an unsanitised bulwark; `make check` sets it) both runs repeat under
valgrind memcheck, since the YAML and PCRE2 parsing happens inside uninstrumented libraries.
"""
import json
import os
import subprocess

from bwtest import BW, expect, fail, finish, run, tmpdir

os.environ["TZ"] = "UTC"  # enrich.business_hours is local time: fix it for the expectations below

SIGMA = os.environ.get("BW_SIGMA_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "sigma", "rules", "linux")
VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")

GOOD = """title: a good rule
id: 5c0b3f6e-0000-4000-8000-000000000001
status: test
logsource:
    product: linux
    service: auditd
detection:
    sel:
        type: EXECVE
        a0|endswith: '/nc'
    condition: sel
level: high
"""

BAD = {
    "unsupported_modifier.yml": (GOOD.replace("a0|endswith", "a0|wide"), ":10: unsupported modifier 'wide'"),
    "alias_bomb.yml": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: [*b, *b, *b, *b, *b, *b, *b, *b]\n", "anchors and aliases are not supported"),
    "deep.yml": ("title: t\nx: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "syntax.yml": ("title: t\n  bad: indentation\n: :\n", "YAML"),
    "aggregation.yml": (GOOD.replace("condition: sel", "condition: sel | count() > 5"), "aggregations"),
    "unknown_id.yml": (GOOD.replace("condition: sel", "condition: sel and nothere"), "unknown search identifier"),
    "bad_regex.yml": (GOOD.replace("a0|endswith: '/nc'", "a0|re: '(?<=a+)b'"), "regular expression"),
    "two_docs.yml": (GOOD + "---\n" + GOOD, ":1: the rule id '5c0b3f6e-0000-4000-8000-000000000001' is already that of "
                     "the rule 'a good rule'"),
    "escape\x1b[2J.yml": (GOOD.replace("a0|endswith", "a0|\x1b]0;owned\x07"), "control characters are not allowed"),
    "binary.yml": ("title: t\x00\x01\x02\n", "YAML"),
}


def check(args, valgrind):
    cmd = [BW if not valgrind else VALGRIND_BW, "rules", "check", *args]
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
               *cmd]
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    if p.returncode == 99:
        fail(f"valgrind memcheck found an error in rules check {args}:\n{out[-3000:]}")
    return p.returncode, p.stdout.decode(errors="replace"), out


base = tmpdir()
rules = os.path.join(base, "rules")
os.makedirs(os.path.join(rules, "nested"))
with open(os.path.join(rules, "nested", "good.yml"), "w") as f:
    f.write(GOOD)
with open(os.path.join(rules, "not-a-rule.txt"), "w") as f:
    f.write("ignored: only .yml and .yaml files are rules\n")
with open(os.path.join(rules, "huge.yaml"), "w") as f:
    f.write("title: t\n" + "# padding\n" * 120000)
for name, (text, _) in BAD.items():
    with open(os.path.join(rules, name), "wb") as f:
        f.write(text.encode())

for valgrind in ([False, True] if VALGRIND_BW else [False]):
    label = " (valgrind)" if valgrind else ""
    if os.path.isdir(SIGMA):
        rc, out, allout = check([SIGMA], valgrind)
        expect(rc == 0, f"SigmaHQ linux rules{label}: exit {rc}\n{allout[-2000:]}")
        expect("210 rule files: 210 loaded (6 of them can never fire: no such events or fields collected), 0 refused" in out,
               f"SigmaHQ linux rules{label}: {out[-500:]}")
    else:
        fail(f"the SigmaHQ rules are needed at {SIGMA} (or BW_SIGMA_DIR)")

    rc, out, allout = check([rules], valgrind)
    expect(rc == 1, f"a directory with refused rules exits 1{label}, got {rc}")
    expect(f"{len(BAD) + 2} rule files: 1 loaded" in out, f"counts{label}: {out[-400:]}")
    for name, (_, reason) in BAD.items():
        shown = name.replace("\x1b", "?")
        lines = [ln for ln in out.splitlines() if ln.startswith("refused: ") and shown in ln]
        expect(len(lines) == 1, f"{name!r}{label}: refused once, got {lines}")
        if lines and reason:
            expect(reason in lines[0], f"{name!r}{label}: want {reason!r} in {lines[0]!r}")
    expect("larger than" in out and "huge.yaml" in out, f"an oversized file is refused{label}")
    expect("\x1b" not in out and "\x07" not in out, f"control characters reach the terminal{label}")
    expect("not-a-rule.txt" not in out, f"only .yml/.yaml files are read{label}")

# rules test: events as JSON lines against the SigmaHQ rules, each match with the fields that matched.
events = os.path.join(base, "events.jsonl")
with open(events, "w") as f:
    f.write('{"key":"susp_activity","exe":"/usr/bin/nc"}\n')
    f.write('\n')
    f.write('{"ParentImage":"/tmp/.x/dropper","Image":"/usr/bin/bash","CommandLine":"bash"}\n')
    f.write('{"ParentImage":"/usr/sbin/sshd","Image":"/usr/bin/bash","CommandLine":"bash"}\n')
    f.write('{"details":{"roles":["admin","auditor"]},"n":3,"ok":true,"nothing":null}\n')
bad_events = os.path.join(base, "bad.jsonl")
with open(bad_events, "w") as f:
    f.write('{"key":"susp_activity"}\nnot json\n["an array"]\n' + '{"a":' * 40 + '1' + '}' * 40 + '\n')
for valgrind in ([False, True] if VALGRIND_BW else [False]):
    label = " (valgrind)" if valgrind else ""
    cmd = [VALGRIND_BW if valgrind else BW, "rules", "test", SIGMA, events]
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite", *cmd]
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    out = p.stdout.decode()
    expect(p.returncode == 0, f"rules test{label}: exit {p.returncode}\n{p.stderr.decode()[-2000:]}")
    expect("events.jsonl:1: medium Suspicious C2 Activities [f7158a64-6204-4d6d-868a-6e6378b467e0] matched: key" in out,
           f"rules test{label}: the auditd key rule fires: {out}")
    expect("events.jsonl:3: high Shell Execution Of Process Located In Tmp Directory" in out and
           "matched: ParentImage, Image" in out, f"rules test{label}: the /tmp parent rule fires: {out}")
    expect("events.jsonl:4: critical Linux Reverse Shell Indicator" in out,
           f"rules test{label}: without --source every rule is tried (a network_connection rule here): {out}")
    expect("4 events, 210 rules," in out and "0 bad lines" in out, f"rules test{label}: summary: {out}")
    p = subprocess.run(cmd[:-2] + ["--source", "process_creation"] + cmd[-2:], capture_output=True, timeout=900)
    out = p.stdout.decode()
    expect(p.returncode == 0 and "events.jsonl:4:" not in out and "events.jsonl:1:" not in out and
           "events.jsonl:3: high Shell Execution Of Process Located In Tmp Directory" in out,
           f"rules test --source process_creation{label}: only that source's rules: {out}")
    cmd[-1] = bad_events
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    err = p.stderr.decode()
    expect(p.returncode == 1, f"rules test{label}: bad lines exit 1, got {p.returncode}")
    expect("bad.jsonl:2: not JSON" in err and "bad.jsonl:3: not a JSON object" in err and
           "bad.jsonl:4: nested deeper than 16 levels" in err, f"rules test{label}: each bad line named: {err}")
    expect("1 events, 210 rules, 1 matches, 3 bad lines" in p.stdout.decode(), f"rules test{label}: {p.stdout.decode()}")

# rules test over auditd's own log: a scenario recorded with the real auditd (tests/data/auditd/record.sh),
# matched as records, process_creation, file_event and network_connection by SigmaHQ's rules.
SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "auditd", "scenario.log")
hostile_audit = os.path.join(base, "hostile-audit.log")
with open(SCENARIO, "rb") as f:
    scenario = f.read()
with open(hostile_audit, "wb") as f:
    lines_ = scenario.split(b"\n")
    f.write(b"garbage\n" + b"\n".join(lines_[:40]) + b"\ntype=SYSCALL msg=audit(1.000:9): a=\x00b\n" +
            b"type=EXECVE msg=audit(1700000000.000:9): argc=2 a0=" + b"41" * 20000 + b"\n" +
            b"type=EXECVE msg=audit(1700000000.000:10): argc=3 a0=ZZ a1=4 a2[0]=41 a2[1]=\n" +
            b"type=SOCKADDR msg=audit(1700000000.000:10): saddr=0A00\n" +
            b"type=PROCTITLE msg=audit(1700000000.000:11): proctitle=00000.123:4242):\n" + b"\n".join(lines_[-40:]))
for valgrind in ([False, True] if VALGRIND_BW else [False]):
    label = " (valgrind)" if valgrind else ""
    cmd = [VALGRIND_BW if valgrind else BW, "rules", "test", SIGMA, SCENARIO]
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite", *cmd]
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    out = p.stdout.decode()
    expect(p.returncode == 0, f"rules test auditd{label}: exit {p.returncode}\n{p.stderr.decode()[-2000:]}")
    for want in ["(auditd): medium Program Executions in Suspicious Folders [a39d7fa7-3fbd-4dc2-97e1-d87f546b1bbc] "
                 "matched: type, exe",
                 "(auditd): low Use Of Hidden Paths Or Files [9e1bef8d-0fff-46f6-8465-9aa54e128c1e] matched: type, name",
                 "(process_creation): high Process Execution From Shared Memory Directory",
                 "(process_creation): medium Potentially Suspicious Execution From Tmp Folder",
                 "(process_creation): high Audit Rules Deleted Via Auditctl [bed26dea-4525-47f4-b24a-76e30e44ffb0] "
                 "matched: Image, CommandLine",
                 "(file_event): high Triple Cross eBPF Rootkit Default LockFile [c0239255-822c-4630-b7f1-35362bcb8f44] "
                 "matched: TargetFilename"]:
        expect(want in out, f"rules test auditd{label}: expected {want!r} in:\n{out}")
    expect(" 0 bad lines" in out, f"rules test auditd{label}: {out}")
    p = subprocess.run(cmd[:-2] + ["--source", "file_event"] + cmd[-2:], capture_output=True, timeout=900)
    out = p.stdout.decode()
    expect(p.returncode == 0 and "(file_event)" in out and "(process_creation)" not in out and "(auditd)" not in out,
           f"rules test auditd --source file_event{label}: {out}")
    cmd[-1] = hostile_audit
    p = subprocess.run(cmd[:-2] + ["--format", "auditd"] + cmd[-2:], capture_output=True, timeout=900)
    err = p.stderr.decode()
    expect(p.returncode == 1, f"rules test hostile auditd{label}: exit {p.returncode} {err[-2000:]}")
    expect("hostile-audit.log:1: not an auditd record: no 'type=' at the start of the record" in err and
           "not an auditd record: a NUL byte in the record" in err and
           "not an auditd record: the record is longer than 16384 bytes" in err,
           f"rules test hostile auditd{label}: each bad line named: {err}")
    expect(" 3 bad lines" in p.stdout.decode(), f"rules test hostile auditd{label}: {p.stdout.decode()}")

# bulwark's shipped rules: each fires on its positive event and stays quiet on its negatives.
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules", "bulwark")
T = '"time":"2026-11-27T%02d:00:00.000Z"'
POS = {
    "New admin or approver": [
        '{"action":"role_grant.approve","actor":"ann","result":"ok","details":{"grant_id":3,"requested_by":"bob","roles":["approver"]}}',
        '{"action":"user.roles","actor":"local","result":"ok","details":{"from":["staff"],"to":["staff","admin"]}}'],
    "A host's agent refused a patch target": [
        '{"action":"patch.install","actor":"host web1","result":"ok","details":{"host":"web1","reported":"refused","reason":"hash mismatch"}}'],
    "Sign-in locked out after repeated failures": [
        '{"action":"auth.lockout","actor":"-","result":"alert","details":{"client":"10.0.0.9","failures":5,"until":1}}'],
    "The audit log set files aside when it was opened": [
        '{"action":"log.recovered","actor":"-","result":"alert","details":{"files_set_aside":3}}'],
    "Patch metadata on the server's disk was changed": [
        '{"action":"alert.patch_repository_changed","actor":"-","result":"alert","details":{}}'],
    "A host went silent, lost events, or runs on a far-off clock": [
        '{"action":"host.silent","actor":"-","result":"alert","details":{"host":"web1","last_at":1}}',
        '{"action":"host.losses","actor":"host web1","result":"alert","details":{"host":"web1","lost":2,"count":1}}',
        '{"action":"host.clock","actor":"host web1","result":"alert","details":{"host":"web1","skew_ms":-300000}}',
        '{"action":"host.gap","actor":"host web1","result":"alert","details":{"host":"web1","seq":9,"count":1}}'],
    "A log this server witnesses showed a fork": [
        '{"action":"witness.fork","actor":"-","result":"alert","details":{"reason":"size 8 was cosigned with another root","count":1}}'],
    "A witness of this server's log holds another history of it": [
        '{"action":"log.witness_alarm","actor":"-","result":"alert","details":{"reason":"422: size 8 was cosigned with another root"}}'],
    "A reported mail or file is a threat": [
        '{"action":"report.triaged","actor":"-","result":"alert","details":{"verdict":"threat","score":100,"sha256":"aa"}}'],
    "A host's agent began a new stream": [
        '{"action":"host.epoch","actor":"host web1","result":"ok","details":{"host":"web1","epoch":"00"}}'],
}
NEG = [
    '{"action":"report.triaged","actor":"-","result":"ok","details":{"verdict":"suspicious","score":30,"sha256":"aa"}}',
    '{"action":"role_grant.approve","actor":"ann","result":"denied","details":{"roles":["admin"]}}',
    '{"action":"role_grant.approve","actor":"ann","result":"ok","details":{"roles":["auditor"]}}',
    '{"action":"user.roles","actor":"ann","result":"ok","details":{"from":["admin"],"to":["admin","auditor"]}}',
    '{"action":"user.roles","actor":"ann","result":"ok","details":{"from":["staff"],"to":["staff"],"pending_roles":["admin"]}}',
    '{"action":"patch.install","actor":"host web1","result":"ok","details":{"host":"web1","reported":"installed"}}',
    '{"action":"auth.login","actor":"bob","result":"denied","details":{"reason":"bad password"}}',
    '{"action":"server.start","actor":"-","result":"ok","details":{}}',
    '{"action":"host.heartbeat","actor":"host web1","result":"refused","details":{"host":"web1"}}',
    '{"action":"host.events","actor":"host web1","result":"denied","details":{"host":"web1","seq":2}}',
    '{"action":"witness.add","actor":"-","result":"ok","details":{}}',
]
shipped_events = os.path.join(base, "shipped.jsonl")
lines = []
for title, evs in POS.items():
    lines += [(title, e) for e in evs]
lines += [(None, e) for e in NEG]
with open(shipped_events, "w") as f:
    for i, (_, e) in enumerate(lines):
        f.write(e[:-1] + "," + T % (i % 24) + "}\n")
rc, out, err = run("rules", "test", "--source", "bulwark", SHIPPED, shipped_events)
out = out.decode()
expect(rc == 0, f"shipped rules test: exit {rc} {err}")
for i, (title, _) in enumerate(lines):
    hits = [ln for ln in out.splitlines() if ln.startswith(f"{shipped_events}:{i + 1}: ") and
            "no alert of its own" not in ln]
    if title is None:
        expect(hits == [], f"shipped rules: negative event {i + 1} fired: {hits}")
    else:
        expect(len(hits) == 1 and title in hits[0], f"shipped rules: event {i + 1} should fire {title!r}: {hits}")

# the shipped SSH correlation over sshd's messages: five failures from one address, then a success from it
ssh = os.path.join(base, "ssh.jsonl")
with open(ssh, "w") as f:
    for addr, fails, hour in (("192.0.2.77", 5, 8), ("192.0.2.78", 4, 9)):
        for k in range(fails):
            f.write(json.dumps({"time": "2026-11-28T%02d:00:%02d.000Z" % (hour, k), "program": "sshd",
                                "message": "Failed password", "Computer": "web2", "action": "login",
                                "object": addr, "result": "failure"}) + "\n")
        f.write(json.dumps({"time": "2026-11-28T%02d:01:00.000Z" % hour, "program": "sshd", "message": "Accepted",
                            "Computer": "web2", "action": "login", "object": addr, "result": "success"}) + "\n")
rc, out, err = run("rules", "test", "--source", "sshd", SHIPPED, ssh)
alerts = [ln for ln in out.decode().splitlines() if "correlated" in ln and "no alert of its own" not in ln]
expect(rc == 0 and len(alerts) == 1 and "Repeated failed SSH logins" in alerts[0] and "192.0.2.77" in alerts[0],
       f"the SSH correlation fires on five failures then a success, not on four: {out.decode()}")

# a certificate login outside its grant: the server's enrichment (enrich.grant*) given as the server adds it
# (the live path, a real sshd and agent, is in access_test)
grant = os.path.join(base, "grant.jsonl")
GRANT = [  # (fires, grant state, host in the grant, account in the grant, result)
    (False, "active", "true", "true", "success"), (True, "revoked", "true", "true", "success"),
    (True, "expired", "true", "true", "success"), (True, "not_yet", "true", "true", "success"),
    (True, "not_issued", "true", "true", "success"), (True, "unknown", "false", "false", "success"),
    (True, "active", "false", "true", "success"), (True, "active", "true", "false", "success"),
    (False, "revoked", "true", "true", "failure"), (False, None, None, None, "success")]
with open(grant, "w") as f:
    for k, (_, state, host_ok, acct_ok, result) in enumerate(GRANT):
        ev = {"time": "2026-11-28T10:00:%02d.000Z" % k, "program": "sshd", "Computer": "web1", "action": "login",
              "object": "192.0.2.9", "result": result, "User": "root",
              "message": "Accepted publickey for root from 192.0.2.9 port 5 ssh2: ED25519-CERT SHA256:x ID req-7:v "
                         "(serial 7) CA ED25519 SHA256:y"}
        if state is not None:
            ev.update({"enrich.grant": state, "enrich.grant_request": "7", "enrich.grant_host": host_ok,
                       "enrich.grant_account": acct_ok})
        f.write(json.dumps(ev) + "\n")
rc, out, err = run("rules", "test", "--source", "sshd", SHIPPED, grant)
out = out.decode()
expect(rc == 0, f"grant rule test: exit {rc} {err}")
for k, (fires, *_rest) in enumerate(GRANT):
    hits = [ln for ln in out.splitlines() if ln.startswith(f"{grant}:{k + 1}: ") and "outside its grant" in ln]
    expect(len(hits) == (1 if fires else 0), f"certificate login {GRANT[k]}: fires {fires}, got {hits}")

# file integrity (file_change) and the agents' own actions (agent): each shipped rule fires and stays quiet
for source, title, cases in (
        ("file_change", "changed on disk (file integrity)", [
            (True, {"TargetFilename": "/etc/sudoers", "action": "changed", "User": "0", "Computer": "web1"}),
            (True, {"TargetFilename": "/etc/sudoers.d/90-vendor", "action": "created", "Computer": "web1"}),
            (True, {"TargetFilename": "/home/ann/.ssh/authorized_keys", "action": "attributes", "Computer": "web1"}),
            (True, {"TargetFilename": "/etc/ld.so.preload", "action": "deleted", "Computer": "web1"}),
            (False, {"TargetFilename": "/etc/sudoers.bak", "action": "changed", "Computer": "web1"}),
            (False, {"TargetFilename": "/etc/hostname", "action": "changed", "Computer": "web1"}),
            (False, {"TargetFilename": "/home/ann/.ssh/known_hosts", "action": "changed", "Computer": "web1"})]),
        ("agent", "tried to outlive its window", [
            (True, {"action": "session.begin", "result": "failure", "subject": "uid=1001", "object": "session 7"}),
            (True, {"action": "session.kill", "result": "success", "subject": "uid=1001", "object": "session 7"}),
            (False, {"action": "session.begin", "result": "success", "subject": "uid=1001", "object": "session 8"}),
            (False, {"action": "session.terminate", "result": "success", "object": "session 8"}),
            (False, {"action": "session.end", "result": "success", "object": "session 8"}),
            (False, {"action": "patch.refused", "result": "failure", "object": "hotfix.bin"})])):
    path = os.path.join(base, source + ".jsonl")
    with open(path, "w") as f:
        for k, (_, ev) in enumerate(cases):
            f.write(json.dumps(dict(ev, time="2026-11-28T10:00:%02d.000Z" % k)) + "\n")
    rc, out, err = run("rules", "test", "--source", source, SHIPPED, path)
    out = out.decode()
    expect(rc == 0, f"rules test --source {source}: exit {rc} {err}")
    for k, (fires, ev) in enumerate(cases):
        hits = [ln for ln in out.splitlines() if ln.startswith(f"{path}:{k + 1}: ") and title in ln]
        expect(len(hits) == (1 if fires else 0), f"{source} event {ev}: fires {fires}, got {hits}")

# bulwark's shipped host rules over auditd's log: the recorded scenario fires them; crafted near misses do not.
rc, out, err = run("rules", "test", SHIPPED, SCENARIO)
out = out.decode()
expect(rc == 0, f"shipped host rules on the scenario: exit {rc} {err}")
for title, n in [("A program ran from /tmp, /dev/shm or a hidden directory", 3),
                 ("A login, privilege or loader file was changed", 2),
                 ("auditd stopped, auditing switched off, or audit rules changed", 7)]:
    expect(sum(title in ln for ln in out.splitlines()) == n, f"shipped host rule {title!r} should fire {n} times: {out}")
HOST_POS = {  # serial: (title, records)
    1: ("A program ran from /tmp, /dev/shm or a hidden directory",
        'type=SYSCALL msg=audit(1795845114.000:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=50 auid=1000 '
        'uid=1000 exe="/opt/app/.cache-x/run"\ntype=EXECVE msg=audit(1795845114.000:1): argc=1 a0="run"'),
    2: ("A login, privilege or loader file was changed",
        'type=SYSCALL msg=audit(1795845114.000:2): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=51 auid=1000 '
        'uid=0 exe="/usr/bin/vi"\ntype=PATH msg=audit(1795845114.000:2): item=1 '
        'name="/home/bob/.ssh/authorized_keys" nametype=NORMAL'),
    3: ("auditd stopped, auditing switched off, or audit rules changed",
        'type=CONFIG_CHANGE msg=audit(1795845114.000:3): op=set audit_enabled=0 old=1 auid=1000 ses=2 res=1'),
    4: ("auditd stopped, auditing switched off, or audit rules changed",
        'type=CONFIG_CHANGE msg=audit(1795845114.000:4): auid=1000 ses=2 op=add_rule key="x" list=4 res=1'),
    5: ("auditd stopped, auditing switched off, or audit rules changed",
        'type=SERVICE_STOP msg=audit(1795845114.000:5): pid=1 uid=0 auid=4294967295 ses=4294967295 '
        'msg=\'unit=auditd comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success\''),
}
HOST_NEG = [
    'type=SYSCALL msg=audit(1795845114.000:11): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=60 auid=1000 '
    'uid=1000 exe="/usr/bin/ls"\ntype=EXECVE msg=audit(1795845114.000:11): argc=1 a0="ls"',
    'type=SYSCALL msg=audit(1795845114.000:12): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=61 auid=1000 '
    'uid=1000 exe="/home/alice/.local/bin/pip"\ntype=EXECVE msg=audit(1795845114.000:12): argc=1 a0="pip"',
    'type=SYSCALL msg=audit(1795845114.000:13): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=62 auid=1000 '
    'uid=1000 exe="/tmp/x"\ntype=EXECVE msg=audit(1795845114.000:13): argc=1 a0="/tmp/x"',
    'type=SYSCALL msg=audit(1795845114.000:14): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=63 auid=1000 '
    'uid=0 exe="/usr/bin/vi"\ntype=PATH msg=audit(1795845114.000:14): item=0 name="/etc/hosts" nametype=NORMAL',
    'type=SYSCALL msg=audit(1795845114.000:15): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=64 auid=1000 '
    'uid=0 exe="/usr/bin/visudo"\ntype=PATH msg=audit(1795845114.000:15): item=0 name="/etc/sudoers.d/" '
    'nametype=PARENT',
    'type=CONFIG_CHANGE msg=audit(1795845114.000:16): auid=4294967295 ses=4294967295 op=add_rule key="exec" list=4 res=1',
    'type=DAEMON_START msg=audit(1795845114.000:17): op=start ver=3.0.9 format=enriched auid=4294967295 pid=9 uid=0 '
    'ses=4294967295 res=success',
    'type=SERVICE_STOP msg=audit(1795845114.000:18): pid=1 uid=0 auid=4294967295 ses=4294967295 '
    'msg=\'unit=cron comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success\'',
]
host_events = os.path.join(base, "host.log")
with open(host_events, "w") as f:
    for _, recs in HOST_POS.values():
        f.write(recs + "\n")
    for recs in HOST_NEG:
        f.write(recs + "\n")
rc, out, err = run("rules", "test", SHIPPED, host_events)
out = out.decode()
expect(rc == 0 and f"{len(HOST_POS) + len(HOST_NEG)} events, " in out, f"shipped host rules: exit {rc} {out} {err}")
for serial, (title, _) in HOST_POS.items():
    hits = [ln for ln in out.splitlines() if f": event {serial} (" in ln]
    expect(len(hits) == 1 and title in hits[0], f"shipped host rules: event {serial} should fire {title!r}: {hits}")
for serial in range(11, 11 + len(HOST_NEG)):
    hits = [ln for ln in out.splitlines() if f": event {serial} (" in ln]
    expect(hits == [], f"shipped host rules: negative event {serial} fired: {hits}")

# bulwark's shipped correlations: wrong one-time codes then a sign-in; bulk reads of design data.
OTP = "Repeated wrong one-time codes for an account, then a successful sign-in"
otp_events = os.path.join(base, "otp.jsonl")
seq = []  # (minute, user, result, reason)
for u, reason, n, gap in [("bob", "bad TOTP code", 3, 1), ("eve", "bad TOTP code", 2, 1),
                          ("carl", "bad password", 4, 1), ("dan", "TOTP code replayed", 3, 40),
                          ("fay", "bad recovery code", 3, 29)]:
    seq += [(i, u, "denied", reason) for i in range(n)]
    seq.append((n - 1 + gap, u, "ok", "password + TOTP"))
seq.sort()
with open(otp_events, "w") as f:
    for m, u, res, reason in seq:
        f.write('{"time":"2026-11-27T10:%02d:00Z","action":"auth.login","actor":"%s","target":"user:%s",'
                '"result":"%s","details":{"reason":"%s"}}\n' % (m, u, u, res, reason))
rc, out, err = run("rules", "test", SHIPPED, otp_events)
out = out.decode()
fired = [ln for ln in out.splitlines() if OTP in ln]
expect(rc == 0 and len(fired) == 2 and any("target=user:bob" in ln for ln in fired) and
       any("target=user:fay" in ln for ln in fired) and all("correlated (temporal_ordered): 2" in ln for ln in fired),
       f"the OTP correlation fires for bob and fay only (eve: 2 failures, carl: wrong password, dan: 40 min later): {out}")

DESIGN = "One user read many files of a design-data directory within an hour"
design_log = os.path.join(base, "design.log")
serial = [100]


def read_event(f, t, auid, path, key="bulwark-design", node="ws1"):
    serial[0] += 1
    n = serial[0]
    f.write(f'node={node} type=SYSCALL msg=audit({t}.000:{n}): arch=c000003e syscall=257 success=yes exit=3 ppid=1 '
            f'pid={n} auid={auid} uid={auid} exe="/usr/bin/cp" key="{key}"\n'
            f'node={node} type=CWD msg=audit({t}.000:{n}): cwd="/srv/design"\n'
            f'node={node} type=PATH msg=audit({t}.000:{n}): item=0 name="{path}" nametype=NORMAL\n'
            f'node={node} type=EOE msg=audit({t}.000:{n}): \n')


T0 = 1795845000
with open(design_log, "w") as f:
    for i in range(50):          # auid 1001: 50 distinct files in 50 minutes: fires
        read_event(f, T0 + 60 * i, 1001, f"chip/layer{i}.gds")
    for i in range(60):          # auid 1002: 60 reads of the same 10 files: does not
        read_event(f, T0 + i, 1002, f"chip/layer{i % 10}.gds")
    for i in range(49):          # auid 1003: 49 distinct files: does not
        read_event(f, T0 + i, 1003, f"/srv/design/chip/b{i}.gds")
    for i in range(50):          # auid 1004: 50 distinct files, but 2 hours: does not
        read_event(f, T0 + 150 * i, 1004, f"/srv/design/chip/c{i}.gds")
    for i in range(50):          # auid 1005: 50 distinct files outside the design watch: does not
        read_event(f, T0 + i, 1005, f"/home/u/f{i}", key="other")
rc, out, err = run("rules", "test", SHIPPED, design_log)
out = out.decode()
fired = [ln for ln in out.splitlines() if DESIGN in ln]
expect(rc == 0 and len(fired) == 1 and "correlated (value_count): 50 for LogonId=1001, Computer=ws1" in fired[0],
       f"the design-data correlation fires for auid 1001 only: {fired}\n{err}")

# shipped rules over enrichment: business hours (local time, TZ=UTC here) and maintenance windows.
ACC = "Maintenance access approved outside business hours, or for a window over 12 hours"
PUB = "Patch metadata published outside business hours, or by an account that never published before"
A0 = 1795773600  # 2026-11-27T10:00:00Z, a Friday
ENRICH = [  # (time, event, rule that fires or None)
    ("2026-11-28T10:00:00Z", '"action":"access.approve","result":"ok"', ACC),          # Saturday
    ("2026-11-27T10:00:00Z", '"action":"access.approve","result":"ok"', None),         # Friday morning
    ("2026-11-27T22:00:00Z", '"action":"access.approve","result":"ok"', ACC),          # Friday night
    ("2026-11-27T22:00:00Z", '"action":"access.approve","result":"denied"', None),
    ("2026-11-27T10:00:00Z", '"action":"access.issued","result":"ok","details":{"valid_after":%d,"valid_before":%d}'
     % (A0, A0 + 13 * 3600), ACC),
    ("2026-11-27T10:00:00Z", '"action":"access.issued","result":"ok","details":{"valid_after":%d,"valid_before":%d}'
     % (A0, A0 + 8 * 3600), None),
    ("2026-11-27T10:00:00Z", '"action":"access.request","result":"ok","details":{"window":[%d,%d]}'
     % (A0, A0 + 20 * 3600), None),
    ("2026-11-25T11:00:00Z", '"action":"patch.publish","actor":"pat","result":"ok"', PUB),   # pat's first
    ("2026-11-25T12:00:00Z", '"action":"patch.publish","actor":"pat","result":"ok"', None),  # Wednesday, again
    ("2026-11-29T03:00:00Z", '"action":"patch.publish","actor":"pat","result":"ok"', PUB),   # Sunday night
    ("2026-11-25T13:00:00Z", '"action":"patch.publish","actor":"pat","result":"failed"', None),
]
enrich_events = os.path.join(base, "enrich.jsonl")
with open(enrich_events, "w") as f:
    for t, body, _ in ENRICH:
        f.write('{"time":"%s",%s}\n' % (t, body))
rc, out, err = run("rules", "test", SHIPPED, enrich_events)
out = out.decode()
expect(rc == 0, f"shipped enrichment rules: exit {rc} {err}")
for i, (_, _, title) in enumerate(ENRICH):
    hits = [ln for ln in out.splitlines() if ln.startswith(f"{enrich_events}:{i + 1}: ")]
    if title is None:
        expect(hits == [], f"enrichment rules: negative event {i + 1} fired: {hits}")
    else:
        expect(len(hits) == 1 and title in hits[0], f"enrichment rules: event {i + 1} should fire {title!r}: {hits}")
rc, out, err = run("rules", "test", "--business-hours", "mon-sun 00:00-24:00", SHIPPED, enrich_events)
out = out.decode()
expect(rc == 0 and out.count(PUB) == 1 and f"{enrich_events}:8: " in out and out.count(ACC) == 1,
       f"--business-hours: a calendar with every hour open leaves the long window and the first publication: {out}")
rc, _, err = run("rules", "test", "--business-hours", "mon-fri 8-18", SHIPPED, enrich_events)
expect(rc == 2 and "wrong at character 9" in str(err), f"a bad --business-hours is a usage error naming where: {rc} {err}")

# rules hunt: the shipped rules over a real log's history, entries checked against their hashes.
log = os.path.join(base, "log")
run("log", "init", "--dir", log, "--origin", "bulwark.test/hunt", check=0)
with open(shipped_events, "rb") as f:
    history = f.read()
run("log", "append", "--dir", log, stdin=b"not an event\n" + history, check=0)
rc, out, err = run("rules", "hunt", SHIPPED, "--log", log)
out = out.decode()
expect(rc == 0, f"rules hunt: exit {rc} {err}")
expect(f"{len(lines) + 1} entries read, {len(lines)} events in the window, {len(lines) - len(NEG)} matches, "
       "1 entries not JSON objects" in out, f"rules hunt summary: {out}")
expect("entry 1: high New admin or approver" in out and "matched: action, result, details.roles" in out,
       f"rules hunt names the entry and fields: {out}")
rc, out, _ = run("rules", "hunt", SHIPPED, "--log", log, "--from", "2026-11-27T02", "--to", "2026-11-27T03:59")
out = out.decode()
expect(rc == 0 and " 2 events in the window" in out and "entry 3:" in out and "entry 4:" in out and
       "entry 1:" not in out and "entry 5:" not in out, f"rules hunt --from/--to: {out}")
rc, _, err = run("rules", "hunt", SHIPPED, "--log", log, "--from", "yesterday")
expect(rc == 2 and "RFC 3339" in err, f"rules hunt: a bad --from is a usage error: {rc} {err}")
bundle = os.path.join(log, "tile", "entries", "000.p", str(len(lines) + 1))
with open(bundle, "r+b") as f:
    data = f.read()
    f.seek(data.index(b"patch.install"))
    f.write(b"patch.instalL")
rc, _, err = run("rules", "hunt", SHIPPED, "--log", log)
expect(rc == 1 and "does not match its hash" in err and "log audit" in err, f"rules hunt on an altered entry: {rc} {err}")

rc, _, err = run("rules", "check", os.path.join(base, "missing"))
expect(rc == 1 and "cannot read the rules directory" in err, f"a missing directory: {rc} {err}")
rc, _, err = run("rules", "check")
expect(rc == 2, "rules check without a directory is a usage error")
print("rules_test: SigmaHQ linux rules and %d hostile files checked%s" %
      (len(BAD) + 1, " (also under valgrind memcheck)" if VALGRIND_BW else ""))
finish("rules_test")
