"""The API's customer list: median and p95 server time at 100,000 customers (or --customers).

    .venv/bin/python bench/api_customers.py [--customers N] [--runs R] [--reseed]
        [--database NAME] [--wrk] [--wrk-seconds S]

Seeds the scratch database `--database` (default `crm_bench_api`) on the `DATABASE_URL`
server with `seed_demo` (as bench/customer_pages.py does) unless it already holds at least
--customers customers, so it runs against an existing big database as it is (e.g.
`--database bench_million`, which bench/million.py seeds); a named database holding fewer
customers is refused rather than emptied. It creates a read token for the demo manager and
the demo rep, and requests `/api/v1/customers/` through Django's test client with
`Authorization: Bearer …` (no network): page 1, a page deep in the list by cursor
(`?after=`), a rep's own list, a filter, a sort, a search, and one customer. Prints
queries, median and p95 server time and SQL time.

With `--wrk` it then serves the app with gunicorn (`gunicorn.conf.py`, 2 workers, DEBUG
off, throttles lifted) and runs `wrk -t2 -c8 -d20s` (`--wrk-seconds`) on
`/api/v1/customers/` with the manager's token in an `Authorization` header, printing
requests per second and wrk's latency percentiles (needs Debian's `wrk`). Figures only.
"""

import argparse
import datetime
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from common import ROOT, TEST_CLIENT_HOSTS, bench_database_url, format_table, p95, reseed_customers, setup_django

BENCH_DATABASE = "crm_bench_api"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100,000)")
    parser.add_argument("--contacts-per-customer", type=int, default=2, help="contacts per customer (default 2)")
    parser.add_argument("--seed", type=int, default=42, help="seed_demo's random seed (default 42)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per call (default 30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--limit", type=int, default=25, help="rows per page (default 25)")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument(
        "--database",
        default=BENCH_DATABASE,
        help=f"the database on the DATABASE_URL server (default {BENCH_DATABASE}); one that already holds "
        "--customers customers is used as it is",
    )
    parser.add_argument("--wrk", action="store_true", help="also measure throughput under gunicorn with wrk")
    parser.add_argument("--wrk-seconds", type=int, default=20, help="seconds of wrk load (default 20)")
    return parser.parse_args()


def seed(args) -> str:
    """Seed with seed_demo unless the database already holds --customers customers; returns
    what happened, for the report."""
    from customers.models import Customer

    present = Customer.objects.count()
    if present >= args.customers:
        return f"skipped: the database already holds {present:,} customers (--reseed to start again)"
    if present and args.database != BENCH_DATABASE:
        sys.exit(
            f"{args.database} holds {present:,} customers, fewer than --customers {args.customers:,}; "
            "it is not emptied: give a smaller --customers, or --reseed to drop and seed it"
        )
    seconds = reseed_customers(args.customers, args.contacts_per_customer, args.seed)
    return f"{seconds:.1f} s for {args.customers:,} customers"


def token_secret(user) -> str:
    """The secret of a new read token of `user`, valid for an hour."""
    from django.utils import timezone

    from crm.api import services

    token, secret = services.token_create(
        actor=user,
        name=f"bench {timezone.now():%Y%m%d%H%M%S%f}",
        scopes=["read"],
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    return secret


def token_client(user):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {token_secret(user)}"})


def demo_users():
    """The demo manager and the demo rep, whom seed_demo creates."""
    from django.contrib.auth import get_user_model

    from crm.core.demo import demo_user
    from crm.core.roles import Role

    users = get_user_model().objects
    try:
        return [users.get(username=demo_user(role).username) for role in (Role.SALES_MANAGER, Role.SALES_REP)]
    except get_user_model().DoesNotExist:
        sys.exit("The database has no demo manager and rep: seed it with seed_demo (or this script's own seeding)")


def calls(limit):
    from customers.models import Customer

    manager, rep = demo_users()
    customers = Customer.objects.order_by("-created_at", "-id")
    total = customers.count()
    middle = customers.values_list("pk", flat=True)[total // 2]
    name_fragment = Customer.objects.filter(pk__gte=middle).exclude(name="").values_list("name", flat=True).first()[2:6]
    base = f"/api/v1/customers/?limit={limit}"
    return [
        ("List, first page", manager, base),
        (f"List, after row {total // 2:,} (cursor)", manager, f"{base}&after={middle}"),
        ("List, first page (sales rep)", rep, base),
        ("List, tier=key", manager, f"{base}&tier=key"),
        ("List, sort=name", manager, f"{base}&sort=name"),
        (f"List, search {name_fragment!r}", manager, f"{base}&q={name_fragment}"),
        ("One customer", manager, f"/api/v1/customers/{middle}/"),
    ]


def measure(client, url, runs, warmups):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    for _ in range(warmups):
        client.get(url)
    totals, sql_times, counts, statuses = [], [], [], set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            totals.append(time.perf_counter() - started)
        statuses.add(response.status_code)
        counts.append(len(queries.captured_queries))
        sql_times.append(sum(float(query["time"]) for query in queries.captured_queries))
    return [
        str(max(counts)),
        f"{statistics.median(totals) * 1000:.1f}",
        f"{p95(totals) * 1000:.1f}",
        f"{statistics.median(sql_times) * 1000:.1f}",
        ",".join(map(str, sorted(statuses))),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wrk_customer_list(database_url: str, secret: str, seconds: int) -> str:
    """Requests per second and latency percentiles of /api/v1/customers/ under gunicorn
    (2 workers, DEBUG off, throttles lifted), as the token's user, measured by wrk."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install -y wrk): skipped"
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "crm.settings.base",
        "PORT": str(port),
        "BIND_ADDRESS": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "API_TOKEN_RATE": "1000000/m",
        "API_USER_RATE": "1000000/m",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "crm.wsgi"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v1/customers/"
    authorization = f"Bearer {secret}"
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
                break
            except urllib.error.HTTPError as error:
                return f"{url} answered {error.code}: {error.read()[:300]!r}"
            except OSError:
                time.sleep(0.2)
        else:
            return "gunicorn did not answer"
        if status != 200:
            return f"{url} answered {status}"
        for _ in range(20):  # both workers warm
            urllib.request.urlopen(request, timeout=30).read()
        command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-H", f"Authorization: {authorization}", url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    lines = [
        f"  {float(rate.group(1)) if rate else 0:.1f} req/s; latency p50 {latency.get('50')}, p75 {latency.get('75')}, "
        f"p90 {latency.get('90')}, p99 {latency.get('99')}"
    ]
    if errors:
        lines.append(f"  {errors.group(1)} responses were not 2xx/3xx")
    return "\n".join(lines)


def main():
    args = parse_args()
    database_url = bench_database_url(args.database, reseed=args.reseed)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, API_TOKEN_RATE="1000000/m", API_USER_RATE="1000000/m")

    from django.core.management import call_command
    from django.db import connection

    from customers.models import Customer

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    seeded = seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"Database: {args.database} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(f"Rows: {Customer.objects.count():,} customers; seed: {seeded}")
    print(f"Each call: {args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
    print()
    clients, rows = {}, []
    for label, user, url in calls(args.limit):
        if user.pk not in clients:
            clients[user.pk] = token_client(user)
        rows.append([label, user.get_username(), *measure(clients[user.pk], url, args.runs, args.warmups)])
    header = ["call", "as", "queries", "median ms", "p95 ms", "SQL ms", "status"]
    print(format_table(header, rows, right={2, 3, 4, 5}))
    if args.wrk:
        manager, _rep = demo_users()
        print(f"\nwrk -t2 -c8 -d{args.wrk_seconds}s on /api/v1/customers/ as {manager.get_username()} (token), "
              "gunicorn with 2 workers:", flush=True)  # fmt: skip
        print(wrk_customer_list(database_url, token_secret(manager), args.wrk_seconds))


if __name__ == "__main__":
    main()
