from django.utils.translation import gettext as _

from contracts.choices import SigningKeyStatus
from contracts.models import SigningKey
from contracts.signing.keys import signing_key_rotate
from contracts.signing.loader import DEFAULT_ALIAS
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = (
        "Generate a new signing key for a backend, retire the active one and activate the new one. "
        "A retired key signs nothing more, but its public key is kept so its signatures still verify."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--backend",
            default=DEFAULT_ALIAS,
            metavar="ALIAS",
            help=f"The SIGNING_BACKENDS alias whose key is rotated (default: {DEFAULT_ALIAS}).",
        )

    def run(self, *, backend, **options):
        previous = SigningKey.objects.filter(backend_alias=backend, status=SigningKeyStatus.ACTIVE).first()
        key = signing_key_rotate(actor=None, alias=backend)
        self.stdout.write(
            self.style.SUCCESS(
                _("Backend %(backend)s now signs with %(key)s.") % {"backend": backend, "key": key.key_id}
            )
        )
        if previous is not None:
            self.stdout.write(_("Retired %(key)s; its signatures still verify.") % {"key": previous.key_id})
