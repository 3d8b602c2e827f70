"""CPU time per request of the customer list, and where it goes, with DEBUG off.

    .venv/bin/python bench/customer_list_cpu.py [--database-url URL] [--user manager]
        [--path /customers/] [--requests 200] [--profile] [--top 30]

Requests `--path` `--requests` times through Django's test client (no network, no gunicorn)
as `--user`, on `--database-url` (default DATABASE_URL; a seeded database such as
`bench_million`, only read), and prints the CPU time of this process per request
(`time.process_time`, so the other programs on the machine hardly change it: the database
server's own time is not counted) and the wall time per request. Two cores serve 200 req/s
when a request takes at most about 8 ms of CPU in the web process (the database needs its
share too). With `--profile`, one more pass under cProfile prints the `--top` functions by
cumulative and by own time. Figures only.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the seeded database")
    parser.add_argument("--user", default="manager", help="who is signed in (default: the demo manager)")
    parser.add_argument("--path", default="/customers/", help="the page (default /customers/)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests (default 200)")
    parser.add_argument("--warmups", type=int, default=20, help="untimed requests first (default 20)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the requests too")
    parser.add_argument("--top", type=int, default=30, help="functions shown in each profile table (default 30)")
    return parser.parse_args()


def setup(database_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        DJANGO_SETTINGS_MODULE="crm.settings.base",
        LOG_LEVEL="WARNING",
        STATIC_ROOT=tempfile.mkdtemp(prefix="crm-bench-static-"),  # DEBUG off serves the manifest's names
    )
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def main():
    args = parse_args()
    if not args.database_url:
        sys.exit("Give --database-url or set DATABASE_URL (a seeded database).")
    setup(args.database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    response = client.get(args.path)
    if response.status_code != 200:
        sys.exit(f"{args.path} answered {response.status_code}")
    for _ in range(args.warmups):
        client.get(args.path)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(args.path)
    walls = []
    cpu_started = time.process_time()
    for _ in range(args.requests):
        started = time.perf_counter()
        client.get(args.path)
        walls.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started) / args.requests
    load = os.getloadavg()
    print(f"{args.path} as {args.user}, {args.requests} requests (test client, DEBUG off):")
    wall = statistics.median(walls) * 1000
    print(f"  CPU {cpu * 1000:.2f} ms per request in the web process; wall median {wall:.1f} ms")
    print(f"  {len(queries)} SQL queries; {len(response.content):,} bytes")
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(args.path)
        profile.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n--- by {order}, over {args.requests} requests")
            print(out.getvalue().split("\n", 7)[-1] if order else out.getvalue())


if __name__ == "__main__":
    main()
