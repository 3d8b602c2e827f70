"""The public inquiry form and a ticket's status page, as the customer uses them."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from service.choices import TicketChannel, TicketType
from service.mail_models import InboundMail, InboundSource, InboundStatus, TicketStatusLink
from service.models import Ticket
from service.services import ticket_customer_message_add, ticket_reply_add, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for

pytestmark = pytest.mark.django_db

FORM = reverse("service:public_ticket_form")


def filled(**changes):
    data = {
        "name": "Li Wei",
        "email": "Li.Wei@example.com",
        "kind": TicketType.COMPLAINT,
        "subject": "The delivery came damaged",
        "description": "Two of the ten boxes were crushed.",
        "website": "",
    }
    return {**data, **changes}


def link_in(body: str, kind: str = "status") -> str:
    return re.search(rf"https?://\S+/service/{kind}/\S+/", body).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def contacts(rep):
    return desk_customer(rep)


def test_a_known_contact_gets_a_ticket_number_on_the_page_and_the_link_by_mail(
    client, contacts, django_capture_on_commit_callbacks
):
    customer, li, _wang = contacts

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FORM, filled())

    ticket = Ticket.objects.get()
    assert response.status_code == 200
    assert f'data-testid="ticket-number">{ticket.number}<' in response.content.decode()
    assert (ticket.customer, ticket.contact, ticket.kind, ticket.channel) == (
        customer,
        li,
        TicketType.COMPLAINT,
        TicketChannel.WEB_FORM,
    )
    (message,) = [message for message in mail.outbox if message.to == ["li.wei@example.com"]]
    assert ticket.number in message.subject and "/service/status/" in message.body
    assert "/service/status/" not in response.content.decode()  # the link goes to the contact's mailbox only


def test_an_unknown_sender_is_kept_for_an_agent_and_told_so(client, contacts):
    response = client.post(FORM, filled(email="new.buyer@elsewhere.example.org", name="Zhao Lei"))

    assert response.status_code == 200
    assert 'data-testid="ticket-number"' not in response.content.decode()
    assert not Ticket.objects.exists()
    inbound = InboundMail.objects.get()
    assert (inbound.source, inbound.status, inbound.from_email, inbound.from_name) == (
        InboundSource.WEB_FORM,
        InboundStatus.UNSORTED,
        "new.buyer@elsewhere.example.org",
        "Zhao Lei",
    )
    assert inbound.body == "Two of the ten boxes were crushed."
    assert mail.outbox == []  # the form mails nobody who is not already a contact


def test_a_filled_honeypot_looks_accepted_but_keeps_nothing(client, contacts):
    response = client.post(FORM, filled(website="http://spam.example"))
    assert response.status_code == 200 and 'data-testid="request-received"' in response.content.decode()
    assert not Ticket.objects.exists() and not InboundMail.objects.exists()


def test_bad_input_is_shown_next_to_the_fields_and_keeps_what_was_typed(client, contacts):
    response = client.post(FORM, filled(email="not-an-address", subject="", kind="bribe"))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"email", "subject", "kind"}
    assert "Two of the ten boxes were crushed." in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_form_needs_its_csrf_token(contacts):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(FORM, filled()).status_code == 403
    page = strict.get(FORM)
    token = page.cookies["csrftoken"].value
    assert strict.post(FORM, {**filled(), "csrfmiddlewaretoken": token}).status_code == 200
    assert Ticket.objects.count() == 1


def test_each_address_may_send_only_so_many_requests(client, contacts, settings):
    settings.TICKET_FORM_RATE_LIMIT = "2/h"
    for _attempt in range(2):
        assert client.post(FORM, filled(), REMOTE_ADDR="203.0.113.7").status_code == 200
    refused = client.post(FORM, filled(), REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert Ticket.objects.count() == 2
    assert client.get(FORM, REMOTE_ADDR="203.0.113.7").status_code == 200  # reading the form is not counted
    assert client.post(FORM, filled(), REMOTE_ADDR="198.51.100.2").status_code == 200


# --- the status page ---------------------------------------------------------------------


@pytest.fixture
def worked_ticket(contacts, agent, django_capture_on_commit_callbacks):
    """A ticket the agent started, with a public reply, an internal note and the contact's
    message; and the status link of the reply's mail."""
    customer, li, _wang = contacts
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply_add(actor=agent, ticket=ticket, body="Please send us a photo of the boxes.", public=True)
    ticket_reply_add(actor=agent, ticket=ticket, body="Carrier is SF; claim form 7 needed.", public=False)
    ticket_customer_message_add(ticket=ticket, body="Photo attached to my e-mail.", author_email=li.email)
    reply_mail = next(message for message in mail.outbox if message.to == [li.email])
    return ticket, link_in(reply_mail.body)


def test_the_status_page_shows_public_replies_and_the_customers_messages_never_internal_notes(client, worked_ticket):
    ticket, url = worked_ticket

    start = client.get(path_of(url))
    assert start.status_code == 302 and start["Location"] == reverse("service:ticket_status")
    page = client.get(start["Location"]).content.decode()

    assert ticket.number in page
    assert "Please send us a photo of the boxes." in page
    assert "Photo attached to my e-mail." in page
    assert "claim form 7" not in page and "Carrier is SF" not in page


def test_the_customer_answers_on_the_status_page(client, worked_ticket):
    ticket, url = worked_ticket
    client.get(path_of(url))

    empty = client.post(reverse("service:ticket_status"), {"body": "   "})
    assert empty.status_code == 200 and "body" in empty.context["form"].errors
    response = client.post(reverse("service:ticket_status"), {"body": "Here are the order numbers: 4411, 4412."})

    assert response.status_code == 302
    latest = ticket.entries.order_by("-pk").first()
    assert (latest.kind, latest.body, latest.author_email) == (
        "customer_message",
        "Here are the order numbers: 4411, 4412.",
        "li.wei@example.com",
    )


def test_a_status_link_that_expired_or_is_unknown_does_not_open(client, worked_ticket):
    _ticket, url = worked_ticket
    TicketStatusLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get(path_of(url)).status_code == 410
    assert client.get(reverse("service:ticket_status_start", args=["made-up-token"])).status_code == 410
    assert client.get(reverse("service:ticket_status")).status_code == 410  # no session, no page
