from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm.core.history import history_sentences_register
        from crm.core.notifications import waiting_counter_register
        from customers.history import SENTENCES
        from customers.selectors import my_day_waiting
        from customers.subscribers import subscribe

        history_sentences_register(SENTENCES)
        waiting_counter_register("my_day", my_day_waiting)
        subscribe()
        from crm.core.imports.registry import importer_register
        from customers.imports import register
        from customers.opportunity_imports import OpportunityImporter

        register()
        importer_register(OpportunityImporter())
        from crm.core.search import search_provider_register
        from customers.search import PROVIDERS

        for provider in PROVIDERS:
            search_provider_register(provider)
