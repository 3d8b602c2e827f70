from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.core.dates import DATE_INPUT_BOUNDS, DATETIME_INPUT_BOUNDS
from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates
from customers.choices import OPEN_STAGES
from customers.models import Activity, Contact, Customer, Interaction, LostReason, Opportunity, contact_language_default
from customers.permissions import can_reassign


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "kind",
            "name",
            "external_ref",
            "industry",
            "tier",
            "status",
            "email",
            "phone",
            "address",
            "region",
            "owner",
            "notes",
        ]
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
            Row(Column("industry"), Column("tier"), Column("status"), Column("external_ref")),
            Row(Column("email"), Column("phone")),
            Row(Column("address", css_class="col-md-8"), Column("region", css_class="col-md-4")),
            *(["owner"] if "owner" in self.fields else []),
            "notes",
        )


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "is_primary", "language", "marketing_consent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out (an older form, an import): the site's language.
        self.fields["language"].required = False
        self.helper = submit_helper()

    def clean_language(self):
        return self.cleaned_data.get("language") or self.instance.language or contact_language_default()


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["kind", "occurred_at", "contact", "opportunity", "subject", "body"]
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
        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user).filter(customer=customer)
        self.fields["opportunity"].label_from_instance = lambda opportunity: masker.text(opportunity.title)
        self.helper = submit_helper(_("Add to timeline"))
        self.helper.layout = Layout(
            Row(Column("kind"), Column("occurred_at"), Column("contact"), Column("opportunity")), "subject", "body"
        )


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=owner_candidates(), label=_("New owner"))
    submit_label = _("Reassign")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates()
        self.helper = submit_helper(self.submit_label)


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


DATE_INPUT = forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local", **DATETIME_INPUT_BOUNDS}, format="%Y-%m-%dT%H:%M")


class OpportunityForm(forms.ModelForm):
    """Opening a deal (the customer chosen among those the user may see; a manager may give
    it to another owner) and editing an open one's terms."""

    class Meta:
        model = Opportunity
        fields = [
            "customer",
            "title",
            "amount",
            "currency",
            "expected_close_date",
            "source",
            "probability_override",
            "next_step",
            "next_step_date",
            "owner",
        ]
        widgets = {"expected_close_date": DATE_INPUT, "next_step_date": DATE_INPUT}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        masker = masker_for(user)
        if creating:
            self.fields["customer"].queryset = Customer.objects.visible_to(user).order_by("name")
            self.fields["customer"].label_from_instance = lambda customer: masker.text(customer.name)
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        else:
            del self.fields["customer"]
        if creating and user.has_perm("customers.assign_opportunity"):
            self.fields["owner"].queryset = owner_candidates()
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        else:
            del self.fields["owner"]
        self.helper = submit_helper()
        self.helper.layout = Layout(
            *(["customer"] if creating else []),
            "title",
            Row(Column("amount"), Column("currency"), Column("probability_override")),
            Row(Column("expected_close_date"), Column("source")),
            Row(Column("next_step", css_class="col-md-8"), Column("next_step_date")),
            *(["owner"] if "owner" in self.fields else []),
        )

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


class OpportunityAssignForm(ReassignForm):
    submit_label = _("Assign")


class ActivityForm(forms.ModelForm):
    """Planning a follow-up: from the customer's page, the opportunity's page or a board card."""

    class Meta:
        model = Activity
        fields = ["kind", "subject", "due_at", "assignee", "opportunity", "notes"]
        widgets = {"due_at": DATETIME_INPUT, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, customer, user, **kwargs):
        super().__init__(*args, **kwargs)
        masker = masker_for(user)
        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user).filter(customer=customer).open()
        self.fields["opportunity"].label_from_instance = lambda opportunity: masker.text(opportunity.title)
        self.fields["assignee"].queryset = owner_candidates()
        self.fields["assignee"].required = False
        self.fields["assignee"].help_text = _("Leave empty to do it yourself.")
        self.helper = submit_helper(_("Plan activity"))
        self.helper.layout = Layout(
            Row(Column("kind"), Column("due_at"), Column("assignee")),
            "subject",
            "opportunity",
            "notes",
        )


class ActivityCompleteForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What came of it; it goes on the customer's timeline."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Mark done"), button_class="btn-success")


class ActivityRescheduleForm(forms.Form):
    due_at = forms.DateTimeField(label=_("New due time"), widget=DATETIME_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Reschedule"))


class ActivityCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Cancel activity"), button_class="btn-danger")
