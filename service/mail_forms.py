"""Forms of the public pages (inquiry, status answer, rating) and of sorting inbound mail."""

import mimetypes

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from customers.models import Contact
from customers.selectors import customer_list
from service.choices import TicketPriority, TicketType
from service.mailparse import ParsedAttachment, attachment_refusal
from service.public import PUBLIC_KINDS

# What the accepted types are called on the forms (the settings' list names MIME types).
_TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "text/plain": "TXT",
    "text/csv": "CSV",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Files a customer sends with a form, within the limits the mail intake applies
    (`service.mailparse.attachment_refusal`): a file beyond them is an error by the field,
    naming the file, and nothing is kept. Cleans to a tuple of `ParsedAttachment`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        single = super().clean
        files = [single(upload, initial) for upload in uploads if upload]
        errors = []
        parts = []
        for index, upload in enumerate(files):
            content_type = _declared_type(upload)
            refusal = attachment_refusal(content_type=content_type, size=upload.size, index=index)
            if refusal:
                errors.append(
                    forms.ValidationError(
                        gettext("%(name)s: %(reason)s"), params={"name": upload.name, "reason": gettext(refusal)}
                    )
                )
                continue
            upload.seek(0)
            parts.append(ParsedAttachment(filename=upload.name[:200], content_type=content_type, content=upload.read()))
        if errors:
            errors.append(forms.ValidationError(gettext("Nothing was sent yet: choose the files again.")))
            raise forms.ValidationError(errors)
        return tuple(parts)


def _declared_type(upload) -> str:
    """The type the browser gave; when it gave none that says anything, the name's."""
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        declared = mimetypes.guess_type(upload.name)[0] or declared or "application/octet-stream"
    return declared


def attachments_help() -> str:
    kinds = [_TYPE_NAMES.get(kind.strip().lower(), kind.strip()) for kind in settings.TICKET_ATTACHMENT_TYPES]
    return gettext("Up to %(count)d files of at most %(size)s each: %(types)s.") % {
        "count": settings.TICKET_ATTACHMENT_MAX_COUNT,
        "size": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES),
        "types": ", ".join(dict.fromkeys(kinds)),
    }


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
    attachments = AttachmentsField(label=_("Files (optional)"))
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
        self.fields["attachments"].help_text = attachments_help()

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class StatusAnswerForm(forms.Form):
    body = forms.CharField(label=_("Your answer"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField(label=_("Files (optional)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Send answer"))
        self.fields["attachments"].help_text = attachments_help()


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
