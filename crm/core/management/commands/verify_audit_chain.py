from django.core.management.base import CommandError

from crm.core.audit import audit_chain_verify
from crm.core.commands import CrmCommand
from crm.core.models import AuditEvent


class Command(CrmCommand):
    help = (
        "Check that no audit event was changed, removed or inserted behind the application's back. "
        "Exits non-zero naming the first bad event."
    )

    def run(self, **options):
        total = AuditEvent.objects.count()
        with self.progress(total, "Checking audit events") as bar:
            problem = audit_chain_verify(progress=lambda: bar.update(1))
        if problem is not None:
            raise CommandError(f"Audit chain broken at {problem}.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {total} events."))
