"""A commit's task delivered twice (the task is acknowledged late) writes the rows once."""

import pytest

from crm.core.exceptions import DomainError
from crm.core.imports import services
from crm.core.imports.models import ImportRun, ImportState
from crm.core.tests.concurrency import race
from customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_executions_of_one_commit_at_once_import_the_rows_once(rep):
    content = "name,email\n" + "".join(f"Race Co {n},race{n}@race.example.com\n" for n in range(20))
    run = services.import_run_create(actor=rep, kind="customers", file_name="race.csv", content=content.encode())
    run = services.import_run_check(actor=rep, run_id=run.pk)
    assert run.state == ImportState.CHECKED
    ImportRun.objects.filter(pk=run.pk).update(state=ImportState.COMMITTING)  # as import_run_commit leaves it

    outcomes = race(*[lambda: services.import_run_execute(run_id=run.pk, write=True)] * 2)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["DomainError", "ImportRun"]
    assert any(isinstance(outcome, DomainError) and "committed" in outcome.message for outcome in outcomes)
    assert Customer.objects.filter(name__startswith="Race Co").count() == 20
