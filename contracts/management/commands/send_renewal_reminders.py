from django.utils.translation import gettext as _

from contracts.notifications import contract_renewal_reminders_send
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = "Remind owners and sales managers of active contracts ending in 30 or 7 days (once per contract and mark)."
    supports_dry_run = True

    def run(self, *, dry_run, **options):
        reminded = contract_renewal_reminders_send(dry_run=dry_run)
        for contract, mark in reminded:
            line = (
                _("would remind of %(contract)s (%(days)s-day mark)")
                if dry_run
                else _("reminded of %(contract)s (%(days)s-day mark)")
            )
            self.stdout.write(line % {"contract": contract.number, "days": mark})
        if dry_run:
            summary = _("%(count)s reminder(s) would be sent.") % {"count": len(reminded)}
        else:
            summary = _("%(count)s reminder(s) sent.") % {"count": len(reminded)}
        self.stdout.write(self.style.SUCCESS(summary))
