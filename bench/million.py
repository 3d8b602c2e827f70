"""Seed a million customers with their contacts, contracts and orders, then time every list,
search and detail page as the sales manager and as a rep, and the customer list under gunicorn.

    .venv/bin/python bench/million.py [--seed-only] [--runs R] [--no-wrk] [--explain]

The scratch database is named by BENCH_DATABASE (default `bench_million`) on the server
DATABASE_URL points at (default postgres@127.0.0.1:5432); it is created and migrated, and
each phase is seeded once: a phase whose rows are already there is skipped, so a second run
only measures. Phases, each with its progress on stderr:

1. 1,000,000 customers, 2,000,000 contacts and their timelines (`seed_demo`, COPY),
   spread over the demo reps;
2. 200,000 contracts (COPY, as bench/contracts.py);
3. 1,000,000 orders with their lines (COPY, as bench/orders.py), 10,000 of them on one
   contract taken through the real services.

The COPY phases BYPASS THE SERVICES (no per-row checks, no audit events). Then every page
is requested through Django's test client (no network) with DEBUG off: the SQL query count,
median and p95 server time, time in SQL. Last, `wrk` (apt-get install wrk) measures
requests per second on the customer list served by gunicorn with 2 workers, logged in as
the manager. Figures only: nothing here fails because a page is slow.
"""

import argparse
import datetime
import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from common import LOCMEM_EMAIL, ROOT, TEST_CLIENT_HOSTS, bench_database_url, format_page_table, measure_pages

CUSTOMERS, CONTACTS_PER_CUSTOMER, CONTRACTS, ORDERS, CONTRACT_ORDERS = 1_000_000, 2, 200_000, 1_000_000, 10_000
SEED = 42
WRK_PORT = 8765


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--seed-only", action="store_true", help="seed what is missing, measure nothing")
    parser.add_argument("--no-wrk", action="store_true", help="skip the gunicorn + wrk throughput run")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each slow query")
    parser.add_argument("--explain-over", type=float, default=50.0, help="a slow page's median, in ms (default 50)")
    return parser.parse_args()


def sibling(name: str):
    """bench/<name>.py as a module (its name would shadow the app of the same name)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def phase(number: int, text: str) -> float:
    print(f"[{number}/3] {text}", file=sys.stderr, flush=True)
    return time.perf_counter()


def seed() -> list[str]:
    """Seed each phase that is missing; one line per phase saying what happened."""
    from django.core.management import call_command

    from contracts.models import Contract
    from customers.models import Customer
    from orders.models import Order

    report = []
    if Customer.objects.count() < CUSTOMERS:
        started = phase(1, f"seed_demo: {CUSTOMERS:,} customers, {CUSTOMERS * CONTACTS_PER_CUSTOMER:,} contacts")
        call_command(
            "seed_demo",
            customers=CUSTOMERS - Customer.objects.count(),
            contacts_per_customer=CONTACTS_PER_CUSTOMER,
            contracts=0,
            seed=SEED,
            stdout=io.StringIO(),
        )
        report.append(f"customers: seeded in {time.perf_counter() - started:.0f} s")
    else:
        report.append("customers: already seeded")
    if Contract.objects.count() < CONTRACTS:
        started = phase(2, f"{CONTRACTS:,} contracts (COPY)")
        sibling("contracts").bulk_load(SimpleNamespace(contracts=CONTRACTS - Contract.objects.count(), seed=SEED))
        report.append(f"contracts: seeded in {time.perf_counter() - started:.0f} s")
    else:
        report.append("contracts: already seeded")
    if Order.objects.count() < ORDERS:
        started = phase(3, f"{ORDERS:,} orders (COPY), {CONTRACT_ORDERS:,} on one contract")
        orders = sibling("orders")
        from orders.demo import demo_catalog_ensure

        who = orders.people()
        demo_catalog_ensure(manager=who["manager"])
        today = datetime.date.today()
        contract = orders.big_contract(who, today)
        options = SimpleNamespace(orders=ORDERS - Order.objects.count(), contract_orders=CONTRACT_ORDERS, seed=SEED)
        orders.bulk_load(options, who, contract, today)
        report.append(f"orders: seeded in {time.perf_counter() - started:.0f} s")
    else:
        report.append("orders: already seeded")
    return report


def main():
    args = parse_args()
    name = os.environ.get("BENCH_DATABASE", "bench_million")
    database_url = bench_database_url(name)
    os.environ.update(
        DATABASE_URL=database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, EMAIL_BACKEND=LOCMEM_EMAIL, DEBUG="0"
    )
    os.environ.setdefault("SECRET_KEY", "bench-million-not-secret")
    os.environ.setdefault("SIGNING_BACKEND", "memory")  # the one contract signed while seeding
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings.base"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    print(f"Database: {name} on {urlsplit(database_url).hostname}", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    for line in seed():
        print(line, flush=True)
    if args.seed_only:
        return


if __name__ == "__main__":
    main()
