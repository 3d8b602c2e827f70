from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import SigningKey
from crm.core.commands import CrmCommand

COLUMNS = ["KEY ID", "BACKEND", "STATUS", "CREATED", "ACTIVATED", "RETIRED", "REVOKED", "SIGNATURES"]


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(CrmCommand):
    help = (
        "List every signing key ever used, newest first: key id, backend, status, when it was created, "
        "activated, retired and revoked, and how many signatures it made."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backend", metavar="ALIAS", help="Only the keys of this SIGNING_BACKENDS alias.")

    def run(self, *, backend, **options):
        keys = SigningKey.objects.annotate(signature_count=Count("signatures")).order_by("-created_at", "-id")
        if backend:
            keys = keys.filter(backend_alias=backend)
        rows = [
            [
                key.key_id,
                key.backend_alias,
                key.status,
                _when(key.created_at),
                _when(key.activated_at),
                _when(key.retired_at),
                _when(key.revoked_at),
                str(key.signature_count),
            ]
            for key in keys
        ]
        if not rows:
            self.stdout.write(_("No signing keys yet; create one with create_signing_key."))
            return
        widths = [max(len(row[index]) for row in [COLUMNS, *rows]) for index in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        self.stdout.write(_("%(count)s key(s).") % {"count": len(rows)})
