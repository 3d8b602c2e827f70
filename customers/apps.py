from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm.core.history import history_sentences_register
        from customers.history import SENTENCES
        from customers.subscribers import subscribe

        history_sentences_register(SENTENCES)
        subscribe()
        from crm.core.search import search_provider_register
        from customers.search import PROVIDERS

        for provider in PROVIDERS:
            search_provider_register(provider)
