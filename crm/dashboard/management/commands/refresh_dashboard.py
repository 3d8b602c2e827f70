from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.workflow import SYSTEM
from crm.dashboard.services import dashboard_refresh


class Command(CrmCommand):
    help = "Recompute the dashboards' summary figures from the source tables (the scheduler runs it every 5 minutes)."

    def run(self, **options):
        run = dashboard_refresh(actor=SYSTEM)
        self.stdout.write(
            self.style.SUCCESS(
                _("%(facts)s summary figure(s) refreshed in %(seconds)s s.")
                % {"facts": run.facts, "seconds": run.seconds}
            )
        )
