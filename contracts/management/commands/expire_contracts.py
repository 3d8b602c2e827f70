import datetime

from django.core.management import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts import services
from contracts.choices import ContractStatus
from contracts.models import Contract
from crm.core.commands import CrmCommand
from crm.core.exceptions import DomainError

MAX_WITHIN_DAYS = 3650  # as the contract list's "expiring within" filter


class Command(CrmCommand):
    help = "Expire active contracts past their end date, and list those expiring soon."
    supports_dry_run = True

    def add_arguments(self, parser):
        parser.add_argument("--within", type=int, default=30, help="List contracts ending within this many days.")

    def run(self, *, dry_run, within, **options):
        if not 0 <= within <= MAX_WITHIN_DAYS:
            raise CommandError(_("--within takes a number of days between 0 and %(max)s.") % {"max": MAX_WITHIN_DAYS})
        today = timezone.localdate()
        overdue = Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today).order_by("end_date", "id")
        ids = list(overdue.values_list("pk", flat=True))
        expired = 0
        with self.progress(len(ids), "Expiring contracts") as bar:
            for contract_id in ids:
                if dry_run:
                    self.stdout.write(
                        _("would expire %(contract)s") % {"contract": Contract.objects.get(pk=contract_id)}
                    )
                else:
                    try:
                        services.contract_expire(contract_id=contract_id, today=today)
                        expired += 1
                    except DomainError as error:  # changed meanwhile: report and go on
                        self.stderr.write(f"contract {contract_id}: {error.message}")
                bar.update(1)
        soon = Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + datetime.timedelta(days=within),
        ).select_related("customer", "owner")
        self.stdout.write(_("Expiring within %(days)s days:") % {"days": within})
        for contract in soon.order_by("end_date", "id"):
            owner = contract.owner.get_username()
            self.stdout.write(f"  {contract.number}  ends {contract.end_date}  {contract.customer.name}  ({owner})")
        if dry_run:
            summary = _("%(count)s contract(s) would expire.") % {"count": len(ids)}
        else:
            summary = _("%(count)s contract(s) expired.") % {"count": expired}
        self.stdout.write(self.style.SUCCESS(summary))
