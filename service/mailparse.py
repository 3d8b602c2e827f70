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
from email.message import EmailMessage, MIMEPart
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from django.conf import settings
from django.utils.translation import gettext_noop

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
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMON_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply)@", re.IGNORECASE)


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


class _TextFromHtml(HTMLParser):
    """The visible text of an HTML part: scripts and styles dropped, blocks on their own lines."""

    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "head"):
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return _tidy("\n".join(lines))


def _tidy(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


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
    text = _tidy("\n".join(line for line in kept if not line.lstrip().startswith(">")))
    return text or _tidy(body)


def auto_reason(message: EmailMessage, from_email: str) -> str:
    """Why this message was sent by a machine (RFC 3834 and the usual conventions), or ""."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if message.get(header) and header != "X-Auto-Response-Suppress":
            return header
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if str(message.get("Return-Path", "")).strip() == "<>":
        return "empty Return-Path"
    if _DAEMON_SENDERS.match(from_email):
        return "sent by a mail system"
    return ""


def _decoded_text(part: MIMEPart) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):
        # An unknown or lying charset: GB18030 covers GBK and GB2312, then bytes as latin-1.
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        for charset in ("utf-8", "gb18030"):
            try:
                return payload.decode(charset)
            except UnicodeDecodeError:
                continue
        return payload.decode("latin-1")


def _body_of(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        return _tidy(_decoded_text(plain))
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        return html_to_text(_decoded_text(html))
    return ""


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


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


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
    references = _message_ids(str(message.get("In-Reply-To", ""))) + _message_ids(str(message.get("References", "")))
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message.get("Date") else None
    except (TypeError, ValueError):
        sent_at = None
    body = _body_of(message)
    return ParsedMail(
        message_id=(_message_ids(str(message.get("Message-ID", ""))) or [""])[0][:250],
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
