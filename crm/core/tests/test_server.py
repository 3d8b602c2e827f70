"""Running like production: the Procfile's processes, `check --deploy`, gunicorn serving
/health/ and pages, and WhiteNoise serving compressed static files under hashed names
collected into a scratch STATIC_ROOT. gunicorn listens on 127.0.0.1 only, on a free port."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_names_web_worker_and_scheduler():
    processes = {name: command.strip() for name, command in procfile().items()}
    assert processes["web"].startswith("gunicorn crm.wsgi")
    assert processes["worker"].startswith("celery -A crm worker")
    assert processes["scheduler"].startswith(
        "celery -A crm beat --scheduler django_celery_beat.schedulers:DatabaseScheduler"
    )
    for step in ("migrate --noinput", "createcachetable", "compilemessages", "collectstatic --noinput"):
        assert step in processes["release"]


def database_url_of_the_tests() -> str:
    """DATABASE_URL of the test database, over TCP or (the embedded server) a socket folder."""
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = quote(database.get("HOST") or "", safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(database['NAME'], safe='')}"


def production_environment(**overrides) -> dict[str, str]:
    """The environment of a production process, on the test database (without the async
    escape hatch the session's browser fixture sets while Playwright runs)."""
    inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "crm.settings.base",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.example.com,127.0.0.1",
        "DATABASE_URL": database_url_of_the_tests(),
        "LOG_FORMAT": "",
        "SENTRY_DSN": "",
        **overrides,
    }


def test_check_deploy_is_clean_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_environment(),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, **headers) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """collectstatic into a scratch STATIC_ROOT, then gunicorn on a free port of 127.0.0.1."""
    static_root = tmp_path_factory.mktemp("static")
    log_path = tmp_path_factory.mktemp("log") / "gunicorn.log"
    port = free_port()
    environment = production_environment(
        STATIC_ROOT=str(static_root),
        SECURE_SSL_REDIRECT="0",
        SIGNING_BACKEND="memory",
        PORT=str(port),
        BIND_ADDRESS="127.0.0.1",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        env=environment,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "crm.wsgi", "--config", "gunicorn.conf.py"],
            env=environment,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                fetch(base_url + "/health/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield {"url": base_url, "static_root": static_root, "log": log_path}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_gunicorn_serves_health_and_logs_the_request_as_json(server, transactional_db):
    status, headers, body = fetch(server["url"] + "/health/?probe=s3cret-token")
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ok",
        "components": {"database": "ok", "broker": "embedded", "worker": "embedded", "signing": "ok"},
    }
    request_id = headers["X-Request-ID"]
    deadline = time.monotonic() + 10
    while True:
        entries = [json.loads(line) for line in server["log"].read_text().splitlines() if line.startswith("{")]
        matching = [entry for entry in entries if entry.get("request_id") == request_id]
        if matching or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    [entry] = matching
    assert entry["logger"] == "crm.request"
    assert (entry["method"], entry["path"], entry["status"], entry["user_id"]) == ("GET", "/health/", 200, None)
    assert "s3cret-token" not in server["log"].read_text()


def test_whitenoise_serves_compressed_static_files_under_hashed_names(server, transactional_db):
    manifest = json.loads((server["static_root"] / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/crm.css"]
    assert re.fullmatch(r"css/crm\.[0-9a-f]{12}\.css", hashed)

    status, headers, body = fetch(f"{server['url']}/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"] or "max-age=315360000" in headers["Cache-Control"]
    assert headers["Content-Type"].startswith("text/css")

    # Pages link the hashed names, and keep their Content-Security-Policy without inline script.
    status, headers, body = fetch(server["url"] + "/accounts/login/")
    assert status == 200
    assert f"/static/{hashed}".encode() in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
