"""Reading what comes back to a campaign: pure functions over the raw bytes, no database.

`returned_parse(raw, bounce_local=...)` says what one message of the campaign mailbox is:
- a **bounce**, hard (a 5.x.x status: the address does not exist) or soft (4.x.x: a full
  mailbox, a server down). Read from an RFC 3464 report (multipart/report with a
  message/delivery-status part: Action, Status, Final-Recipient, Diagnostic-Code) or, for
  the servers that send none (Exchange, qmail, many hosted ones), from a daemon's message
  whose text carries the SMTP answer and quotes the original's headers;
- an **automatic reply** (out of office, RFC 3834): never a bounce, never a reply;
- a **reply** of a person: it answers one of our Message-IDs or was sent to a copy's
  return path;
- or **not understood**.

What names the recipient, most certain first: the token of the copy's return path
(`bounces+<token>@domain`, in To, Delivered-To, X-Original-To or Envelope-To), the token in
one of our Message-IDs (`<campaign.<id>.<token>@domain>`, in In-Reply-To/References or the
quoted original), else the campaign's `X-CRM-Campaign` header with the address that failed.
"""

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from crm.core.mailparse import auto_reason, body_text, decoded_text, message_ids
from marketing.choices import ReturnedMailKind as Kind

OUR_MESSAGE_ID = re.compile(r"<campaign\.(\d+)\.([0-9a-f]{48})@[^>]+>", re.IGNORECASE)
ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
SMTP_REPLY = re.compile(r"(?<![\d.])([45])\d\d(?:[ -]|$)", re.MULTILINE)
QUOTED_HEADER = re.compile(r"^\s*(Message-ID|X-CRM-Campaign|To)\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Subjects of the non-standard bounces (English, Chinese) and of out-of-office replies.
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|has failed|failure)|mail delivery (failed|subsystem)"
    r"|returned mail|failure notice|could not be delivered|系统退信|退信|未能送达|投递失败|无法投递",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"^(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|vacation|自动回复|休假|不在办公室)",
    re.IGNORECASE,
)
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")


@dataclass(frozen=True)
class ReturnedMessage:
    kind: str
    message_key: str
    from_email: str
    subject: str
    return_tokens: tuple[str, ...] = ()  # from the return path, then from our Message-IDs
    campaign_id: int | None = None  # from a quoted X-CRM-Campaign or one of our Message-IDs
    address: str = ""  # the address that failed
    status_code: str = ""
    diagnostic: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)


def return_token(address: str, *, bounce_local: str) -> str:
    """The token of a copy's return path (`<bounce_local>+<token>@...`), or ""."""
    local = address.rpartition("@")[0].lower()
    prefix = f"{bounce_local.lower()}+"
    if bounce_local and local.startswith(prefix) and re.fullmatch(r"[0-9a-f]{48}", local[len(prefix) :]):
        return local[len(prefix) :]
    return ""


def _header(message: Message, name: str) -> str:
    try:
        return " ".join(str(value) for value in message.get_all(name, []))
    except (TypeError, ValueError, LookupError):  # a header the parser cannot decode
        return ""


def _text(part: Message) -> str:
    if isinstance(part, EmailMessage) and not part.is_multipart():
        try:
            return decoded_text(part)
        except (KeyError, AttributeError, TypeError):
            pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _status_fields(part: Message) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part (per message, then per recipient)."""
    payload = part.get_payload()
    blocks = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append({key.lower(): " ".join(str(value).split()) for key, value in block.items()})
    if not any(block.get("status") or block.get("action") for block in blocks):
        text = payload if isinstance(payload, str) else _text(part)
        blocks = []
        for chunk in re.split(r"\r?\n\s*\r?\n", text):
            fields = {}
            for line in re.sub(r"\r?\n[ \t]+", " ", chunk).splitlines():
                key, sep, value = line.partition(":")
                if sep:
                    fields[key.strip().lower()] = value.strip()
            blocks.append(fields)
    return blocks


def _address_of(value: str) -> str:
    """The address of a DSN recipient field (`rfc822; li@example.com`)."""
    found = ADDRESS.search(value.partition(";")[2] or value)
    return found.group(0).lower() if found else ""


def _originals(message: Message) -> list[Message]:
    """The original message (or its headers) a bounce attaches."""
    found = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                found.extend(item for item in payload if isinstance(item, Message))
        elif kind == "text/rfc822-headers":
            found.append(email.message_from_string(_text(part), policy=email.policy.default))
    return found


@dataclass
class _Evidence:
    message_ids: list[str] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)

    def add_ids(self, value: str) -> None:
        self.message_ids.extend(message_ids(value))

    def add_campaign(self, value: str) -> None:
        if value.strip().isdigit() and len(value.strip()) < 12:
            self.campaign_ids.append(int(value.strip()))


def _quoted(message: Message, text: str) -> _Evidence:
    """What the bounce shows of the original: attached, or quoted in its text."""
    evidence = _Evidence()
    for original in _originals(message):
        evidence.add_ids(_header(original, "Message-ID"))
        evidence.add_campaign(_header(original, "X-CRM-Campaign"))
        evidence.addresses += [address.lower() for _name, address in getaddresses([_header(original, "To")])]
    for name, value in QUOTED_HEADER.findall(text):
        name = name.lower()
        if name == "message-id":
            evidence.add_ids(value)
        elif name == "x-crm-campaign":
            evidence.add_campaign(value)
        else:
            evidence.addresses += [found.lower() for found in ADDRESS.findall(value)]
    return evidence


def _status_of(text: str) -> str:
    """The enhanced status code (5.1.1) of a bounce's text, else the class of its SMTP reply
    (550 -> 5.0.0), else ""."""
    enhanced = ENHANCED_STATUS.search(text)
    if enhanced and enhanced.group(1) in "45":
        return enhanced.group(0)
    reply = SMTP_REPLY.search(text)
    return f"{reply.group(1)}.0.0" if reply else ""


def _diagnostic_line(text: str, status: str) -> str:
    """The line of the text that says why (the one with the code), shortened."""
    code = status.split(".")[0] if status else ""
    for line in text.splitlines():
        stripped = " ".join(line.split())
        if status and (status in stripped or (code and re.search(rf"\b{code}\d\d\b", stripped))):
            return stripped[:500]
    return ""


def _all_text(message: Message) -> str:
    """Every text part outside the attached original, for the bounces that only quote."""
    parts = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_multipart():
            parts.append(_text(part))
    return "\n".join(parts)


def _key(message: Message, raw: bytes) -> str:
    ids = message_ids(_header(message, "Message-ID"))
    return ids[0][:250] if ids else "sha256:" + hashlib.sha256(raw).hexdigest()


def returned_parse(raw: bytes, *, bounce_local: str) -> ReturnedMessage:
    """What this message of the campaign mailbox is (see the module's docstring); never
    raises on a malformed message: what cannot be read makes it "not understood"."""
    try:
        return _parse(raw, bounce_local=bounce_local)
    except Exception:  # noqa: BLE001 - a message no parser foresaw is kept as not understood
        return ReturnedMessage(
            kind=Kind.UNRECOGNISED, message_key="sha256:" + hashlib.sha256(raw).hexdigest(), from_email="", subject=""
        )


def _parse(raw: bytes, *, bounce_local: str) -> ReturnedMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        _name, sender = parseaddr(_header(message, "From"))
    except (TypeError, ValueError):
        sender = ""
    sender = sender.strip().lower()[:254]
    subject = " ".join(_header(message, "Subject").split())[:300]
    base = {"message_key": _key(message, raw), "from_email": sender, "subject": subject}

    tokens = []
    for name in ENVELOPE_HEADERS:
        for _display, address in getaddresses([_header(message, name)]):
            token = return_token(address, bounce_local=bounce_local)
            if token and token not in tokens:
                tokens.append(token)
    references = message_ids(_header(message, "In-Reply-To")) + message_ids(_header(message, "References"))

    report = None
    if message.get_content_type() == "multipart/report":
        report = next((part for part in message.walk() if part.get_content_type() == "message/delivery-status"), None)
    text = body_text(message) if isinstance(message, EmailMessage) else ""
    automatic = auto_reason(message, sender)
    # A machine's message about a failed delivery; a person writing "undelivered" is not one.
    looks_bounced = sender.split("@")[0] in ("mailer-daemon", "postmaster") or (
        bool(automatic) and bool(BOUNCE_SUBJECT.search(subject))
    )

    if report is not None or looks_bounced:
        whole = _all_text(message)
        evidence = _quoted(message, whole)
        address, status, diagnostic, action = "", "", "", ""
        if report is not None:
            for block in _status_fields(report):
                if block.get("final-recipient") or block.get("original-recipient") or block.get("status"):
                    address = _address_of(block.get("final-recipient") or block.get("original-recipient", ""))
                    status = (ENHANCED_STATUS.search(block.get("status", "")) or [""])[0] or status
                    action = block.get("action", "").lower()
                    diagnostic = block.get("diagnostic-code", "").partition(";")[2].strip() or diagnostic
                    if action == "failed":
                        break
        if not status:
            status = _status_of(whole)
        if not diagnostic:
            diagnostic = _diagnostic_line(whole, status)
        if not address:
            address = (evidence.addresses or [""])[0]
        if action in ("delivered", "relayed", "expanded"):
            kind = Kind.UNRECOGNISED  # a delivery report of success: nothing went wrong
        elif status.startswith("5") or (action == "failed" and not status.startswith("4")):
            kind = Kind.HARD_BOUNCE
        else:
            kind = Kind.SOFT_BOUNCE
        ours = [match for reference in evidence.message_ids if (match := OUR_MESSAGE_ID.fullmatch(reference))]
        return ReturnedMessage(
            kind=kind,
            return_tokens=tuple(dict.fromkeys([*tokens, *(match.group(2).lower() for match in ours)])),
            campaign_id=(evidence.campaign_ids or [int(match.group(1)) for match in ours] or [None])[0],
            address=address[:254],
            status_code=status[:20],
            diagnostic=diagnostic[:500],
            references=tuple(evidence.message_ids),
            **base,
        )

    ours = [match for reference in references if (match := OUR_MESSAGE_ID.fullmatch(reference))]
    found_tokens = tuple(dict.fromkeys([*tokens, *(match.group(2).lower() for match in ours)]))
    if automatic or AUTO_REPLY_SUBJECT.search(subject):
        kind = Kind.AUTO_REPLY
    elif found_tokens and text.strip():
        kind = Kind.REPLY
    else:
        kind = Kind.UNRECOGNISED
    return ReturnedMessage(
        kind=kind,
        return_tokens=found_tokens,
        campaign_id=int(ours[0].group(1)) if ours else None,
        references=tuple(references),
        **base,
    )
