import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from orders import services
from orders.choices import OrderStatus
from orders.models import Order


class Command(CrmCommand):
    help = "Close orders delivered more than DAYS days ago (the system closes them, through order_close)."
    supports_dry_run = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="Close orders whose delivery was recorded more than DAYS days ago (0 or more).",
        )

    def run(self, *, dry_run, older_than, **options):
        if older_than < 0:
            raise CommandError(_("--older-than must be 0 or more days."))
        cutoff = timezone.now() - datetime.timedelta(days=older_than)
        due = Order.objects.filter(status=OrderStatus.DELIVERED, delivered_at__lt=cutoff)
        orders = list(due.order_by("delivered_at", "id").values_list("pk", "number", "delivered_at"))
        closed = 0
        with self.progress(len(orders), "Closing delivered orders") as bar:
            for order_id, number, delivered_at in orders:
                if dry_run:
                    when = timezone.localtime(delivered_at).strftime("%Y-%m-%d")
                    self.stdout.write(
                        _("would close %(number)s (delivered %(when)s)") % {"number": number, "when": when}
                    )
                else:
                    try:
                        services.order_close(actor=SYSTEM, order_id=order_id)
                        closed += 1
                    except DomainError as error:  # changed meanwhile: report and go on
                        self.stderr.write(f"{number}: {error.message}")
                bar.update(1)
        if dry_run:
            self.stdout.write(self.style.SUCCESS(_("%(count)s order(s) would be closed.") % {"count": len(orders)}))
        else:
            self.stdout.write(self.style.SUCCESS(_("%(count)s order(s) closed.") % {"count": closed}))
