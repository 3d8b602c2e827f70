import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from service.mail_models import InboundStatus
from service.mailbox import mailbox_reader, ticket_mail_fetch


class Command(CrmCommand):
    help = (
        "Read the service desk's mailbox (TICKET_MAILDIR or TICKET_MAIL_IMAP_URL): thread replies into their "
        "tickets, open tickets for known contacts, keep the rest for agents to sort."
    )

    def add_arguments(self, parser):
        parser.add_argument("--maildir", default="", help="Read this Maildir instead of TICKET_MAILDIR.")
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
            reader = mailbox_reader(maildir=maildir, imap_url=imap_url)
        except ImproperlyConfigured as error:
            if if_configured and not (maildir or imap_url):
                self.stdout.write(_("No mailbox is configured; nothing to fetch."))
                return
            raise CommandError(str(error)) from error
        except (OSError, imaplib.IMAP4.error) as error:  # the IMAP server cannot be reached or refuses the login
            raise CommandError(_("The mailbox cannot be read: %(error)s") % {"error": error}) from error
        result = ticket_mail_fetch(reader, limit=limit)
        labels = dict(InboundStatus.choices)
        for status, count in sorted(result.by_status.items()):
            self.stdout.write(f"  {labels.get(status, status)}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                _("%(read)s message(s) read, %(new)s new, %(duplicates)s taken before.")
                % {"read": result.read, "new": result.new, "duplicates": result.duplicates}
            )
        )
        if result.failed:
            for failure in result.failed:
                self.stderr.write(failure)
            raise CommandError(
                _("%(count)s message(s) could not be taken; they stay unread.") % {"count": len(result.failed)}
            )
