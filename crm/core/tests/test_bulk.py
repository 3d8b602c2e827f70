"""crm/core/bulk.py: the COPY helper seed_demo and the benchmarks share."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection

from crm.core.bulk import batches, copy_rows, ids_reserve

pytestmark = pytest.mark.django_db

User = get_user_model()
COLUMNS = ["id", "username", "password", "first_name", "last_name", "email", "is_superuser", "is_staff"]
COLUMNS += ["is_active", "date_joined", "last_login"]
JOINED = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


def row(user_id, username, last_name="Plain"):
    return [user_id, username, "!", "Ann", last_name, "", False, True, True, JOINED, None]


def test_copy_rows_stores_text_with_tabs_newlines_and_backslashes_as_given():
    table = User._meta.db_table
    with connection.cursor() as cursor:
        ids = ids_reserve(cursor, table, 2)
        copy_rows(cursor, table, COLUMNS, [row(ids[0], "tricky", "a\tb\nc\\d\re"), row(ids[1], "plain")])

    tricky = User.objects.get(username="tricky")
    assert tricky.last_name == "a\tb\nc\\d\re"
    assert (tricky.is_staff, tricky.is_superuser, tricky.last_login, tricky.date_joined) == (True, False, None, JOINED)
    assert User.objects.get(username="plain").pk == ids[1] == ids[0] + 1
    # The sequence moved past the copied ids: a plain insert does not clash with them.
    assert User.objects.create(username="later").pk > ids[1]


def test_copy_rows_raises_djangos_integrity_error_on_a_duplicate():
    User.objects.create(username="taken")
    table = User._meta.db_table
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        copy_rows(cursor, table, COLUMNS, [row(ids_reserve(cursor, table, 1)[0], "taken")])


def test_copy_rows_with_no_rows_does_nothing():
    with connection.cursor() as cursor:
        copy_rows(cursor, User._meta.db_table, COLUMNS, [])
        assert ids_reserve(cursor, User._meta.db_table, 0) == []
    assert not User.objects.exists()


def test_batches_splits_into_lists_of_the_size():
    assert list(batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []
