"""What the host-event benchmarks share: a server on a fresh data directory, an admin session, enrolled agents."""
import http.client
import json
import os
import ssl
import subprocess
import time

PW = "bench password 123"


def proc_kb(pid, field):
    """A memory figure of /proc/PID/status in KiB ("VmRSS", "VmHWM")."""
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return 0


class Server:
    """`bulwark serve` on DIR/data at port, signed in as admin (req() calls the API)."""

    def __init__(self, bw, base, port, *extra):
        self.bw, self.base, self.port = bw, base, port
        env = dict(os.environ, BULWARK_ADMIN_PASSWORD=PW)
        self.data = os.path.join(base, "data")
        init = subprocess.run([bw, "init", "--data", self.data], env=env, capture_output=True, text=True,
                              check=True).stdout
        self.proc = subprocess.Popen([bw, "serve", "--data", self.data, "--listen", f"127.0.0.1:{port}", *extra],
                                     stderr=open(os.path.join(base, "serve.err"), "w"))
        self.cert = os.path.join(self.data, "tls", "cert.pem")
        ctx = ssl.create_default_context(cafile=self.cert)
        for _ in range(100):
            try:
                self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
                self.conn.connect()
                break
            except OSError:
                time.sleep(0.1)
        secret = init.split("secret=")[1].split("&")[0].split()[0]
        otp = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
        _, j = self.req("POST", "/api/v1/login", {"username": "admin", "password": PW, "otp": otp})
        self.admin = j["token"]

    def req(self, method, path, body=None, token=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = self.conn.getresponse()
        return r.status, json.loads(r.read() or b"null")

    def agent_init(self, name):
        """Registers host name and sets up its agent's state directory (enrolled); returns the directory."""
        _, j = self.req("POST", "/api/v1/hosts", {"name": name, "address": "127.0.0.1", "accounts": ["root"]},
                        token=self.admin)
        state = os.path.join(self.base, "agent-" + name)
        subprocess.run([self.bw, "agent", "init", "--state", state, "--server", f"https://127.0.0.1:{self.port}",
                        "--cacert", self.cert, "--host", name, "--enrol-code", j["enrolment_code"]], check=True,
                       capture_output=True)
        return state

    def logged(self):
        """The host-event log's size under its latest signed checkpoint."""
        with open(os.path.join(self.data, "hostlog", "checkpoint")) as f:
            return int(f.read().split("\n")[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)
