"""What every app reads of an inbound e-mail: pure functions over a parsed message, no
database. The service desk (`service/mailparse.py`) and marketing's bounces and replies
(`marketing/inbound.py`) build on them.

`auto_reason` says whether a machine sent the message (RFC 3834's Auto-Submitted, a
delivery report, the usual out-of-office headers, an empty Return-Path, a mail daemon's
address); `body_text` is the text of the body (the plain part, else the HTML part turned
into text), decoded whatever its charset claims; `message_ids` the `<...>` ids of a header.
"""

import re
from email.message import EmailMessage, MIMEPart
from html.parser import HTMLParser

_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMON_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply)@", re.IGNORECASE)


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
    return tidy("\n".join(lines))


def tidy(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


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


def decoded_text(part: MIMEPart) -> str:
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


def body_text(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        return tidy(decoded_text(plain))
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        return html_to_text(decoded_text(html))
    return ""


def message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")
