"""The API's customer list: median and p95 server time at 100,000 customers (or --customers).

    .venv/bin/python bench/api_customers.py [--customers N] [--runs R] [--reseed]

Seeds the scratch database `crm_bench_api` on the `DATABASE_URL` server with `seed_demo`
(as bench/customer_pages.py does) unless it already holds that many customers, creates a
read token for the demo manager and the demo rep, and requests `/api/v1/customers/` through
Django's test client with `Authorization: Bearer …` (no network): page 1, a page deep in
the list by cursor (`?after=`), a rep's own list, a filter, a sort, a search, and one
customer. Prints queries, median and p95 server time and SQL time. Figures only.
"""

import argparse
import datetime
import statistics
import time
from urllib.parse import urlsplit

from common import TEST_CLIENT_HOSTS, bench_database_url, format_table, p95, setup_django

BENCH_DATABASE = "crm_bench_api"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100,000)")
    parser.add_argument("--contacts-per-customer", type=int, default=2, help="contacts per customer (default 2)")
    parser.add_argument("--seed", type=int, default=42, help="seed_demo's random seed (default 42)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per call (default 30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--limit", type=int, default=25, help="rows per page (default 25)")
    parser.add_argument("--reseed", action="store_true", help="empty and seed again even if already seeded")
    return parser.parse_args()


def token_client(user):
    from django.test import Client
    from django.utils import timezone

    from crm.api import services

    token, secret = services.token_create(
        actor=user,
        name=f"bench {timezone.now():%Y%m%d%H%M%S%f}",
        scopes=["read"],
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    return Client(headers={"Authorization": f"Bearer {secret}"})


def calls(limit):
    from django.contrib.auth import get_user_model

    from crm.core.demo import demo_user
    from crm.core.roles import Role
    from customers.models import Customer

    users = get_user_model().objects
    manager = users.get(username=demo_user(Role.SALES_MANAGER).username)
    rep = users.get(username=demo_user(Role.SALES_REP).username)
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


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, API_TOKEN_RATE="1000000/m", API_USER_RATE="1000000/m")

    from customer_pages import seed
    from django.core.management import call_command
    from django.db import connection

    from customers.models import Customer

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    seeded = seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
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


if __name__ == "__main__":
    main()
