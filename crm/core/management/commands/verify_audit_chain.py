from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.core.audit import audit_chain_verify, audit_seal, audit_unsealed_overdue
from crm.core.checkpoints import audit_checkpoints_verify
from crm.core.commands import CrmCommand
from crm.core.models import AuditChainHead, AuditEvent

SHOWN_PROBLEMS = 50


class Command(CrmCommand):
    help = (
        "Check that no audit event was changed, removed or inserted behind the application's back, "
        "and that the chain still extends every signed checkpoint (from the database and from "
        "AUDIT_CHECKPOINT_DIR). Seals the committed events first, and names those it found unsealed "
        "longer than AUDIT_SEAL_OVERDUE_MINUTES (the sealer is not running). "
        "Exits non-zero with one line per problem."
    )

    def run(self, **options):
        overdue = [
            _(
                "event id %(id)s (%(action)s, written %(time)s) was committed but not sealed until this check: "
                "the sealer has not run since (is the scheduler running?)"
            )
            % {"id": event.id, "action": event.action, "time": event.occurred_at.isoformat()}
            for event in audit_unsealed_overdue()
        ]
        audit_seal()
        total = AuditEvent.objects.filter(seq__isnull=False).count()
        with self.progress(total, "Checking audit events") as bar:
            problem = audit_chain_verify(progress=lambda: bar.update(1))
        try:
            report = audit_checkpoints_verify()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        problems = (
            ([_("Audit chain broken at %(problem)s.") % {"problem": problem}] if problem is not None else [])
            + report.problems
            + overdue
        )
        if problems:
            shown = problems[:SHOWN_PROBLEMS]
            if len(problems) > SHOWN_PROBLEMS:
                shown.append(_("… and %(count)s more problems.") % {"count": len(problems) - SHOWN_PROBLEMS})
            raise CommandError("\n".join(shown))
        head = AuditChainHead.objects.filter(id=1).first()
        self.stdout.write(self.style.SUCCESS(_("Audit chain intact: %(count)s events.") % {"count": total}))
        unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
        if unsealed:
            self.stdout.write(
                _("%(count)s events committed during the check are not sealed yet; the next check covers them.")
                % {"count": unsealed}
            )
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
