"""A real OpenSSH sshd on a loopback port for tests, trusting a given user CA."""
import os
import socket
import subprocess
import time


class Sshd:
    """sshd with TrustedUserCAKeys, AuthorizedPrincipalsFile DIR/%u and RevokedKeys (certificates only)."""

    def __init__(self, base, ca_pub, principals, krl, pam=True):
        """
        principals: {local user: [principal, ...]}; krl: path of the KRL file (must exist). pam: UsePAM yes, so
        pam_loginuid gives each session its audit session id (the session guard needs it).
        """
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
        self.base = base
        hostkey = os.path.join(base, "sshd_hostkey")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey], check=True)
        pdir = os.path.join(base, "sshd_principals")
        os.makedirs(pdir, exist_ok=True)
        for user, names in principals.items():
            open(os.path.join(pdir, user), "w").write("".join(n + "\n" for n in names))
        os.chmod(pdir, 0o755)
        conf = os.path.join(base, "sshd_config")
        open(conf, "w").write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {hostkey}
PidFile {base}/sshd.pid
TrustedUserCAKeys {ca_pub}
AuthorizedPrincipalsFile {pdir}/%u
AuthorizedKeysFile none
RevokedKeys {krl}
ExposeAuthInfo yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM {"yes" if pam else "no"}
LogLevel VERBOSE
""")
        self.log = open(os.path.join(base, "sshd.log"), "w+")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf], stderr=self.log)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("sshd did not start: " + open(os.path.join(base, "sshd.log")).read())

    def ssh(self, key, cert, cmd="echo logged-in", timeout=60):
        """Runs cmd as root with key + certificate; returns (rc, stdout, stderr)."""
        p = subprocess.run(["ssh", "-F", "/dev/null", "-i", key, "-o", f"CertificateFile={cert}",
                            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-p", str(self.port),
                            "root@127.0.0.1", cmd], capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def says(self, text):
        """True when sshd's log contains text."""
        self.log.flush()
        self.log.seek(0)
        return text in self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
