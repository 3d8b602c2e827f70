from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from crm.core.dates import DATE_INPUT_BOUNDS
from crm.core.forms import submit_helper
from crm.core.masking import masker_for
from crm.core.querystring import parse_id
from orders.models import Order, Product, Quote
from orders.selectors import order_contract_choices, product_choices

DATE_INPUT = forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}, format="%Y-%m-%d")
LINES_PREFIX = "lines"


def money(amount, currency) -> str:
    return f"{number_format(amount, decimal_pos=2, force_grouping=True)} {currency}"


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "currency", "is_active", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.fields["is_active"].help_text = _("Inactive products stay on existing orders but cannot be ordered.")
        self.helper = submit_helper()
        self.helper.layout = Layout(
            Row(Column("sku", css_class="col-md-4"), Column("name", css_class="col-md-8")),
            Row(Column("unit_price"), Column("currency")),
            "is_active",
            "description",
        )

    def clean_sku(self):
        return self.cleaned_data["sku"].strip().upper()

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


class ContractSelect(forms.Select):
    """Each contract option carries its currency and what is left of its amount, so the
    page can follow the currency and warn before the server refuses an order that is too big."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        contract = getattr(value, "instance", None)
        if contract is not None:
            option["attrs"]["data-currency"] = contract.currency
            option["attrs"]["data-remaining"] = str(contract.remaining_for_order)
        return option


class OrderForm(forms.ModelForm):
    """The order's header. The customer comes from the page the order was started from and
    the page shows it read-only; the lines are a formset next to it (`OrderLineFormSet`)."""

    class Meta:
        model = Order
        fields = ["contract", "order_date", "currency", "notes"]
        widgets = {
            "contract": ContractSelect,
            "order_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        contracts = list(order_contract_choices(user=user, customer=customer))
        for contract in contracts:
            # What this order may still use: its own live total is already in `ordered_amount`.
            own = self.instance.total if self.instance.pk and self.instance.contract_id == contract.pk else 0
            contract.remaining_for_order = contract.remaining_amount + own
        field = self.fields["contract"]
        field.queryset = field.queryset.filter(pk__in=[contract.pk for contract in contracts])
        field.label_from_instance = lambda contract: (
            _("%(number)s · %(title)s (%(remaining)s left)")
            % {
                "number": contract.number,
                "title": contract.title,
                "remaining": money(contract.remaining_for_order, contract.currency),
            }
        )
        # The options are built from the contracts fetched above, not a second query.
        field.widget.choices = [("", _("— no contract (needs a manager's approval) —"))] + [
            (forms.models.ModelChoiceIteratorValue(contract.pk, contract), field.label_from_instance(contract))
            for contract in contracts
        ]
        field.empty_label = None
        field.help_text = _(
            "Only this customer's active contracts are offered. What is left of a contract counts its "
            "draft orders as reserved: a draft holds its amount until it is submitted or cancelled."
        )
        self.fields["currency"].widget.attrs["maxlength"] = 3
        if self.instance.pk is None:
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("contract", css_class="col-md-7"),
                Column("order_date", css_class="col-md-3"),
                Column("currency", css_class="col-md-2"),
            ),
            "notes",
        )

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


class ProductSelect(forms.Select):
    """Each product option carries its unit price and currency for the live line totals."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        product = getattr(value, "instance", None)
        if product is not None:
            option["attrs"]["data-unit-price"] = str(product.unit_price)
            option["attrs"]["data-currency"] = product.currency
        return option


class OrderLineForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    product = forms.ModelChoiceField(queryset=Product.objects.none(), label=_("Product"), widget=ProductSelect)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0.01, max_digits=12, decimal_places=2, initial=1)
    discount_percent = forms.DecimalField(
        label=_("Discount %"), min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=0, required=False
    )

    def __init__(self, *args, products, options=None, kept=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept = kept or {}
        field = self.fields["product"]
        field.queryset = products
        # Every row shares one list of options, so the rows cost no query each.
        field.widget.choices = options if options is not None else product_options(products)
        self.fields["quantity"].widget.attrs.update(step="any", inputmode="decimal", min="0.01")
        self.fields["discount_percent"].widget.attrs.update(step="any", inputmode="decimal", min="0", max="100")

    def kept_line(self):
        """The existing line this row edits (it keeps the price it was added at), if any."""
        line_id = parse_id(self["id"].value())
        return self.kept.get(line_id) if line_id is not None else None

    def line_values(self):
        values = {
            "product": self.cleaned_data["product"],
            "quantity": self.cleaned_data["quantity"],
            "discount_percent": self.cleaned_data.get("discount_percent") or 0,
        }
        if self.cleaned_data.get("id"):
            values["id"] = self.cleaned_data["id"]
        return values


def product_options(products):
    return [("", _("Choose a product…"))] + [
        (
            forms.models.ModelChoiceIteratorValue(product.pk, product),
            f"{product} — {money(product.unit_price, product.currency)}",
        )
        for product in products
    ]


class BaseOrderLineFormSet(forms.BaseFormSet):
    """The lines of one order. Rows are added and removed in place: a removed row is
    marked DELETE and hidden, an added row takes the next index."""

    default_error_messages = {"too_few_forms": _("Add at least one line.")}

    def __init__(self, *args, order=None, **kwargs):
        lines = order.lines.select_related("product") if order is not None and order.pk else []
        kept = {line.pk: line for line in lines}
        kwargs.setdefault(
            "initial",
            [
                {
                    "id": pk,
                    "product": line.product_id,
                    "quantity": line.quantity,
                    "discount_percent": line.discount_percent,
                }
                for pk, line in kept.items()
            ],
        )
        products = product_choices(keep_ids={line.product_id for line in kept.values()})
        kwargs.setdefault("prefix", LINES_PREFIX)
        kwargs["form_kwargs"] = {"products": products, "options": product_options(products), "kept": kept}
        super().__init__(*args, **kwargs)

    def lines(self):
        """The rows to save, as `order_create` / `order_update` take them (after `is_valid()`)."""
        deleted = set(self.deleted_forms)
        return [form.line_values() for form in self.forms if form.cleaned_data and form not in deleted]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=0, min_num=1, validate_min=True, can_delete=True
)


def line_form(*, index: int) -> OrderLineForm:
    """An empty row for the formset at `index`, as "Add line" fetches it."""
    formset = OrderLineFormSet()
    form = formset.form(
        auto_id=formset.auto_id,
        prefix=formset.add_prefix(index),
        empty_permitted=True,
        use_required_attribute=False,
        **formset.get_form_kwargs(index),
    )
    formset.add_fields(form, None)
    return form


# --- quotes --------------------------------------------------------------------------------


class QuoteForm(forms.ModelForm):
    """The quote's header; the lines are a formset beside it (`QuoteLineFormSet`)."""

    class Meta:
        model = Quote
        fields = ["title", "language", "currency", "valid_until", "terms"]
        widgets = {"valid_until": DATE_INPUT, "terms": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget.attrs["maxlength"] = 3
        self.fields["terms"].help_text = _(
            "Left empty on a new quote, the default terms of its language are used (admin: quote terms templates)."
        )
        self.fields["terms"].required = False
        self.fields["valid_until"].required = False
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("title", css_class="col-md-6"),
                Column("language", css_class="col-md-2"),
                Column("currency", css_class="col-md-2"),
                Column("valid_until", css_class="col-md-2"),
            ),
            "terms",
        )

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


class QuoteLineForm(OrderLineForm):
    """A quote line: an order line's product, quantity and discount, plus its tax rate and
    an optional description printed under the product."""

    line_text = forms.CharField(label=_("Description"), max_length=300, required=False)
    tax_rate = forms.DecimalField(
        label=_("Tax %"), min_value=0, max_value=100, max_digits=5, decimal_places=2, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].initial = settings.DEFAULT_TAX_RATE
        self.fields["line_text"].widget.attrs.update({"aria-label": _("Description"), "placeholder": _("Description")})
        self.fields["tax_rate"].widget.attrs.update(step="any", inputmode="decimal", min="0", max="100")

    def line_values(self):
        values = super().line_values()
        values["description"] = self.cleaned_data.get("line_text", "")
        tax_rate = self.cleaned_data.get("tax_rate")
        values["tax_rate"] = settings.DEFAULT_TAX_RATE if tax_rate is None else tax_rate
        return values


class BaseQuoteLineFormSet(BaseOrderLineFormSet):
    """The lines of one quote (rows added and removed in place, as on the order form)."""

    def __init__(self, *args, quote=None, **kwargs):
        lines = list(quote.lines.select_related("product")) if quote is not None and quote.pk else []
        kwargs.setdefault(
            "initial",
            [
                {
                    "id": line.pk,
                    "product": line.product_id,
                    "quantity": line.quantity,
                    "discount_percent": line.discount_percent,
                    "tax_rate": line.tax_rate,
                    "line_text": line.description,
                }
                for line in lines
            ],
        )
        super().__init__(*args, order=None, **kwargs)
        kept = {line.pk: line for line in lines}
        products = product_choices(keep_ids={line.product_id for line in lines})
        self.form_kwargs.update(products=products, options=product_options(products), kept=kept)


QuoteLineFormSet = forms.formset_factory(
    QuoteLineForm, formset=BaseQuoteLineFormSet, extra=0, min_num=1, validate_min=True, can_delete=True
)


def quote_line_form(*, index: int) -> QuoteLineForm:
    """An empty row for the quote formset at `index`, as "Add line" fetches it."""
    formset = QuoteLineFormSet()
    form = formset.form(
        auto_id=formset.auto_id,
        prefix=formset.add_prefix(index),
        empty_permitted=True,
        use_required_attribute=False,
        **formset.get_form_kwargs(index),
    )
    formset.add_fields(form, None)
    return form


class QuoteSendForm(forms.Form):
    """Which of the customer's contacts the quote goes to (masked as the sender may see them)."""

    contact = forms.TypedChoiceField(label=_("Send to"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args, quote, user, **kwargs):
        super().__init__(*args, **kwargs)
        masker = masker_for(user)
        contacts = [contact for contact in quote.customer.contacts.order_by("-is_primary", "name") if contact.email]
        choices = [(contact.pk, f"{masker.text(contact.name)} <{masker.email(contact.email)}>") for contact in contacts]
        if quote.customer.email:
            choices.append(
                (
                    "",
                    _("%(name)s (the customer's own address, %(email)s)")
                    % {"name": masker.text(quote.customer.name), "email": masker.email(quote.customer.email)},
                )
            )
        self.fields["contact"].choices = choices
        self.fields["contact"].help_text = _(
            "The quote goes as a PDF with a link that works once, where the customer accepts or declines it."
        )

    def clean(self):
        cleaned = super().clean()
        return {"contact_id": cleaned.get("contact")}


class QuoteAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    accepted = forms.BooleanField(
        label=_("I have read this quote and accept it on behalf of the customer."), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Accept the quote"), button_class="btn-success")


class QuoteDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why do you decline?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper(_("Decline the quote"), button_class="btn-outline-danger")
        self.helper.form_action = reverse_lazy("orders:quote_public_decline")
