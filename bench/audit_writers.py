"""Concurrent audited writers: throughput, p95 and how often the writers wait on locks.

    .venv/bin/python bench/audit_writers.py [--writers 1,4,16] [--seconds S] [--reseed]

The scratch database `crm_bench_audit` is created on the server `DATABASE_URL` points at
(default: postgres@127.0.0.1:5432) and migrated; a sales manager and one customer per
writer are created through the services. For each writer count, that many processes
(multiprocessing, each with its own database connection, so the GIL is not what is
measured) call the real services for `--seconds`, alternating `customer_update` (new
notes) and `interaction_create` on the writer's own customer, so no two writers touch the
same business row: whatever they wait on is shared by every audited write.

Meanwhile the parent samples `pg_stat_activity` every 20 ms and counts the writers'
backends that are inside a transaction and how many of them wait on a lock
(`wait_event_type = 'Lock'`). Printed per writer count: writes (service calls) per
second, median and p95 latency of one call, the share of sampled writer backends waiting
on a lock, and the audit events left unsealed at the end (the sealer runs after commit and
on the scheduler), and what `verify_audit_chain` then says. Figures only: nothing here
fails because something is slow.
"""

import argparse
import multiprocessing
import statistics
import sys
import time

from common import bench_database_url, format_table, p95, setup_django

BENCH_DATABASE = "crm_bench_audit"
APPLICATION_NAME = "crm_bench_audit_writer"
SAMPLE_EVERY = 0.02


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,4,16", help="comma-separated writer counts (default 1,4,16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each round writes (default 10)")
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database and seed again")
    return parser.parse_args()


def seed(writers: int) -> None:
    """Migrate, and make sure the manager and `writers` customers exist."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from crm.core.roles import Role
    from customers.models import Customer
    from customers.services import customer_create

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    manager, created = user_model.objects.get_or_create(username="bench_manager")
    if created:
        from django.contrib.auth.models import Group

        manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
    manager = user_model.objects.get(pk=manager.pk)  # fresh permission cache
    for number in range(Customer.objects.filter(name__startswith="Bench writer ").count(), writers):
        customer_create(
            actor=manager,
            owner=manager,
            kind="company",
            name=f"Bench writer {number:03d}",
            industry="retail",
            tier="standard",
            status="active",
        )


def write(database_url: str, index: int, seconds: float, ready, start, results) -> None:
    """One writer process: alternate the two services on its own customer for `seconds`."""
    setup_django(database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from customers.choices import InteractionKind
    from customers.models import Customer
    from customers.services import customer_update, interaction_create

    manager = get_user_model().objects.get(username="bench_manager")
    customer = Customer.objects.filter(name__startswith="Bench writer ").order_by("name")[index]
    with connection.cursor() as cursor:
        cursor.execute("SET application_name = %s", [APPLICATION_NAME])
    manager.has_perm("customers.change_customer")  # fill the permission cache before timing
    ready.put(index)
    start.wait()
    latencies, number = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        number += 1
        began = time.perf_counter()
        if number % 2:
            customer_update(actor=manager, customer_id=customer.pk, notes=f"bench note {index}-{number}")
        else:
            interaction_create(
                actor=manager, customer_id=customer.pk, kind=InteractionKind.NOTE, subject=f"bench {number}"
            )
        latencies.append(time.perf_counter() - began)
    connection.close()
    results.put(latencies)


def sample_locks(database_url: str, stop) -> tuple[int, int]:
    """(writer backends seen inside a transaction, of which waiting on a lock), summed over samples."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    seen = waiting = 0
    with connection.cursor() as cursor:
        while not stop.is_set():
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity "
                "WHERE application_name = %s AND xact_start IS NOT NULL",
                [APPLICATION_NAME],
            )
            in_transaction, on_lock = cursor.fetchone()
            seen += in_transaction
            waiting += on_lock
            time.sleep(SAMPLE_EVERY)
    connection.close()
    return seen, waiting


def run_round(database_url: str, writers: int, seconds: float) -> dict:
    import threading

    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Queue(), context.Event(), context.Queue()
    processes = [
        context.Process(target=write, args=(database_url, index, seconds, ready, start, results))
        for index in range(writers)
    ]
    for process in processes:
        process.start()
    for _process in processes:  # every writer has set Django up before the clock starts
        ready.get(timeout=300)
    stop, sampled = threading.Event(), {}

    def sample():
        sampled["seen"], sampled["waiting"] = sample_locks(database_url, stop)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start.set()
    latencies = []
    for _process in processes:
        latencies.extend(results.get(timeout=seconds + 120))
    stop.set()
    sampler.join()
    for process in processes:
        process.join()
    return {
        "writers": writers,
        "writes": len(latencies),
        "per_second": len(latencies) / seconds,
        "median": statistics.median(latencies) * 1000,
        "p95": p95(latencies) * 1000,
        "lock_share": 100 * sampled["waiting"] / sampled["seen"] if sampled["seen"] else 0.0,
    }


def unsealed_events() -> str:
    from crm.core.models import AuditEvent

    if not any(field.name == "payload_hash" for field in AuditEvent._meta.fields):
        return "n/a (old design: every event is chained when written)"
    return str(AuditEvent.objects.filter(seq__isnull=True).count())


def chain_verdict() -> str:
    """What verify_audit_chain says about the chain the rounds wrote (it seals first)."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    try:
        call_command("verify_audit_chain", stdout=out, verbosity=0)
    except CommandError as error:
        return f"BROKEN: {error}"
    return out.getvalue().splitlines()[0]


def main():
    args = parse_args()
    counts = [int(value) for value in args.writers.split(",")]
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    setup_django(database_url)
    print(f"Seeding {BENCH_DATABASE} ...", file=sys.stderr, flush=True)
    seed(max(counts))
    from django.db import connection

    connection.close()
    rows = []
    for writers in counts:
        print(f"{writers} writer(s) for {args.seconds:g} s ...", file=sys.stderr, flush=True)
        result = run_round(database_url, writers, args.seconds)
        rows.append(
            (
                result["writers"],
                result["writes"],
                f"{result['per_second']:.0f}",
                f"{result['median']:.1f}",
                f"{result['p95']:.1f}",
                f"{result['lock_share']:.0f} %",
            )
        )
    print(
        format_table(
            ("Writers", "Writes", "Writes/s", "Median ms", "p95 ms", "Waiting on locks"), rows, right={0, 1, 2, 3, 4, 5}
        )
    )
    print(f"Audit events unsealed right after the last round: {unsealed_events()}")
    print(f"verify_audit_chain: {chain_verdict()}")


if __name__ == "__main__":
    main()
