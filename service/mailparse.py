"""Reading an inbound e-mail: pure functions over the raw bytes, no database.

`mail_parse(raw)` turns one RFC 5322 message into a `ParsedMail`: the sender, the subject
decoded whatever its charset (RFC 2047, GB18030/GBK included), the text of the body (the
plain part, else the HTML part turned into text), the reply without the quoted message
under it, the ticket number it refers to, whether it is an automatic message (an
out-of-office reply, a bounce) that must never open or reopen a ticket, and its
attachments with their declared type and size. `attachment_refusal` says whether a file
keeps the limits of the settings (`TICKET_ATTACHMENT_*`): the mail intake and the public
forms ask it alike.

Threading, in this order (`ParsedMail.ticket_number`):
1. a ticket number in square brackets in the subject (`Re: [TK-2026-000123] ...`), the
   tag every mail we send carries;
2. one of our own Message-IDs in In-Reply-To or References: we send public replies as
   `<TK-2026-000123.r<entry>.<random>@<our domain>>` (`reply_message_id`), so a client
   that rewrites the subject still threads.
"""

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from django.conf import settings
from django.utils.translation import gettext_noop

from crm.core.mailparse import auto_reason, body_text, message_ids, tidy

TICKET_NUMBER = re.compile(r"\[(TK-\d{4}-\d{6})\]", re.IGNORECASE)
OUR_MESSAGE_ID = re.compile(r"<(TK-\d{4}-\d{6})\.r\d+\.[0-9a-f]+@([^>]+)>", re.IGNORECASE)

# Lines that start the quoted original under a reply, in the clients our customers use.
_QUOTE_HEADERS = [
    re.compile(r"^On .{5,200} wrote:\s*$"),
    re.compile(r"^在.{2,200}写道[:：]\s*$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^-{2,}\s*原始邮件\s*-{2,}"),
    re.compile(r"^(From|发件人)\s*[:：]\s*.+"),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above the quoted headers
]


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    from_email: str
    from_name: str
    subject: str
    body: str  # the whole text
    reply: str  # the text without the quoted original under it
    references: tuple[str, ...]  # In-Reply-To, then References
    sent_at: object  # datetime or None
    auto_reason: str  # why it is automatic ("" for a person's message)
    attachments: tuple[ParsedAttachment, ...] = field(default_factory=tuple)

    def ticket_number(self, our_domain: str) -> str:
        """The ticket this message answers, or "" (see the module's docstring)."""
        match = TICKET_NUMBER.search(self.subject)
        if match:
            return match.group(1).upper()
        for reference in self.references:
            ours = OUR_MESSAGE_ID.fullmatch(reference)
            if ours and ours.group(2).lower() == our_domain.lower():
                return ours.group(1).upper()
        return ""


def reply_message_id(*, ticket_number: str, entry_id: int, token: str, domain: str) -> str:
    """The Message-ID of the mail that carries public reply `entry_id` of a ticket."""
    return f"<{ticket_number}.r{entry_id}.{token}@{domain}>"


def reply_text(body: str) -> str:
    """The new text of a reply: everything above the quoted original (or the whole text
    when nothing is quoted), without the trailing `>` lines."""
    kept: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if any(pattern.match(stripped) for pattern in _QUOTE_HEADERS):
            break
        kept.append(line)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    text = tidy("\n".join(line for line in kept if not line.lstrip().startswith(">")))
    return text or tidy(body)


def _attachments_of(message: EmailMessage) -> tuple[ParsedAttachment, ...]:
    found = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        if part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename() or "attachment"
        found.append(ParsedAttachment(filename=filename[:200], content_type=part.get_content_type(), content=content))
    return tuple(found)


def mail_parse(raw: bytes) -> ParsedMail:
    """One raw message as a `ParsedMail`; never raises on a malformed message (the parts
    that cannot be read come out empty)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    try:
        name, address = parseaddr(str(message.get("From", "")))
    except (TypeError, ValueError):
        name, address = "", ""
    address = address.strip().lower()
    try:
        subject = " ".join(str(message.get("Subject", "")).split())
    except (TypeError, ValueError, LookupError):
        subject = ""
    references = message_ids(str(message.get("In-Reply-To", ""))) + message_ids(str(message.get("References", "")))
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message.get("Date") else None
    except (TypeError, ValueError):
        sent_at = None
    body = body_text(message)
    return ParsedMail(
        message_id=(message_ids(str(message.get("Message-ID", ""))) or [""])[0][:250],
        from_email=address[:254],
        from_name=name[:200],
        subject=subject[:300],
        body=body,
        reply=reply_text(body),
        references=tuple(dict.fromkeys(references)),
        sent_at=sent_at,
        auto_reason=auto_reason(message, address),
        attachments=_attachments_of(message),
    )


def attachment_refusal(*, content_type: str, size: int, index: int) -> str:
    """Why a customer's file is not kept (a message id to translate), or "" when it is: the
    limits of the settings (`TICKET_ATTACHMENT_*`), the same for mail and for the public forms."""
    if index >= settings.TICKET_ATTACHMENT_MAX_COUNT:
        return gettext_noop("More attachments than a message may carry.")
    if content_type.lower() not in {kind.strip().lower() for kind in settings.TICKET_ATTACHMENT_TYPES}:
        return gettext_noop("This type of file is not accepted.")
    if size > settings.TICKET_ATTACHMENT_MAX_BYTES:
        return gettext_noop("The file is larger than allowed.")
    return ""
