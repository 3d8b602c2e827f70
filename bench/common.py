"""Helpers the benchmark scripts share: the scratch database, Django, timing, tables.

The scripts run as `.venv/bin/python bench/<name>.py`, so this folder is first on
`sys.path` and they import these as `from common import ...`. Bulk loading (COPY and id
reservation) is `crm.core.bulk`, the helper seed_demo uses, imported once Django is set up.
"""

import io
import math
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# The test client's host, for the scripts that request pages.
TEST_CLIENT_HOSTS = "testserver,localhost,127.0.0.1"
LOCMEM_EMAIL = "django.core.mail.backends.locmem.EmailBackend"


# --- the scratch database and Django -----------------------------------------------------


def bench_database_url(name: str, reseed: bool = False) -> str:
    """Create the scratch database `name` next to DATABASE_URL's and return its URL.

    With `reseed` it is dropped first, so it starts empty."""
    server = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    connection = psycopg2.connect(urlunsplit(server._replace(path="/postgres")))
    connection.autocommit = True
    with connection.cursor() as cursor:
        if reseed:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return urlunsplit(server._replace(path=f"/{name}"))


def bench_database_drop(name: str) -> None:
    """Drop the scratch database `name` (closing Django's connections to it first)."""
    from django.db import connections

    connections.close_all()
    server = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    connection = psycopg2.connect(urlunsplit(server._replace(path="/postgres")))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def setup_django(database_url: str, **environ: str):
    """Point the settings at `database_url` (DEBUG=1, plus any `environ`) and set Django up."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "1"
    os.environ.update(environ)
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings.base"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reseed_customers(customers: int, contacts_per_customer: int, seed: int) -> float:
    """Empty the customer tables (if they hold rows) and seed them again with seed_demo;
    returns the seconds the seeding took."""
    from django.core.management import call_command
    from django.db import connection

    from customers.models import Customer

    if Customer.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE customers_interaction, customers_contact, customers_customer RESTART IDENTITY CASCADE"
            )
    started = time.perf_counter()
    call_command(
        "seed_demo",
        customers=customers,
        contacts_per_customer=contacts_per_customer,
        seed=seed,
        stdout=io.StringIO(),
    )
    return time.perf_counter() - started


# --- measuring -----------------------------------------------------------------------------


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(client, url, runs, warmups) -> dict:
    """Time `runs` GETs of `url` after `warmups` untimed ones; "captured" holds the last run's queries."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    # A full query log (9,000 entries, e.g. after seeding with DEBUG on) captures nothing.
    reset_queries()
    for _ in range(warmups):
        client.get(url)
    totals, sql_times, query_counts, statuses = [], [], [], set()
    last_run = None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            totals.append(time.perf_counter() - started)
        statuses.add(response.status_code)
        query_counts.append(len(queries.captured_queries))
        sql_times.append(sum(float(query["time"]) for query in queries.captured_queries))
        last_run = list(queries.captured_queries)
    return {
        "queries": max(query_counts),
        "median": statistics.median(totals) * 1000,
        "p95": p95(totals) * 1000,
        "sql": statistics.median(sql_times) * 1000,
        "status": ",".join(str(status) for status in sorted(statuses)),
        "captured": last_run,
    }


def measure_pages(pages, runs, warmups, progress=False) -> list:
    """measure() each (label, user, url), logged in as that user; rows of (label, username, result, url).

    With `progress`, each page's median goes to stderr as it is done."""
    from django.test import Client

    rows, clients = [], {}
    for label, user, url in pages:
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        result = measure(clients[user.pk], url, runs, warmups)
        rows.append((label, user.get_username(), result, url))
        if progress:
            print(f"  {label}: {result['median']:.1f} ms", file=sys.stderr, flush=True)
    return rows


# --- tables ----------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if "\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef" else 1 for char in text)


def pad(text: str, width: int, right: bool = False) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def format_table(header, rows, right=()) -> str:
    """Header, a rule and the rows, columns two spaces apart; the columns in `right` right-aligned."""
    table = [tuple(header)] + [tuple(str(value) for value in row) for row in rows]
    widths = [max(display_width(row[column]) for row in table) for column in range(len(header))]
    lines = []
    for index, row in enumerate(table):
        cells = [pad(value, widths[column], right=column in right and index > 0) for column, value in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


PAGE_HEADER = ("Page", "As", "Queries", "Median ms", "p95 ms", "SQL ms", "Status", "URL")


def format_page_table(rows) -> str:
    """The page timings: rows of (label, username, measure() result, url)."""
    return format_table(
        PAGE_HEADER,
        [
            (
                label,
                username,
                result["queries"],
                f"{result['median']:.1f}",
                f"{result['p95']:.1f}",
                f"{result['sql']:.1f}",
                result["status"],
                url,
            )
            for label, username, result, url in rows
        ],
        right={2, 3, 4, 5},
    )
