"""Complaints feed sales: the contract approval assistant weighs the customer's open
complaints, counted by the service app through `crm.core.customer_facts` (contracts, below
service, never imports it)."""

import pytest
from django.utils import timezone

from contracts.assistant import (
    approval_model_cache_clear,
    approval_model_train,
    approval_recommendation,
    contract_features,
)
from contracts.tests.factories import approved_contract, default_approval_rules, pending_contract, rejected_contract
from crm.core.customer_facts import OPEN_COMPLAINTS, customer_fact_counts
from service.choices import TicketType
from service.services import ticket_resolve, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules():
    default_approval_rules()
    approval_model_cache_clear()
    yield
    approval_model_cache_clear()


def complaint(customer, contact, agent=None, *, resolved=False):
    ticket = ticket_for(customer, contact, kind=TicketType.COMPLAINT, subject="Late delivery")
    if resolved:
        ticket_start(actor=agent, ticket_id=ticket.pk)
        ticket_resolve(actor=agent, ticket_id=ticket.pk, comment="Refunded the freight")
    return ticket


def test_a_contract_counts_the_complaints_open_when_it_was_submitted(rep, agent):
    customer, li, _wang = desk_customer(rep)
    complaint(customer, li)  # open
    complaint(customer, li, agent, resolved=True)  # resolved before the submission: not open then
    ticket_for(customer, li, kind=TicketType.INQUIRY)  # an inquiry is no complaint
    contract = pending_contract(owner=rep, customer=customer)
    complaint(customer, li)  # came after the submission

    assert contract_features(contract)["open_complaints"] == 1
    assert contract_features(contract, as_of=timezone.now())["open_complaints"] == 2


def test_the_count_is_per_customer_and_zero_without_complaints(rep):
    complained, li, _wang = desk_customer(rep)
    clean, _li2, _wang2 = desk_customer(rep, name="Ningbo Clean Ltd")
    complaint(complained, li)
    now = timezone.now()

    assert customer_fact_counts(OPEN_COMPLAINTS, [(complained.pk, now), (clean.pk, now)]) == {
        (complained.pk, now): 1,
        (clean.pk, now): 0,
    }


def test_the_assistant_learns_from_open_complaints_and_names_them(rep, manager):
    complained = [desk_customer(rep, name=f"Complaining {n} Ltd") for n in range(2)]
    clean = [desk_customer(rep, name=f"Clean {n} Ltd")[0] for n in range(2)]
    for customer, li, _wang in complained:
        complaint(customer, li)
    # The same terms for all: only the open complaints tell the decisions apart.
    for index in range(10):
        rejected_contract(approver=manager, customer=complained[index % 2][0], owner=rep, comment="Fix the complaints")
        approved_contract(approvers=[manager], customer=clean[index % 2], owner=rep)

    approval_model_train(min_samples=16)
    risky = pending_contract(owner=rep, customer=complained[0][0])
    safe = pending_contract(owner=rep, customer=clean[0])

    against, towards = approval_recommendation(risky), approval_recommendation(safe)
    assert (against.decision, towards.decision) == ("reject", "approve")
    assert against.reasons[0] == "The customer has 1 open complaint (more than 0)"
    assert towards.reasons[0] == "The customer has no open complaints"
