from crm.core.commands import CrmCommand
from crm.core.roles import roles_sync


class Command(CrmCommand):
    help = "Create the role groups and give each exactly its permissions (safe to run again)."

    def run(self, **options):
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
        self.stdout.write(self.style.SUCCESS("Roles are in sync."))
