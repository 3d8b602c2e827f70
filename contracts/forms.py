from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, ContractTemplate
from crm.core.dates import DATE_INPUT_BOUNDS
from crm.core.forms import submit_helper

DATE_INPUT = forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}, format="%Y-%m-%d")


class ContractForm(forms.ModelForm):
    """Drafting (from a customer's page) and editing; the template is chosen only when drafting."""

    template = forms.ModelChoiceField(
        queryset=ContractTemplate.objects.filter(is_active=True),
        required=False,
        label=_("Template"),
        help_text=_("Fills the body from the customer and the terms when the body is left empty."),
    )

    class Meta:
        model = Contract
        fields = ["template", "title", "amount", "currency", "start_date", "end_date"]
        fields += ["payment_terms_days", "body"]
        widgets = {
            "start_date": DATE_INPUT,
            "end_date": DATE_INPUT,
            "body": forms.Textarea(attrs={"rows": 14}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drafting = self.instance.pk is None
        if drafting:
            self.fields["body"].required = False
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        else:
            del self.fields["template"]
        self.helper = submit_helper(_("Save draft") if drafting else _("Save"))
        self.helper.layout = Layout(
            *(["template"] if drafting else []),
            "title",
            Row(Column("amount"), Column("currency"), Column("payment_terms_days")),
            Row(Column("start_date"), Column("end_date")),
            "body",
        )

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


class CompanySignForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing binds the company. Confirm it is you."),
    )


class SigningLinkForm(forms.Form):
    email = forms.EmailField(label=_("Send the link to"))


class CustomerSignForm(forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    accepted = forms.BooleanField(
        label=_("I have read this contract and accept it on behalf of the customer."), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Sign and accept"), button_class="btn-success")


def upload_too_large_message() -> str:
    return _("The file is larger than %(size)s; an evidence bundle is much smaller.") % {
        "size": str(filesizeformat(settings.VERIFY_UPLOAD_MAX_BYTES)).replace("\xa0", " ")
    }


class VerifyForm(forms.Form):
    number = forms.CharField(label=_("Contract number"), max_length=20, required=False)
    code = forms.CharField(label=_("Verification code"), max_length=24, required=False)
    bundle = forms.FileField(label=_("…or upload an evidence bundle (.zip)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Verify"))

    def clean_bundle(self):
        bundle = self.cleaned_data.get("bundle")
        if bundle and bundle.size > settings.VERIFY_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(upload_too_large_message())
        return bundle

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("bundle") and not (cleaned.get("number") and cleaned.get("code")):
            raise forms.ValidationError(_("Give the contract number and the verification code, or upload a bundle."))
        return cleaned
