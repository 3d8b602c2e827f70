from django.utils.translation import gettext as _

from contracts.signing.keys import signing_key_create
from contracts.signing.loader import DEFAULT_ALIAS
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = (
        "Generate the first signing key of a backend and make it the active one. "
        "The local backend writes an encrypted key file (passphrase from its environment variable); "
        "the PKCS#11 backend generates the key on the token. Use rotate_signing_key to replace a key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--backend",
            default=DEFAULT_ALIAS,
            metavar="ALIAS",
            help=f"The SIGNING_BACKENDS alias to create the key for (default: {DEFAULT_ALIAS}).",
        )

    def run(self, *, backend, **options):
        key = signing_key_create(actor=None, alias=backend)
        self.stdout.write(
            self.style.SUCCESS(
                _("Created signing key %(key)s for backend %(backend)s; it is active.")
                % {"key": key.key_id, "backend": backend}
            )
        )
