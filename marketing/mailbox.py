"""The campaign mailbox, where bounces (to each copy's return path) and replies arrive: a
local Maildir (`MARKETING_MAILDIR`) or an IMAP folder (`MARKETING_MAIL_IMAP_URL`), read by
the kernel's readers (`crm/core/mailbox.py`). Each unread message goes to
`services.returned_mail_receive` (one transaction) and is marked read once that committed;
one that fails stays unread and is reported."""

from django.conf import settings

from crm.core.mailbox import FetchResult, MailboxReader, mailbox_open, mailbox_take
from marketing.services import returned_mail_receive


def campaign_mailbox(*, maildir: str = "", imap_url: str = "") -> MailboxReader:
    """The reader the arguments or else the settings name; ImproperlyConfigured without one."""
    return mailbox_open(
        maildir=maildir or ("" if imap_url else settings.MARKETING_MAILDIR),
        imap_url=imap_url or ("" if maildir else settings.MARKETING_MAIL_IMAP_URL),
        maildir_setting="MARKETING_MAILDIR",
        imap_setting="MARKETING_MAIL_IMAP_URL",
    )


def _receive(raw: bytes) -> tuple[str, bool]:
    returned, is_new = returned_mail_receive(raw=raw)
    return returned.kind, is_new


def campaign_mail_fetch(reader: MailboxReader, *, limit: int | None = None) -> FetchResult:
    """Take every unread message of the reader (at most `limit`)."""
    return mailbox_take(reader, _receive, limit=limit)
