"""The desk's incoming mail: each message threaded into its ticket, opening a new ticket,
ignored as automatic, or kept for an agent to sort.

`inbound_mail_receive` decides for one raw message (`fetch_ticket_mail` calls it for each
message of the mailbox):

- an automatic message (a bounce, an out-of-office reply) is recorded and ignored: it
  never opens, answers or reopens a ticket, so two auto-responders cannot loop;
- a message naming a ticket (`[TK-2026-000123]` in the subject, or one of our Message-IDs
  in In-Reply-To/References) joins that ticket as the customer's message, when it comes
  from the ticket's contact or another contact of its customer (or the customer's own
  address). From anyone else it is kept to sort, so nobody can write into a stranger's
  ticket by copying its number;
- a new message from a known contact's address opens a ticket for their customer (channel
  e-mail) and the contact gets its number and status link;
- anything else (an unknown sender, an address shared by contacts of several customers, a
  ticket number that does not exist) is kept as unsorted mail, for an agent to add to a
  ticket, open a ticket from, or discard.

A message is kept once: its Message-ID is unique, so a mailbox read twice adds nothing.
Attachments are kept within the limits of the settings (`TICKET_ATTACHMENT_*`,
`service.attachments`); a part beyond them is recorded by name, type and size with the reason, without its content.
"""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from customers.models import Contact, Customer
from service import services as ticket_services
from service.attachments import attachments_keep
from service.choices import TicketChannel, TicketPriority, TicketType
from service.mail import acknowledgement_send, mail_domain
from service.mail_models import InboundMail, InboundSource, InboundStatus
from service.mailparse import ParsedAttachment, ParsedMail, mail_parse
from service.models import Ticket, TicketEntry

REASON_UNKNOWN_SENDER = gettext_noop("The sender is not a known contact.")
REASON_SEVERAL_CUSTOMERS = gettext_noop("Contacts of several customers have this address.")
REASON_NO_SUCH_TICKET = gettext_noop("It names a ticket number that does not exist.")
REASON_NOT_THE_CUSTOMER = gettext_noop("It names a ticket, but the sender is not a contact of its customer.")
REASON_NO_SENDER = gettext_noop("It has no sender address.")
REASON_FORM_UNKNOWN = gettext_noop("Sent through the public form by someone who is not a known contact.")


def _sender_belongs_to(ticket: Ticket, address: str) -> bool:
    if not address:
        return False
    if ticket.customer.email and ticket.customer.email.lower() == address:
        return True
    return Contact.objects.filter(customer_id=ticket.customer_id, email__iexact=address).exists()


def _contacts_of(address: str) -> list[Contact]:
    if not address:
        return []
    return list(Contact.objects.filter(email__iexact=address).select_related("customer").order_by("-is_primary", "pk"))


def _record(
    parsed: ParsedMail,
    *,
    source: str,
    status: str,
    reason: str = "",
    ticket: Ticket | None = None,
    entry: TicketEntry | None = None,
) -> InboundMail:
    return InboundMail.objects.create(
        source=source,
        message_id=parsed.message_id,
        from_email=parsed.from_email,
        from_name=parsed.from_name,
        subject=parsed.subject,
        body=parsed.reply,
        status=status,
        reason=reason,
        ticket=ticket,
        entry=entry,
    )


def _route(parsed: ParsedMail) -> InboundMail:
    source = InboundSource.MAILBOX
    if parsed.auto_reason:
        return _record(parsed, source=source, status=InboundStatus.AUTOMATIC, reason=parsed.auto_reason[:300])
    if not parsed.from_email:
        return _record(parsed, source=source, status=InboundStatus.UNSORTED, reason=REASON_NO_SENDER)
    number = parsed.ticket_number(mail_domain())
    if number:
        ticket = Ticket.objects.select_related("customer").filter(number=number).first()
        if ticket is None:
            return _record(parsed, source=source, status=InboundStatus.UNSORTED, reason=REASON_NO_SUCH_TICKET)
        if not _sender_belongs_to(ticket, parsed.from_email):
            return _record(
                parsed, source=source, status=InboundStatus.UNSORTED, reason=REASON_NOT_THE_CUSTOMER, ticket=ticket
            )
        entry = ticket_services.ticket_customer_message_add(
            ticket=ticket, body=parsed.reply or parsed.subject, author_email=parsed.from_email
        )
        return _record(parsed, source=source, status=InboundStatus.THREADED, ticket=ticket, entry=entry)
    contacts = _contacts_of(parsed.from_email)
    if not contacts:
        return _record(parsed, source=source, status=InboundStatus.UNSORTED, reason=REASON_UNKNOWN_SENDER)
    if len({contact.customer_id for contact in contacts}) > 1:
        return _record(parsed, source=source, status=InboundStatus.UNSORTED, reason=REASON_SEVERAL_CUSTOMERS)
    contact = contacts[0]
    ticket = ticket_services.ticket_create(
        actor=SYSTEM,
        customer=contact.customer,
        contact=contact,
        kind=TicketType.INQUIRY,
        channel=TicketChannel.EMAIL,
        subject=(parsed.subject or _("(no subject)"))[:200],
        description=parsed.reply,
    )
    acknowledgement_send(ticket, parsed.from_email)
    return _record(parsed, source=source, status=InboundStatus.TICKET_OPENED, ticket=ticket)


@transaction.atomic
def inbound_mail_receive(*, raw: bytes) -> tuple[InboundMail, bool]:
    """Take one raw message from the mailbox; returns its row and whether it is new
    (False: a message with this Message-ID was taken before, and nothing changed)."""
    parsed = mail_parse(raw)
    if parsed.message_id:
        earlier = InboundMail.objects.filter(message_id=parsed.message_id).first()
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            inbound = _route(parsed)
    except IntegrityError:
        # Another fetch took the same message at the same moment: it is kept once.
        earlier = InboundMail.objects.filter(message_id=parsed.message_id).first()
        if earlier is None:
            raise
        return earlier, False
    if parsed.attachments and inbound.status != InboundStatus.AUTOMATIC:
        attachments_keep(parsed.attachments, inbound=inbound, ticket=inbound.ticket, entry=inbound.entry)
    audit_record(
        actor=None,
        actor_label=inbound.from_email or "mail",
        action="inbound_mail.received",
        target=inbound,
        parent=inbound.ticket,
        extra={
            "status": inbound.status,
            "reason": inbound.reason,
            "ticket": inbound.ticket.number if inbound.ticket else "",
            "attachments": len(parsed.attachments),
        },
    )
    return inbound, True


@transaction.atomic
def inbound_mail_from_form(
    *, from_email: str, from_name: str, subject: str, body: str, attachments: tuple[ParsedAttachment, ...] = ()
) -> InboundMail:
    """Keep a public form's request from someone who is not a known contact, to sort."""
    inbound = InboundMail.objects.create(
        source=InboundSource.WEB_FORM,
        from_email=from_email,
        from_name=from_name[:200],
        subject=subject[:300],
        body=body,
        status=InboundStatus.UNSORTED,
        reason=REASON_FORM_UNKNOWN,
    )
    attachments_keep(attachments, inbound=inbound, ticket=None)
    audit_record(
        actor=None,
        actor_label=from_email,
        action="inbound_mail.received",
        target=inbound,
        extra={"status": inbound.status, "source": inbound.source},
    )
    return inbound


def _unsorted_locked(actor: User, inbound_id: int) -> InboundMail:
    if not actor.has_perm("service.sort_inboundmail"):
        raise DomainError(_("Your role may not sort incoming mail."))
    inbound = InboundMail.objects.visible_to(actor).select_for_update().filter(pk=inbound_id).first()
    if inbound is None:
        raise DomainError(_("This message does not exist."))
    if inbound.status != InboundStatus.UNSORTED:
        raise DomainError(_("This message was already sorted."))
    return inbound


def _sorted(
    inbound: InboundMail,
    actor: User,
    status: str,
    *,
    action: str,
    ticket: Ticket | None = None,
    entry: TicketEntry | None = None,
    extra: dict | None = None,
) -> InboundMail:
    inbound.status = status
    inbound.ticket = ticket or inbound.ticket
    inbound.entry = entry
    inbound.handled_by = actor
    inbound.handled_at = timezone.now()
    inbound.save(update_fields=["status", "ticket", "entry", "handled_by", "handled_at"])
    inbound.attachments.update(ticket=inbound.ticket, entry=entry)
    audit_record(actor=actor, action=action, target=inbound, parent=inbound.ticket, extra=extra or {})
    return inbound


@transaction.atomic
def inbound_mail_assign(*, actor: User, inbound_id: int, ticket_number: str) -> InboundMail:
    """Add an unsorted message to a ticket the agent may work on, as the customer's message."""
    inbound = _unsorted_locked(actor, inbound_id)
    number = (ticket_number or "").strip().upper()
    ticket = Ticket.objects.visible_to(actor, "change").filter(number=number).first()
    if ticket is None:
        raise DomainError(_("No ticket you may work on has this number."), field="ticket_number")
    entry = ticket_services.ticket_customer_message_add(
        ticket=ticket, body=inbound.body or inbound.subject, author_email=inbound.from_email
    )
    return _sorted(
        inbound,
        actor,
        InboundStatus.THREADED,
        action="inbound_mail.assigned",
        ticket=ticket,
        entry=entry,
        extra={"ticket": ticket.number},
    )


@transaction.atomic
def inbound_mail_ticket_create(
    *,
    actor: User,
    inbound_id: int,
    customer: Customer,
    contact: Contact | None = None,
    kind: str = TicketType.INQUIRY,
    priority: str = TicketPriority.NORMAL,
) -> InboundMail:
    """Open a ticket from an unsorted message; its sender gets the number and status link."""
    inbound = _unsorted_locked(actor, inbound_id)
    channel = TicketChannel.WEB_FORM if inbound.source == InboundSource.WEB_FORM else TicketChannel.EMAIL
    ticket = ticket_services.ticket_create(
        actor=actor,
        customer=customer,
        contact=contact,
        kind=kind,
        channel=channel,
        subject=(inbound.subject or _("(no subject)"))[:200],
        description=inbound.body,
        priority=priority,
    )
    if inbound.from_email:
        acknowledgement_send(ticket, inbound.from_email)
    return _sorted(
        inbound,
        actor,
        InboundStatus.TICKET_OPENED,
        action="inbound_mail.ticket_opened",
        ticket=ticket,
        extra={"ticket": ticket.number},
    )


@transaction.atomic
def inbound_mail_discard(*, actor: User, inbound_id: int, reason: str = "") -> InboundMail:
    """Set aside a message that needs no ticket (spam, a misdirected mail)."""
    inbound = _unsorted_locked(actor, inbound_id)
    inbound.reason = (reason.strip() or inbound.reason)[:300]
    inbound.save(update_fields=["reason"])
    inbound.attachments.update(content=b"")
    return _sorted(inbound, actor, InboundStatus.DISCARDED, action="inbound_mail.discarded", extra={"reason": reason})
