"""The shared cache counts exactly when many processes count at once (rate limits rely on it)."""

import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_not_lost():
    key = f"test-counter-{uuid.uuid4()}"
    assert cache.add(key, 0, 60)
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors = []

    def count():
        try:
            barrier.wait()
            for _ in range(per_thread):
                cache.incr(key)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors
    assert cache.get(key) == threads * per_thread
    cache.delete(key)


@pytest.mark.django_db
def test_incrementing_a_missing_key_says_so():
    with pytest.raises(ValueError, match="not found"):
        cache.incr(f"missing-{uuid.uuid4()}")
