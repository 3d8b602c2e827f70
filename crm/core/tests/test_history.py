"""The history reads as sentences, with field labels and values as the pages show them,
masked as the reader sees contact details."""

from decimal import Decimal

import pytest

from contracts import services, signatures
from contracts.tests.factories import (
    LARGE,
    ContractFactory,
    approved_contract,
    default_approval_rules,
    pending_contract,
)
from crm.core.history import history_entries, history_sentences_register
from crm.core.masking import MASKED, REVEALED
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def rules(db):
    return default_approval_rules()  # a transactional test elsewhere may have flushed them


@pytest.fixture
def li_wei(db):
    return UserFactory(username="liwei", first_name="Wei", last_name="Li", role=Role.SALES_REP)


def entry(action, masker=MASKED):
    event = AuditEvent.objects.select_related("actor", "target_type").filter(action=action).latest("id")
    (shown,) = history_entries([event], masker)
    return shown


def test_sending_a_signing_link_reads_as_a_sentence_with_the_address_masked(li_wei, manager):
    customer = CustomerFactory(owner=li_wei, email="john@example.com")
    contract = approved_contract(owner=li_wei, customer=customer, approvers=[manager])
    signatures.signing_link_send(actor=li_wei, contract_id=contract.pk, send_email=False)

    assert entry("contract.signing_link_sent").sentence == "Wei Li sent the signing link to j***@example.com"
    assert entry("contract.signing_link_sent", REVEALED).sentence == "Wei Li sent the signing link to john@example.com"


def test_changes_show_field_labels_and_choice_labels_not_codes(rep, manager, finance):
    contract = pending_contract(owner=rep, amount=LARGE)
    services.contract_approve(actor=manager, contract_id=contract.pk, comment="Fine")

    shown = entry("contract.level_approved")
    assert shown.sentence.endswith("as Sales manager; it waits for the next level")
    (change,) = shown.changes
    assert (change.label, change.old, change.new) == ("Awaiting", "Sales manager", "Finance approver")


def test_money_is_formatted_and_statuses_shown_by_label(rep):
    contract = ContractFactory(owner=rep, amount=Decimal("1200000"))
    services.contract_update(actor=rep, contract_id=contract.pk, amount=Decimal("1250000.5"))
    services.contract_submit(actor=rep, contract_id=contract.pk)

    amount = {change.label: change for change in entry("contract.updated").changes}["Amount"]
    assert (amount.old, amount.new) == ("1,200,000.00", "1,250,000.50")
    (status,) = entry("contract.submitted").changes
    assert (status.label, status.old, status.new) == ("Status", "Draft", "Pending approval")


def test_free_text_in_a_change_is_masked(rep):
    customer = CustomerFactory(owner=rep, notes="")
    from customers import services as customer_services

    customer_services.customer_update(actor=rep, customer_id=customer.pk, notes="Call 13800135678 after 5")
    (change,) = entry("customer.updated").changes
    assert change.label == "Notes" and change.new == "Call 138****5678 after 5"


def test_an_action_without_a_sentence_still_reads_and_names_its_action(rep):
    customer = CustomerFactory(owner=rep)
    from crm.core.audit import audit_record

    audit_record(actor=rep, action="customer.teleported", target=customer, extra={"where": "Mars"})
    assert "customer.teleported" in entry("customer.teleported").sentence


def test_a_sentence_missing_a_placeholder_still_renders(rep):
    customer = CustomerFactory(owner=rep)
    history_sentences_register({"customer.tested": "%(actor)s tested %(object)s with %(tool)s"})
    from crm.core.audit import audit_record

    audit_record(actor=rep, action="customer.tested", target=customer)
    assert entry("customer.tested").sentence.endswith("with —")


def test_the_contract_page_shows_sentences_and_labels_instead_of_codes(li_wei, manager, client_for):
    contract = pending_contract(owner=li_wei)
    services.contract_approve(actor=manager, contract_id=contract.pk, comment="OK")

    page = client_for(li_wei).get(contract.get_absolute_url()).content.decode()
    assert f"Wei Li submitted {contract.number}" in page
    assert "Status: Draft → Pending approval" in page
    assert "<code>status</code>" not in page and ">contract.submitted<" not in page


def test_the_history_reads_its_actors_without_a_query_per_event(rep, django_assert_max_num_queries):
    from crm.core.audit import audit_history
    from customers import services as customer_services

    customer = customer_services.customer_create(actor=rep, name="Hangzhou Tea Co")
    for number in range(12):
        customer_services.customer_update(actor=rep, customer_id=customer.pk, notes=f"call {number}")
    with django_assert_max_num_queries(3):
        entries = history_entries(audit_history(customer), REVEALED)
    assert len(entries) == 13
    assert all(rep.get_full_name() in str(entry.sentence) for entry in entries)
