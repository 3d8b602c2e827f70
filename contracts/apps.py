from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from contracts.history import SENTENCES
        from contracts.signing.loader import check_signing_backends, connect_signals
        from crm.core.history import history_sentences_register

        connect_signals()
        history_sentences_register(SENTENCES)
        from contracts.notifications import subscribe

        subscribe()
        checks.register(check_signing_backends, "signing")
        from contracts.search import PROVIDERS
        from crm.core.search import search_provider_register

        for provider in PROVIDERS:
            search_provider_register(provider)
