from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service desk")

    def ready(self):
        from crm.core.history import history_sentences_register
        from service import subscribers
        from service.history import SENTENCES

        history_sentences_register(SENTENCES)
        subscribers.subscribe()
        from crm.core.search import search_provider_register
        from service.search import PROVIDERS

        for provider in PROVIDERS:
            search_provider_register(provider)
