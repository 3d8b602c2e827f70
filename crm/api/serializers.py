"""What the API shows and accepts. Every text an answer carries goes through the reader's
masker (crm/core/masking.py), as on the pages: phones and e-mails masked whole in their
own fields, found and masked inside free text, contract terms shown in full only to those
who decide on them. Inputs are checked here for shape; the services decide the rules."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import serializers

from contracts.models import Contract
from crm.api.models import ApiToken
from crm.core.masking import masker_for
from customers.models import Contact, Customer, Interaction, Opportunity, validate_currency
from orders.choices import QuoteLanguage
from orders.models import Order, OrderLine, Product, Quote, QuoteLine
from service.models import Ticket, TicketEntry

User = get_user_model()


class MaskedSerializer(serializers.ModelSerializer):
    """A model's answer with every text field passed through the reader's masker."""

    phone_fields = ("phone",)
    email_fields = ("email", "sent_to", "author_email")

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "choices" in kwargs and model_field.blank:
            kwargs["allow_blank"] = True
        return field_class, kwargs

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        """A read-only choice that may be empty keeps saying so (DRF drops `allow_blank`
        from read-only fields), so the schema's enum admits the empty value it shows."""
        blank = bool(kwargs.get("allow_blank")) and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank:
            kwargs["allow_blank"] = True
        return kwargs

    def masker(self):
        masker = self.context.get("masker")
        if masker is None:
            request = self.context.get("request")
            masker = self.context["masker"] = masker_for(getattr(request, "user", None))
        return masker

    def to_representation(self, instance):
        data = super().to_representation(instance)
        masker = self.masker()
        if masker.reveal:
            return data
        terms = set(settings.MASKING_TERMS_FIELDS.get(self.Meta.model._meta.label_lower, ()))
        for name, field in self.fields.items():
            value = data.get(name)
            if not isinstance(value, str) or not isinstance(field, serializers.CharField):
                continue
            if name in self.phone_fields:
                data[name] = masker.phone(value)
            elif name in self.email_fields:
                data[name] = masker.email(value)
            elif name in terms:
                data[name] = masker.terms(value)
            else:
                data[name] = masker.text(value)
        return data


def username(field: str):
    return serializers.CharField(source=f"{field}.get_username", read_only=True, default=None, allow_null=True)


# --- customers ------------------------------------------------------------------------------


class CustomerSerializer(MaskedSerializer):
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_name = username("owner")

    class Meta:
        model = Customer
        fields = [
            "id", "kind", "name", "industry", "tier", "status", "email", "phone", "address", "region",
            "owner", "owner_name", "notes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["status", "created_at", "updated_at"]


class CustomerWriteSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)

    class Meta:
        model = Customer
        fields = ["kind", "name", "industry", "tier", "email", "phone", "address", "region", "owner", "notes"]


class ContactSerializer(MaskedSerializer):
    customer_name = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "customer", "customer_name", "name", "title", "email", "phone", "is_primary", "language"]
        fields += ["created_at"]
        read_only_fields = ["customer", "created_at"]


class ContactWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "is_primary", "language"]


class ContactCreateSerializer(ContactWriteSerializer):
    customer = serializers.IntegerField(min_value=1)

    class Meta(ContactWriteSerializer.Meta):
        fields = ["customer", *ContactWriteSerializer.Meta.fields]


class VisibleChoicesMixin:
    """Fields that name another row offer only the rows the caller may see (as the page's
    form does): `visible_fields` maps a field to its model; another id is a 400 by field."""

    visible_fields: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.context.get("request"), "user", None)
        for name, model in self.visible_fields.items():
            if name in self.fields:
                self.fields[name].queryset = model.objects.visible_to(user) if user else model.objects.none()


class InteractionSerializer(MaskedSerializer):
    author_name = username("author")

    class Meta:
        model = Interaction
        fields = ["id", "customer", "contact", "opportunity", "kind", "subject", "body", "occurred_at"]
        fields += ["author", "author_name", "created_at"]
        read_only_fields = fields


class InteractionCreateSerializer(VisibleChoicesMixin, serializers.ModelSerializer):
    """Logging an interaction on a customer's timeline: the fields of the page's form."""

    visible_fields = {"customer": Customer, "contact": Contact, "opportunity": Opportunity}

    class Meta:
        model = Interaction
        fields = ["customer", "kind", "occurred_at", "contact", "opportunity", "subject", "body"]
        extra_kwargs = {"occurred_at": {"required": False}}


class OpportunitySerializer(MaskedSerializer):
    owner_name = username("owner")

    class Meta:
        model = Opportunity
        fields = [
            "id", "customer", "title", "owner", "owner_name", "amount", "currency", "expected_close_date",
            "source", "next_step", "next_step_date", "stage", "probability_override", "lost_reason",
            "stage_entered_at", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


OPPORTUNITY_TERMS = [
    "title", "amount", "currency", "expected_close_date", "source", "probability_override", "next_step",
    "next_step_date",
]  # fmt: skip


class CurrencyField(serializers.CharField):
    """An ISO 4217 code in any case, kept in upper case (as the page's form keeps it)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3, validators=[validate_currency], **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class OpportunityWriteSerializer(serializers.ModelSerializer):
    """An open deal's terms, as its edit page changes them (owner and stage change elsewhere)."""

    currency = CurrencyField(required=False)

    class Meta:
        model = Opportunity
        fields = OPPORTUNITY_TERMS


class OpportunityCreateSerializer(VisibleChoicesMixin, OpportunityWriteSerializer):
    """Opening a deal: a customer the caller may see; a sales manager may name another owner."""

    visible_fields = {"customer": Customer}
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )

    class Meta(OpportunityWriteSerializer.Meta):
        fields = ["customer", *OPPORTUNITY_TERMS, "owner"]


# --- contracts ------------------------------------------------------------------------------


class ContractSerializer(MaskedSerializer):
    customer_name = serializers.CharField(read_only=True)
    owner_name = username("owner")

    class Meta:
        model = Contract
        fields = [
            "id", "number", "customer", "customer_name", "title", "body", "amount", "currency",
            "start_date", "end_date", "payment_terms_days", "owner", "owner_name", "status",
            "ordered_amount", "version", "approval_round", "awaiting_role", "submitted_at", "decided_at",
            "ended_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContractWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = ["title", "body", "amount", "currency", "start_date", "end_date", "payment_terms_days"]


class ContractCreateSerializer(ContractWriteSerializer):
    customer = serializers.IntegerField(min_value=1)
    template = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class Meta(ContractWriteSerializer.Meta):
        fields = ["customer", "template", *ContractWriteSerializer.Meta.fields]
        extra_kwargs = {"body": {"required": False}}


# --- orders ---------------------------------------------------------------------------------


class ProductSerializer(MaskedSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "unit_price", "currency", "is_active", "created_at"]
        read_only_fields = fields


class OrderLineSerializer(MaskedSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "product", "product_name", "quantity", "unit_price", "discount_percent", "line_total"]
        read_only_fields = fields


class OrderSerializer(MaskedSerializer):
    customer_name = serializers.CharField(read_only=True)
    owner_name = username("owner")
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "number", "customer", "customer_name", "contract", "order_date", "currency", "total",
            "status", "owner", "owner_name", "notes", "approval_reasons", "cancel_reason", "lines",
            "created_at", "updated_at", "delivered_at",
        ]  # fmt: skip
        read_only_fields = fields


class OrderLineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, required=False, help_text="An existing line (keeps its price).")
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), default=Decimal(0)
    )


class OrderWriteSerializer(serializers.Serializer):
    contract = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    order_date = serializers.DateField(required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, min_length=3, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = OrderLineInputSerializer(many=True, allow_empty=False)


class OrderCreateSerializer(OrderWriteSerializer):
    customer = serializers.IntegerField(min_value=1)


class QuoteLineSerializer(MaskedSerializer):
    class Meta:
        model = QuoteLine
        fields = ["id", "product", "description", "quantity", "unit_price", "discount_percent", "tax_rate"]
        fields += ["net", "tax", "gross"]
        read_only_fields = fields


class QuoteLineInputSerializer(OrderLineInputSerializer):
    """A quote line as the quote form's row takes it: an order line plus its tax rate (the
    default rate when empty) and a description printed under the product."""

    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class QuoteWriteSerializer(serializers.Serializer):
    """A draft quote's header and lines, as its form saves them (a PATCH keeps what it omits)."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=QuoteLanguage.choices, required=False)
    currency = serializers.CharField(max_length=3, min_length=3, required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    terms = serializers.CharField(required=False, allow_blank=True, help_text="Empty on a new quote: the default.")
    lines = QuoteLineInputSerializer(many=True, allow_empty=False)


class QuoteCreateSerializer(QuoteWriteSerializer):
    opportunity = serializers.IntegerField(min_value=1)


class QuoteSerializer(MaskedSerializer):
    lines = QuoteLineSerializer(many=True, read_only=True)
    owner_name = username("owner")

    class Meta:
        model = Quote
        fields = [
            "id", "number", "revision", "supersedes", "opportunity", "customer", "title", "currency",
            "language", "valid_until", "terms", "status", "net_total", "tax_total", "gross_total",
            "discount_total", "owner", "owner_name", "approval_reasons", "sent_to", "sent_at", "decided_at",
            "decline_reason", "cancel_reason", "contract", "lines", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


# --- service --------------------------------------------------------------------------------


class TicketSerializer(MaskedSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    assignee_name = username("assignee")

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "customer", "customer_name", "contact", "contract", "order", "kind", "channel",
            "subject", "description", "priority", "status", "assignee", "assignee_name",
            "first_response_due_at", "resolution_due_at", "first_responded_at", "resolved_at", "closed_at",
            "resolution", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class TicketWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["subject", "description", "kind", "priority", "contact", "contract", "order"]
        extra_kwargs = {name: {"required": False} for name in fields}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            self.fields["contact"].queryset = Contact.objects.visible_to(user)
            self.fields["contract"].queryset = Contract.objects.visible_to(user)
            self.fields["order"].queryset = Order.objects.visible_to(user)


class TicketCreateSerializer(TicketWriteSerializer):
    class Meta(TicketWriteSerializer.Meta):
        fields = ["customer", "channel", *TicketWriteSerializer.Meta.fields]
        extra_kwargs = {
            **{name: {"required": False} for name in ["contact", "contract", "order", "priority"]},
            "description": {"required": True},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            self.fields["customer"].queryset = Customer.objects.visible_to(user)


class TicketEntrySerializer(MaskedSerializer):
    author_name = username("author")

    class Meta:
        model = TicketEntry
        fields = ["id", "ticket", "kind", "author", "author_name", "author_email", "body", "created_at"]
        read_only_fields = fields


class TicketReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    public = serializers.BooleanField(default=True, help_text="False: an internal note the customer does not get.")


# --- tokens ---------------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields
