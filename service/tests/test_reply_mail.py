"""A public reply reaches the customer through the real queue and worker, and their answer
by e-mail comes back into the same ticket."""

import pytest
from django.core import mail

from crm.core.mail import MailStatus
from crm.core.models import AuditEvent, OutgoingMail
from crm.core.tests.waiting import wait_until
from service.choices import TicketEntryKind
from service.inbound import inbound_mail_receive
from service.mail_models import InboundStatus
from service.services import ticket_reply_add, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for


def answer_to(message, text: str) -> bytes:
    """The customer's client answering `message`: Re: subject, In-Reply-To its Message-ID."""
    return (
        f"Message-ID: <answer-1@mail.example.com>\n"
        f"In-Reply-To: {message.extra_headers['Message-ID']}\n"
        f"From: Li Wei <li.wei@example.com>\nTo: support@crm.localhost\n"
        f"Subject: Re: {message.subject}\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{text}\n\nOn Tuesday Support wrote:\n> {message.body.splitlines()[0]}\n"
    ).encode()


@pytest.mark.django_db(transaction=True)
def test_a_public_reply_is_mailed_through_the_worker_and_the_answer_threads_back(rep, agent, task_worker):
    customer, li, _wang = desk_customer(rep)
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()

    ticket_reply_add(actor=agent, ticket=ticket, body="Please restart the printer.", public=True)
    ticket_reply_add(actor=agent, ticket=ticket, body="Probably the power board.", public=False)

    outgoing = OutgoingMail.objects.get(to=[li.email])
    wait_until(lambda: OutgoingMail.objects.get(pk=outgoing.pk).status == MailStatus.SENT)
    (message,) = [message for message in mail.outbox if message.to == [li.email]]
    assert message.subject == f"[{ticket.number}] The printer does not start"
    assert message.body.startswith("Please restart the printer.")
    assert "power board" not in message.body  # an internal note is never mailed
    assert message.extra_headers["Message-ID"].startswith(f"<{ticket.number}.r")
    assert message.extra_headers["Message-ID"].endswith("@crm.localhost>")
    assert message.extra_headers["Reply-To"] == "support@crm.localhost"
    assert "/service/status/" in message.body
    assert AuditEvent.objects.filter(action="ticket.reply_mailed", target_id=str(ticket.pk)).count() == 1

    inbound, _ = inbound_mail_receive(raw=answer_to(message, "Restarted, it works now."))

    assert inbound.status == InboundStatus.THREADED and inbound.ticket_id == ticket.pk
    latest = ticket.entries.order_by("-pk").first()
    assert (latest.kind, latest.body) == (TicketEntryKind.CUSTOMER_MESSAGE, "Restarted, it works now.")


@pytest.mark.django_db
def test_a_reply_on_a_ticket_without_any_address_is_recorded_not_mailed(rep, agent, django_capture_on_commit_callbacks):
    customer, li, _wang = desk_customer(rep, email="")
    ticket = ticket_for(customer, None)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply_add(actor=agent, ticket=ticket, body="We called you back.", public=True)

    assert [message for message in mail.outbox if "We called you back." in message.body] == []
    event = AuditEvent.objects.get(action="ticket.reply_not_mailed", target_id=str(ticket.pk))
    assert event.extra["reason"] == "no e-mail address"
