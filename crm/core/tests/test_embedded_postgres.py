"""Without DATABASE_URL a command starts the embedded PostgreSQL quietly, and `make stop`
(`python -m crm.settings.embedded_postgres stop`) stops it."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def run(args, data_dir):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "XDG_RUNTIME_DIR"}}
    env["EMBEDDED_PGDATA"] = str(data_dir)
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_commands_are_quiet_and_make_stop_stops_the_embedded_server(tmp_path):
    data_dir = tmp_path / "pgdata"
    try:
        checked = run(["manage.py", "--help"], data_dir)
        assert checked.returncode == 0, checked.stderr
        assert checked.stderr == ""  # no RuntimeDirWarning, no pgserver chatter at exit
        assert (data_dir / "postmaster.pid").exists()  # left running for the next command
    finally:
        stopped = run(["-m", "crm.settings.embedded_postgres", "stop"], data_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert "Stopped the embedded PostgreSQL" in stopped.stdout
    assert not (data_dir / "postmaster.pid").exists()
    again = run(["-m", "crm.settings.embedded_postgres", "stop"], data_dir)
    assert "not running" in again.stdout
