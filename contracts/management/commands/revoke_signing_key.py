from django.utils.translation import gettext as _

from contracts.choices import SigningKeyStatus
from contracts.models import SigningKey
from contracts.signing.keys import signing_key_revoke
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = (
        "Revoke a signing key for good (for example when it may have leaked). It signs nothing more; "
        "signatures made before the revocation stay valid as of their time. Revoking the active key "
        "leaves its backend without one: run create_signing_key afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_id", metavar="KEY_ID", help="The key id, sha256:<64 hex digits> (list_signing_keys).")
        parser.add_argument(
            "--reason", required=True, help="Why the key is revoked; kept with the key and in the audit trail."
        )

    def run(self, *, key_id, reason, **options):
        was_active = SigningKey.objects.filter(key_id=key_id, status=SigningKeyStatus.ACTIVE).first()
        key = signing_key_revoke(actor=None, key_id=key_id, reason=reason)
        self.stdout.write(
            self.style.SUCCESS(_("Revoked %(key)s. Signatures made before now stay valid.") % {"key": key.key_id})
        )
        if was_active is not None:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Backend %(backend)s has no active key now; nothing is signed until "
                        "create_signing_key --backend %(backend)s runs."
                    )
                    % {"backend": key.backend_alias}
                )
            )
