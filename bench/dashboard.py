"""Time every dashboard and every report page (and their CSV/XLSX exports) as the sales
manager and as a rep, and the summary refresh behind the dashboards.

    BENCH_DATABASE=pagespeed_million .venv/bin/python bench/dashboard.py [--runs R] [--no-refresh]

The database is named by BENCH_DATABASE (default `bench_million`, seeded by
`bench/million.py --seed-only`) on the server DATABASE_URL points at. Unless `--no-refresh`,
`dashboard_refresh` runs first and its time is printed: it WRITES the summary tables, so
give it a copy (`createdb -T bench_million <name>`), not the shared database. Then each page
is requested through Django's test client with DEBUG off: query count, median and p95 server
time, time in SQL. Figures only: nothing here fails because a page is slow.
"""

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

from common import LOCMEM_EMAIL, ROOT, TEST_CLIENT_HOSTS, bench_database_url, format_page_table, measure_pages


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed requests per page (default 10)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed requests first (default 2)")
    parser.add_argument("--no-refresh", action="store_true", help="measure the pages only (the database is read)")
    return parser.parse_args()


def pages():
    """(label, user, url) of each dashboard (every role's) and each report with its exports."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from crm.core.demo import demo_user
    from crm.core.roles import Role
    from crm.dashboard.reports import REPORTS

    users = get_user_model().objects
    roles = [Role.SALES_MANAGER, Role.SALES_REP, Role.FINANCE_APPROVER, Role.SIGNATORY, Role.SERVICE_MANAGER]
    people = {role: users.get(username=demo_user(role).username) for role in roles}
    manager, rep = people[Role.SALES_MANAGER], people[Role.SALES_REP]
    measured = [("Dashboard", who, reverse("dashboard:home")) for who in people.values()]
    for who in (manager, rep):
        for report in REPORTS:
            address = reverse("dashboard:report", args=[report.slug])
            measured.append((f"Report {report.slug}", who, address))
            measured.append((f"Report {report.slug} CSV", who, f"{address}?format=csv"))
            measured.append((f"Report {report.slug} XLSX", who, f"{address}?format=xlsx"))
    return measured


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
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("SECRET_KEY", "bench-dashboard-not-secret")
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings.base"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    print(f"Database: {name} on {urlsplit(database_url).hostname}; load average {os.getloadavg()}", flush=True)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off serves the manifest's names
    if not args.no_refresh:
        from crm.core.workflow import SYSTEM
        from crm.dashboard.services import dashboard_refresh

        started = time.perf_counter()
        run = dashboard_refresh(actor=SYSTEM)
        print(f"dashboard_refresh: {run.facts:,} summary rows in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"Each page: {args.warmups} warm-up requests, then {args.runs} timed (test client, DEBUG off)", flush=True)
    rows = measure_pages(pages(), args.runs, args.warmups, progress=True)
    print(format_page_table(rows))
    print(f"SQL ms: median time inside the database per request. Load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
