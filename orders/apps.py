from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from crm.core.history import history_sentences_register
        from orders.history import SENTENCES

        history_sentences_register(SENTENCES)
        from orders import notifications, subscribers

        notifications.subscribe()
        subscribers.subscribe()
        from crm.core.search import search_provider_register
        from orders.search import PROVIDERS

        for provider in PROVIDERS:
            search_provider_register(provider)
        from crm.core.imports.registry import importer_register
        from orders.imports import register
        from orders.order_imports import PastOrderImporter

        register()
        importer_register(PastOrderImporter())
