import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.api.models import TokenScope
from crm.core.forms import submit_helper

EXPIRY_CHOICES = [
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
    ("never", _("Never")),
]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “ERP sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("May"),
        choices=TokenScope.choices,
        initial=[TokenScope.READ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Read: look up records. Write: also create and change them, and take workflow steps."),
    )
    expires = forms.ChoiceField(label=_("Expires"), choices=EXPIRY_CHOICES, initial="90")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Create token"))

    def expires_at(self) -> datetime.datetime | None:
        value = self.cleaned_data["expires"]
        return None if value == "never" else timezone.now() + datetime.timedelta(days=int(value))
