"""Forms of the public pages (inquiry, status answer, rating) and of sorting inbound mail."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from customers.models import Contact
from customers.selectors import customer_list
from service.choices import TicketPriority, TicketType
from service.public import PUBLIC_KINDS


class PublicTicketForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    kind = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[(kind.value, kind.label) for kind in PUBLIC_KINDS],
        initial=TicketType.INQUIRY,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Your message"), max_length=10000, widget=forms.Textarea(attrs={"rows": 6}))
    # The honeypot: hidden from people (static/css/crm.css, out of the tab order); a bot fills it.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Send"))
        self.fields["website"].widget.attrs["class"] = "honeypot"

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class StatusAnswerForm(forms.Form):
    body = forms.CharField(label=_("Your answer"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Send answer"))


class SatisfactionForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        choices=[
            (5, _("5 – very satisfied")),
            (4, _("4 – satisfied")),
            (3, _("3 – neutral")),
            (2, _("2 – dissatisfied")),
            (1, _("1 – very dissatisfied")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reopen = forms.BooleanField(label=_("My problem is not solved: please reopen my request."), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Send rating"))


class InboundAssignForm(forms.Form):
    ticket_number = forms.CharField(label=_("Ticket number"), max_length=20)

    def __init__(self, *args, **kwargs):
        kwargs.pop("user", None)
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Add to ticket"), form_tag=False)


class InboundTicketForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.INQUIRY)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customer_list(user=user)
        self.fields["customer"].queryset = customers.order_by("name")
        self.fields["contact"].queryset = Contact.objects.filter(customer__in=customers.values("pk")).select_related(
            "customer"
        )
        # Names may hold phone numbers and addresses: shown through the reader's masker.
        masker = masker_for(user)
        self.fields["customer"].label_from_instance = lambda customer: masker.text(str(customer))
        self.fields["contact"].label_from_instance = lambda contact: masker.text(str(contact))
        self.helper = submit_helper(_("Open ticket"), form_tag=False)

    def clean(self):
        cleaned = super().clean()
        contact, customer = cleaned.get("contact"), cleaned.get("customer")
        if contact and customer and contact.customer_id != customer.pk:
            self.add_error("contact", _("Choose a contact of this customer."))
        return cleaned


class InboundDiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why discard it?"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.pop("user", None)
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Discard"), form_tag=False, button_class="btn-outline-danger")
