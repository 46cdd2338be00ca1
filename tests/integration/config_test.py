#!/usr/bin/env python3
"""
The configuration file of bulwark serve: `bulwark config check` accepts a good one and refuses, with the line
named, an unknown key, a value that is not a number, a file that is not there, a single key given twice and a line
without '='; `serve --config` takes its settings, the command line wins over it, and a bad file stops the start.
"""
import os
import socket
import subprocess
import time

from bwserver import Client, free_port, init, stop
from bwtest import BW, expect, finish, tmpdir

base = tmpdir()
data = os.path.join(base, "data")
init(data)
cert = os.path.join(data, "tls/cert.pem")
P1, P2 = free_port(), free_port()


def conf(name, text):
    path = os.path.join(base, name)
    open(path, "w").write(text)
    return path


def check(path):
    p = subprocess.run([BW, "config", "check", path], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


good = conf("good.conf", "# bulwark serve's settings\ndata = %s\nlisten = 127.0.0.1:%d   # loopback only\n\n"
            "login-backoff-ms = 0\norg-domain = example.com\norg-domain = example.org\ntriage-timeout-secs = 30\n"
            % (data, P1))
rc, out = check(good)
expect(rc == 0 and "org-domain = example.org" in out and "6 settings, all known" in out, f"a good file: {rc} {out}")
for name, text, want in [
        ("unknown.conf", "data = %s\nlistne = 127.0.0.1:1\n" % data, "unknown.conf:2: unknown key 'listne'"),
        ("number.conf", "\n\nthreads = eight\n", "number.conf:3: threads must be a decimal number, not 'eight'"),
        ("nofile.conf", "witness-policy = /nonexistent/policy\n", "nofile.conf:1: witness-policy: /nonexistent/policy is not a file"),
        ("twice.conf", "listen = a\n# again\nlisten = b\n", "twice.conf:3: listen is given already on line 1"),
        ("noeq.conf", "listen 127.0.0.1:1\n", "noeq.conf:1: want \"key = value\""),
        ("empty.conf", "smtp =\n", "empty.conf:1: smtp has no value")]:
    rc, out = check(conf(name, text))
    expect(rc == 1 and want in out, f"{name}: refused with the line: {rc} {out}")


def up(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# serve --config: the file's data and listen address
logf = open(os.path.join(base, "serve.log"), "w+")
p = subprocess.Popen([BW, "serve", "--config", good], stderr=logf, stdout=subprocess.DEVNULL)
p.logf = logf
expect(up(P1), "the server listens where the file says")
st, _, _, body = Client(P1, cert).req("GET", "/log/checkpoint")
expect(st == 200, f"and serves: {st}")
stop(p)
# the command line wins
logf = open(os.path.join(base, "serve2.log"), "w+")
p = subprocess.Popen([BW, "serve", "--listen", "127.0.0.1:%d" % P2, "--config", good], stderr=logf,
                     stdout=subprocess.DEVNULL)
p.logf = logf
expect(up(P2), "--listen on the command line wins over the file's")
stop(p)
# a bad file stops the start, naming the line
r = subprocess.run([BW, "serve", "--config", os.path.join(base, "unknown.conf")], capture_output=True, timeout=60)
expect(r.returncode != 0 and b"unknown.conf:2: unknown key 'listne'" in r.stderr, f"serve refuses a bad file: {r.stderr}")
finish("config_test")
