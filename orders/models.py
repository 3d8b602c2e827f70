from decimal import Decimal

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
from orders.choices import OrderStatus
from orders.querysets import OrderLineQuerySet, OrderQuerySet, ProductQuerySet
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
