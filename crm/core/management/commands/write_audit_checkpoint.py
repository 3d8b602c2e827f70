from django.utils.translation import gettext as _

from crm.core import checkpoints
from crm.core.audit import audit_seal
from crm.core.commands import CrmCommand
from crm.core.services import audit_checkpoint_write


class Command(CrmCommand):
    help = (
        "Seal the audit events whose transactions have finished, then sign the newest "
        "(its number and hash) with the platform's signing key and keep "
        "the checkpoint in the database, as a file in AUDIT_CHECKPOINT_DIR and as a log line on crm.audit. "
        "verify_audit_chain then proves that nothing up to that event was truncated or rewritten. "
        "Run it periodically."
    )

    def run(self, **options):
        audit_seal()
        checkpoint = audit_checkpoint_write(actor=None)
        path = checkpoints.checkpoint_dir() / checkpoints.file_name(checkpoint.number)
        self.stdout.write(
            self.style.SUCCESS(
                _("Checkpoint #%(number)s: event #%(seq)s, hash %(hash)s, signed by %(key)s; written to %(path)s.")
                % {
                    "number": checkpoint.number,
                    "seq": checkpoint.seq,
                    "hash": checkpoint.hash,
                    "key": checkpoint.key_id,
                    "path": path,
                }
            )
        )
