import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse

from crm.core.audit import GENESIS_HASH, audit_history, audit_record, audit_seal
from crm.core.commands import CrmCommand
from crm.core.models import AuditChainHead, AuditEvent
from customers import services


@pytest.fixture
def three_events(rep, customer):
    """A chain of three events, sealed as seq 1..3 (the seal takes its own transaction's events)."""
    for n in range(3):
        audit_record(actor=rep, action="customer.updated", target=customer, changes={"notes": ["", str(n)]})
    audit_seal()
    return list(AuditEvent.objects.order_by("seq"))


def execute_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def allow_tampering():
    """What someone with direct database access could do; rolled back with the test.

    Pending deferred foreign-key checks are run first: PostgreSQL refuses ALTER TABLE
    while a table has them."""
    execute_sql("SET CONSTRAINTS ALL IMMEDIATE")
    execute_sql("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")


def verify_chain():
    call_command("verify_audit_chain", verbosity=0)


def test_audit_record_writes_unsealed_events_that_the_history_shows_at_once(rep, customer):
    event = audit_record(actor=rep, action="customer.updated", target=customer, changes={"notes": ["", "now"]})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (None, None, None)
    assert stored.payload_hash == stored.compute_payload_hash()
    assert list(audit_history(customer)) == [stored]


def test_audit_seal_numbers_events_and_links_each_to_the_previous(three_events):
    first, second, third = three_events
    assert [event.seq for event in three_events] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({event.hash for event in three_events}) == 3


def test_stored_event_hash_matches_its_content(three_events):
    for event in AuditEvent.objects.all():
        assert event.payload_hash == event.compute_payload_hash()
        assert event.hash == event.compute_hash()
    head = AuditChainHead.objects.get(id=1)
    assert (head.seq, head.hash) == (3, three_events[-1].hash)


def test_audit_record_stores_actor_action_target_and_changes(rep, customer):
    event = audit_record(actor=rep, action="customer.updated", target=customer, changes={"status": ["lead", "active"]})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == rep
    assert stored.actor_repr == "rep"
    assert stored.action == "customer.updated"
    assert stored.target_id == str(customer.pk)
    assert stored.target_repr == "Hangzhou Tea Co"
    assert stored.changes == {"status": ["lead", "active"]}


def test_verify_audit_chain_passes_on_an_intact_chain(three_events, capsys):
    call_command("verify_audit_chain")
    assert "Audit chain intact: 3 events." in capsys.readouterr().out


def test_verify_audit_chain_passes_on_an_empty_chain(db):
    verify_chain()


def test_database_refuses_to_update_an_audit_event(three_events):
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        execute_sql("UPDATE core_auditevent SET action = 'customer.viewed' WHERE seq = 2")
    assert AuditEvent.objects.get(seq=2).action == "customer.updated"


def test_database_refuses_to_delete_an_audit_event(three_events):
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=3).delete()
    assert AuditEvent.objects.count() == 3


def test_verify_audit_chain_names_an_event_whose_content_was_changed(three_events):
    allow_tampering()
    execute_sql("""UPDATE core_auditevent SET changes = '{"notes": ["", "forged"]}' WHERE seq = 2""")

    with pytest.raises(CommandError, match=r"event #2 .*content was changed"):
        verify_chain()


def test_verify_audit_chain_notices_a_changed_event_even_when_its_hash_was_recomputed(three_events):
    allow_tampering()
    forged = AuditEvent.objects.get(seq=2)
    forged.actor_repr = "someone-else"
    forged.payload_hash = forged.compute_payload_hash()
    forged.hash = forged.compute_hash()
    forged.save(update_fields=["actor_repr", "payload_hash", "hash"])

    with pytest.raises(CommandError, match=r"event #3 .*link to the previous event is broken"):
        verify_chain()


def test_verify_audit_chain_names_the_event_after_one_deleted_from_the_middle(three_events):
    allow_tampering()
    execute_sql("DELETE FROM core_auditevent WHERE seq = 2")

    with pytest.raises(CommandError, match=r"event #3 .*expected event #2"):
        verify_chain()


def test_verify_audit_chain_names_an_event_whose_payload_hash_was_recomputed_to_match(three_events):
    allow_tampering()
    forged = AuditEvent.objects.get(seq=2)
    forged.actor_repr = "someone-else"
    forged.payload_hash = forged.compute_payload_hash()
    forged.save(update_fields=["actor_repr", "payload_hash"])

    with pytest.raises(CommandError, match=r"event #2 .*content was changed"):
        verify_chain()


def test_verify_audit_chain_names_the_event_after_one_inserted_in_the_middle(rep, customer, three_events):
    """Room made at #2 by moving the later events up, the new event linked to #1."""
    allow_tampering()
    execute_sql("UPDATE core_auditevent SET seq = seq + 10 WHERE seq >= 2")
    execute_sql("UPDATE core_auditevent SET seq = seq - 9 WHERE seq >= 12")
    inserted = AuditEvent(
        occurred_at=three_events[0].occurred_at,
        source="system",
        action="customer.updated",
        target_type=three_events[0].target_type,
        target_id=str(customer.pk),
        target_repr=str(customer),
        seq=2,
        prev_hash=three_events[0].hash,
    )
    inserted.payload_hash = inserted.compute_payload_hash()
    inserted.hash = inserted.compute_hash()
    execute_sql("SET LOCAL session_replication_role = replica")  # the INSERT trigger too
    inserted.save(force_insert=True)

    with pytest.raises(CommandError, match=r"event #3 .*(link to the previous event is broken|content was changed)"):
        verify_chain()


def test_verify_audit_chain_notices_the_last_event_was_deleted(three_events):
    allow_tampering()
    execute_sql("DELETE FROM core_auditevent WHERE seq = 3")

    with pytest.raises(CommandError, match=r"should end at event #3 but ends at #2"):
        verify_chain()


def test_verify_audit_chain_seals_and_checks_what_was_written_since(rep, customer, three_events, capsys):
    audit_record(actor=rep, action="customer.updated", target=customer)
    call_command("verify_audit_chain")
    assert "Audit chain intact: 4 events." in capsys.readouterr().out


# --- The admin shows the trail but cannot change it ---------------------------------------------


def test_audit_admin_lists_events_for_a_superuser(client_for, admin_user, three_events):
    response = client_for(admin_user).get(reverse("admin:core_auditevent_changelist"))
    assert response.status_code == 200
    assert b"customer.updated" in response.content


def test_audit_admin_refuses_to_add_change_or_delete(client_for, admin_user, three_events):
    client = client_for(admin_user)
    event = three_events[0]

    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    change_url = reverse("admin:core_auditevent_change", args=[event.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(change_url, {"action": "forged"}).status_code == 403
    assert client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:core_auditevent_changelist"))
    assert b"delete_selected" not in changelist.content

    assert AuditEvent.objects.get(pk=event.pk).action == "customer.updated"
    assert AuditEvent.objects.count() == 3


# --- Who, from where: each front door records its source -----------------------------------------


def test_a_change_through_a_page_records_ip_source_and_request_id(client_for, rep):
    response = client_for(rep).post(
        reverse("customers:customer_create"),
        {
            "kind": "company",
            "name": "Web Door Ltd",
            "industry": "retail",
            "tier": "standard",
            "status": "lead",
        },
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="customer.created")
    assert event.source == "web"
    assert event.ip == "203.0.113.7"
    assert event.actor == rep
    assert event.request_id
    assert response["X-Request-ID"] == event.request_id


def test_each_request_gets_its_own_request_id(client_for, rep):
    client = client_for(rep)
    first = client.get(reverse("dashboard:home"))["X-Request-ID"]
    second = client.get(reverse("dashboard:home"))["X-Request-ID"]
    assert first and second and first != second


def test_a_change_through_the_admin_records_source_admin(client_for, admin_user, rep, customer):
    response = client_for(admin_user).post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            "kind": customer.kind,
            "name": customer.name,
            "industry": customer.industry,
            "tier": customer.tier,
            "status": "churned",
            "email": customer.email,
            "phone": customer.phone,
            "address": "",
            "owner": rep.pk,
            "notes": "",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        },
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 302, response.content
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.source == "admin"
    assert event.actor == admin_user
    assert event.ip == "198.51.100.4"
    assert event.changes == {"status": ["active", "churned"]}
    assert response["X-Request-ID"] == event.request_id


class RenameCustomerCommand(CrmCommand):
    """A command like the app's own: it acts as a user through a service."""

    def add_arguments(self, parser):
        parser.add_argument("customer_id", type=int)
        parser.add_argument("name")
        parser.add_argument("--as", dest="username", required=True)

    def run(self, *, customer_id, name, username, **options):
        services.customer_update(actor=self.actor_from(username), customer_id=customer_id, name=name)


def test_a_change_through_a_command_records_source_command(rep, customer):
    call_command(RenameCustomerCommand(), str(customer.pk), "Hangzhou Tea Group", "--as", "rep")

    event = AuditEvent.objects.get(action="customer.updated")
    assert event.source == "command"
    assert event.actor == rep
    assert event.ip is None
    assert event.changes == {"name": ["Hangzhou Tea Co", "Hangzhou Tea Group"]}


def test_a_command_refused_by_a_service_exits_with_the_reason(other_rep, customer):
    with pytest.raises(CommandError, match="does not exist or you may not change it"):
        call_command(RenameCustomerCommand(), str(customer.pk), "Stolen", "--as", "other_rep")
    assert not AuditEvent.objects.exists()


def test_verify_audit_chain_prints_the_head_to_record_elsewhere(rep):
    audit_record(actor=rep, action="customer.created", target=rep)
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out, verbosity=0)
    head = AuditChainHead.objects.get(id=1)
    assert f"Head: event #{head.seq}, hash {head.hash}" in out.getvalue()
