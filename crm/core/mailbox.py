"""Reading a mailbox: a local Maildir or an IMAP folder, with the standard library's
`mailbox` and `imaplib`, for every app that takes mail in (the service desk's tickets,
marketing's bounces and replies).

`mailbox_take(reader, receive)` hands each unread message to the app's `receive(raw)` (one
transaction per message, in the app) and marks it read only once that returned, so a crash
in between reads the message again (the app's record of the Message-ID keeps it from being
taken twice). A message that fails is left unread and reported; the others are still taken.
"""

import imaplib
import logging
import mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


@dataclass
class FetchResult:
    read: int = 0
    new: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


class MailboxReader(Protocol):
    def unread(self) -> Iterator[tuple[str, bytes]]: ...

    def mark_read(self, key: str) -> None: ...

    def close(self) -> None: ...


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

    def __init__(self, url: str, *, setting: str = "the IMAP URL"):
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ImproperlyConfigured(f"{setting} must look like imaps://user:password@host/folder")
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


def mailbox_open(*, maildir: str, imap_url: str, maildir_setting: str, imap_setting: str) -> MailboxReader:
    """The reader for a Maildir path or an IMAP URL (the first given); ImproperlyConfigured
    without either, naming the settings that would give one."""
    if maildir:
        return MaildirReader(maildir)
    if imap_url:
        return ImapReader(imap_url, setting=imap_setting)
    raise ImproperlyConfigured(f"No mailbox: set {maildir_setting} or {imap_setting}")


def mailbox_take(
    reader: MailboxReader, receive: Callable[[bytes], tuple[str, bool]], *, limit: int | None = None
) -> FetchResult:
    """Take every unread message of the reader (at most `limit`): `receive(raw)` returns the
    status it gave the message and whether it was new (False: taken before)."""
    result = FetchResult()
    try:
        for key, raw in reader.unread():
            if limit is not None and result.read >= limit:
                break
            result.read += 1
            try:
                status, is_new = receive(raw)
            except Exception as error:  # noqa: BLE001 - one bad message must not stop the rest
                logger.exception("Inbound message %s could not be taken", key)
                result.failed.append(f"{key}: {type(error).__name__}: {error}"[:300])
                continue
            reader.mark_read(key)
            if is_new:
                result.new += 1
                result.by_status[status] = result.by_status.get(status, 0) + 1
            else:
                result.duplicates += 1
    finally:
        reader.close()
    return result
