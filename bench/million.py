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
    parser.add_argument("--pages", nargs="*", default=[], help="measure only pages whose label holds one of these")
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


# --- measuring -----------------------------------------------------------------------------


def pages():
    """(label, user, url) of every list, search and detail page, for the manager and a rep."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from contracts.models import Contract
    from crm.core.demo import demo_user
    from crm.core.roles import Role
    from customers.models import Contact, Customer
    from orders.models import Order

    users = get_user_model().objects
    manager = users.get(username=demo_user(Role.SALES_MANAGER).username)
    rep = users.get(username=demo_user(Role.SALES_REP).username)
    # Rows of the rep's, from the middle of each table: both roles may open them.
    customer = Customer.objects.filter(owner=rep, pk__gte=CUSTOMERS // 2).order_by("pk").first()
    contract = Contract.objects.filter(customer__owner=rep, pk__gte=CONTRACTS // 2).order_by("pk").first()
    order = Order.objects.filter(customer__owner=rep, pk__gte=ORDERS // 2).order_by("pk").first()
    contact = Contact.objects.filter(customer=customer).first()
    phone = customer.phone_key[3:9]
    past_cap = Customer.objects.order_by("name", "id").values_list("pk", flat=True)[150_000]

    def url(name, *args, **query):
        address = reverse(name, args=args)
        return f"{address}?{urlencode(query)}" if query else address

    both = [
        ("Customers, page 1", url("customers:customer_list")),
        ("Customers, page 2000", url("customers:customer_list", page=2000)),
        ("Customers by created, page 2000", url("customers:customer_list", sort="-created", page=2000)),
        ("Customers by updated", url("customers:customer_list", sort="-updated")),
        ("Customers by status", url("customers:customer_list", sort="status")),
        ("Customers, search 'wang'", url("customers:customer_list", q="wang")),
        ("Customers, search '科技'", url("customers:customer_list", q="科技")),
        ("Customers, search '王'", url("customers:customer_list", q="王")),
        (f"Customers, search phone {phone!r}", url("customers:customer_list", q=phone)),
        ("Customers past the cap (?after=)", url("customers:customer_list", after=past_cap)),
        ("Customer detail", url("customers:customer_detail", customer.pk)),
        ("Contacts, page 1", url("customers:contact_list")),
        ("Contacts by customer, page 2000", url("customers:contact_list", sort="customer", page=2000)),
        ("Contacts, search 'wang'", url("customers:contact_list", q="wang")),
        ("Contacts, search '科技'", url("customers:contact_list", q="科技")),
        ("Contracts, page 1", url("contracts:contract_list")),
        ("Contracts, page 2000", url("contracts:contract_list", page=2000)),
        ("Contracts by amount", url("contracts:contract_list", sort="-amount")),
        ("Contracts by end date", url("contracts:contract_list", sort="end")),
        ("Contracts, status active", url("contracts:contract_list", status="active")),
        ("Contracts, search number", url("contracts:contract_list", q=contract.number[-6:])),
        ("Contracts, search '科技'", url("contracts:contract_list", q="科技")),
        ("Contracts, search 'maintenance'", url("contracts:contract_list", q="maintenance")),
        ("Contract detail", url("contracts:contract_detail", contract.pk)),
        ("Approvals inbox", url("contracts:approval_inbox")),
        ("Orders, page 1", url("orders:order_list")),
        ("Orders, page 2000", url("orders:order_list", page=2000)),
        ("Orders by total", url("orders:order_list", sort="-total")),
        ("Orders, search number", url("orders:order_list", q=order.number[-7:])),
        ("Orders, search '科技'", url("orders:order_list", q="科技")),
        ("Order detail", url("orders:order_detail", order.pk)),
    ]
    assert contact is not None
    return [(label, who, address) for who in (manager, rep) for label, address in both], manager


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def print_plans(rows, over_ms):
    """EXPLAIN (ANALYZE, BUFFERS) of the two slowest queries of each page slower than `over_ms`."""
    for label, username, result, _url in rows:
        if result["median"] <= over_ms:
            continue
        slowest = sorted(result["captured"], key=lambda query: -float(query["time"]))[:2]
        for query in slowest:
            print(f"\n--- {label} as {username}: {float(query['time']) * 1000:.0f} ms\n{query['sql']}")
            print(explain(query["sql"], None) if "%s" not in query["sql"] else "(parameters not kept)")


def wrk_customer_list(user, seconds=20) -> str:
    """Requests per second of the customer list under gunicorn (2 workers), logged in as `user`."""
    from django.test import Client

    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install -y wrk): skipped"
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "crm.wsgi", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": "2", "BIND_ADDRESS": "127.0.0.1", "PORT": str(WRK_PORT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = f"http://127.0.0.1:{WRK_PORT}/customers/"
        for _ in range(60):
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"Cookie: sessionid={cookie}", address],
                capture_output=True,
                text=True,
            )  # noqa: E501
            if probe.stdout == "200":
                break
            time.sleep(1)
        else:
            return f"gunicorn did not answer 200 on {address} (last: {probe.stdout})"
        result = subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-H", f"Cookie: sessionid={cookie}", address],
            capture_output=True,
            text=True,
        )
        return result.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main():
    args = parse_args()
    name = os.environ.get("BENCH_DATABASE", "bench_million")
    database_url = bench_database_url(name)
    os.environ.update(
        DATABASE_URL=database_url,
        ALLOWED_HOSTS=TEST_CLIENT_HOSTS,
        EMAIL_BACKEND=LOCMEM_EMAIL,
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
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
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off serves the manifest's names
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Each page: {args.warmups} warm-up requests, then {args.runs} timed (test client, DEBUG off)", flush=True)
    measured, manager = pages()
    if args.pages:
        measured = [page for page in measured if any(part in page[0] for part in args.pages)]
    rows = measure_pages(measured, args.runs, args.warmups, progress=True)
    print(format_page_table(rows))
    print("SQL ms: median time inside the database per request; the rest is Python and templates.")
    if args.explain:
        print_plans(rows, args.explain_over)
    if not args.no_wrk:
        print("\nwrk -t2 -c8 on /customers/ as the manager, gunicorn with 2 workers:")
        print(wrk_customer_list(manager))


if __name__ == "__main__":
    main()
