"""Load 100,000 open opportunities into a scratch database and time the board and the list.

    .venv/bin/python bench/pipeline.py [--reseed] [--open N] [--customers N] [--runs R]

The scratch database `crm_bench_pipeline` is created on the server `DATABASE_URL` points at
(default: postgres@127.0.0.1:5432), migrated, and given `--customers` demo customers
(`seed_demo`) and `--open` open opportunities spread over them (the demo pipeline's
generator, bulk-loaded), unless it already holds them. The board and the list are then
requested through Django's test client as the sales manager (every deal) and as a rep (the
deals of their own customers), a few times to warm up and then `--runs` times, and the
number of SQL queries, the median and p95 server time and the time in SQL are printed.
Figures only: nothing here fails because a page is slow.
"""

import argparse
import io
import time
from urllib.parse import urlsplit

from common import TEST_CLIENT_HOSTS, bench_database_url, format_page_table, measure_pages, setup_django

BENCH_DATABASE = "crm_bench_pipeline"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open opportunities (default 100,000)")
    parser.add_argument("--closed", type=int, default=20_000, help="won and lost ones beside them (default 20,000)")
    parser.add_argument("--customers", type=int, default=5_000, help="customers they belong to (default 5,000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database and load again")
    return parser.parse_args()


def seed(args) -> str:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from crm.core.demo import demo_user, demo_users_ensure
    from crm.core.roles import Role
    from customers.demo_pipeline import DemoPipeline, demo_pipeline_load
    from customers.models import Customer, LostReason, Opportunity

    if Opportunity.objects.open().count() >= args.open:
        return f"skipped: {Opportunity.objects.open().count():,} open opportunities already there (--reseed to redo)"
    started = time.perf_counter()
    call_command("seed_demo", customers=args.customers, contracts=0, seed=args.seed, stdout=io.StringIO())
    users = demo_users_ensure()
    customers = dict(Customer.objects.values_list("id", "owner_id"))
    pipeline = DemoPipeline(
        seed=args.seed,
        customers=customers,
        now=timezone.now(),
        lost_reason_ids=list(LostReason.objects.values_list("pk", flat=True)),
    )

    def deals():
        yield from pipeline.closed(args.closed)
        yield from pipeline.open(args.open, activities=False)

    demo_pipeline_load(deals=deals(), admin=users[demo_user(Role.ADMIN).username], seed=args.seed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) customers_opportunity, customers_opportunitystagechange")
    return (
        f"{time.perf_counter() - started:.1f} s for {args.customers:,} customers and {args.open + args.closed:,} deals"
    )


def pages():
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from crm.core.demo import demo_user
    from crm.core.roles import Role

    users = get_user_model().objects
    manager = users.get(username=demo_user(Role.SALES_MANAGER).username)
    rep = users.get(username=demo_user(Role.SALES_REP).username)
    board = reverse("customers:opportunity_board")
    listing = reverse("customers:opportunity_list")
    return [
        ("Board (manager, all deals)", manager, board),
        ("Board (sales rep)", rep, board),
        (f"Board, owner {rep.username} (manager)", manager, f"{board}?owner={rep.pk}"),
        ("List, page 1 (manager)", manager, listing),
        ("List, page 1 (sales rep)", rep, listing),
        ("List, page 200 (manager)", manager, f"{listing}?page=200"),
        ("List, stage proposal by amount (manager)", manager, f"{listing}?stage=proposal&sort=-amount"),
        ("List, idle only (manager)", manager, f"{listing}?stale=true"),
        ("List, idle only (sales rep)", rep, f"{listing}?stale=true"),
    ]


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS)

    from django.core.management import call_command
    from django.db import connection

    from customers.models import Opportunity

    call_command("migrate", verbosity=0, interactive=False)
    seeded = seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(f"Rows: {Opportunity.objects.open().count():,} open of {Opportunity.objects.count():,} opportunities")
    print(f"Seed: {seeded}")
    print(f"Each page: {args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
    print()
    print(format_page_table(measure_pages(pages(), args.runs, args.warmups)))
    print()
    print("SQL ms: median time inside the database per request; the rest is Python and templates.")


if __name__ == "__main__":
    main()
