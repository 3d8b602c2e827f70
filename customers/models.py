from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.dates import SensibleDatesMixin
from crm.core.gram_search import search_grams_field, search_index
from customers.choices import (
    CustomerKind,
    CustomerStatus,
    CustomerTier,
    Industry,
    InteractionKind,
)
from customers.copies import customer_name_field, customer_owner_field
from customers.querysets import (
    ContactQuerySet,
    CustomerQuerySet,
    InteractionQuerySet,
    email_key,
    name_key,
    phone_key,
)

phone_digits = phone_key  # inside the model classes `phone_key` names the generated field

# Audited fields: the ones whose changes the history shows.
CUSTOMER_FIELDS = [
    "kind",
    "name",
    "industry",
    "tier",
    "status",
    "email",
    "phone",
    "address",
    "owner",
    "notes",
]
CONTACT_FIELDS = ["name", "title", "email", "phone", "is_primary"]
INTERACTION_FIELDS = ["kind", "subject", "body", "occurred_at", "contact"]


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, default=Industry.OTHER)
    tier = models.CharField(_("tier"), max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    status = models.CharField(_("status"), max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.LEAD)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    # Normalized keys, computed by PostgreSQL, back the duplicate rule and the search.
    name_key = models.GeneratedField(
        expression=name_key(F("name")), output_field=models.CharField(max_length=200), db_persist=True
    )
    email_key = models.GeneratedField(
        expression=email_key(F("email")), output_field=models.CharField(max_length=254), db_persist=True
    )
    phone_key = models.GeneratedField(
        expression=phone_key(F("phone")), output_field=models.CharField(max_length=40), db_persist=True
    )
    search_grams = search_grams_field(F("name"), F("email"), phone_digits(F("phone")))

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        permissions = [
            ("view_all_customer", _("Can see every customer, not only their own")),
            ("reassign_customer", _("Can give customers to another owner")),
            ("view_contact_details", _("Can see unmasked phone numbers and e-mail addresses")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name_key"], name="customer_unique_name"),
            models.UniqueConstraint(fields=["email_key"], condition=~Q(email_key=""), name="customer_unique_email"),
            models.UniqueConstraint(fields=["phone_key"], condition=~Q(phone_key=""), name="customer_unique_phone"),
            models.CheckConstraint(condition=Q(status__in=CustomerStatus.values), name="customer_status_valid"),
            models.CheckConstraint(condition=Q(tier__in=CustomerTier.values), name="customer_tier_valid"),
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="customer_kind_valid"),
            models.CheckConstraint(condition=Q(industry__in=Industry.values), name="customer_industry_valid"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_created_idx"),
            models.Index(fields=["-updated_at", "-id"], name="customer_updated_idx"),
            models.Index(fields=["status", "name", "id"], name="customer_status_name_idx"),
            # A rep's list in each offered order (their own rows only).
            models.Index(fields=["owner", "-created_at", "-id"], name="customer_owner_created_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="customer_owner_updated_idx"),
            models.Index(fields=["owner", "status", "name", "id"], name="customer_owner_status_idx"),
            search_index("customer_search_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.pk])


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Copies of the customer's owner and name, kept by the database (customers.copies).
    customer_owner = customer_owner_field()
    customer_name = customer_name_field()
    search_grams = search_grams_field(F("name"), F("email"), phone_digits(F("phone")), F("customer_name"))

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="contact_one_primary_per_customer"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "name"], name="contact_customer_name_idx"),
            models.Index(fields=["name", "id"], name="contact_name_idx"),
            models.Index(fields=["customer_name", "id"], name="contact_customer_sort_idx"),
            models.Index(fields=["customer_owner", "name", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["customer_owner", "customer_name", "id"], name="contact_owner_customer_idx"),
            search_index("contact_search_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.customer_id]) + f"#contact-{self.pk}"


class Interaction(SensibleDatesMixin, models.Model):
    """One entry of the customer's timeline."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InteractionKind.values), name="interaction_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_timeline_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.customer_id]) + "#timeline"
