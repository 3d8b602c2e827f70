"""The customer list's throughput under gunicorn, measured with wrk, signed in.

    .venv/bin/python bench/customer_list_wrk.py [--database-url URL] [--user manager]
        [--path /customers/] [--duration 20] [--connections 8] [--threads 2] [--workers 2]

Serves the app with gunicorn (`gunicorn.conf.py`, `--workers` processes, DEBUG off, static
files collected into a scratch folder) on a free port against `--database-url` (default
DATABASE_URL; seed it first, e.g. `bench/customer_pages.py` or
`manage.py seed_demo --customers 100000`), signs `--user` in by creating a session, runs
`wrk -t2 -c8 -d20s` with that session's cookie on the page, and prints requests per second
and the latency percentiles wrk reports. Figures only; needs Debian's `wrk`.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the seeded database")
    parser.add_argument("--user", default="manager", help="who is signed in (default: the demo manager)")
    parser.add_argument("--path", default="/customers/", help="the page (default /customers/)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_cookie(environ: dict, username: str) -> str:
    """A signed-in session for `username`, created the way a login creates it."""
    script = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "session = SessionStore()\n"
        "session[SESSION_KEY] = str(user.pk)\n"
        "session[BACKEND_SESSION_KEY] = 'crm.core.auth.PermissionBackend'\n"
        "session[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "session.save()\n"
        "print(session.session_key)\n"
    )
    done = subprocess.run([PYTHON, "-c", script], env=environ, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def main():
    args = parse_args()
    if not args.database_url:
        sys.exit("Give --database-url or set DATABASE_URL (a seeded database).")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    port = free_port()
    static_root = tempfile.mkdtemp(prefix="crm-bench-static-")
    environ = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": static_root,
        "DJANGO_SETTINGS_MODULE": "crm.settings.base",
        "PORT": str(port),
        "BIND_ADDRESS": "127.0.0.1",
        "WEB_CONCURRENCY": str(args.workers),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=environ, cwd=ROOT, check=True)
    cookie = session_cookie(environ, args.user)
    server = subprocess.Popen(
        [ROOT / ".venv" / "bin" / "gunicorn", "-c", "gunicorn.conf.py", "crm.wsgi"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}{args.path}"
    try:
        headers = {"Cookie": f"sessionid={cookie}"}
        for _ in range(100):
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                    status = response.status
                    final = response.geturl()
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not answer")
        if status != 200 or final != url:
            sys.exit(f"{url} answered {status} at {final}: not signed in?")
        for _ in range(20):  # warm both workers' caches
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10).read()
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
        command += ["-H", f"Cookie: sessionid={cookie}", url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    print(f"{args.path} as {args.user}: gunicorn {args.workers} workers, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s")  # fmt: skip
    print(
        f"  {float(rate):.1f} req/s; latency p50 {latency.get('50')}, p90 {latency.get('90')}, p99 {latency.get('99')}"
    )
    if errors:
        print(f"  {errors.group(1)} responses were not 2xx/3xx")


if __name__ == "__main__":
    main()
