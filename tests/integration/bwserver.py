"""Helpers for tests that run a bulwark server: init, serve, stop, TOTP codes, an HTTPS JSON client."""
import http.client
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

from bwtest import BW, expect, fail

ADMIN_PW = "admin password 123"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def init(data, extra_env=None, origin="bulwark.test/server"):
    env = dict(os.environ, BULWARK_ADMIN_PASSWORD=ADMIN_PW, **(extra_env or {}))
    p = subprocess.run([BW, "init", "--data", data, "--origin", origin], env=env,
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit("init failed: " + p.stderr.decode())
    out = p.stdout.decode()
    secret = re.search(r"secret=([A-Z2-7]+)", out).group(1)
    codes = re.findall(r"^  ([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$", out, re.M)
    return out, secret, codes


def serve(data, port, *extra, cmd=("serve",)):
    """bulwark serve (or cmd, e.g. ("witness", "serve")) on 127.0.0.1:port, once it accepts connections."""
    # stderr to a file: a pipe nobody drains would fill up and stall the server's log writes
    logf = open(data + ".stderr", "w+")
    p = subprocess.Popen([BW, *cmd, "--data", data, "--listen", "127.0.0.1:%d" % port, *extra],
                         stderr=logf, stdout=subprocess.DEVNULL)
    p.logf = logf
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start: " + open(data + ".stderr").read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("server did not stop on SIGTERM")
    expect(p.returncode == 0, f"server exit code {p.returncode} after SIGTERM")
    p.logf.seek(0)
    return p.logf.read()


def totp(secret, offset=0):
    args = ["oathtool", "--totp", "-b", secret]
    if offset:
        args.insert(2, "-N")
        args.insert(3, "now %+d seconds" % offset)
    return subprocess.run(args, capture_output=True, check=True).stdout.decode().strip()


def wait_fresh_step():
    """Sleep into the first half of a 30 s step, so a test's codes do not straddle steps."""
    t = time.time() % 30
    if t > 20:
        time.sleep(30 - t + 0.5)


def api_cli(*args, server, cacert, token=None, cwd=None, check=None):
    """Runs bulwark against a server (BULWARK_SERVER/_CACERT/_TOKEN); returns (rc, stdout + stderr text)."""
    env = dict(os.environ, BULWARK_SERVER=server, BULWARK_CACERT=cacert)
    if token:
        env["BULWARK_TOKEN"] = token
    p = subprocess.run([BW, *args], capture_output=True, env=env, timeout=300, cwd=cwd)
    out = p.stdout.decode() + p.stderr.decode()
    if check is not None and p.returncode != check:
        fail(f"bulwark {' '.join(args)}: exit {p.returncode}, want {check}\n{out}")
    return p.returncode, out


def enrol(c, code, password, otp_offset=0):
    """
    Enrols with an invitation's code as its owner would: returns (TOTP secret, recovery codes). The code
    confirming the secret (this step's, or otp_offset seconds away) counts as used, like a sign-in's.
    """
    st, j, _, _ = c.req("POST", "/api/v1/enrol", {"code": code})
    if st != 200:
        fail(f"enrol start: {st} {j}")
    secret = re.search(r"secret=([A-Z2-7]+)", j["otpauth_uri"]).group(1)
    st, j, _, _ = c.req("POST", "/api/v1/enrol/complete", {"code": code, "password": password,
                                                           "otp": totp(secret, otp_offset)})
    if st != 200:
        fail(f"enrol complete: {st} {j}")
    return secret, j["recovery_codes"]


def invite(c, admin_token, name, roles, password=None, login=True):
    """
    An admin invites name, who enrols and (login) signs in with the next step's code (the enrolment used the
    current one). Returns (session token or None, TOTP secret, the invitation's reply).
    """
    st, inv, _, _ = c.req("POST", "/api/v1/users", {"username": name, "roles": roles}, token=admin_token)
    if st != 201:
        fail(f"invite {name}: {st} {inv}")
    password = password or "password of " + name
    secret, _ = enrol(c, inv["enrolment_code"], password)
    tok = None
    if login:
        st, j, _, _ = c.req("POST", "/api/v1/login", {"username": name, "password": password, "otp": totp(secret, 30)})
        if st != 200:
            fail(f"{name} signs in after enrolling: {st} {j}")
        tok = j["token"]
    return tok, secret, inv


class Client:
    def __init__(self, port, cafile, source=None):
        self.ctx = ssl.create_default_context(cafile=cafile)  # verifies the self-signed cert + SAN
        self.port = port
        self.source = source  # a local address to connect from (another client: 127.0.0.2 ...)
        self.conn = None

    def req(self, method, path, body=None, token=None, headers=None, raw=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30,
                                                        source_address=(self.source, 0) if self.source else None)
            h = dict(headers or {})
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            if token:
                h["Authorization"] = "Bearer " + token
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read()
                try:
                    j = json.loads(payload) if payload else None
                except ValueError:
                    j = None
                return r.status, j, r, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ssl.SSLError):
                # The server closed an idle keep-alive connection (--timeout-secs): reconnect once.
                self.conn.close()
                self.conn = None
                if attempt:
                    raise




class Mirror:
    """
    An HTTPS server in a thread standing in for a mirror or a hijacked server: GET paths in
    .overrides are answered with those bytes (None: 404); other paths come from static_dir
    when given, else are proxied to the bulwark server on upstream_port.
    """

    def __init__(self, upstream_port, cafile, keyfile, static_dir=None):
        self.overrides = {}
        self.on_get = None  # called with the path before each GET is answered (the client waits meanwhile)
        self.static_dir = static_dir
        ctx = ssl.create_default_context(cafile=cafile)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if outer.on_get is not None:
                    outer.on_get(self.path)
                if self.path in outer.overrides:
                    body, status = outer.overrides[self.path], 200
                    if body is None:
                        body, status = b"not here", 404
                elif outer.static_dir is not None:
                    fp = os.path.join(outer.static_dir, self.path.lstrip("/"))
                    if ".." not in self.path and os.path.isfile(fp):
                        body, status = open(fp, "rb").read(), 200
                    else:
                        body, status = b"not here", 404
                else:
                    conn = http.client.HTTPSConnection("127.0.0.1", upstream_port, context=ctx, timeout=30)
                    conn.request("GET", self.path)
                    r = conn.getresponse()
                    body, status = r.read(), r.status
                    conn.close()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(cafile, keyfile)
        self.httpd.socket = sctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "https://127.0.0.1:%d" % self.port


def smtp_relay(maildir, cert, key):
    """A real SMTP server on loopback (aiosmtpd, Debian's python3; STARTTLS with cert/key) delivering into
    maildir. Returns (process, port, mails): mails() lists the messages delivered so far."""
    port = free_port()
    p = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % port, "--tlscert", cert,
                          "--tlskey", key, "-c", "aiosmtpd.handlers.Mailbox", maildir],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    def mails():
        new = os.path.join(maildir, "new")
        return [open(os.path.join(new, f), "rb").read() for f in sorted(os.listdir(new))] if os.path.isdir(new) else []
    return p, port, mails
