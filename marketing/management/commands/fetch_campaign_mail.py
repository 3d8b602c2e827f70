from django.utils.translation import gettext as _

from crm.core.mailbox_command import MailboxFetchCommand
from marketing.choices import ReturnedMailKind
from marketing.mailbox import campaign_mail_fetch, campaign_mailbox


class Command(MailboxFetchCommand):
    help = (
        "Read the campaign mailbox (MARKETING_MAILDIR or MARKETING_MAIL_IMAP_URL): bounces mark their recipient "
        "bounced (and suppress the address) or note a temporary failure, replies count in the campaign's results."
    )
    maildir_setting = "MARKETING_MAILDIR"
    status_choices = ReturnedMailKind.choices

    def reader(self, *, maildir, imap_url):
        return campaign_mailbox(maildir=maildir, imap_url=imap_url)

    def fetch(self, reader, *, limit):
        return campaign_mail_fetch(reader, limit=limit)

    def report(self, result):
        unrecognised = result.by_status.get(ReturnedMailKind.UNRECOGNISED)
        if unrecognised:
            self.stdout.write(
                _("%(count)s message(s) not understood: kept, marked read, listed under Returned mail in the admin.")
                % {"count": unrecognised}
            )
