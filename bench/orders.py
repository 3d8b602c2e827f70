"""Seed 1,000,000 orders into a scratch database, time the order list and order placement.

    .venv/bin/python bench/orders.py [--reseed] [--orders N] [--contract-orders N] [--runs R] [--placements P]

The scratch database `crm_bench_orders` is created on the server `DATABASE_URL` points
at (default: postgres@127.0.0.1:5432) and migrated. Customers and demo users come from
`seed_demo`; the catalog from `orders.demo`; one large contract is taken to active
through the real contract and signing services. The orders and their lines are then
bulk-loaded with COPY, which BYPASSES THE SERVICES (no per-order checks, no audit
events): 1,000,000 orders by default, 10,000 of them on that one contract.

Then it prints, figures only (nothing here fails because something is slow):
- the order list page (Django's test client as the sales manager, no network): first
  page, a deep page, a filtered page, a search by number, a contract's orders — SQL
  query count, median and p95 server time, time in SQL;
- how long placing an order through the real `order_create` takes (median, p95) on the
  contract that already holds 10,000 orders (the service sums the contract's live
  orders under its row lock).
"""

import argparse
import datetime
import io
import random
import statistics
import sys
import time
from decimal import Decimal
from urllib.parse import urlsplit

from common import (
    LOCMEM_EMAIL,
    TEST_CLIENT_HOSTS,
    bench_database_url,
    format_page_table,
    measure_pages,
    p95,
    setup_django,
)

BENCH_DATABASE = "crm_bench_orders"
BATCH = 50_000
CONTRACT_AMOUNT = Decimal("500000000.00")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to bulk-load (default 1,000,000)")
    parser.add_argument(
        "--contract-orders", type=int, default=10_000, help="of which on the one big contract (default 10,000)"
    )
    parser.add_argument("--customers", type=int, default=20_000, help="customers from seed_demo (default 20,000)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--placements", type=int, default=50, help="orders placed through order_create (default 50)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database and seed again")
    return parser.parse_args()


# --- seeding -------------------------------------------------------------------------------


def people():
    from django.contrib.auth import get_user_model

    from crm.core.demo import DEMO_USERS, demo_user
    from crm.core.roles import Role

    users = get_user_model().objects
    return {
        "reps": [users.get(username=spec.username) for spec in DEMO_USERS if spec.role == Role.SALES_REP],
        "manager": users.get(username=demo_user(Role.SALES_MANAGER).username),
        "finance": users.get(username=demo_user(Role.FINANCE_APPROVER).username),
        "signatory": users.get(username=demo_user(Role.SIGNATORY).username),
    }


def big_contract(who, today):
    """The contract the placements go to: active, through the real services."""
    from contracts import selectors, services, signatures
    from contracts.models import Contract
    from crm.core.demo import DEMO_PASSWORD
    from crm.core.roles import Role
    from customers.models import Customer

    existing = Contract.objects.filter(title="Bench framework agreement").first()
    if existing is not None:
        return existing
    rep = who["reps"][0]
    customer = Customer.objects.filter(owner=rep).order_by("id").first()
    contract = services.contract_create(
        actor=rep,
        customer_id=customer.pk,
        title="Bench framework agreement",
        body="1. Scope\n2. Price\n3. Term\n",
        amount=CONTRACT_AMOUNT,
        currency="CNY",
        start_date=today - datetime.timedelta(days=700),
        end_date=today + datetime.timedelta(days=400),
        payment_terms_days=30,
    )
    services.contract_submit(actor=rep, contract_id=contract.pk)
    deciders = {Role.SALES_MANAGER.value: who["manager"], Role.FINANCE_APPROVER.value: who["finance"]}
    for _level, role in selectors.approval_levels(contract.amount):
        services.contract_approve(actor=deciders[role], contract_id=contract.pk, comment="OK")
    signatures.contract_sign_company(actor=who["signatory"], contract_id=contract.pk, password=DEMO_PASSWORD)
    _link, url = signatures.signing_link_send(actor=rep, contract_id=contract.pk)
    signatures.contract_sign_customer(token=url.rstrip("/").rsplit("/", 1)[-1], full_name="Bench Buyer", accepted=True)
    return Contract.objects.get(pk=contract.pk)


ORDER_COLUMNS = [
    "id", "number", "customer_id", "contract_id", "order_date", "currency", "total", "status", "owner_id",
    "notes", "approval_reasons", "submitted_by_id", "approved_by_id", "cancel_reason", "created_at", "updated_at",
    "delivered_at",
]  # fmt: skip
LINE_COLUMNS = ["order_id", "product_id", "quantity", "unit_price", "discount_percent", "line_total"]
# Mostly old, finished orders; a tail of recent work in progress.
STATUS_WEIGHTS = {
    "closed": 55,
    "delivered": 10,
    "in_fulfilment": 8,
    "approved": 8,
    "pending_approval": 4,
    "draft": 7,
    "cancelled": 8,
}


def bulk_load(args, who, contract, today) -> str:
    """COPY orders and lines in batches; bypasses the services (no checks, no audit)."""
    from django.db import connection, transaction

    from crm.core.bulk import copy_rows, ids_reserve
    from crm.core.models import DocumentSequence
    from customers.models import Customer
    from orders.models import Product, line_total

    rng = random.Random(args.seed)
    customers = list(Customer.objects.values_list("id", "owner_id"))
    products = list(Product.objects.filter(is_active=True, currency="CNY").values_list("id", "unit_price"))
    manager_id = who["manager"].pk
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    contract_customer, contract_owner = contract.customer_id, contract.owner_id
    contract_every = max(1, args.orders // max(1, args.contract_orders))
    contract_left = args.contract_orders
    contract_sum = Decimal(0)
    contract_cap = CONTRACT_AMOUNT * Decimal("0.8")  # leaves room for the timed placements
    # Numbers continue after any the services already gave out.
    sequences = DocumentSequence.objects.filter(key__startswith="ORD-").values_list("key", "last_value")
    per_year = {int(key.removeprefix("ORD-")): last for key, last in sequences}
    now = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()

    done = 0
    while done < args.orders:
        size = min(BATCH, args.orders - done)
        with transaction.atomic(), connection.cursor() as cursor:
            ids = ids_reserve(cursor, "orders_order", size)
            order_rows, line_rows = [], []
            for offset, order_id in enumerate(ids):
                index = done + offset
                on_contract = contract_left > 0 and index % contract_every == 0
                if on_contract:
                    customer_id, owner_id, contract_id = contract_customer, contract_owner, contract.pk
                    order_date = contract.start_date + datetime.timedelta(
                        days=rng.randint(0, (today - contract.start_date).days)
                    )
                else:
                    customer_id, owner_id = customers[rng.randrange(len(customers))]
                    contract_id = None
                    order_date = today - datetime.timedelta(days=int(rng.triangular(0, 1095, 0)))
                status = rng.choices(statuses, weights)[0]
                lines, total = [], Decimal(0)
                for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                    product_id, price = products[rng.randrange(len(products))]
                    quantity = Decimal(rng.choice([1, 1, 2, 3, 5, 10]))
                    discount = Decimal(rng.choice([0, 0, 0, 0, 5, 10]))
                    amount = line_total(quantity, price, discount)
                    lines.append((order_id, product_id, quantity, price, discount, amount))
                    total += amount
                if on_contract:
                    if contract_sum + total > contract_cap:
                        status = "cancelled"  # keep the contract's live sum under its amount
                    elif status != "cancelled":
                        contract_sum += total
                    contract_left -= 1
                per_year[order_date.year] = per_year.get(order_date.year, 0) + 1
                number = f"ORD-{order_date.year}-{per_year[order_date.year]:06d}"
                created = datetime.datetime.combine(order_date, datetime.time(9), tzinfo=datetime.UTC)
                submitted = manager_id if status not in ("draft", "cancelled") else None
                approved = manager_id if status in ("approved", "in_fulfilment", "delivered", "closed") else None
                order_rows.append(
                    (
                        order_id, number, customer_id, contract_id, order_date, "CNY", total, status, owner_id,
                        "", "[]", submitted and owner_id, approved,
                        "Bench: cancelled" if status == "cancelled" else "", created, min(now, created),
                        min(now, created) if status in ("delivered", "closed") else None,
                    )
                )  # fmt: skip
                line_rows.extend(lines)
            copy_rows(cursor, "orders_order", ORDER_COLUMNS, order_rows)
            copy_rows(cursor, "orders_orderline", LINE_COLUMNS, line_rows)
        done += size
        rate = done / (time.perf_counter() - started)
        print(f"\r  loaded {done:,} / {args.orders:,} orders ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    with transaction.atomic():
        # Numbers continue after the loaded ones; the contract records its live sum.
        for year, last in per_year.items():
            DocumentSequence.objects.update_or_create(key=f"ORD-{year}", defaults={"last_value": last})
        from django.db.models import Sum

        from contracts.models import Contract
        from orders.models import Order

        live = Order.objects.filter(contract=contract).exclude(status="cancelled").aggregate(s=Sum("total"))["s"]
        Contract.objects.filter(pk=contract.pk).update(ordered_amount=live or 0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")
    return f"{time.perf_counter() - started:.1f} s for {args.orders:,} orders (COPY, services bypassed)"


def seed(args, today):
    """Seed what is missing; returns the big contract and what happened, for the report."""
    from django.core.management import call_command

    from customers.models import Customer
    from orders.demo import demo_catalog_ensure
    from orders.models import Order

    if not Customer.objects.exists():
        call_command(
            "seed_demo",
            customers=args.customers,
            contacts_per_customer=0,
            contracts=0,  # the customers only: the measured contract and orders are made below
            seed=args.seed,
            stdout=io.StringIO(),
        )
    who = people()
    demo_catalog_ensure(manager=who["manager"])
    contract = big_contract(who, today)
    if Order.objects.filter(notes="").count() >= args.orders:
        return contract, f"skipped: already holds {Order.objects.count():,} orders (--reseed to redo)"
    return contract, bulk_load(args, who, contract, today)


# --- measuring -----------------------------------------------------------------------------


def list_pages(who, contract):
    """(label, user, url) for the order list, or [] when the page does not exist yet."""
    from django.urls import NoReverseMatch, reverse

    from orders.models import Order

    try:
        order_list = reverse("orders:order_list")
    except NoReverseMatch:
        return []
    total = Order.objects.count()
    middle = Order.objects.filter(pk__gte=total // 2).order_by("pk").values_list("number", flat=True).first()
    deep = max(1, min(2000, total // 25 // 2))
    on_contract = Order.objects.filter(contract=contract).count()
    manager, rep = who["manager"], who["reps"][0]
    return [
        ("Order list, page 1", manager, order_list),
        (f"Order list, page {deep:,}", manager, f"{order_list}?page={deep}"),
        ("Status = in fulfilment", manager, f"{order_list}?status=in_fulfilment"),
        ("Status + date range", manager, f"{order_list}?status=closed&date_from=2026-01-01&date_to=2026-03-31"),
        (f"Search number {middle}", manager, f"{order_list}?q={middle}"),
        ("Search number fragment '-0042'", manager, f"{order_list}?q=-0042"),
        (f"Contract's orders ({on_contract:,})", manager, f"{order_list}?contract={contract.pk}"),
        ("Order list, page 1 (sales rep)", rep, order_list),
    ]


def time_placements(who, contract, count) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.models import Order, Product
    from orders.services import order_create

    rep = who["reps"][0]
    product = Product.objects.filter(is_active=True, unit_price__lt=1000).order_by("sku").first()
    before = Order.objects.filter(contract=contract).count()
    timings, queries = [], []
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            order_create(
                actor=rep,
                customer_id=contract.customer_id,
                contract_id=contract.pk,
                lines=[{"product": product, "quantity": Decimal(1), "discount_percent": Decimal(0)}],
                notes="bench placement",
            )
            timings.append(time.perf_counter() - started)
        queries.append(len(captured.captured_queries))
    return {
        "before": before,
        "median": statistics.median(timings) * 1000,
        "p95": p95(timings) * 1000,
        "max": max(timings) * 1000,
        "queries": max(queries),
    }


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    # DEBUG=1 also picks the in-memory signing backend for the contract; the signing link's e-mail stays in memory.
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, EMAIL_BACKEND=LOCMEM_EMAIL)

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from orders.models import Order, OrderLine

    call_command("migrate", verbosity=0, interactive=False)
    today = timezone.localdate()
    contract, seeded = seed(args, today)
    who = people()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]

    on_contract = Order.objects.filter(contract=contract).count()
    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(
        f"Rows: {Order.objects.count():,} orders, {OrderLine.objects.count():,} lines; "
        f"contract {contract.number} holds {on_contract:,} orders"
    )
    print(f"Seed: {seeded}.")
    print("The bulk load bypasses the services: no per-order checks, no audit events; the placements below do not.")
    print()

    pages = list_pages(who, contract)
    if not pages:
        print("Order list: skipped, the URL orders:order_list does not resolve yet.")
    else:
        print(f"Order list: {args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
        print(format_page_table(measure_pages(pages, args.runs, args.warmups)))
        print("SQL ms: median time inside the database per request; the rest is Python and templates.")
    print()

    placed = time_placements(who, contract, args.placements)
    print(
        f"order_create through the service, {args.placements} placements on {contract.number} "
        f"(already {placed['before']:,} orders): median {placed['median']:.1f} ms, p95 {placed['p95']:.1f} ms, "
        f"max {placed['max']:.1f} ms, {placed['queries']} queries each"
    )


if __name__ == "__main__":
    main()
