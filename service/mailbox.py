"""The desk's mailbox: a local Maildir (`TICKET_MAILDIR`) or an IMAP folder
(`TICKET_MAIL_IMAP_URL`), read by the kernel's readers (`crm/core/mailbox.py`).

Each unread message is handed to `service.inbound.inbound_mail_receive` (one transaction
per message) and marked read only once that committed, so a crash in between reads the
message again, and its Message-ID keeps it from being taken twice. A message that fails is
left unread and reported; the others are still taken.
"""

from django.conf import settings

from crm.core.mailbox import FetchResult, MailboxReader, mailbox_open, mailbox_take
from service.inbound import inbound_mail_receive


def mailbox_reader(*, maildir: str = "", imap_url: str = "") -> MailboxReader:
    """The reader the arguments or else the settings name; ImproperlyConfigured without one."""
    return mailbox_open(
        maildir=maildir or ("" if imap_url else settings.TICKET_MAILDIR),
        imap_url=imap_url or ("" if maildir else settings.TICKET_MAIL_IMAP_URL),
        maildir_setting="TICKET_MAILDIR",
        imap_setting="TICKET_MAIL_IMAP_URL",
    )


def _receive(raw: bytes) -> tuple[str, bool]:
    inbound, is_new = inbound_mail_receive(raw=raw)
    return inbound.status, is_new


def ticket_mail_fetch(reader: MailboxReader, *, limit: int | None = None) -> FetchResult:
    """Take every unread message of the reader (at most `limit`)."""
    return mailbox_take(reader, _receive, limit=limit)
