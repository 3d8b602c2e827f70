from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.selectors import contract_list
from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from orders.selectors import order_list
from service.choices import TicketChannel, TicketPriority, TicketType
from service.selectors import resolution_codes, service_agents


class TicketForm(forms.Form):
    """A new ticket for one customer (the page it was started from): the contact, contract
    and order offered are that customer's, as the user may see them."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.INQUIRY)
    channel = forms.ChoiceField(label=_("Channel"), choices=TicketChannel.choices, initial=TicketChannel.PHONE)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=None, required=False)
    order = forms.ModelChoiceField(label=_("Order"), queryset=None, required=False)

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contact"].queryset = customer.contacts.order_by("-is_primary", "name")
        self.fields["contract"].queryset = contract_list(user=user).filter(customer=customer).order_by("-id")
        self.fields["order"].queryset = order_list(user=user).filter(customer=customer).order_by("-id")
        # Names and titles may hold phone numbers and addresses: shown through the masker.
        masker = masker_for(user)
        self.fields["contact"].label_from_instance = lambda contact: masker.text(str(contact))
        self.fields["contract"].label_from_instance = lambda contract: (
            f"{contract.number} · {masker.terms(contract.title)}"
        )
        self.fields["order"].label_from_instance = lambda order: order.number
        primary = customer.contacts.filter(is_primary=True).first()
        if primary is not None:
            self.fields["contact"].initial = primary.pk
        self.helper = submit_helper(_("Open ticket"))
        self.helper.layout = Layout(
            "subject",
            Row(Column("kind"), Column("channel"), Column("priority")),
            "contact",
            "description",
            Row(Column("contract"), Column("order")),
        )


class TicketEditForm(TicketForm):
    """What a ticket is about, changed after it was opened (`ticket_update`): the channel it
    came in by stays."""

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "contact": ticket.contact_id,
            "contract": ticket.contract_id,
            "order": ticket.order_id,
            "kind": ticket.kind,
            "priority": ticket.priority,
            "subject": ticket.subject,
            "description": ticket.description,
            **kwargs["initial"],
        }
        super().__init__(*args, customer=ticket.customer, **kwargs)
        del self.fields["channel"]
        self.fields["contact"].initial = ticket.contact_id
        # Text holding what this reader sees masked is shown masked and not offered for
        # editing: the field would show what the masker hides, or save the stars over it.
        masker = masker_for(kwargs["user"])
        self.read_only_fields = []
        for name in ("subject", "description"):
            value = getattr(ticket, name)
            if masker.hides(value):
                self.read_only_fields.append((self.fields.pop(name).label, masker.text(value)))
        # A contract or order the editor may not see is neither shown nor offered to change:
        # the field is left out, so saving keeps it (the service refuses a change too).
        links = []
        hidden = []
        for name, current in (("contract", ticket.contract_id), ("order", ticket.order_id)):
            if current is not None and not self.fields[name].queryset.filter(pk=current).exists():
                del self.fields[name]
                hidden.append(name)
            else:
                links.append(Column(name))
        notes = []
        if "contract" in hidden:
            notes.append(HTML(_LINK_HIDDEN % _("It is linked to a contract you may not see; it stays linked.")))
        if "order" in hidden:
            notes.append(HTML(_LINK_HIDDEN % _("It is linked to an order you may not see; it stays linked.")))
        self.helper = submit_helper(_("Save ticket"))
        self.helper.layout = Layout(
            *[name for name in ("subject",) if name in self.fields],
            Row(Column("kind"), Column("priority")),
            "contact",
            *[name for name in ("description",) if name in self.fields],
            Row(*links),
            *notes,
        )


_LINK_HIDDEN = '<p class="form-text text-muted" data-testid="link-hidden">%s</p>'


class TicketAssignForm(forms.Form):
    """The assign step: which agent gets the ticket, and why (optional)."""

    assignee = forms.ModelChoiceField(label=_("Agent"), queryset=None)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = service_agents()


class TicketResolveForm(forms.Form):
    """The resolve step: how it was resolved, and its code from the admin's list (asked for
    whenever the list offers any)."""

    resolution_code = forms.ModelChoiceField(label=_("Resolution code"), queryset=None)
    comment = forms.CharField(label=_("How was it resolved?"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("user", None)
        super().__init__(*args, **kwargs)
        codes = resolution_codes()
        self.fields["resolution_code"].queryset = codes
        if not codes.exists():
            del self.fields["resolution_code"]


class TicketReplyForm(forms.Form):
    """A line of the processing record: an internal note, or a reply the customer gets."""

    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}))
    public = forms.TypedChoiceField(
        label=_("Who sees it"),
        choices=[("0", _("Internal note (staff only)")), ("1", _("Public reply (e-mailed to the contact)"))],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Add to the record"))


class AgentDutyForm(forms.Form):
    on_duty = forms.TypedChoiceField(
        label=_("On duty"), choices=[("1", _("On duty")), ("0", _("Off duty"))], coerce=lambda value: value == "1"
    )
