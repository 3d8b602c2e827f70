from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.roles import roles_sync


class Command(CrmCommand):
    help = "Create the role groups and give each exactly its permissions (safe to run again)."

    def run(self, **options):
        for role, count in roles_sync().items():
            self.stdout.write(_("%(role)s: %(count)s permissions") % {"role": role, "count": count})
        self.stdout.write(self.style.SUCCESS(_("Roles are in sync.")))
