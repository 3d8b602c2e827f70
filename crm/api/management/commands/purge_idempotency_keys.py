from django.utils.translation import gettext as _

from crm.api.services import idempotency_keys_purge
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = (
        "Delete the API's kept answers to creating POSTs whose Idempotency-Key is older than "
        "API_IDEMPOTENCY_HOURS (a retry with such a key is a new request). Scheduled hourly."
    )

    def run(self, **options):
        count = idempotency_keys_purge()
        self.stdout.write(_("%(count)s expired Idempotency-Key(s) deleted.") % {"count": count})
