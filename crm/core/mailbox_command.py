"""The one shape of a command that reads a mailbox (`fetch_ticket_mail`,
`fetch_campaign_mail`): the same options, the same refusals with a one-line reason, the same
counts by status, and a non-zero exit while any message could not be taken."""

import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.mailbox import FetchResult, MailboxReader


class MailboxFetchCommand(CrmCommand):
    """A subclass names its Maildir setting and its status choices, and gives `reader()` and
    `fetch()` (the app's `<app>/mailbox.py`); `report()` may add a line about the result."""

    maildir_setting: str
    status_choices: list[tuple[str, str]]

    def reader(self, *, maildir: str, imap_url: str) -> MailboxReader:
        raise NotImplementedError

    def fetch(self, reader: MailboxReader, *, limit: int | None) -> FetchResult:
        raise NotImplementedError

    def report(self, result: FetchResult) -> None:
        """Nothing more by default."""

    def add_arguments(self, parser):
        parser.add_argument("--maildir", default="", help=f"Read this Maildir instead of {self.maildir_setting}.")
        parser.add_argument("--imap-url", default="", help="Read this IMAP folder (imaps://user:password@host/folder).")
        parser.add_argument("--limit", type=int, default=None, help="Take at most this many messages.")
        parser.add_argument(
            "--if-configured",
            action="store_true",
            help="Do nothing, successfully, when no mailbox is configured (the scheduled job).",
        )

    def run(self, *, maildir, imap_url, limit, if_configured, **options):
        if limit is not None and limit < 1:
            raise CommandError(_("--limit takes a number of messages of at least 1."))
        try:
            reader = self.reader(maildir=maildir, imap_url=imap_url)
        except ImproperlyConfigured as error:
            if if_configured and not (maildir or imap_url):
                self.stdout.write(_("No mailbox is configured; nothing to fetch."))
                return
            raise CommandError(str(error)) from error
        except (OSError, imaplib.IMAP4.error) as error:  # the IMAP server cannot be reached or refuses the login
            raise CommandError(_("The mailbox cannot be read: %(error)s") % {"error": error}) from error
        result = self.fetch(reader, limit=limit)
        labels = dict(self.status_choices)
        for status, count in sorted(result.by_status.items()):
            self.stdout.write(f"  {labels.get(status, status)}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                _("%(read)s message(s) read, %(new)s new, %(duplicates)s taken before.")
                % {"read": result.read, "new": result.new, "duplicates": result.duplicates}
            )
        )
        self.report(result)
        if result.failed:
            for failure in result.failed:
                self.stderr.write(failure)
            raise CommandError(
                _("%(count)s message(s) could not be taken; they stay unread.") % {"count": len(result.failed)}
            )
