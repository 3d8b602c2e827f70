from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, default_currency, validate_currency
from crm.core.dates import SensibleDatesMixin
from crm.core.gram_search import search_grams_field, search_index
from customers.copies import customer_name_field, customer_owner_field
from customers.models import Customer
from orders.choices import OrderStatus, QuoteLanguage, QuoteStatus
from orders.querysets import OrderLineQuerySet, OrderQuerySet, ProductQuerySet, QuoteLineQuerySet, QuoteQuerySet
from orders.workflow import QUOTE_WORKFLOW as QUOTE_WORKFLOW  # noqa: F401 - declares the quote steps
from orders.workflow import TRANSITIONS

PRODUCT_FIELDS = ["sku", "name", "description", "unit_price", "currency", "is_active"]
ORDER_FIELDS = ["customer", "contract", "order_date", "currency", "notes"]
LINE_FIELDS = ["product", "quantity", "unit_price", "discount_percent"]


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[validate_currency])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_code"),
        ]

    def __str__(self):
        return f"{self.sku} · {self.name}"

    def get_absolute_url(self):
        return reverse("orders:product_update", args=[self.pk])


class Order(SensibleDatesMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    order_date = models.DateField(_("order date"), default=timezone.localdate)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[validate_currency])
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)
    # The number a past order had in the system it was imported from (orders.order_imports).
    external_ref = models.CharField(
        _("external number"),
        max_length=64,
        blank=True,
        default="",
        db_default="",  # rows bulk-loaded with COPY (the demo, benchmarks) leave it out
        editable=False,
    )
    approval_reasons = models.JSONField(_("why approval is needed"), default=list, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    # Set by the deliver step; close_delivered_orders counts from it.
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True, editable=False)
    # Copies of the customer's owner and name, kept by the database (customers.copies).
    customer_owner = customer_owner_field()
    customer_name = customer_name_field()
    search_grams = search_grams_field(F("number"), F("customer_name"))

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        permissions = [
            ("view_all_order", _("Can see every order")),
            ("submit_order", _("Can submit an order")),
            ("approve_order", _("Can approve or reject orders")),
            ("fulfil_order", _("Can move orders through fulfilment")),
            ("close_order", _("Can close delivered orders")),
            ("cancel_order", _("Can cancel an order")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="order_currency_code"),
            models.UniqueConstraint(
                fields=["external_ref"], condition=~Q(external_ref=""), name="order_unique_external_ref"
            ),
        ]
        indexes = [
            models.Index(fields=["-order_date", "-id"], name="order_date_idx"),
            models.Index(fields=["-total", "-id"], name="order_total_idx"),
            models.Index(fields=["status", "-order_date"], name="order_status_idx"),
            models.Index(fields=["customer", "-order_date"], name="order_customer_idx"),
            models.Index(fields=["owner", "-order_date"], name="order_owner_idx"),
            models.Index(fields=["contract", "status"], name="order_contract_status_idx"),
            # A rep's list (visibility through the owner copy) in each offered order.
            models.Index(fields=["customer_owner", "-order_date", "-id"], name="order_rep_date_idx"),
            models.Index(fields=["customer_owner", "-total", "-id"], name="order_rep_total_idx"),
            models.Index(fields=["customer_owner", "number", "id"], name="order_rep_number_idx"),
            search_index("order_search_idx"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:order_detail", args=[self.pk])

    def can_transition(self, target) -> bool:
        return target in TRANSITIONS.get(OrderStatus(self.status), {})


class OrderLine(models.Model):
    """A product at the price it had when the line was added."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    line_total = models.DecimalField(_("line total"), max_digits=16, decimal_places=2)

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="order_line_discount_range"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product.sku}"


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """Quantity × price less the discount, rounded to cents."""
    gross = Decimal(quantity) * Decimal(unit_price)
    return (gross * (Decimal(100) - Decimal(discount_percent)) / Decimal(100)).quantize(Decimal("0.01"))


# --- quotes --------------------------------------------------------------------------------

QUOTE_FIELDS = ["title", "currency", "language", "valid_until", "terms"]
CENT = Decimal("0.01")


def money_round(amount: Decimal) -> Decimal:
    """To cents, half up (0.005 -> 0.01), as invoices round; never Python's half-even."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def quote_line_amounts(quantity, unit_price, discount_percent, tax_rate) -> dict[str, Decimal]:
    """One line's figures, each rounded half up to cents: the list price (quantity × unit
    price), the net after the discount, the tax on the net, the gross, and the discount."""
    listed = money_round(Decimal(quantity) * Decimal(unit_price))
    net = money_round(Decimal(quantity) * Decimal(unit_price) * (100 - Decimal(discount_percent)) / 100)
    tax = money_round(net * Decimal(tax_rate) / 100)
    return {"listed": listed, "net": net, "tax": tax, "gross": net + tax, "discount": listed - net}


class QuoteTermsTemplate(models.Model):
    """The terms printed under a quote, per language; a new quote takes the default one of
    its language."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    language = models.CharField(_("language"), max_length=10, choices=QuoteLanguage.choices)
    body = models.TextField(_("terms"))
    is_default = models.BooleanField(_("default for its language"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("quote terms template")
        verbose_name_plural = _("quote terms templates")
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["language"], condition=Q(is_default=True), name="quote_terms_one_default_per_language"
            ),
            models.CheckConstraint(condition=Q(language__in=QuoteLanguage.values), name="quote_terms_language_valid"),
        ]

    def __str__(self):
        return self.name


class QuoteDiscountLimit(models.Model):
    """The one row of discount limits (admin-editable): a quote with a line discounted
    more, or a total discount above its share, waits for a sales manager's approval."""

    line_percent = models.DecimalField(
        _("largest line discount without approval (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    total_percent = models.DecimalField(
        _("largest total discount without approval (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("quote discount limit")
        verbose_name_plural = _("quote discount limits")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="quote_discount_limit_single_row")]

    def __str__(self):
        return str(_("Quote discount limits"))


class Quote(SensibleDatesMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, editable=False)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1, editable=False)
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("supersedes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        editable=False,
    )
    opportunity = models.ForeignKey(
        "customers.Opportunity", verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="quotes"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes")
    title = models.CharField(_("title"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[validate_currency])
    language = models.CharField(
        _("language"), max_length=10, choices=QuoteLanguage.choices, default=QuoteLanguage.ENGLISH
    )
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    net_total = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=0, editable=False)
    tax_total = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0, editable=False)
    gross_total = models.DecimalField(_("gross"), max_digits=16, decimal_places=2, default=0, editable=False)
    discount_total = models.DecimalField(_("discount"), max_digits=16, decimal_places=2, default=0, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    approval_reasons = models.JSONField(_("why approval is needed"), default=list, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    sent_to = models.EmailField(_("sent to"), blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("customer decided"), null=True, blank=True, editable=False)
    accepted_name = models.CharField(_("accepted by"), max_length=200, blank=True, editable=False)
    decline_reason = models.TextField(_("why declined"), blank=True, editable=False)
    decided_ip = models.GenericIPAddressField(_("customer's IP address"), null=True, blank=True, editable=False)
    decided_user_agent = models.CharField(_("customer's browser"), max_length=500, blank=True, editable=False)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True, editable=False)
    contract = models.OneToOneField(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quote",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    search_grams = search_grams_field(F("number"), F("title"))

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_quote", _("Can see every quote")),
            ("send_quote", _("Can send a quote to the customer")),
            ("approve_quote", _("Can approve or reject quote discounts")),
            ("cancel_quote", _("Can cancel a quote")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_unique"),
            models.CheckConstraint(condition=Q(status__in=QuoteStatus.values), name="quote_status_valid"),
            models.CheckConstraint(condition=Q(language__in=QuoteLanguage.values), name="quote_language_valid"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="quote_currency_code"),
            models.CheckConstraint(
                condition=Q(net_total__gte=0, tax_total__gte=0, gross_total__gte=0, discount_total__gte=0),
                name="quote_totals_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="quote_created_idx"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid_idx"),
            models.Index(fields=["customer", "-created_at"], name="quote_customer_idx"),
            models.Index(fields=["opportunity", "-revision"], name="quote_opportunity_idx"),
            search_index("quote_search_idx"),
        ]

    def __str__(self):
        return self.number if self.revision == 1 else f"{self.number} r{self.revision}"

    def get_absolute_url(self):
        return reverse("orders:quote_detail", args=[self.pk])

    @property
    def pdf_filename(self) -> str:
        return f"{self}.pdf".replace(" ", "-")


class QuoteLine(models.Model):
    """A catalog product at the price it had when the line was added, with its discount
    and tax rate; the amounts are stored as the service computed them."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tax_rate = models.DecimalField(
        _("tax %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)
    gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2)

    objects = QuoteLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quote_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="quote_line_discount_range"
            ),
            models.CheckConstraint(condition=Q(tax_rate__gte=0, tax_rate__lte=100), name="quote_line_tax_range"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product.sku}"


class QuoteLink(models.Model):
    """A one-time link through which the customer views a sent quote and accepts or
    declines it. Only the SHA-256 of the token is stored; the token is in the e-mail."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("sent to"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote link")
        verbose_name_plural = _("quote links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.quote} → {self.email}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
