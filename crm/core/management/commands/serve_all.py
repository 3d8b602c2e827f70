"""Serve the CRM with everything beside it: the web server, a Celery worker and the
scheduler (celery beat), in one terminal. Ctrl-C (SIGINT) or SIGTERM stops all three;
when one of them dies the others are stopped too. Each child runs in its own process
group and, on Linux, dies with this process even if it is killed outright."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand

STOP_SECONDS = 10  # grace given to each child after SIGTERM, then SIGKILL


def _die_with_parent():  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Command(CrmCommand):
    help = "Run the web server, a Celery worker and the scheduler together; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where the web server listens.")
        parser.add_argument("--concurrency", type=int, default=2, help="Worker processes (default 2).")
        parser.add_argument("--noreload", action="store_true", help="Run the web server without the auto-reloader.")

    def processes(self, addrport, concurrency, noreload):
        python = sys.executable
        manage = [python, str(settings.BASE_DIR / "manage.py")]
        web = [*manage, "runserver", addrport, *(["--noreload"] if noreload else [])]
        worker = [python, "-m", "celery", "-A", "crm", "worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
        beat = [python, "-m", "celery", "-A", "crm", "beat", "--loglevel=INFO"]
        return {"web": web, "worker": worker, "scheduler": beat}

    def run(self, *, addrport, concurrency, noreload, **options):
        children: dict[str, subprocess.Popen] = {}
        stopping = threading.Event()

        def request_stop(signum, frame):
            stopping.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        failed = None
        try:
            for name, argv in self.processes(addrport, concurrency, noreload).items():
                child = subprocess.Popen(
                    argv,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
                children[name] = child
                threading.Thread(target=self._relay, args=(name, child), daemon=True).start()
                self.stdout.write(_("started %(name)s (pid %(pid)s)") % {"name": name, "pid": child.pid})
                self.stdout.flush()
            while not stopping.is_set():
                for name, child in children.items():
                    if child.poll() is not None:
                        failed = name
                        stopping.set()
                        break
                stopping.wait(0.5)
        finally:
            self._stop_all(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            self.stderr.write(
                _("%(name)s exited with status %(code)s; stopped the others.")
                % {"name": failed, "code": children[failed].returncode}
            )
            sys.exit(1)
        self.stdout.write(_("All stopped."))

    def _relay(self, name, child):
        width = 9
        for line in iter(child.stdout.readline, b""):
            self.stdout.write(f"{name:<{width}}| {line.decode(errors='replace').rstrip()}")
            self.stdout.flush()

    def _stop_all(self, children):
        """SIGTERM to each child (a worker then stops its own pool), the rest of its process
        group once it is gone (runserver's reloaded child), SIGKILL after STOP_SECONDS."""
        for child in children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
                sig = signal.SIGTERM
            except subprocess.TimeoutExpired:
                sig = signal.SIGKILL
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, sig)
            child.wait()
