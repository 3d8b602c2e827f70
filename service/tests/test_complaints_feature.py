"""Complaints feed sales: the contract approval assistant weighs the customer's open
complaints, counted by the service app through `crm.core.customer_facts` (contracts, below
service, never imports it)."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from contracts.tests.factories import approved_contract, default_approval_rules, pending_contract, rejected_contract
from crm.core.customer_facts import OPEN_COMPLAINTS, customer_fact_counts
from service.choices import TicketType
from service.services import ticket_resolve, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules():
    default_approval_rules()


def complaint(customer, contact, agent=None, *, resolved=False):
    ticket = ticket_for(customer, contact, kind=TicketType.COMPLAINT, subject="Late delivery")
    if resolved:
        ticket_start(actor=agent, ticket_id=ticket.pk)
        ticket_resolve(actor=agent, ticket_id=ticket.pk, comment="Refunded the freight")
    return ticket


def open_complaints(customer, moment):
    return customer_fact_counts(OPEN_COMPLAINTS, [(customer.pk, moment)])[(customer.pk, moment)]


def test_the_count_is_of_complaints_open_at_the_moment_asked(rep, agent):
    customer, li, _wang = desk_customer(rep)
    complaint(customer, li)  # open
    complaint(customer, li, agent, resolved=True)  # resolved before the moment: not open then
    ticket_for(customer, li, kind=TicketType.INQUIRY)  # an inquiry is no complaint
    submitted = pending_contract(owner=rep, customer=customer).submitted_at
    complaint(customer, li)  # came after the submission

    assert open_complaints(customer, submitted) == 1
    assert open_complaints(customer, timezone.now()) == 2


def test_the_count_is_per_customer_and_zero_without_complaints(rep):
    complained, li, _wang = desk_customer(rep)
    clean, _li2, _wang2 = desk_customer(rep, name="Ningbo Clean Ltd")
    complaint(complained, li)
    now = timezone.now()

    assert customer_fact_counts(OPEN_COMPLAINTS, [(complained.pk, now), (clean.pk, now)]) == {
        (complained.pk, now): 1,
        (clean.pk, now): 0,
    }


def test_the_assistant_learns_from_open_complaints_and_names_them_on_the_contract_page(client_for, rep, manager):
    complained = [desk_customer(rep, name=f"Complaining {n} Ltd") for n in range(2)]
    clean = [desk_customer(rep, name=f"Clean {n} Ltd")[0] for n in range(2)]
    for customer, li, _wang in complained:
        complaint(customer, li)
    # The same terms for all: only the open complaints tell the decisions apart.
    for index in range(10):
        rejected_contract(approver=manager, customer=complained[index % 2][0], owner=rep, comment="Fix the complaints")
        approved_contract(approvers=[manager], customer=clean[index % 2], owner=rep)
    call_command("train_approval_model", "--min-samples", "16", stdout=io.StringIO())
    risky = pending_contract(owner=rep, customer=complained[0][0])
    safe = pending_contract(owner=rep, customer=clean[0])
    client = client_for(manager)

    against = client.get(reverse("contracts:contract_detail", args=[risky.pk])).content.decode()
    towards = client.get(reverse("contracts:contract_detail", args=[safe.pk])).content.decode()

    assert "Recommends: <strong>Reject</strong>" in against
    assert "The customer has 1 open complaint (more than 0)" in against
    assert "Recommends: <strong>Approve</strong>" in towards
    assert "The customer has no open complaints" in towards
