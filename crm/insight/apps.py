from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "crm.insight"
    label = "insight"
    verbose_name = _("Insight")

    def ready(self):
        from crm.insight import panels

        panels.register()
