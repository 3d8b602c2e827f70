"""Seed 1,000,000 service tickets into a scratch database and time the agent's queue.

    .venv/bin/python bench/tickets.py [--reseed] [--keep] [--tickets N] [--agents A] [--runs R]

The scratch database `crm_bench_tickets` is created on the server `DATABASE_URL` points
at (default: postgres@127.0.0.1:5432) and migrated. Customers and demo users come from
`seed_demo`; A more service agents are added. The tickets are then bulk-loaded with
COPY, which BYPASSES THE SERVICES (no SLA arithmetic, no assignment, no audit events):
most closed or resolved, about 8% still open, spread over the agents, a few hundred
unassigned, deadlines around their creation.

Then it prints, figures only (nothing here fails because something is slow): the
agent's queue (their open tickets and the unassigned ones, nearest deadline first) as
the demo agent and as the demo service manager, the manager's board, the ticket list
and one ticket's page — SQL query count, median and p95 server time, time in SQL; then
EXPLAIN (ANALYZE, BUFFERS) of the queue's page query and its count, as the agent and as
the manager. The disk used by the scratch database is printed, and the database is
dropped at the end (`--keep` keeps it for another run, which then only measures).
"""

import argparse
import datetime
import io
import random
import shutil
import sys
import time
from urllib.parse import urlsplit

from common import (
    LOCMEM_EMAIL,
    ROOT,
    TEST_CLIENT_HOSTS,
    bench_database_drop,
    bench_database_url,
    format_page_table,
    measure_pages,
    setup_django,
)

BENCH_DATABASE = "crm_bench_tickets"
BATCH = 50_000
TICKET_COLUMNS = [
    "id", "number", "customer_id", "contact_id", "contract_id", "order_id", "kind", "channel", "subject",
    "description", "priority", "status", "assignee_id", "created_by_id", "sla_policy_id", "first_response_due_at",
    "resolution_due_at", "first_responded_at", "resolved_at", "closed_at", "paused_since", "paused_minutes",
    "response_warned", "response_escalated", "resolution_warned", "resolution_escalated", "resolution",
    "created_at", "updated_at",
]  # fmt: skip
STATUS_WEIGHTS = {"closed": 80, "resolved": 12, "in_progress": 4, "assigned": 2, "waiting_on_customer": 2}
KINDS = ["inquiry", "inquiry", "complaint", "after_sales", "after_sales", "feedback"]
CHANNELS = ["phone", "email", "web_form", "walk_in"]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
UNASSIGNED_EVERY = 3000  # one new, unassigned ticket every this many


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to bulk-load (default 1,000,000)")
    parser.add_argument("--agents", type=int, default=40, help="service agents besides the demo one (default 40)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers from seed_demo (default 20,000)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database and seed again")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database at the end (default: drop it)")
    return parser.parse_args()


def people(extra_agents: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm.core.demo import demo_user
    from crm.core.roles import Role

    users = get_user_model().objects
    group = Group.objects.get(name=Role.SERVICE_AGENT.value)
    agent = users.get(username=demo_user(Role.SERVICE_AGENT).username)
    agents = [agent]
    for index in range(extra_agents):
        user, created = users.get_or_create(username=f"bench_agent{index:03d}", defaults={"first_name": "Agent"})
        if created:
            user.groups.add(group)
        agents.append(user)
    return {
        "agent": agent,
        "agents": agents,
        "service_manager": users.get(username=demo_user(Role.SERVICE_MANAGER).username),
    }


def bulk_load(args, who) -> str:
    """COPY the tickets in batches; bypasses the services (no SLA arithmetic, no audit)."""
    from django.db import connection, transaction

    from crm.core.bulk import copy_rows, ids_reserve
    from crm.core.models import DocumentSequence
    from customers.models import Customer

    rng = random.Random(args.seed)
    customers = list(Customer.objects.values_list("id", flat=True))
    agent_ids = [agent.pk for agent in who["agents"]]
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    now = datetime.datetime.now(datetime.UTC)
    per_year: dict[int, int] = {}
    started = time.perf_counter()
    done = 0
    while done < args.tickets:
        size = min(BATCH, args.tickets - done)
        with transaction.atomic(), connection.cursor() as cursor:
            ids = ids_reserve(cursor, "service_ticket", size)
            rows = []
            for offset, ticket_id in enumerate(ids):
                index = done + offset
                # Older tickets are mostly closed; the open ones are recent.
                status = rng.choices(statuses, weights)[0]
                days_ago = rng.uniform(0, 20) if status not in ("closed", "resolved") else rng.uniform(0, 1095)
                created = now - datetime.timedelta(days=days_ago)
                assignee = agent_ids[rng.randrange(len(agent_ids))]
                if index % UNASSIGNED_EVERY == 0:
                    status, assignee = "new", None
                response_due = created + datetime.timedelta(hours=rng.choice([1, 4, 8, 16]))
                resolution_due = created + datetime.timedelta(hours=rng.choice([8, 24, 40, 80]))
                responded = created + datetime.timedelta(hours=rng.uniform(0.2, 12)) if status != "new" else None
                resolved = (
                    created + datetime.timedelta(hours=rng.uniform(2, 100))
                    if status in ("resolved", "closed")
                    else None
                )
                closed = resolved + datetime.timedelta(days=7) if status == "closed" else None
                paused = now - datetime.timedelta(hours=rng.uniform(1, 48)) if status == "waiting_on_customer" else None
                per_year[created.year] = per_year.get(created.year, 0) + 1
                rows.append(
                    (
                        ticket_id, f"TK-{created.year}-{per_year[created.year]:06d}",
                        customers[rng.randrange(len(customers))], None, None, None, rng.choice(KINDS),
                        rng.choice(CHANNELS), f"Bench ticket {index}", "",
                        rng.choice(PRIORITIES), status, assignee, None, None, response_due, resolution_due, responded,
                        resolved, closed, paused, 0, False, False, False, False, "", created, created,
                    )
                )  # fmt: skip
            copy_rows(cursor, "service_ticket", TICKET_COLUMNS, rows)
        done += size
        rate = done / (time.perf_counter() - started)
        print(f"\r  loaded {done:,} / {args.tickets:,} tickets ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with transaction.atomic():
        for year, last in per_year.items():
            DocumentSequence.objects.update_or_create(key=f"TK-{year}", defaults={"last_value": last})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE service_ticket")
    return f"{time.perf_counter() - started:.1f} s for {args.tickets:,} tickets (COPY, services bypassed)"


def seed(args) -> str:
    from django.core.management import call_command

    from customers.models import Customer
    from service.models import Ticket

    if not Customer.objects.exists():
        call_command(
            "seed_demo",
            customers=args.customers,
            contacts_per_customer=0,
            contracts=0,
            seed=args.seed,
            stdout=io.StringIO(),
        )
    who = people(args.agents)
    if Ticket.objects.count() >= args.tickets:
        return f"skipped: already holds {Ticket.objects.count():,} tickets (--reseed to redo)"
    return bulk_load(args, who)


def pages(who):
    from django.urls import reverse

    from service.models import Ticket

    agent, manager = who["agent"], who["service_manager"]
    queue, board, tickets = (
        reverse("service:ticket_queue"),
        reverse("service:ticket_board"),
        reverse("service:ticket_list"),
    )
    one = Ticket.objects.filter(assignee=agent, status="in_progress").order_by("-id").first()
    return [
        ("Queue, page 1 (agent)", agent, queue),
        ("Queue, page 3 (agent)", agent, f"{queue}?page=3"),
        ("Queue, page 1 (service manager)", manager, queue),
        ("Board (service manager)", manager, board),
        ("Ticket list, page 1 (service manager)", manager, tickets),
        ("Ticket list, open complaints (manager)", manager, f"{tickets}?kind=complaint&status=in_progress"),
        ("Ticket list, page 1 (agent)", agent, tickets),
        (f"Ticket {one.number} (agent)", agent, one.get_absolute_url()),
    ]


def queue_plans(who) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the queue's first page and of its count (the paginator's)."""
    from django.db import connection

    from service.selectors import ticket_queue

    out = []
    for label, user in (("agent", who["agent"]), ("service manager", who["service_manager"])):
        queue = ticket_queue(user=user)
        page_sql, page_params = queue[:50].query.sql_with_params()
        count_sql, count_params = queue.order_by().values("pk").query.sql_with_params()
        for what, sql, params in (
            ("page 1", page_sql, page_params),
            ("count", f"SELECT COUNT(*) FROM ({count_sql}) AS queue", count_params),
        ):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            shown = sql % tuple(repr(str(value)) if isinstance(value, str) else repr(value) for value in params)
            out.append(f"--- Queue, {what}, as the {label}:\n{shown}\n{plan}")
    return "\n\n".join(out)


def disk(database: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(%s))", [database])
        size = cursor.fetchone()[0]
    free = shutil.disk_usage(ROOT).free / 2**30
    return f"{database} holds {size}; {free:.1f} GiB free on the disk"


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, EMAIL_BACKEND=LOCMEM_EMAIL)
    try:
        run(args, database_url)
    finally:
        if not args.keep:
            bench_database_drop(BENCH_DATABASE)
            print(f"Dropped the scratch database {BENCH_DATABASE}.", file=sys.stderr)


def run(args, database_url):

    from django.core.management import call_command
    from django.db import connection

    from service.models import Ticket

    call_command("migrate", verbosity=0, interactive=False)
    seeded = seed(args)
    who = people(args.agents)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    open_tickets = Ticket.objects.open()
    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(
        f"Rows: {Ticket.objects.count():,} tickets, {open_tickets.count():,} open, "
        f"{open_tickets.filter(assignee__isnull=True).count():,} unassigned, "
        f"{open_tickets.filter(assignee=who['agent']).count():,} open for the demo agent, {len(who['agents'])} agents"
    )
    print(f"Seed: {seeded}.")
    print(f"Disk: {disk(BENCH_DATABASE)}.")
    print()
    print(f"{args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
    print(format_page_table(measure_pages(pages(who), args.runs, args.warmups)))
    print("SQL ms: median time inside the database per request; the rest is Python and templates.")
    print()
    print(queue_plans(who))


if __name__ == "__main__":
    main()
