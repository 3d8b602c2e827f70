"""Seed 100,000 customers into a scratch database and time the main customer pages.

    .venv/bin/python bench/customer_pages.py [--reseed] [--customers N] [--runs R]

The scratch database `crm_bench` is created on the server `DATABASE_URL` points at
(default: postgres@127.0.0.1:5432), migrated, and seeded with `seed_demo` unless it
already holds that many customers and contacts. Each page is then requested through
Django's test client (no network), a few times to warm up and then `--runs` times,
and the number of SQL queries, the median and p95 server time and the time spent in
SQL are printed. Figures only: nothing here fails because a page is slow.
"""

import argparse
from urllib.parse import urlsplit

from common import (
    TEST_CLIENT_HOSTS,
    bench_database_url,
    format_page_table,
    measure_pages,
    reseed_customers,
    setup_django,
)

BENCH_DATABASE = "crm_bench"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100,000)")
    parser.add_argument("--contacts-per-customer", type=int, default=2, help="contacts per customer (default 2)")
    parser.add_argument("--seed", type=int, default=42, help="seed_demo's random seed (default 42)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--reseed", action="store_true", help="empty and seed again even if already seeded")
    return parser.parse_args()


def seed(args) -> str:
    """Seed unless already seeded with that many rows; returns what happened, for the report."""
    from customers.models import Contact, Customer

    wanted = (args.customers, args.customers * args.contacts_per_customer)
    present = (Customer.objects.count(), Contact.objects.count())
    if present == wanted and not args.reseed:
        return f"skipped: already seeded with {present[0]:,} customers and {present[1]:,} contacts (--reseed to redo)"
    seconds = reseed_customers(args.customers, args.contacts_per_customer, args.seed)
    return f"{seconds:.1f} s for {wanted[0]:,} customers and {wanted[1]:,} contacts"


def pages():
    """(label, user, url) for every measured page, built from rows that exist."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from crm.core.demo import demo_user
    from crm.core.roles import Role
    from customers.models import Customer, Interaction

    users = get_user_model().objects
    manager = users.get(username=demo_user(Role.SALES_MANAGER).username)
    rep = users.get(username=demo_user(Role.SALES_REP).username)
    customers = Customer.objects.order_by("id")
    total = customers.count()
    # A Chinese company name in the middle of the table: its brand and the start of its trade.
    chinese = customers.filter(kind="company", name__regex=r"^[一-鿿]{8}").filter(pk__gte=total // 2).first()
    name_fragment = chinese.name[2:6]
    phone_fragment = customers.filter(phone_key__regex=r"^1[358]\d{9}$", pk__gte=total // 3).first().phone_key[3:9]
    detail = Interaction.objects.filter(customer_id__gte=total // 2).order_by("customer_id").first().customer
    deep_page = max(1, min(2000, total // 25 // 2))
    customer_list = reverse("customers:customer_list")
    return [
        ("Customer list, page 1", manager, customer_list),
        (f"Customer list, page {deep_page}", manager, f"{customer_list}?page={deep_page}"),
        ("Customer list, page 1 (sales rep)", rep, customer_list),
        ("Contact list, page 1", manager, reverse("customers:contact_list")),
        (f"Search name {name_fragment!r}", manager, f"{customer_list}?q={name_fragment}"),
        ("Search name '科技' (common)", manager, f"{customer_list}?q=科技"),
        (f"Search phone {phone_fragment!r}", manager, f"{customer_list}?q={phone_fragment}"),
        ("Customer detail", manager, reverse("customers:customer_detail", args=[detail.pk])),
    ]


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS)

    from django.core.management import call_command
    from django.db import connection

    from customers.models import Contact, Customer, Interaction

    call_command("migrate", verbosity=0, interactive=False)
    seeded = seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]

    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(
        f"Rows: {Customer.objects.count():,} customers, {Contact.objects.count():,} contacts, "
        f"{Interaction.objects.count():,} timeline entries"
    )
    print(f"Seed: {seeded}")
    print(f"Each page: {args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
    print()

    rows = measure_pages(pages(), args.runs, args.warmups)
    print(format_page_table(rows))
    print()
    print("SQL ms: median time inside the database per request; the rest is Python and templates.")


if __name__ == "__main__":
    main()
