import datetime

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.webhooks.delivery import deliveries_requeue

MAX_MINUTES = 365 * 24 * 60


class Command(CrmCommand):
    help = (
        "Queue again the webhook deliveries whose attempt is overdue: their task was lost because the "
        "broker was down. A delivery queued twice is still attempted once at a time. Scheduled every ten minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=10,
            help="Only deliveries overdue by at least this many minutes (default 10), so a fresh one is left "
            "to its task.",
        )

    def run(self, **options):
        minutes = options["older_than_minutes"]
        if minutes < 0:
            raise CommandError(_("--older-than-minutes cannot be negative."))
        if minutes > MAX_MINUTES:
            raise CommandError(_("--older-than-minutes can be at most %(max)s (a year).") % {"max": MAX_MINUTES})
        count = deliveries_requeue(older_than=datetime.timedelta(minutes=minutes))
        self.stdout.write(_("%(count)s stranded webhook delivery(ies) queued again.") % {"count": count})
