"""Audited writers never wait on each other for the trail: events are inserted without a
shared lock and sealed into the chain afterwards, in a well-defined order, once their
transactions have finished. Real threads, each with its own connection, against real
PostgreSQL; the writes commit (transactional tests)."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from crm.celery import app
from crm.core.audit import GENESIS_HASH, audit_chain_verify, audit_record, audit_seal
from crm.core.models import AuditChainHead, AuditEvent, chain_link_hash
from crm.core.tests.concurrency import race
from crm.core.tests.waiting import wait_until
from customers import services
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def execute_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class HeldOpen:
    """A thread that runs `work` in a transaction and keeps it open until released (or
    rolls it back with `commit=False`): a writer still busy, say signing with an HSM."""

    def __init__(self, work, commit=True):
        self.done, self.release, self.error = threading.Event(), threading.Event(), None
        self.result = None
        self.commit = commit
        self.thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work):
        try:
            with transaction.atomic():
                self.result = work()
                self.done.set()
                assert self.release.wait(30), "never released"
                if not self.commit:
                    transaction.set_rollback(True)
        except Exception as error:  # the test inspects it
            self.error = error
            self.done.set()
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.done.wait(30)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


@pytest.fixture
def customers(rep):
    return CustomerFactory(owner=rep, name="First Writer Ltd"), CustomerFactory(owner=rep, name="Second Writer Ltd")


def updated_event(customer):
    return AuditEvent.objects.filter(action="customer.updated", target_id=str(customer.pk)).get()


def test_a_writer_holding_its_transaction_open_does_not_block_another_writers_commit(rep, customers):
    first, second = customers
    with HeldOpen(lambda: services.customer_update(actor=rep, customer_id=first.pk, notes="held open")):
        # With the chain head locked by every writer until it commits, this waited on the
        # first writer and failed here.
        with transaction.atomic():
            execute_sql("SET LOCAL lock_timeout = '2s'")
            services.customer_update(actor=rep, customer_id=second.pk, notes="not waiting")
        committed = updated_event(second)
        assert committed.seq is not None, "sealed right after its commit"
        assert not AuditEvent.objects.filter(target_id=str(first.pk), action="customer.updated").exists()
    assert updated_event(first).seq == committed.seq + 1
    assert audit_chain_verify() is None


def test_the_sealer_never_skips_a_lower_id_transaction_that_commits_later(rep, customers):
    first, second = customers
    with HeldOpen(lambda: audit_record(actor=rep, action="customer.updated", target=first)) as early:
        services.customer_update(actor=rep, customer_id=second.pk, notes="committed first")
        late = updated_event(second)
        assert early.result.id < late.id
        assert audit_seal() == 0  # the early transaction is still open: its event waits, the later one is sealed
        assert late.seq is not None
        assert AuditChainHead.objects.get(id=1).seq == late.seq
    sealed_early = AuditEvent.objects.get(pk=early.result.id)
    assert sealed_early.seq == late.seq + 1
    assert sealed_early.prev_hash == late.hash
    assert audit_chain_verify() is None


def test_a_rolled_back_writer_leaves_no_gap_in_the_chain(rep, customers):
    first, second = customers
    with HeldOpen(lambda: audit_record(actor=rep, action="customer.updated", target=first), commit=False):
        services.customer_update(actor=rep, customer_id=second.pk, notes="kept")
    services.customer_update(actor=rep, customer_id=second.pk, notes="kept too")
    audit_seal()
    positions = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert positions == list(range(1, len(positions) + 1))
    assert not AuditEvent.objects.filter(target_id=str(first.pk), action="customer.updated").exists()
    call_command("verify_audit_chain", verbosity=0)


def test_many_writers_at_once_all_end_up_in_one_whole_chain(rep):
    targets = [CustomerFactory(owner=rep, name=f"Parallel {number} Ltd") for number in range(8)]

    def writer(customer):
        def write():
            for round_number in range(5):
                services.customer_update(actor=rep, customer_id=customer.pk, notes=f"round {round_number}")
            return True

        return write

    assert race(*(writer(customer) for customer in targets)) == [True] * 8
    audit_seal()
    updates = AuditEvent.objects.filter(action="customer.updated")
    assert updates.count() == 40
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, AuditEvent.objects.count() + 1)
    )
    assert audit_chain_verify() is None


def test_an_after_commit_seal_that_finds_another_seal_busy_leaves_the_event_to_the_scheduled_sealer(
    rep, customers, task_worker, settings
):
    assert settings.CELERY_BEAT_SCHEDULE["audit-seal"]["task"] == "crm.core.tasks.audit_seal"
    assert settings.CELERY_BEAT_SCHEDULE["audit-seal"]["schedule"] <= 10
    first, _second = customers
    audit_seal()

    def busy_sealer():
        return AuditChainHead.objects.select_for_update().get(id=1)

    with HeldOpen(busy_sealer):
        services.customer_update(actor=rep, customer_id=first.pk, notes="written while a seal runs")
        assert updated_event(first).seq is None  # the writer did not wait for the head
    app.send_task("crm.core.tasks.audit_seal")
    wait_until(lambda: updated_event(first).seq is not None)
    assert audit_chain_verify() is None


def test_verify_audit_chain_names_events_it_found_unsealed_too_long_and_seals_them(rep, customers, settings):
    """Committed, but neither an after-commit seal nor the scheduler has chained them."""
    first, _second = customers
    AuditChainHead.objects.get_or_create(id=1)
    with HeldOpen(lambda: AuditChainHead.objects.select_for_update().get(id=1)):  # a seal that is busy
        services.customer_update(actor=rep, customer_id=first.pk, notes="left unsealed")
    late = updated_event(first)
    assert late.seq is None
    call_command("verify_audit_chain", verbosity=0)  # not overdue yet: sealed now
    assert updated_event(first).seq is not None

    with HeldOpen(lambda: AuditChainHead.objects.select_for_update().get(id=1)):
        services.customer_update(actor=rep, customer_id=first.pk, notes="left unsealed again")
    late = AuditEvent.objects.get(seq__isnull=True)
    settings.AUDIT_SEAL_OVERDUE_MINUTES = 0
    with pytest.raises(CommandError) as error:
        call_command("verify_audit_chain", verbosity=0)
    assert str(error.value) == (
        f"event id {late.pk} (customer.updated, written {late.occurred_at.isoformat()}) was committed but not "
        "sealed until this check: the sealer has not run since (is the scheduler running?)"
    )
    assert AuditEvent.objects.get(pk=late.pk).seq is not None
    call_command("verify_audit_chain", verbosity=0)


def test_the_database_lets_an_event_be_sealed_once_and_changes_nothing_else(rep, customers):
    first, _second = customers
    event = audit_record(actor=rep, action="customer.updated", target=first)
    with pytest.raises(ProgrammingError, match=r"append-only \(UPDATE refused\)"), transaction.atomic():
        execute_sql(
            "UPDATE core_auditevent SET seq = 99, prev_hash = %s, hash = %s, action = 'customer.viewed' WHERE id = %s",
            [GENESIS_HASH, "f" * 64, event.pk],
        )
    audit_seal()
    with pytest.raises(ProgrammingError, match=r"append-only \(UPDATE refused\)"), transaction.atomic():
        execute_sql("UPDATE core_auditevent SET seq = 99, hash = %s WHERE id = %s", ["f" * 64, event.pk])
    with pytest.raises(ProgrammingError, match="written unsealed"), transaction.atomic():
        execute_sql(
            "INSERT INTO core_auditevent (seq, prev_hash, hash, occurred_at, actor_repr, source, request_id, "
            "action, target_type_id, target_id, target_repr, parent_id, changes, extra, payload_hash) "
            "SELECT 2, hash, %s, occurred_at, '', source, '', action, target_type_id, target_id, target_repr, '', "
            "changes, extra, payload_hash FROM core_auditevent WHERE id = %s",
            ["e" * 64, event.pk],
        )
    with pytest.raises(ProgrammingError, match=r"append-only \(DELETE refused\)"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.action) == (1, "customer.updated")


def test_events_chained_when_written_before_sealing_existed_still_verify_and_the_chain_continues(rep, customers):
    """Rows from before migration 0008: chained by the old writer, hash over every field."""
    first, _second = customers
    old = audit_record(actor=rep, action="customer.updated", target=first, changes={"notes": ["", "old"]})
    with transaction.atomic():
        execute_sql("SET LOCAL session_replication_role = replica")
        old.seq, old.prev_hash, old.payload_hash = 1, GENESIS_HASH, ""
        old.hash = old.legacy_hash()
        old.save(update_fields=["seq", "prev_hash", "payload_hash", "hash"])
        execute_sql("UPDATE core_auditchainhead SET seq = 1, hash = %s WHERE id = 1", [old.hash])
    services.customer_update(actor=rep, customer_id=first.pk, notes="new")
    new = updated_event_after(old)
    assert (new.seq, new.prev_hash) == (2, old.hash)
    assert new.hash == chain_link_hash(seq=2, prev_hash=old.hash, payload_hash=new.payload_hash)
    assert audit_chain_verify() is None


def updated_event_after(event):
    return AuditEvent.objects.filter(action="customer.updated", id__gt=event.id).get()
