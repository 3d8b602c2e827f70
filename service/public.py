"""What the public (no login) does at the desk: the inquiry form and the status page.

The inquiry form, decided:
- from the address of a known contact (one customer's): a ticket opens at once (channel
  "web form") for their customer, and the page shows its number. Its status link goes by
  e-mail to that address and is not shown on the page: whoever typed the address has not
  proven it is theirs, and the replies on the status page are meant for the contact;
- from anyone else: the request is kept as unsorted inbound mail (source "web form") for an
  agent, who adds it to a ticket or opens one (for the right customer, or after creating
  the customer), and the sender then gets the number and status link by e-mail. The page
  says so. Nobody outside creates customers or contacts, and the form mails no address
  that is not already a contact's, so it cannot be used to send mail to strangers.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from customers.models import Contact
from service import services as ticket_services
from service.attachments import attachments_keep
from service.choices import TicketChannel, TicketType
from service.customer_links import status_link_by_id
from service.inbound import inbound_mail_from_form
from service.mail import acknowledgement_send
from service.mail_models import InboundMail, TicketAttachment
from service.mailparse import ParsedAttachment
from service.models import Ticket, TicketEntry

PUBLIC_KINDS = [TicketType.INQUIRY, TicketType.COMPLAINT, TicketType.AFTER_SALES, TicketType.FEEDBACK]


@transaction.atomic
def ticket_submit_public(
    *,
    name: str,
    email: str,
    subject: str,
    description: str,
    kind: str = TicketType.INQUIRY,
    attachments: tuple[ParsedAttachment, ...] = (),
) -> Ticket | InboundMail:
    """Take the public form's request: a ticket for a known contact, else unsorted mail
    for an agent (see the module's docstring). Its files go with it, within the limits the
    mail intake applies (a file beyond them is recorded by name, without its content)."""
    email = email.strip().lower()
    subject, description = " ".join(subject.split()), description.strip()
    if kind not in PUBLIC_KINDS:
        raise DomainError(_("Choose what your request is about."), field="kind")
    if not subject:
        raise DomainError(_("Give your request a subject."), field="subject")
    if not description:
        raise DomainError(_("Describe your request."), field="description")
    contacts = list(
        Contact.objects.filter(email__iexact=email).select_related("customer").order_by("-is_primary", "pk")
    )
    if contacts and len({contact.customer_id for contact in contacts}) == 1:
        contact = contacts[0]
        ticket = ticket_services.ticket_create(
            actor=SYSTEM,
            customer=contact.customer,
            contact=contact,
            kind=kind,
            channel=TicketChannel.WEB_FORM,
            subject=subject[:200],
            description=description,
        )
        _files_recorded(attachments_keep(attachments, inbound=None, ticket=ticket), ticket, email)
        acknowledgement_send(ticket, email)
        return ticket
    return inbound_mail_from_form(
        from_email=email, from_name=name.strip(), subject=subject, body=description, attachments=attachments
    )


@transaction.atomic
def ticket_status_answer(*, link_id: int, body: str, attachments: tuple[ParsedAttachment, ...] = ()) -> TicketEntry:
    """The customer answers on the status page: their message (and its files, within the
    limits) joins the ticket."""
    link = status_link_by_id(link_id)
    if not body.strip():
        raise DomainError(_("Write your message first."), field="body")
    entry = ticket_services.ticket_customer_message_add(ticket=link.ticket, body=body, author_email=link.email)
    _files_recorded(
        attachments_keep(attachments, inbound=None, ticket=link.ticket, entry=entry), link.ticket, link.email
    )
    return entry


def _files_recorded(files: list[TicketAttachment], ticket: Ticket, sender: str) -> None:
    if files:
        audit_record(
            actor=None,
            actor_label=sender,
            action="ticket.files_received",
            target=ticket,
            parent=ticket.customer,
            extra={
                "kept": [file.filename for file in files if file.is_kept],
                "refused": [file.filename for file in files if not file.is_kept],
            },
        )
