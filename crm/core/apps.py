from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = "CRM core"

    def ready(self):
        from crm.core import checks, lookups, signals  # noqa: F401
