"""Incoming mail from the real .eml files: what becomes of each message, exactly."""

import pytest
from django.core import mail

from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from service.choices import TicketChannel, TicketEntryKind, TicketStatus
from service.inbound import (
    REASON_NO_SUCH_TICKET,
    REASON_NOT_THE_CUSTOMER,
    REASON_UNKNOWN_SENDER,
    inbound_mail_assign,
    inbound_mail_discard,
    inbound_mail_receive,
    inbound_mail_ticket_create,
)
from service.mail_models import InboundMail, InboundStatus, TicketAttachment
from service.models import Ticket, TicketEntry
from service.tests.mail_helpers import FIXTURE_NUMBER, desk_customer, eml, ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(rep):
    customer, li, wang = desk_customer(rep)
    ticket = ticket_for(customer, li, number=FIXTURE_NUMBER)
    return customer, li, wang, ticket


def customer_messages(ticket):
    return list(ticket.entries.filter(kind=TicketEntryKind.CUSTOMER_MESSAGE).values_list("body", "author_email"))


def test_a_reply_joins_its_ticket_as_the_customers_message(desk):
    _customer, _li, _wang, ticket = desk

    inbound, is_new = inbound_mail_receive(raw=eml("reply_plain.eml"))

    assert is_new and inbound.status == InboundStatus.THREADED and inbound.ticket == ticket
    assert customer_messages(ticket) == [
        ("Thanks, I tried that and it still does not start.\nThe display stays dark.", "li.wei@example.com")
    ]
    event = AuditEvent.objects.get(action="inbound_mail.received", target_id=str(inbound.pk))
    assert event.extra["status"] == "threaded" and event.extra["ticket"] == FIXTURE_NUMBER


def test_a_message_read_twice_is_taken_once(desk):
    ticket = desk[3]
    first, _ = inbound_mail_receive(raw=eml("reply_plain.eml"))
    again, is_new = inbound_mail_receive(raw=eml("reply_plain.eml"))

    assert not is_new and again == first
    assert len(customer_messages(ticket)) == 1
    assert InboundMail.objects.count() == 1


def test_a_waiting_ticket_resumes_when_the_customer_answers(desk, agent):
    from service.services import ticket_assign, ticket_start, ticket_wait

    ticket = desk[3]
    ticket_assign(actor=UserFactory(role=Role.SERVICE_MANAGER), ticket_id=ticket.pk, assignee=agent)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    ticket_wait(actor=agent, ticket_id=ticket.pk, comment="Photo of the display?")

    inbound_mail_receive(raw=eml("html_only.eml"))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert customer_messages(ticket) == [
        ("It works again after the firmware update.\n\nThank you & regards,\nLi Wei", "li.wei@example.com")
    ]


def test_another_contact_of_the_customer_writes_in_chinese(desk):
    ticket = desk[3]

    inbound, _ = inbound_mail_receive(raw=eml("gb18030_chinese.eml"))

    assert inbound.status == InboundStatus.THREADED
    assert inbound.subject == "回复：[TK-2026-000123] 打印机无法启动" and inbound.from_name == "王芳"
    assert customer_messages(ticket) == [
        ("您好，\n\n打印机还是无法启动，屏幕一直是黑的。\n\n王芳", "wang.fang@example.cn")
    ]


def test_a_reply_whose_subject_lost_the_number_threads_by_our_message_id(desk):
    ticket = desk[3]

    inbound, _ = inbound_mail_receive(raw=eml("reply_subject_rewritten.eml"))

    assert inbound.status == InboundStatus.THREADED and inbound.ticket == ticket
    assert customer_messages(ticket) == [
        ("Sorry, one more question: is the warranty still valid?", "li.wei@example.com")
    ]


def test_attachments_are_kept_within_the_limits_and_refused_parts_recorded(desk):
    ticket = desk[3]

    inbound, _ = inbound_mail_receive(raw=eml("multipart_attachments.eml"))

    rows = list(TicketAttachment.objects.filter(inbound_mail=inbound).order_by("pk"))
    assert [(row.filename, row.content_type, row.size, row.rejected_reason) for row in rows] == [
        ("display.png", "image/png", 70, ""),
        ("setup.exe", "application/octet-stream", 66, "This type of file is not accepted."),
        ("说明书.pdf", "application/pdf", 122889, "The file is larger than allowed."),
    ]
    assert bytes(rows[0].content).startswith(b"\x89PNG")
    assert bytes(rows[1].content) == b"" and bytes(rows[2].content) == b""
    assert all(row.ticket == ticket for row in rows)


def test_too_many_attachments_are_refused_past_the_count(desk, settings):
    settings.TICKET_ATTACHMENT_MAX_COUNT = 1
    inbound, _ = inbound_mail_receive(raw=eml("multipart_attachments.eml"))
    reasons = list(inbound.attachments.order_by("pk").values_list("rejected_reason", flat=True))
    assert reasons == ["", *["More attachments than a message may carry."] * 2]


def test_a_stranger_naming_a_ticket_is_kept_to_sort_not_added(desk):
    ticket = desk[3]
    raw = eml("reply_plain.eml").replace(b"Li.Wei@Example.com", b"mallory@elsewhere.example.org")

    inbound, _ = inbound_mail_receive(raw=raw)

    assert inbound.status == InboundStatus.UNSORTED and inbound.reason == REASON_NOT_THE_CUSTOMER
    assert inbound.ticket == ticket  # offered to the agent as the likely ticket
    assert customer_messages(ticket) == []


def test_a_number_that_does_not_exist_is_kept_to_sort(desk):
    raw = eml("reply_plain.eml").replace(FIXTURE_NUMBER.encode(), b"TK-2026-999999")
    inbound, _ = inbound_mail_receive(raw=raw)
    assert inbound.status == InboundStatus.UNSORTED and inbound.reason == REASON_NO_SUCH_TICKET
    assert inbound.ticket is None


def test_a_new_message_from_a_known_contact_opens_a_ticket_and_is_acknowledged(
    desk, django_capture_on_commit_callbacks
):
    customer, li, _wang, _ticket = desk

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = inbound_mail_receive(raw=eml("new_plain.eml"))

    assert inbound.status == InboundStatus.TICKET_OPENED
    ticket = inbound.ticket
    assert (ticket.customer, ticket.contact, ticket.channel) == (customer, li, TicketChannel.EMAIL)
    assert ticket.subject == "Invoice 4411 is missing the discount"
    assert ticket.description.startswith("Hello,\n\nthe invoice")
    acknowledgement = next(message for message in mail.outbox if message.to == ["li.wei@example.com"])
    assert acknowledgement.subject == f"[{ticket.number}] We received your request: {ticket.subject}"
    assert "/service/status/" in acknowledgement.body
    assert acknowledgement.extra_headers["Reply-To"] == "support@crm.localhost"


def test_mail_from_an_unknown_sender_is_kept_to_sort(desk):
    inbound, _ = inbound_mail_receive(raw=eml("unknown_sender.eml"))
    assert inbound.status == InboundStatus.UNSORTED and inbound.reason == REASON_UNKNOWN_SENDER
    assert inbound.body == "Do you sell spare parts for the P-200?"
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("name", ["bounce.eml", "auto_reply.eml"])
def test_automatic_mail_is_recorded_and_changes_nothing(desk, name):
    ticket = desk[3]
    inbound, _ = inbound_mail_receive(raw=eml(name))
    assert inbound.status == InboundStatus.AUTOMATIC
    assert inbound.reason == "Auto-Submitted: auto-replied"
    assert customer_messages(ticket) == [] and Ticket.objects.count() == 1
    assert not TicketAttachment.objects.exists()


# --- sorting -----------------------------------------------------------------------------


@pytest.fixture
def unsorted(desk):
    return inbound_mail_receive(raw=eml("unknown_sender.eml"))[0]


def test_an_agent_adds_unsorted_mail_to_a_ticket(desk, unsorted, service_manager):
    ticket = desk[3]

    inbound_mail_assign(actor=service_manager, inbound_id=unsorted.pk, ticket_number=ticket.number.lower())

    unsorted.refresh_from_db()
    assert (unsorted.status, unsorted.ticket, unsorted.handled_by) == (InboundStatus.THREADED, ticket, service_manager)
    assert customer_messages(ticket) == [("Do you sell spare parts for the P-200?", "someone@elsewhere.example.org")]
    assert AuditEvent.objects.filter(action="inbound_mail.assigned", target_id=str(unsorted.pk)).exists()


def test_an_agent_opens_a_ticket_from_unsorted_mail_and_the_sender_is_told(
    desk, unsorted, agent, django_capture_on_commit_callbacks
):
    customer = desk[0]
    with django_capture_on_commit_callbacks(execute=True):
        inbound_mail_ticket_create(actor=agent, inbound_id=unsorted.pk, customer=customer)

    unsorted.refresh_from_db()
    assert unsorted.status == InboundStatus.TICKET_OPENED
    assert unsorted.ticket.subject == "Do you sell spare parts?" and unsorted.ticket.channel == TicketChannel.EMAIL
    told = [message for message in mail.outbox if message.to == ["someone@elsewhere.example.org"]]
    assert len(told) == 1 and unsorted.ticket.number in told[0].subject
    assert AuditEvent.objects.filter(action="inbound_mail.ticket_opened", target_id=str(unsorted.pk)).exists()


def test_an_agent_discards_mail_and_cannot_sort_it_again(desk, unsorted, agent):
    inbound_mail_discard(actor=agent, inbound_id=unsorted.pk, reason="Spam")

    unsorted.refresh_from_db()
    assert (unsorted.status, unsorted.reason) == (InboundStatus.DISCARDED, "Spam")
    assert AuditEvent.objects.filter(action="inbound_mail.discarded", target_id=str(unsorted.pk)).exists()
    with pytest.raises(DomainError, match="already sorted"):
        inbound_mail_assign(actor=agent, inbound_id=unsorted.pk, ticket_number=desk[3].number)


def test_sorting_checks_the_role_and_the_ticket(desk, unsorted, rep, agent):
    with pytest.raises(DomainError, match="may not sort"):
        inbound_mail_discard(actor=rep, inbound_id=unsorted.pk)
    with pytest.raises(DomainError) as refused:
        inbound_mail_assign(actor=agent, inbound_id=unsorted.pk, ticket_number="TK-2026-999999")
    assert refused.value.field == "ticket_number"
    assert TicketEntry.objects.filter(kind=TicketEntryKind.CUSTOMER_MESSAGE).count() == 0
