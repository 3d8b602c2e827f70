from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from crm.core.history import history_sentences_register
        from marketing.history import SENTENCES

        history_sentences_register(SENTENCES)
