"""Mail to the customer about their ticket: each public reply, through the queue.

A public reply goes to the ticket's contact (else the customer's address) with the ticket
number in the subject and a Message-ID of ours, `<TK-...r<entry>.<random>@<desk domain>>`,
so the customer's answer threads back whether their client keeps the subject or the
In-Reply-To header. Each mail carries a fresh status link. Customers' mail is written in
the contact's preferred language (`Contact.language`; the site's for an address that is no
contact's) and is not masked: it goes to the person whose details they are.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from crm.core.audit import audit_record
from crm.core.mail import mail_send_on_commit
from crm.core.transactions import in_callers_transaction
from service.choices import TicketEntryKind
from service.customer_links import status_link_create
from service.mailparse import reply_message_id
from service.models import Ticket, TicketEntry


def mail_domain() -> str:
    """The domain of our Message-IDs: the desk's address's."""
    return settings.TICKET_MAIL_ADDRESS.rpartition("@")[2] or "localhost"


def customer_language(ticket: Ticket, email: str) -> str:
    """The language of mail about the ticket to `email`: the ticket's contact's when it is
    theirs, else another contact's of the customer with that address, else the site's."""
    contact = ticket.contact
    if contact is not None and contact.email.lower() == (email or "").lower():
        return contact.language or settings.LANGUAGE_CODE
    other = (
        ticket.customer.contacts.filter(email__iexact=email).order_by("-is_primary", "pk").first() if email else None
    )
    if other is not None:
        return other.language or settings.LANGUAGE_CODE
    return contact.language if contact is not None and contact.language else settings.LANGUAGE_CODE


@in_callers_transaction
def acknowledgement_send(ticket: Ticket, email: str) -> None:
    """Tell the customer their request has a number, and give them its status link."""
    with translation.override(customer_language(ticket, email)):
        url = status_link_create(ticket, email)
        subject = _("[%(number)s] We received your request: %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }
        body = _(
            "Thank you for contacting %(company)s. Your request has the number %(number)s.\n\n"
            "Follow it and answer us here: %(url)s\n\n"
            "You can also reply to this e-mail; keep %(number)s in the subject."
        ) % {"company": settings.COMPANY_NAME, "number": ticket.number, "url": url}
    mail_send_on_commit(subject=subject, body=body, to=[email], headers={"Reply-To": settings.TICKET_MAIL_ADDRESS})


def customer_address(ticket: Ticket) -> str:
    """Where mail about the ticket goes: its contact, else the customer; "" when neither has one."""
    if ticket.contact is not None and ticket.contact.email:
        return ticket.contact.email
    return ticket.customer.email or ""


@transaction.atomic
def ticket_reply_mail_send(*, entry_id: int) -> str:
    """Mail a public reply to the customer; returns the address it went to ("" when the
    ticket has none, which its history then says)."""
    entry = (
        TicketEntry.objects.select_for_update(of=("self",))
        .select_related("ticket__customer", "ticket__contact", "author")
        .get(pk=entry_id, kind=TicketEntryKind.PUBLIC_REPLY)
    )
    ticket = entry.ticket
    address = customer_address(ticket)
    if not address:
        audit_record(
            actor=None,
            actor_label="mail",
            action="ticket.reply_not_mailed",
            target=ticket,
            parent=ticket.customer,
            extra={"entry_id": entry.pk, "reason": "no e-mail address"},
        )
        return ""
    with translation.override(customer_language(ticket, address)):
        url = status_link_create(ticket, address)
        subject = _("[%(number)s] %(subject)s") % {"number": ticket.number, "subject": ticket.subject}
        body = _(
            "%(reply)s\n\n-- \n%(author)s, %(company)s\n\n"
            "Answer by replying to this e-mail, or on your request's page: %(url)s"
        ) % {
            "reply": entry.body,
            "author": entry.author.get_full_name() or entry.author.get_username() if entry.author else "",
            "company": settings.COMPANY_NAME,
            "url": url,
        }
    message_id = reply_message_id(
        ticket_number=ticket.number, entry_id=entry.pk, token=secrets.token_hex(6), domain=mail_domain()
    )
    mail_send_on_commit(
        subject=subject,
        body=body,
        to=[address],
        headers={"Message-ID": message_id, "Reply-To": settings.TICKET_MAIL_ADDRESS},
    )
    audit_record(
        actor=None,
        actor_label="mail",
        action="ticket.reply_mailed",
        target=ticket,
        parent=ticket.customer,
        extra={"entry_id": entry.pk, "to": address, "message_id": message_id},
    )
    return address
