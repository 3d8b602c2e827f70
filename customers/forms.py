from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.dates import DATETIME_INPUT_BOUNDS
from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates
from customers.choices import OPEN_STAGES
from customers.models import Contact, Customer, Interaction, LostReason
from customers.permissions import can_reassign


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["kind", "name", "industry", "tier", "status", "email", "phone", "address", "owner", "notes"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if can_reassign(user):
            self.fields["owner"].queryset = owner_candidates()
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        else:
            del self.fields["owner"]
        self.helper = submit_helper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-8"), Column("kind", css_class="col-md-4")),
            Row(Column("industry"), Column("tier"), Column("status")),
            Row(Column("email"), Column("phone")),
            "address",
            *(["owner"] if "owner" in self.fields else []),
            "notes",
        )


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "is_primary"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper()


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["kind", "occurred_at", "contact", "subject", "body"]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local", **DATETIME_INPUT_BOUNDS}, format="%Y-%m-%dT%H:%M"
            ),
            "body": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, customer, user, **kwargs):
        super().__init__(*args, **kwargs)
        masker = masker_for(user)
        self.fields["contact"].queryset = customer.contacts.order_by("name")
        self.fields["contact"].label_from_instance = lambda contact: masker.text(str(contact))
        self.helper = submit_helper(_("Add to timeline"))
        self.helper.layout = Layout(Row(Column("kind"), Column("occurred_at"), Column("contact")), "subject", "body")


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=owner_candidates(), label=_("New owner"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates()
        self.helper = submit_helper(_("Reassign"))


class OpportunityNoteForm(forms.Form):
    """The note a stage step may carry (why it moved, what was agreed)."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class OpportunityAdvanceForm(OpportunityNoteForm):
    """Move between the open stages (the board's "move to" control posts the same fields)."""

    stage = forms.ChoiceField(label=_("Move to"), choices=[(stage.value, stage.label) for stage in OPEN_STAGES])
    field_order = ["stage", "note"]


class OpportunityLoseForm(OpportunityNoteForm):
    lost_reason = forms.ModelChoiceField(
        label=_("Why was it lost?"), queryset=LostReason.objects.filter(is_active=True)
    )
    field_order = ["lost_reason", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lost_reason"].queryset = LostReason.objects.filter(is_active=True)
