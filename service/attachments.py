"""Keeping the files customers send (with mail, the public form or the status page) with
their ticket, within the limits of the settings (`service.mailparse.attachment_refusal`)."""

from crm.core.transactions import in_callers_transaction
from service.mail_models import InboundMail, TicketAttachment
from service.mailparse import ParsedAttachment, attachment_refusal
from service.models import Ticket, TicketEntry


@in_callers_transaction
def attachments_keep(
    parts: tuple[ParsedAttachment, ...],
    *,
    inbound: InboundMail | None,
    ticket: Ticket | None,
    entry: TicketEntry | None = None,
) -> list[TicketAttachment]:
    """Keep a message's files with its ticket (and the entry they came with); a file beyond
    the limits is kept as a row without content, with the reason."""
    kept = []
    for index, part in enumerate(parts):
        refusal = attachment_refusal(content_type=part.content_type, size=part.size, index=index)
        kept.append(
            TicketAttachment.objects.create(
                ticket=ticket,
                inbound_mail=inbound,
                entry=entry,
                filename=part.filename[:200],
                content_type=part.content_type[:100],
                size=part.size,
                content=b"" if refusal else part.content,
                rejected_reason=refusal,
            )
        )
    return kept
