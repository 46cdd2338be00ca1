#!/bin/sh
# Records tests/data/auditd/scenario.log with the real auditd (ENRICHED format):
# run as root on a scratch machine whose kernel has audit and no auditd running.
# It adds audit rules, acts out the scenario below, then removes every rule,
# disables auditing and stops the daemon. Usage: record.sh OUT.log
set -eu
out=$1
work=$(mktemp -d)
cleanup() {
	auditctl -D >/dev/null 2>&1 || true
	auditctl -e 0 >/dev/null 2>&1 || true
	[ -n "${apid:-}" ] && kill "$apid" 2>/dev/null || true
	rm -rf "$work" /tmp/bw-scenario /dev/shm/bw-scenario /tmp/rootlog
}
trap cleanup EXIT
cat > "$work/auditd.conf" <<CONF
log_file = $work/audit.log
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 1
space_left = 2
admin_space_left = 1
CONF
auditd -c "$work" -f > "$work/auditd.out" 2>&1 &
apid=$!
sleep 1
auditctl -a always,exit -F arch=b64 -S execve -k exec
auditctl -a always,exit -F arch=b64 -S connect -k net
auditctl -w /etc/ssh/sshd_config -p wa -k bulwark-identity
auditctl -w /etc/sudoers -p wa -k bulwark-identity
auditctl -w /tmp/rootlog -p wa -k scenario
mkdir -p /tmp/bw-scenario/design /tmp/bw-scenario/.hidden /dev/shm/bw-scenario
auditctl -w /tmp/bw-scenario/design -p r -k bulwark-design
auditctl -e 1
# 1. binaries run from /tmp, /dev/shm and a hidden directory
cp /bin/true /tmp/bw-scenario/payload && /tmp/bw-scenario/payload
cp /bin/true /dev/shm/bw-scenario/payload && /dev/shm/bw-scenario/payload
cp /bin/true /tmp/bw-scenario/.hidden/tool && /tmp/bw-scenario/.hidden/tool --quiet
# 2. a shell that runs curl with an argument auditd hex-encodes (a space)
sh -c 'cd /tmp && /bin/echo "curl -o /tmp/x y" >/dev/null'
# 3. critical files opened for writing (contents unchanged)
: >> /etc/ssh/sshd_config
: >> /etc/sudoers
# 4. a file created: the name of a known rootkit's lock file
touch /tmp/rootlog
# 5. outgoing connection to a local listener on 4444
/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",4444));s.listen();c=socket.create_connection(("127.0.0.1",4444));c.close()'
# 6. reads in the design-data directory
for i in 1 2 3 4 5; do echo "part $i" > /tmp/bw-scenario/design/part$i.step; done
for i in 1 2 3 4 5; do cat /tmp/bw-scenario/design/part$i.step >/dev/null; done
# 7. rules removed, auditing stopped
auditctl -D
sleep 1
kill "$apid"; wait "$apid" 2>/dev/null || true
apid=
grep -a '^type=\|^node=' "$work/auditd.out" > "$out"
