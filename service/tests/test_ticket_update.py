"""Editing a ticket after it was opened: one audited service, the SLA clocks set again by the
policy of a new priority, the customer's own contacts/contracts/orders only, and the page."""

import datetime
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from contracts.tests.factories import ContractFactory
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent
from crm.core.roles import Role
from customers.tests.factories import ContactFactory, CustomerFactory
from orders.tests.factories import order_for
from service import services
from service.choices import TicketPriority, TicketStatus, TicketType
from service.models import Ticket
from service.tests.conftest import SHANGHAI
from service.tests.factories import agent_for, ticket_for

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def worked(on_duty_agent, tuesday_morning):
    """A normal ticket opened Tuesday 10:00 in Shanghai, assigned to the agent on duty."""
    with frozen(tuesday_morning):
        ticket = ticket_for(created_at=tuesday_morning)
    assert ticket.assignee == on_duty_agent
    return ticket


# (new priority, first response due, resolution due): targets from the ticket's creation,
# Tuesday 1 December 2026 10:00, in business time (09:00-12:00, 13:00-18:00 on weekdays).
PRIORITY_CLOCKS = [
    (TicketPriority.URGENT, at(2026, 12, 1, 11, 0), at(2026, 12, 2, 10, 0)),
    (TicketPriority.HIGH, at(2026, 12, 1, 15, 0), at(2026, 12, 4, 10, 0)),
    (TicketPriority.LOW, at(2026, 12, 3, 10, 0), at(2026, 12, 15, 10, 0)),
]


@pytest.mark.parametrize(("priority", "response_due", "resolution_due"), PRIORITY_CLOCKS)
def test_a_new_priority_sets_the_clocks_by_its_policy(worked, on_duty_agent, priority, response_due, resolution_due):
    with frozen(at(2026, 12, 1, 10, 30)):
        ticket = services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, priority=priority)

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.sla_policy.priority) == (priority, priority)
    assert ticket.first_response_due_at == response_due
    assert ticket.resolution_due_at == resolution_due
    event = AuditEvent.objects.get(action="ticket.updated", target_id=str(ticket.pk))
    assert event.changes["priority"] == [TicketPriority.NORMAL, priority]
    assert event.extra["resolution_due_at"][1] is not None


def test_a_met_first_response_stays_met_and_a_pause_still_counts(worked, on_duty_agent):
    with frozen(at(2026, 12, 1, 10, 15)):
        services.ticket_start(actor=on_duty_agent, ticket_id=worked.pk)
        services.ticket_reply_add(actor=on_duty_agent, ticket=worked, body="Looking into it.", public=True)
        services.ticket_wait(actor=on_duty_agent, ticket_id=worked.pk)
    with frozen(at(2026, 12, 1, 14, 15)):  # waited three business hours (the lunch hour does not count)
        services.ticket_start(actor=on_duty_agent, ticket_id=worked.pk)
        ticket = services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, priority=TicketPriority.HIGH)

    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.first_response_due_at == at(2026, 12, 2, 10, 0)  # unchanged: the clock stopped
    assert ticket.paused_minutes == 180
    assert ticket.resolution_due_at == at(2026, 12, 4, 14, 0)  # three days plus the three hours waited (lunch off)


def test_the_fields_change_and_the_history_lists_them(worked, on_duty_agent, client):
    contact = ContactFactory(customer=worked.customer, name="Zhao Min")
    contract = ContractFactory(customer=worked.customer, owner=worked.customer.owner)

    services.ticket_update(
        actor=on_duty_agent,
        ticket_id=worked.pk,
        subject="  Invoice   address wrong ",
        description="Also the VAT number.",
        kind=TicketType.COMPLAINT,
        contact=contact,
        contract=contract,
    )

    ticket = Ticket.objects.get(pk=worked.pk)
    assert (ticket.subject, ticket.kind, ticket.contact, ticket.contract) == (
        "Invoice address wrong",
        TicketType.COMPLAINT,
        contact,
        contract,
    )
    client.force_login(on_duty_agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "changed " + ticket.number in page
    assert "Invoice address wrong" in page and "Zhao Min" in page


def test_a_contact_or_contract_of_another_customer_is_refused(worked, on_duty_agent):
    stranger = CustomerFactory()
    with pytest.raises(DomainError) as refused:
        services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, contact=ContactFactory(customer=stranger))
    assert refused.value.field == "contact"
    with pytest.raises(DomainError) as refused:
        services.ticket_update(
            actor=on_duty_agent, ticket_id=worked.pk, contract=ContractFactory(customer=stranger, owner=stranger.owner)
        )
    assert refused.value.field == "contract"
    with pytest.raises(DomainError) as refused:
        services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, subject="   ")
    assert refused.value.field == "subject"
    assert not AuditEvent.objects.filter(action="ticket.updated").exists()


def test_a_closed_ticket_is_not_editable(worked, on_duty_agent):
    services.ticket_start(actor=on_duty_agent, ticket_id=worked.pk)
    services.ticket_resolve(actor=on_duty_agent, ticket_id=worked.pk, comment="Fixed.")
    services.ticket_close(actor=on_duty_agent, ticket_id=worked.pk)
    with pytest.raises(TransitionNotAllowed):
        services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, subject="Too late")
    assert Ticket.objects.get(pk=worked.pk).status == TicketStatus.CLOSED


def test_only_the_assignee_or_a_service_manager_edits(worked, service_manager, rep):
    other = agent_for("other_agent")
    with pytest.raises(DomainError):
        services.ticket_update(actor=other, ticket_id=worked.pk, subject="Not mine")
    with pytest.raises(DomainError):
        services.ticket_update(actor=rep, ticket_id=worked.pk, subject="Read only")
    services.ticket_update(actor=service_manager, ticket_id=worked.pk, subject="The manager's words")
    assert Ticket.objects.get(pk=worked.pk).subject == "The manager's words"


def test_the_edit_page_saves_and_shows_errors_next_to_the_field(worked, on_duty_agent, client):
    client.force_login(on_duty_agent)
    url = reverse("service:ticket_update", args=[worked.pk])
    page = client.get(url)
    assert page.status_code == 200 and worked.subject in page.content.decode()

    refused = client.post(url, {"subject": "", "kind": "inquiry", "priority": "high"})
    assert refused.status_code == 200 and Ticket.objects.get(pk=worked.pk).priority == TicketPriority.NORMAL

    saved = client.post(url, {"subject": "Wrong address on invoice", "kind": "inquiry", "priority": "high"})
    assert saved.status_code == 302
    ticket = Ticket.objects.get(pk=worked.pk)
    assert (ticket.subject, ticket.priority) == ("Wrong address on invoice", TicketPriority.HIGH)


def test_other_agents_get_404_on_the_edit_page(worked, client):
    client.force_login(agent_for("other_agent"))
    assert client.get(reverse("service:ticket_update", args=[worked.pk])).status_code == 404


# --- contracts and orders the editor may not see -------------------------------------------


@pytest.fixture
def narrow_agents(db):
    """The service agents' role narrowed by an admin: they see contracts and orders only of
    the customers they own (the kernel's owner rule), not every one."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name=Role.SERVICE_AGENT.value)
    group.permissions.remove(
        *Permission.objects.filter(
            content_type__app_label__in=["contracts", "orders"], codename__in=["view_all_contract", "view_all_order"]
        )
    )


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache from before the change


def test_an_editor_cannot_link_a_contract_or_order_they_cannot_see(worked, on_duty_agent, narrow_agents):
    owner = worked.customer.owner
    contract = ContractFactory(customer=worked.customer, owner=owner)
    order = order_for(owner, worked.customer)
    agent = fresh(on_duty_agent)

    for field, value in (("contract", contract), ("order", order)):
        with pytest.raises(DomainError) as refused:
            services.ticket_update(actor=agent, ticket_id=worked.pk, **{field: value})
        assert refused.value.field == field

    client = Client()
    client.force_login(agent)
    url = reverse("service:ticket_update", args=[worked.pk])
    page = client.get(url).content.decode()
    assert contract.number not in page and order.number not in page  # not even offered
    posted = client.post(
        url, {"subject": worked.subject, "kind": "inquiry", "priority": "normal", "contract": contract.pk}
    )
    assert posted.status_code == 200 and "contract" in posted.context["form"].errors
    assert Ticket.objects.get(pk=worked.pk).contract_id is None
    assert not AuditEvent.objects.filter(action="ticket.updated").exists()


def test_an_editor_cannot_clear_or_replace_a_link_they_cannot_see(on_duty_agent, narrow_agents, service_manager):
    customer = CustomerFactory()
    contract = ContractFactory(customer=customer, owner=customer.owner)
    order = order_for(customer.owner, customer)
    ticket = ticket_for(customer, actor=service_manager, contract=contract, order=order)
    assert ticket.assignee == on_duty_agent
    agent = fresh(on_duty_agent)

    for field in ("contract", "order"):
        with pytest.raises(DomainError) as refused:
            services.ticket_update(actor=agent, ticket_id=ticket.pk, **{field: None})
        assert refused.value.field == field

    # The page leaves both out (saying why), and saving the rest keeps them linked.
    client = Client()
    client.force_login(agent)
    url = reverse("service:ticket_update", args=[ticket.pk])
    page = client.get(url).content.decode()
    assert contract.number not in page and order.number not in page
    assert page.count('data-testid="link-hidden"') == 2
    saved = client.post(url, {"subject": "Pump leaks again", "kind": "complaint", "priority": "normal", "contract": ""})
    assert saved.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.contract, ticket.order) == ("Pump leaks again", contract, order)


def test_a_contract_of_another_customer_is_a_field_error_on_the_page(worked, on_duty_agent, client):
    stranger = CustomerFactory()
    theirs = ContractFactory(customer=stranger, owner=stranger.owner)
    client.force_login(on_duty_agent)
    url = reverse("service:ticket_update", args=[worked.pk])
    posted = client.post(url, {"subject": "Typed", "kind": "inquiry", "priority": "high", "contract": theirs.pk})
    assert posted.status_code == 200 and "contract" in posted.context["form"].errors
    assert 'value="Typed"' in posted.content.decode()  # what was typed is kept
    assert Ticket.objects.get(pk=worked.pk).contract_id is None


def test_a_manager_who_sees_them_may_relink_and_unlink(worked, service_manager):
    contract = ContractFactory(customer=worked.customer, owner=worked.customer.owner)
    services.ticket_update(actor=service_manager, ticket_id=worked.pk, contract=contract)
    assert Ticket.objects.get(pk=worked.pk).contract == contract
    services.ticket_update(actor=service_manager, ticket_id=worked.pk, contract=None)
    assert Ticket.objects.get(pk=worked.pk).contract is None


def test_a_new_ticket_cannot_name_a_contract_the_creator_cannot_see(on_duty_agent, narrow_agents):
    customer = CustomerFactory()
    contract = ContractFactory(customer=customer, owner=customer.owner)
    with pytest.raises(DomainError) as refused:
        ticket_for(customer, actor=fresh(on_duty_agent), contract=contract)
    assert refused.value.field == "contract"


def test_text_the_editor_sees_masked_is_shown_masked_and_kept(worked, on_duty_agent, client):
    Ticket.objects.filter(pk=worked.pk).update(description="Call me back on 13912345678, please.")
    client.force_login(on_duty_agent)
    url = reverse("service:ticket_update", args=[worked.pk])

    page = client.get(url).content.decode()
    assert "13912345678" not in page
    assert "139****5678" in page and "Masked for you" in page

    saved = client.post(url, {"subject": worked.subject, "kind": "inquiry", "priority": "high"})
    assert saved.status_code == 302
    ticket = Ticket.objects.get(pk=worked.pk)
    assert (ticket.priority, ticket.description) == (TicketPriority.HIGH, "Call me back on 13912345678, please.")


def test_no_door_lets_a_masked_editor_write_over_text_they_see_masked(worked, on_duty_agent, client):
    Ticket.objects.filter(pk=worked.pk).update(description="Call me back on 13912345678, please.")
    with pytest.raises(DomainError) as refused:
        services.ticket_update(actor=on_duty_agent, ticket_id=worked.pk, description="Call me back on 139****5678")
    assert refused.value.field == "description"
    # the same text sent back unchanged (a form or API client echoing what it read) is no change
    services.ticket_update(
        actor=on_duty_agent, ticket_id=worked.pk, description="Call me back on 13912345678, please.", priority="high"
    )
    ticket = Ticket.objects.get(pk=worked.pk)
    assert (ticket.priority, ticket.description) == ("high", "Call me back on 13912345678, please.")
