import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from marketing.choices import ReturnedMailKind
from marketing.mailbox import campaign_mail_fetch, campaign_mailbox


class Command(CrmCommand):
    help = (
        "Read the campaign mailbox (MARKETING_MAILDIR or MARKETING_MAIL_IMAP_URL): bounces mark their recipient "
        "bounced (and suppress the address) or note a temporary failure, replies count in the campaign's results."
    )

    def add_arguments(self, parser):
        parser.add_argument("--maildir", default="", help="Read this Maildir instead of MARKETING_MAILDIR.")
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
            reader = campaign_mailbox(maildir=maildir, imap_url=imap_url)
        except ImproperlyConfigured as error:
            if if_configured and not (maildir or imap_url):
                self.stdout.write(_("No mailbox is configured; nothing to fetch."))
                return
            raise CommandError(str(error)) from error
        except (OSError, imaplib.IMAP4.error) as error:  # the IMAP server cannot be reached or refuses the login
            raise CommandError(_("The mailbox cannot be read: %(error)s") % {"error": error}) from error
        result = campaign_mail_fetch(reader, limit=limit)
        labels = dict(ReturnedMailKind.choices)
        for kind, count in sorted(result.by_status.items()):
            self.stdout.write(f"  {labels.get(kind, kind)}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                _("%(read)s message(s) read, %(new)s new, %(duplicates)s taken before.")
                % {"read": result.read, "new": result.new, "duplicates": result.duplicates}
            )
        )
        if result.by_status.get(ReturnedMailKind.UNRECOGNISED):
            self.stdout.write(
                _("%(count)s message(s) not understood: kept, marked read, listed under Returned mail in the admin.")
                % {"count": result.by_status[ReturnedMailKind.UNRECOGNISED]}
            )
        if result.failed:
            for failure in result.failed:
                self.stderr.write(failure)
            raise CommandError(
                _("%(count)s message(s) could not be taken; they stay unread.") % {"count": len(result.failed)}
            )
