from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.core.audit import audit_chain_verify
from crm.core.checkpoints import audit_checkpoints_verify
from crm.core.commands import CrmCommand
from crm.core.models import AuditChainHead, AuditEvent

SHOWN_PROBLEMS = 50


class Command(CrmCommand):
    help = (
        "Check that no audit event was changed, removed or inserted behind the application's back, "
        "and that the chain still extends every signed checkpoint (from the database and from "
        "AUDIT_CHECKPOINT_DIR). Exits non-zero with one line per problem."
    )

    def run(self, **options):
        total = AuditEvent.objects.count()
        with self.progress(total, "Checking audit events") as bar:
            problem = audit_chain_verify(progress=lambda: bar.update(1))
        try:
            report = audit_checkpoints_verify()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        problems = (
            [_("Audit chain broken at %(problem)s.") % {"problem": problem}] if problem is not None else []
        ) + report.problems
        if problems:
            shown = problems[:SHOWN_PROBLEMS]
            if len(problems) > SHOWN_PROBLEMS:
                shown.append(_("… and %(count)s more problems.") % {"count": len(problems) - SHOWN_PROBLEMS})
            raise CommandError("\n".join(shown))
        head = AuditChainHead.objects.filter(id=1).first()
        self.stdout.write(self.style.SUCCESS(_("Audit chain intact: %(count)s events.") % {"count": total}))
        if report.newest is not None:
            self.stdout.write(
                _("Checkpoints: %(count)s verified; the newest, #%(number)s of %(time)s, covers event #%(seq)s.")
                % {
                    "count": report.checked,
                    "number": report.newest.number,
                    "time": report.newest.time,
                    "seq": report.newest.seq,
                }
            )
        if head is not None:
            # Events after the newest checkpoint are proven only by the next one; a head hash
            # recorded elsewhere (a ticket, a log) shows whether they were rewritten meanwhile.
            self.stdout.write(_("Head: event #%(seq)s, hash %(hash)s") % {"seq": head.seq, "hash": head.hash})
