from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from service import selectors, services


class Command(CrmCommand):
    help = (
        "Warn before an SLA clock breaches (SERVICE_SLA_WARN_MINUTES before) and escalate at breach: "
        "the service managers are told and the priority goes one step up, once per clock."
    )

    def run(self, **options):
        now = timezone.now()
        ticket_ids = selectors.ticket_ids_sla_due(now=now, warn_minutes=settings.SERVICE_SLA_WARN_MINUTES)
        warned = escalated = 0
        with self.progress(len(ticket_ids), "Checking SLA clocks") as bar:
            for ticket_id in ticket_ids:
                # Each ticket in its own transaction, under its lock: a run beside this one
                # (or a second run) finds the flags set and does nothing twice.
                outcome = services.ticket_sla_check(ticket_id=ticket_id, now=now)
                warned += outcome["warned"]
                escalated += outcome["escalated"]
                bar.update(1)
        self.stdout.write(
            self.style.SUCCESS(
                _("%(warned)d warning(s), %(escalated)d escalation(s).") % {"warned": warned, "escalated": escalated}
            )
        )
