"""`make run`'s last step: `manage.py serve_all` starts the web server, a worker and the
scheduler, and one Ctrl-C (SIGINT) or a SIGTERM stops every one of them."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def answers(url) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True  # any answer (a login redirect, a 404) means the web server is up
    except OSError:
        return False
    return True


def group_alive(pid) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_all_starts_web_worker_and_scheduler_and_one_signal_stops_them(tmp_path, stop_signal):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.base",
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": "",
        "BROKER_DIR": str(tmp_path / "broker"),
        "CELERY_QUEUE": f"serve-all-{port}",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    log = open(tmp_path / "serve_all.log", "w+b")  # noqa: SIM115 - read after the process ends
    process = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "serve_all", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            output = (tmp_path / "serve_all.log").read_text(errors="replace")
            if answers(f"http://127.0.0.1:{port}/") and "ready." in output and "beat: Starting" in output:
                break
            assert process.poll() is None, output
            time.sleep(0.5)
        else:
            pytest.fail("serve_all did not start:\n" + (tmp_path / "serve_all.log").read_text(errors="replace"))
        pids = {
            line.split("(pid ")[0].split()[-1]: int(line.split("(pid ")[1].rstrip(")"))
            for line in output.splitlines()
            if line.startswith("started ")
        }
        assert set(pids) == {"web", "worker", "scheduler"}

        process.send_signal(stop_signal)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "All stopped." in (tmp_path / "serve_all.log").read_text(errors="replace")
    assert not [name for name, pid in pids.items() if group_alive(pid)]
    assert not answers(f"http://127.0.0.1:{port}/")
