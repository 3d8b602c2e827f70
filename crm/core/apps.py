from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("CRM core")

    def ready(self):
        from crm.core import checks, lookups, signals  # noqa: F401
        from crm.core.dates import install_lenient_date_loaders

        install_lenient_date_loaders()
