"""A customer's status follows its contracts (contracts publish, customers subscribe)."""

import pytest

from contracts.tests.factories import ContractFactory, active_contract, default_approval_rules
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers import services
from customers.models import Customer
from customers.tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def rules(db):
    return default_approval_rules()  # a transactional test elsewhere may have flushed them


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run the on-commit work of everything done inside, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def status_of(customer):
    return Customer.objects.get(pk=customer.pk).status


def status_events(customer):
    return AuditEvent.objects.filter(action="customer.status_followed", target_id=str(customer.pk)).order_by("id")


def test_a_leads_first_contract_draft_makes_it_a_prospect_on_the_record(rep, committing):
    customer = CustomerFactory(owner=rep, status="lead")
    with committing():
        contract = ContractFactory(owner=rep, customer=customer)

    assert status_of(customer) == "prospect"
    (event,) = status_events(customer)
    assert event.actor is None and event.changes == {"status": ["lead", "prospect"]}
    assert event.extra == {"cause": "contract.drafted", "document": contract.number}


def test_the_status_follows_only_after_the_contract_is_committed(rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep, status="lead")
    with django_capture_on_commit_callbacks(execute=False):
        ContractFactory(owner=rep, customer=customer)
        assert status_of(customer) == "lead"


def test_the_first_active_contract_makes_a_prospect_active(rep, manager, signatory, committing):
    customer = CustomerFactory(owner=rep, status="prospect")
    with committing():
        active_contract(owner=rep, customer=customer, approvers=[manager], signatory=signatory)

    assert status_of(customer) == "active"
    assert [event.changes["status"] for event in status_events(customer)] == [["prospect", "active"]]


def test_a_lead_goes_through_prospect_to_active(rep, manager, signatory, committing):
    customer = CustomerFactory(owner=rep, status="lead")
    with committing():
        active_contract(owner=rep, customer=customer, approvers=[manager], signatory=signatory)

    assert [event.changes["status"] for event in status_events(customer)] == [
        ["lead", "prospect"],
        ["prospect", "active"],
    ]


def test_a_draft_never_moves_an_active_or_churned_customer_back(rep, committing):
    active = CustomerFactory(owner=rep, status="active")
    churned = CustomerFactory(owner=rep, status="churned")
    with committing():
        ContractFactory(owner=rep, customer=active)
        ContractFactory(owner=rep, customer=churned)

    assert (status_of(active), status_of(churned)) == ("active", "churned")
    assert not status_events(active).exists() and not status_events(churned).exists()


def test_a_churned_customer_who_signs_again_is_active_again(rep, manager, signatory, committing):
    customer = CustomerFactory(owner=rep, status="churned")
    with committing():
        active_contract(owner=rep, customer=customer, approvers=[manager], signatory=signatory)

    assert status_of(customer) == "active"


def test_the_customer_page_history_says_why_the_status_changed(rep, client_for, committing):
    customer = CustomerFactory(owner=rep, status="lead")
    with committing():
        contract = ContractFactory(owner=rep, customer=customer)

    page = client_for(rep).get(customer.get_absolute_url()).content.decode()
    assert "Prospect" in page
    assert f"because contract {contract.number} was drafted" in page


def test_customer_status_follow_refuses_an_unknown_cause(rep):
    customer = CustomerFactory(owner=rep, status="lead")
    with pytest.raises(Exception, match="No customer status follows"):
        services.customer_status_follow(customer_id=customer.pk, cause="order.placed")
    assert status_of(customer) == "lead"


def test_a_person_acting_never_matters_the_system_records_it(db):
    rep = UserFactory(username="lifecycle_rep", role=Role.SALES_REP)
    customer = CustomerFactory(owner=rep, status="lead")
    services.customer_status_follow(customer_id=customer.pk, cause="contract.drafted", document="CT-1")
    assert status_events(customer).get().actor_repr == ""
