from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from orders import services
from orders.choices import QuoteStatus
from orders.models import Quote

OPEN = [QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT]


class Command(CrmCommand):
    help = "Expire the open quotes whose valid-until date has passed (the system, through quote_expire); runs daily."
    supports_dry_run = True

    def run(self, *, dry_run, **options):
        due = Quote.objects.filter(status__in=OPEN, valid_until__lt=timezone.localdate())
        quotes = list(due.order_by("valid_until", "id"))
        expired = 0
        with self.progress(len(quotes), "Expiring quotes") as bar:
            for quote in quotes:
                if dry_run:
                    self.stdout.write(
                        _("would expire %(quote)s (valid until %(date)s)")
                        % {"quote": quote, "date": quote.valid_until.isoformat()}
                    )
                else:
                    try:
                        services.quote_expire(actor=SYSTEM, quote_id=quote.pk)
                        expired += 1
                    except DomainError as error:  # changed meanwhile: report and go on
                        self.stderr.write(f"{quote}: {error.message}")
                bar.update(1)
        if dry_run:
            self.stdout.write(self.style.SUCCESS(_("%(count)s quote(s) would expire.") % {"count": len(quotes)}))
        else:
            self.stdout.write(self.style.SUCCESS(_("%(count)s quote(s) expired.") % {"count": expired}))
