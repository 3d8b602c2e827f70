"""The desk's pages as each role sees them: who sees which ticket (404 otherwise), the queue
in deadline order, the board, opening a ticket, the record's notes and replies, the
customer's card, masking, and query ceilings on the lists."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.choices import TicketPriority, TicketStatus, TicketType
from service.models import Ticket
from service.tests.factories import agent_for, ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(rep, other_rep, manager, service_manager):
    """A ticket assigned to `mine`, one to `theirs`, one unassigned; all of `rep`'s customer."""
    customer = CustomerFactory(owner=rep, name="Suzhou Silk Works")
    contact = ContactFactory(customer=customer, name="Li Na", email="li.na@silk.example.com", phone="13812345678")
    mine, theirs = agent_for("mine"), agent_for("theirs", on_duty=False)
    assigned = ticket_for(customer, contact=contact, subject="Pump leaks")
    assert assigned.assignee == mine
    agent_for("mine", on_duty=False)
    other = ticket_for(customer, contact=contact, subject="Wrong invoice")
    services.ticket_assign(actor=service_manager, ticket_id=other.pk, assignee=theirs)
    unassigned = ticket_for(customer, contact=contact, subject="Call me back on 13812345678")
    return {
        "customer": customer,
        "mine": mine,
        "theirs": theirs,
        "assigned": assigned,
        "other": other,
        "unassigned": unassigned,
    }


def status_of(client, user, url):
    client.force_login(user)
    return client.get(url).status_code


@pytest.mark.parametrize(
    ("who", "assigned", "other", "unassigned"),
    [
        ("mine", 200, 404, 200),  # their own and the unassigned queue
        ("theirs", 404, 200, 200),
        ("service_manager", 200, 200, 200),
        ("rep", 200, 200, 200),  # the tickets of the customers they own, read-only
        ("other_rep", 404, 404, 404),
        ("manager", 200, 200, 200),  # sales managers read every ticket
        ("finance", 404, 404, 404),
    ],
)
def test_who_sees_which_ticket(client, desk, request, who, assigned, other, unassigned, finance):
    user = desk[who] if who in desk else request.getfixturevalue(who)
    for name, expected in (("assigned", assigned), ("other", other), ("unassigned", unassigned)):
        url = reverse("service:ticket_detail", args=[desk[name].pk])
        assert status_of(client, user, url) == expected, (who, name)


def test_a_rep_reads_but_cannot_write(client, desk, rep):
    client.force_login(rep)
    page = client.get(reverse("service:ticket_detail", args=[desk["assigned"].pk])).content.decode()
    assert "Pump leaks" in page and 'data-testid="reply-form"' not in page
    response = client.post(reverse("service:ticket_reply", args=[desk["assigned"].pk]), {"body": "x", "public": "1"})
    assert response.status_code == 404
    assert not desk["assigned"].entries.exists()


def test_the_queue_lists_own_and_unassigned_tickets_nearest_deadline_first(client, desk):
    mine = desk["mine"]
    later = ticket_for(desk["customer"], priority=TicketPriority.LOW, subject="Low priority")
    services.ticket_claim(actor=mine, ticket_id=later.pk)
    urgent = ticket_for(desk["customer"], priority=TicketPriority.URGENT, subject="Line stopped")
    client.force_login(mine)
    response = client.get(reverse("service:ticket_queue"))
    numbers = [ticket.number for ticket in response.context["object_list"]]
    assert desk["other"].number not in numbers
    assert set(numbers) == {desk["assigned"].number, desk["unassigned"].number, later.number, urgent.number}
    dues = [ticket.resolution_due_at for ticket in response.context["object_list"]]
    assert dues == sorted(dues) and numbers[0] == urgent.number


def test_the_board_shows_unassigned_breaching_and_load(client, desk, service_manager):
    late = ticket_for(desk["customer"], created_at=timezone.now() - datetime.timedelta(days=30), subject="Forgotten")
    client.force_login(service_manager)
    response = client.get(reverse("service:ticket_board"))
    assert response.status_code == 200
    assert desk["unassigned"] in response.context["unassigned"]
    assert late in response.context["breaching"] and desk["assigned"] not in response.context["breaching"]
    loads = {row["name"]: row["load"] for row in response.context["agents"]}
    assert loads[desk["theirs"].get_full_name()] == 2  # one normal ticket


def test_the_board_is_for_service_managers(client, desk):
    assert status_of(client, desk["mine"], reverse("service:ticket_board")) == 403


def test_an_agent_opens_a_ticket_for_a_customer(client, desk):
    agent = desk["mine"]
    customer = desk["customer"]
    foreign_contact = ContactFactory(customer=CustomerFactory())
    client.force_login(agent)
    url = reverse("service:ticket_create") + f"?customer={customer.pk}"
    page = client.get(url)
    assert foreign_contact.name not in page.content.decode()
    response = client.post(
        url,
        {
            "subject": "Delivery late",
            "kind": TicketType.COMPLAINT,
            "channel": "phone",
            "priority": TicketPriority.HIGH,
            "contact": customer.contacts.first().pk,
            "description": "Promised last week",
        },
    )
    ticket = Ticket.objects.get(subject="Delivery late")
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert ticket.created_by == agent and ticket.kind == TicketType.COMPLAINT


def test_a_bad_ticket_form_shows_errors_next_to_fields(client, desk):
    client.force_login(desk["mine"])
    url = reverse("service:ticket_create") + f"?customer={desk['customer'].pk}"
    foreign = ContactFactory(customer=CustomerFactory())
    response = client.post(
        url, {"subject": "", "kind": "nonsense", "channel": "phone", "priority": "normal", "contact": foreign.pk}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"subject", "kind", "contact"} <= set(errors)


def test_notes_and_replies_in_the_record(client, desk):
    ticket, agent = desk["assigned"], desk["mine"]
    client.force_login(agent)
    url = reverse("service:ticket_reply", args=[ticket.pk])
    client.post(url, {"body": "Checked the serial number", "public": "0"})
    client.post(url, {"body": "A technician comes on Friday", "public": "1"})
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert page.count('data-kind="internal_note"') == 1 and page.count('data-kind="public_reply"') == 1
    assert 'data-testid="clock-first-response" data-state="met"' in page
    empty = client.post(url, {"body": "  ", "public": "1"})
    assert empty.status_code == 200 and empty.context["reply_form"].errors


def test_the_step_buttons_follow_role_and_state(client, desk, service_manager):
    client.force_login(desk["theirs"])
    page = client.get(reverse("service:ticket_detail", args=[desk["unassigned"].pk])).content.decode()
    assert reverse("service:ticket_claim", args=[desk["unassigned"].pk]) in page
    assert reverse("service:ticket_assign", args=[desk["unassigned"].pk]) not in page
    response = client.post(reverse("service:ticket_claim", args=[desk["unassigned"].pk]))
    assert response.status_code == 302
    desk["unassigned"].refresh_from_db()
    assert desk["unassigned"].assignee == desk["theirs"]
    client.force_login(service_manager)
    page = client.get(reverse("service:ticket_detail", args=[desk["assigned"].pk])).content.decode()
    assert reverse("service:ticket_assign", args=[desk["assigned"].pk]) in page


def test_a_manager_assigns_through_the_step_page(client, desk, service_manager):
    client.force_login(service_manager)
    url = reverse("service:ticket_assign", args=[desk["unassigned"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"assignee": desk["theirs"].pk, "comment": "Knows the product"})
    assert response.status_code == 302
    desk["unassigned"].refresh_from_db()
    assert desk["unassigned"].assignee == desk["theirs"] and desk["unassigned"].status == TicketStatus.ASSIGNED


def test_the_customer_page_lists_tickets_and_open_complaints(client, desk, rep):
    complaint = ticket_for(desk["customer"], kind=TicketType.COMPLAINT, subject="Rude driver")
    client.force_login(rep)
    detail = client.get(desk["customer"].get_absolute_url()).content.decode()
    assert reverse("service:customer_tickets") in detail
    card = client.get(reverse("service:customer_tickets") + f"?customer={desk['customer'].pk}")
    assert card.status_code == 200
    assert complaint in card.context["open_complaints"] and len(card.context["tickets"]) == 4
    assert 'data-testid="open-complaints"' in card.content.decode()


def test_the_customer_card_is_404_for_a_customer_out_of_sight(client, desk, other_rep):
    url = reverse("service:customer_tickets") + f"?customer={desk['customer'].pk}"
    assert status_of(client, other_rep, url) == 404


def test_agents_see_contact_details_masked(client, desk):
    client.force_login(desk["mine"])
    page = client.get(reverse("service:ticket_detail", args=[desk["unassigned"].pk])).content.decode()
    assert "13812345678" not in page and "li.na@silk.example.com" not in page
    assert "138****5678" in page


def test_duty_is_set_by_the_agent_or_a_manager(client, desk, service_manager):
    mine, theirs = desk["mine"], desk["theirs"]
    client.force_login(mine)
    assert client.post(reverse("service:agent_duty", args=[mine.pk]), {"on_duty": "1"}).status_code == 302
    assert client.post(reverse("service:agent_duty", args=[theirs.pk]), {"on_duty": "1"}).status_code == 404
    mine.service_duty.refresh_from_db()
    assert mine.service_duty.on_duty
    client.force_login(service_manager)
    client.post(reverse("service:agent_duty", args=[theirs.pk]), {"on_duty": "1"})
    theirs.service_duty.refresh_from_db()
    assert theirs.service_duty.on_duty


@pytest.mark.parametrize("url_name", ["service:ticket_queue", "service:ticket_list", "service:ticket_board"])
def test_lists_take_a_fixed_number_of_queries(client, desk, service_manager, django_assert_max_num_queries, url_name):
    for index in range(30):
        ticket_for(desk["customer"], subject=f"Bulk {index}")
    user = service_manager if url_name == "service:ticket_board" else desk["mine"]
    client.force_login(user)
    client.get(reverse(url_name))  # warm the session and permission caches
    with django_assert_max_num_queries(20):
        assert client.get(reverse(url_name)).status_code == 200


def test_hostile_queries_never_fail(client, desk):
    client.force_login(desk["mine"])
    for query in ["?customer=²", "?customer=9" * 30, "?sort=nonsense", "?status=<b>", "?assignee=-1", "?page=999"]:
        assert client.get(reverse("service:ticket_list") + query).status_code in (200, 404)
    assert client.get(reverse("service:ticket_create") + "?customer=٣").status_code == 302
    assert UserFactory(role=Role.SERVICE_AGENT)
