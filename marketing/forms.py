from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.validators import MaxValueValidator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm.core.dates import DATE_INPUT_BOUNDS, DATETIME_INPUT_BOUNDS, validate_sensible_date
from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates
from customers.choices import CustomerStatus, CustomerTier, Industry, Region
from customers.models import Customer
from marketing.models import Campaign, Segment
from marketing.rendering import PLACEHOLDERS, unknown_placeholders
from marketing.selectors import segment_cluster_choices, segment_list

MAX_ORDERS = 1_000_000
DATE = forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}, format="%Y-%m-%d")


class SegmentForm(forms.ModelForm):
    """The segment's criteria; every change asks the server for the live count (htmx)."""

    statuses = forms.MultipleChoiceField(
        label=_("Customer statuses"),
        choices=CustomerStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.MultipleChoiceField(
        label=_("Industries"), choices=Industry.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.MultipleChoiceField(
        label=_("Tiers"), choices=CustomerTier.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    regions = forms.MultipleChoiceField(
        label=_("Regions"),
        choices=Region.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Any of these; none chosen: every region."),
    )

    class Meta:
        model = Segment
        fields = [
            "name",
            "description",
            "statuses",
            "industries",
            "tiers",
            "regions",
            "customer_owner",
            "last_order_after",
            "last_order_before",
            "min_orders",
            "max_orders",
            "insight_cluster",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "last_order_after": DATE,
            "last_order_before": DATE,
        }

    def __init__(self, *args, user, count_url="", **kwargs):
        super().__init__(*args, **kwargs)
        if user.has_perm("customers.view_all_customer"):
            self.fields["customer_owner"].queryset = owner_candidates()
            self.fields["customer_owner"].required = False
        else:
            del self.fields["customer_owner"]  # a rep's segment holds only their own customers
        clusters = segment_cluster_choices()
        if clusters:
            self.fields["insight_cluster"] = forms.ChoiceField(
                label=_("Customer segment (k-means)"), choices=[("", "---------"), *clusters], required=False
            )
        else:
            del self.fields["insight_cluster"]
        for name in ("last_order_after", "last_order_before"):
            self.fields[name].validators.append(validate_sensible_date)
        for name in ("min_orders", "max_orders"):
            self.fields[name].widget.attrs.update(min=0, max=MAX_ORDERS)
            self.fields[name].validators.append(MaxValueValidator(MAX_ORDERS))
        self.helper = submit_helper()
        self.helper.attrs = {
            "hx-get": count_url,
            "hx-trigger": "change, input delay:400ms",
            "hx-target": "#segment-count",
            "hx-swap": "innerHTML",
        }
        self.helper.layout = Layout(
            "name",
            "description",
            Row(Column("statuses"), Column("tiers"), Column("industries"), Column("regions")),
            *(["customer_owner"] if "customer_owner" in self.fields else []),
            Row(Column("last_order_after"), Column("last_order_before")),
            Row(Column("min_orders"), Column("max_orders")),
            *(["insight_cluster"] if "insight_cluster" in self.fields else []),
        )

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_orders"), cleaned.get("max_orders")
        if low is not None and high is not None and low > high:
            self.add_error("max_orders", _("The most must not be below the least."))
        after, before = cleaned.get("last_order_after"), cleaned.get("last_order_before")
        if after and before and after > before:
            self.add_error("last_order_before", _("The second date must not be before the first."))
        return cleaned

    def criteria(self) -> dict:
        """The criteria as typed so far, for the live count: the fields that are valid."""
        data = {}
        for name in SEGMENT_CRITERIA:
            if name in self.fields and name in getattr(self, "cleaned_data", {}):
                data[name] = self.cleaned_data[name]
        if "customer_owner" in data and data["customer_owner"] is not None:
            data["customer_owner"] = data["customer_owner"].pk
        return data


SEGMENT_CRITERIA = [
    "statuses",
    "industries",
    "tiers",
    "regions",
    "customer_owner",
    "last_order_after",
    "last_order_before",
    "min_orders",
    "max_orders",
    "insight_cluster",
]


def placeholder_help():
    return format_html_join(
        ", ", "<code>{{{{ {} }}}}</code> ({})", ((name, label) for name, label in PLACEHOLDERS.items())
    )


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "segment", "language", "subject_zh", "body_zh", "subject_en", "body_en", "rate_per_minute"]
        widgets = {"body_zh": forms.Textarea(attrs={"rows": 10}), "body_en": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segment_list(user=user).order_by("name")
        masker = masker_for(user)
        self.fields["segment"].label_from_instance = lambda segment: masker.text(str(segment))
        self.fields["rate_per_minute"].widget.attrs.update(min=1, max=100_000)
        for name in ("body_zh", "body_en"):
            self.fields[name].help_text = format_html(
                "{} {}. {}",
                _("Placeholders:"),
                placeholder_help(),
                _("Links are tracked; an unsubscribe link is added."),
            )
        self.helper = submit_helper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("segment"), Column("language")),
            Row(
                Column("subject_zh", "body_zh", css_class="col-lg-6"),
                Column("subject_en", "body_en", css_class="col-lg-6"),
            ),
            "rate_per_minute",
        )

    def clean(self):
        cleaned = super().clean()
        for name in ("subject_zh", "body_zh", "subject_en", "body_en"):
            unknown = unknown_placeholders(cleaned.get(name) or "")
            if unknown:
                self.add_error(
                    name,
                    _("Unknown placeholder: %(names)s.") % {"names": ", ".join(f"{{{{ {n} }}}}" for n in unknown)},
                )
        return cleaned


class CampaignScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        help_text=_("Leave empty to send now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", **DATETIME_INPUT_BOUNDS}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_sensible_date],
    )


class CampaignOpportunityForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)
    expected_close_date = forms.DateField(
        label=_("Expected close date"), widget=DATE, validators=[validate_sensible_date]
    )

    def __init__(self, *args, campaign, user, **kwargs):
        super().__init__(*args, **kwargs)
        reached = campaign.recipients.values("customer_id")
        self.fields["customer"].queryset = Customer.objects.visible_to(user).filter(pk__in=reached).order_by("name")
        masker = masker_for(user)
        self.fields["customer"].label_from_instance = lambda customer: masker.text(str(customer))
        self.helper = submit_helper()
