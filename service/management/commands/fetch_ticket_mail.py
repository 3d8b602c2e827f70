from crm.core.mailbox_command import MailboxFetchCommand
from service.mail_models import InboundStatus
from service.mailbox import mailbox_reader, ticket_mail_fetch


class Command(MailboxFetchCommand):
    help = (
        "Read the service desk's mailbox (TICKET_MAILDIR or TICKET_MAIL_IMAP_URL): thread replies into their "
        "tickets, open tickets for known contacts, keep the rest for agents to sort."
    )
    maildir_setting = "TICKET_MAILDIR"
    status_choices = InboundStatus.choices

    def reader(self, *, maildir, imap_url):
        return mailbox_reader(maildir=maildir, imap_url=imap_url)

    def fetch(self, reader, *, limit):
        return ticket_mail_fetch(reader, limit=limit)
