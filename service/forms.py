from django import forms
from django.utils.translation import gettext_lazy as _

from service.selectors import service_agents


class TicketAssignForm(forms.Form):
    """The assign step: which agent gets the ticket, and why (optional)."""

    assignee = forms.ModelChoiceField(label=_("Agent"), queryset=service_agents())
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = service_agents()
