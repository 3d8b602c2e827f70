"""Reading the desk's mailbox: a local Maildir (`TICKET_MAILDIR`) or an IMAP folder
(`TICKET_MAIL_IMAP_URL`), with the standard library's `mailbox` and `imaplib`.

Each unread message is handed to `service.inbound.inbound_mail_receive` (one transaction
per message) and marked read only once that committed, so a crash in between reads the
message again, and its Message-ID keeps it from being taken twice. A message that fails is
left unread and reported; the others are still taken.
"""

import imaplib
import logging
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from service.inbound import inbound_mail_receive

logger = logging.getLogger(__name__)


@dataclass
class FetchResult:
    read: int = 0
    new: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


class MaildirReader:
    """The messages of a Maildir not yet marked seen; a taken one moves to cur/ with the S flag."""

    def __init__(self, path: str):
        if not (Path(path) / "new").is_dir():
            raise ImproperlyConfigured(f"{path} is not a Maildir (it has no new/ folder)")
        self.box = mailbox.Maildir(path, factory=None, create=False)

    def unread(self) -> Iterator[tuple[str, bytes]]:
        for key in sorted(self.box.keys()):
            if "S" not in self.box.get_message(key).get_flags():
                yield key, self.box.get_bytes(key)

    def mark_read(self, key: str) -> None:
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        self.box[key] = message

    def close(self) -> None:
        self.box.close()


class ImapReader:
    """The UNSEEN messages of an IMAP folder, read without marking them; \\Seen is set
    once a message is taken."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ImproperlyConfigured("TICKET_MAIL_IMAP_URL must look like imaps://user:password@host/folder")
        client = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
        self.imap = client(parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143), timeout=30)
        self.imap.login(unquote(parts.username or ""), unquote(parts.password or ""))
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        status, _data = self.imap.select(f'"{folder}"')
        if status != "OK":
            raise ImproperlyConfigured(f"The IMAP folder {folder} cannot be opened")

    def unread(self) -> Iterator[tuple[str, bytes]]:
        _status, data = self.imap.uid("search", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, fetched = self.imap.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if raw is not None:
                yield uid.decode(), raw

    def mark_read(self, key: str) -> None:
        self.imap.uid("store", key, "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            logger.warning("The IMAP session did not close cleanly")


def mailbox_reader(*, maildir: str = "", imap_url: str = ""):
    """The reader the arguments or else the settings name; ImproperlyConfigured without one."""
    maildir = maildir or ("" if imap_url else settings.TICKET_MAILDIR)
    imap_url = imap_url or ("" if maildir else settings.TICKET_MAIL_IMAP_URL)
    if maildir:
        return MaildirReader(maildir)
    if imap_url:
        return ImapReader(imap_url)
    raise ImproperlyConfigured("No mailbox: set TICKET_MAILDIR or TICKET_MAIL_IMAP_URL")


def ticket_mail_fetch(reader, *, limit: int | None = None) -> FetchResult:
    """Take every unread message of the reader (at most `limit`)."""
    result = FetchResult()
    try:
        for key, raw in reader.unread():
            if limit is not None and result.read >= limit:
                break
            result.read += 1
            try:
                inbound, is_new = inbound_mail_receive(raw=raw)
            except Exception as error:  # noqa: BLE001 - one bad message must not stop the rest
                logger.exception("Inbound message %s could not be taken", key)
                result.failed.append(f"{key}: {type(error).__name__}: {error}"[:300])
                continue
            reader.mark_read(key)
            if is_new:
                result.new += 1
                result.by_status[inbound.status] = result.by_status.get(inbound.status, 0) + 1
            else:
                result.duplicates += 1
    finally:
        reader.close()
    return result
