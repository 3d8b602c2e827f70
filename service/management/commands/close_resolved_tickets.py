import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from service import services
from service.choices import TicketStatus
from service.models import Ticket


class Command(CrmCommand):
    help = "Close tickets resolved more than DAYS days ago (the system closes them, through ticket_close)."
    supports_dry_run = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="Resolved more than DAYS days ago (0 or more).",
        )

    def run(self, *, dry_run, older_than, **options):
        if older_than < 0:
            raise CommandError(_("--older-than must be 0 or more days."))
        cutoff = timezone.now() - datetime.timedelta(days=older_than)
        due = Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lt=cutoff)
        tickets = list(due.order_by("resolved_at", "id").values_list("pk", "number"))
        closed = 0
        with self.progress(len(tickets), "Closing resolved tickets") as bar:
            for ticket_id, number in tickets:
                if dry_run:
                    self.stdout.write(_("would close %(number)s") % {"number": number})
                else:
                    try:
                        services.ticket_close(actor=SYSTEM, ticket_id=ticket_id)
                        closed += 1
                    except DomainError as error:
                        self.stderr.write(f"{number}: {error.message}")
                bar.update(1)
        count = len(tickets) if dry_run else closed
        message = _("%(count)s ticket(s) would be closed.") if dry_run else _("%(count)s ticket(s) closed.")
        self.stdout.write(self.style.SUCCESS(message % {"count": count}))
