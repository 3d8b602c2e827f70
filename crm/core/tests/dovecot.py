"""A private Dovecot IMAP server for the tests: its own configuration in a temporary folder,
plain-text login allowed on 127.0.0.1 only, one static password for every user, and each
user's mailbox a Maildir the test writes real messages into. It never touches the system's
Dovecot (no system service, no /etc/dovecot): Debian's `dovecot-imapd` only provides the
binaries (`make system-packages` installs it as root)."""

import contextlib
import getpass
import grp
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "desk-secret"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = crm-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
# Plain-text passwords over an unencrypted connection: a test server on 127.0.0.1 only.
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def dovecot_missing() -> str:
    """Why the server cannot run here, or ""."""
    if not os.access(DOVECOT, os.X_OK):
        return "dovecot is not installed (apt-get install dovecot-imapd, or `make system-packages` as root)"
    if os.getuid() == 0:
        for user in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                return f"the system user {user} that Debian's dovecot package creates is missing"
    return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen
    mail_uid: int
    mail_gid: int

    def url(self, user: str, *, password: str = PASSWORD, folder: str = "INBOX") -> str:
        return f"imap://{quote(user)}:{quote(password)}@127.0.0.1:{self.port}/{folder}"

    def deliver(self, user: str, *messages: bytes) -> None:
        """Drop raw messages into the user's Maildir (new/), as a delivery agent does."""
        path = self.root / "mail" / user
        box = mailbox.Maildir(path, create=True)
        for raw in messages:
            box.add(raw)
        box.close()
        if os.getuid() == 0:  # the mail is read as the dovecot user, never as root
            for folder, _dirs, files in os.walk(path):
                os.chown(folder, self.mail_uid, self.mail_gid)
                for name in files:
                    os.chown(os.path.join(folder, name), self.mail_uid, self.mail_gid)

    def log(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextlib.contextmanager
def dovecot_server():
    """Start a private Dovecot on a free port; stop it (only it) and remove its folder after."""
    root = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    if os.getuid() == 0:
        # Dovecot's login processes refuse to run as root, and mail is not read as root.
        internal_user, login_user = "dovecot", "dovenull"
        internal_group = grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name
        mail = pwd.getpwnam("dovecot")
        mail_uid, mail_gid = mail.pw_uid, mail.pw_gid
    else:
        internal_user = login_user = getpass.getuser()
        internal_group = grp.getgrgid(os.getgid()).gr_name
        mail_uid, mail_gid = os.getuid(), os.getgid()
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir()
    os.chmod(root, 0o755)  # the unprivileged processes reach their sockets in run/
    os.chmod(root / "run", 0o755)
    if os.getuid() == 0:
        os.chown(root / "mail", mail_uid, mail_gid)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            password=PASSWORD,
            internal_user=internal_user,
            internal_group=internal_group,
            login_user=login_user,
            mail_uid=mail_uid,
            mail_gid=mail_gid,
        )
    )
    process = subprocess.Popen(  # noqa: S603 - our own binary and configuration
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Dovecot(root=root, port=port, process=process, mail_uid=mail_uid, mail_gid=mail_gid)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start: {process.stderr.read().decode()} {server.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not answer on port {port}: {server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
