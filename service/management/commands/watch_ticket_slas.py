from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from service import services


class Command(CrmCommand):
    help = (
        "Warn before an SLA clock breaches (SERVICE_SLA_WARN_MINUTES before) and escalate at breach: "
        "the service managers are told and the priority goes one step up, once per clock."
    )

    def run(self, **options):
        counts = services.ticket_sla_watch()
        self.stdout.write(
            self.style.SUCCESS(
                _("%(warned)d warning(s), %(escalated)d escalation(s).")
                % {"warned": counts["warned"], "escalated": counts["escalated"]}
            )
        )
