"""Two commits of past orders at the same moment, in real concurrent transactions: the same
external number is imported once (the other run says so on the row), and two runs that
deadlock on the numbering end one committed, the other failed cleanly with its reason."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from crm.core.imports import services
from crm.core.imports.models import ImportState
from crm.core.numbering import number_allocate
from customers.tests.factories import CustomerFactory
from customers.tests.test_imports import csv_bytes, outcomes
from orders.models import Order
from orders.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = ["order no", "customer ref", "date", "sku", "qty", "price"]


@pytest.fixture
def catalog(rep, manager):
    CustomerFactory(owner=rep, name="Race Machinery", external_ref="C-RACE")
    ProductFactory(actor=manager, sku="V-1", name="Valve", unit_price=Decimal("60.00"))


def commit_started(actor, rows):
    run = services.import_run_create(actor=actor, kind="orders", file_name="orders.csv", content=csv_bytes(rows))
    run = services.import_run_check(actor=actor, run_id=run.pk)
    assert run.state == ImportState.CHECKED and run.error_count == 0, run.results
    return services.import_run_start(actor=actor, run_id=run.pk, write=True)


def sessions_waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first look again
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def commits_released_together(runs, *, years):
    """Execute each run's commit in a thread of its own while this connection holds the ORD
    number of each of `years`, so every commit has passed its checks and waits for a number;
    then give the numbers back, letting them all go at once. What each commit gave or raised."""
    outcomes_by_run = {}

    def commit(run_id):
        try:
            outcomes_by_run[run_id] = services.import_run_execute(run_id=run_id, write=True)
        except Exception as error:  # every outcome is inspected by the test
            outcomes_by_run[run_id] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=commit, args=(run.pk,)) for run in runs]
    with transaction.atomic():
        for year in years:
            number_allocate("ORD", year=year)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while sessions_waiting_for_a_lock() < len(runs):
            assert time.monotonic() < deadline, "the commits never reached the numbering"
            time.sleep(0.05)
        transaction.set_rollback(True)
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a commit hung"
    return [outcomes_by_run[run.pk] for run in runs]


def test_two_runs_committing_the_same_order_number_import_it_once_and_say_so(manager, catalog):
    first = commit_started(manager, [HEADER, ["PO-RACE", "C-RACE", "2026-03-01", "V-1", "2", "60"]])
    second = commit_started(manager, [HEADER, ["PO-RACE", "C-RACE", "2026-03-01", "V-1", "2", "60"]])

    done = commits_released_together([first, second], years=[2026])

    assert all(outcome.__class__.__name__ == "ImportRun" for outcome in done), done
    assert sorted((run.state, run.created_count, run.skipped_count) for run in done) == [
        ("committed", 0, 1),
        ("committed", 1, 0),
    ]
    assert list(Order.objects.values_list("external_ref", "number")) == [("PO-RACE", "ORD-2026-000001")]
    loser = next(run for run in done if run.skipped_count)
    assert outcomes(loser) == {2: ("skip", "Order PO-RACE was imported already as ORD-2026-000001.")}


def test_two_runs_deadlocking_on_the_numbering_end_one_committed_and_one_failed_cleanly(manager, catalog):
    # Each takes one year's number, then waits for the year the other holds.
    first = commit_started(
        manager,
        [
            HEADER,
            ["A-2024", "C-RACE", "2024-03-01", "V-1", "1", "60"],
            ["A-2025", "C-RACE", "2025-03-01", "V-1", "1", "60"],
        ],
    )
    second = commit_started(
        manager,
        [
            HEADER,
            ["B-2025", "C-RACE", "2025-04-01", "V-1", "1", "60"],
            ["B-2024", "C-RACE", "2024-04-01", "V-1", "1", "60"],
        ],
    )

    done = commits_released_together([first, second], years=[2024, 2025])

    assert all(outcome.__class__.__name__ == "ImportRun" for outcome in done), done
    assert sorted(run.state for run in done) == ["committed", "failed"]
    failed = next(run for run in done if run.state == "failed")
    committed = next(run for run in done if run.state == "committed")
    assert failed.message == (
        "Nothing was imported: another import was writing the same records at the same moment. "
        "Check the file again, then commit."
    )
    assert (failed.created_count, failed.results) == (0, [])
    kept = {"A-2024", "A-2025"} if committed.pk == first.pk else {"B-2024", "B-2025"}
    assert set(Order.objects.values_list("external_ref", flat=True)) == kept

    # Checked and committed again, the failed run imports its orders, numbered without gaps.
    services.import_run_check(actor=manager, run_id=failed.pk)
    again = services.import_run_commit(actor=manager, run_id=failed.pk)
    assert (again.state, again.created_count) == ("committed", 2)
    assert sorted(Order.objects.values_list("number", flat=True)) == [
        "ORD-2024-000001",
        "ORD-2024-000002",
        "ORD-2025-000001",
        "ORD-2025-000002",
    ]
