"""Document numbers: PREFIX-<year>-<digits>, gap-free, distinct under concurrency."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.core.models import DocumentSequence
from crm.core.numbering import number_allocate

THREADS = 10


def value_of(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


@pytest.mark.django_db
def test_numbers_name_the_prefix_and_the_year_and_count_up_from_one():
    year = timezone.localdate().year
    assert [number_allocate("CT") for _ in range(3)] == [
        f"CT-{year}-000001",
        f"CT-{year}-000002",
        f"CT-{year}-000003",
    ]
    assert DocumentSequence.objects.get(key=f"CT-{year}").last_value == 3


@pytest.mark.django_db
def test_each_prefix_and_year_counts_on_its_own():
    year = timezone.localdate().year
    assert number_allocate("CT") == f"CT-{year}-000001"
    assert number_allocate("QT") == f"QT-{year}-000001"
    assert number_allocate("CT", year=2020) == "CT-2020-000001"
    assert number_allocate("CT") == f"CT-{year}-000002"


@pytest.mark.django_db
def test_the_width_pads_the_number():
    assert re.fullmatch(r"TK-\d{4}-00000001", number_allocate("TK", width=8))


@pytest.mark.django_db
def test_numbers_grow_past_the_width():
    DocumentSequence.objects.create(key="CT-2020", last_value=999999)
    assert number_allocate("CT", year=2020) == "CT-2020-1000000"


@pytest.mark.django_db
def test_a_rolled_back_number_is_given_again_so_there_are_no_gaps():
    first = number_allocate("CT")
    with pytest.raises(RuntimeError), transaction.atomic():
        number_allocate("CT")
        raise RuntimeError("the document was not saved")
    second = number_allocate("CT")
    assert value_of(second) == value_of(first) + 1


def allocate_in_threads(prefix, *, rollback=lambda index: False):
    """`THREADS` threads start together; each allocates one number in its own transaction."""
    barrier = threading.Barrier(THREADS)
    committed, errors = [], []
    lock = threading.Lock()

    def work(index):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                number = number_allocate(prefix)
                # Hold the counter row a moment, so the others really queue behind it.
                connection.cursor().execute("SELECT pg_sleep(0.02)")
                if rollback(index):
                    transaction.set_rollback(True)
                    return
            with lock:
                committed.append(number)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return committed


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_are_distinct_and_gap_free():
    numbers = allocate_in_threads("CC")
    assert len(numbers) == THREADS
    assert len(set(numbers)) == THREADS
    assert sorted(value_of(number) for number in numbers) == list(range(1, THREADS + 1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_rollbacks_leave_no_gaps():
    numbers = allocate_in_threads("CR", rollback=lambda index: index % 2 == 1)
    assert len(numbers) == THREADS // 2
    assert sorted(value_of(number) for number in numbers) == list(range(1, THREADS // 2 + 1))
    year = timezone.localdate().year
    assert DocumentSequence.objects.get(key=f"CR-{year}").last_value == THREADS // 2
