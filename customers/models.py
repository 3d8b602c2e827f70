import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.dates import SensibleDatesMixin
from crm.core.gram_search import search_grams_field, search_index
from customers.choices import (
    OPEN_STAGES,
    ActivityKind,
    ActivityStatus,
    CustomerKind,
    CustomerStatus,
    CustomerTier,
    Industry,
    InteractionKind,
    OpportunitySource,
    OpportunityStage,
    Region,
)
from customers.copies import customer_name_field, customer_owner_field
from customers.querysets import (
    ActivityQuerySet,
    ContactQuerySet,
    CustomerQuerySet,
    InteractionQuerySet,
    OpportunityQuerySet,
    email_key,
    name_key,
    phone_key,
)
from customers.workflow import WORKFLOW as OPPORTUNITY_WORKFLOW  # noqa: F401  (registers the table)

phone_digits = phone_key  # inside the model classes `phone_key` names the generated field

# Audited fields: the ones whose changes the history shows.
CUSTOMER_FIELDS = [
    "kind",
    "name",
    "external_ref",
    "industry",
    "tier",
    "status",
    "email",
    "phone",
    "address",
    "region",
    "owner",
    "notes",
]
CONTACT_FIELDS = ["name", "title", "email", "phone", "is_primary", "language", "marketing_consent"]
INTERACTION_FIELDS = ["kind", "subject", "body", "occurred_at", "contact", "opportunity"]
OPPORTUNITY_FIELDS = [
    "title",
    "customer",
    "owner",
    "amount",
    "currency",
    "expected_close_date",
    "source",
    "next_step",
    "next_step_date",
    "probability_override",
]
ACTIVITY_FIELDS = ["kind", "subject", "due_at", "assignee", "opportunity", "notes"]


def validate_currency(code):
    # pycountry matches case-insensitively; the column holds upper-case codes only.
    if not (code or "").isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError(_("%(code)s is not an ISO 4217 currency code."), params={"code": code})


def contact_language_default():
    """A new contact's mail language: the site's."""
    return settings.LANGUAGE_CODE


def default_currency():
    return settings.DEFAULT_CURRENCY


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    # The customer's id in the system it came from: later files of contacts or past orders
    # name their customer by it (unique when set).
    external_ref = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        default="",
        db_default="",  # rows bulk-loaded with COPY (the demo, benchmarks) leave it out
        help_text=_("Its id in the system it came from, for imports."),
    )
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, default=Industry.OTHER)
    tier = models.CharField(_("tier"), max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    status = models.CharField(_("status"), max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.LEAD)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    region = models.CharField(
        _("region"),
        max_length=20,
        choices=Region.choices,
        blank=True,
        default="",
        db_default="",  # rows bulk-loaded with COPY (the benchmarks) leave it out
        help_text=_("The province or region it is in, for reports and segments."),
    )
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
            models.UniqueConstraint(
                fields=["external_ref"], condition=~Q(external_ref=""), name="customer_unique_external_ref"
            ),
            models.CheckConstraint(condition=Q(status__in=CustomerStatus.values), name="customer_status_valid"),
            models.CheckConstraint(condition=Q(tier__in=CustomerTier.values), name="customer_tier_valid"),
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="customer_kind_valid"),
            models.CheckConstraint(condition=Q(industry__in=Industry.values), name="customer_industry_valid"),
            models.CheckConstraint(condition=Q(region__in=["", *Region.values]), name="customer_region_valid"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_created_idx"),
            models.Index(fields=["-updated_at", "-id"], name="customer_updated_idx"),
            models.Index(fields=["status", "name", "id"], name="customer_status_name_idx"),
            models.Index(fields=["region", "name", "id"], name="customer_region_name_idx"),
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
    # The language of the mail the contact gets from us (tickets' replies, links, surveys).
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=contact_language_default,
        db_default=settings.LANGUAGE_CODE,  # rows bulk-loaded with COPY
    )
    # Whether the contact agreed to receive marketing e-mail (campaigns mail only those who
    # did; unsubscribing through a campaign's link withdraws it).
    marketing_consent = models.BooleanField(_("marketing e-mail consent"), default=False, db_default=False)
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
    opportunity = models.ForeignKey(
        "customers.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
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


class LostReason(models.Model):
    """Why deals are lost: a list the admin keeps, so the reasons can be counted."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class StageProbability(models.Model):
    """The win probability an opportunity gets from its stage unless its owner overrides it."""

    stage = models.CharField(_("stage"), max_length=20, choices=OpportunityStage.choices, unique=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("stage probability")
        verbose_name_plural = _("stage probabilities")
        ordering = ["probability", "stage"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=OpportunityStage.values), name="stage_probability_stage_valid"
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_at_most_100"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.probability}%"


class Opportunity(SensibleDatesMixin, models.Model):
    """A deal being worked with a customer, moved through its stages by the workflow."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_opportunities",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[validate_currency])
    expected_close_date = models.DateField(_("expected close date"))
    source = models.CharField(
        _("source"), max_length=20, choices=OpportunitySource.choices, default=OpportunitySource.OTHER
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    stage = models.CharField(
        _("stage"),
        max_length=20,
        choices=OpportunityStage.choices,
        default=OpportunityStage.PROSPECTING,
        editable=False,
    )
    probability_override = models.PositiveSmallIntegerField(
        _("probability override (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Leave empty to use the stage's probability."),
    )
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        editable=False,
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close_date", "id"]
        permissions = [
            ("close_opportunity", _("Can mark opportunities won or lost")),
            ("assign_opportunity", _("Can give opportunities to another owner")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=OpportunityStage.values), name="opportunity_stage_valid"),
            models.CheckConstraint(condition=Q(source__in=OpportunitySource.values), name="opportunity_source_valid"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="opportunity_currency_code"),
            models.CheckConstraint(
                condition=Q(probability_override__isnull=True) | Q(probability_override__lte=100),
                name="opportunity_probability_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(stage=OpportunityStage.LOST, lost_reason__isnull=False)
                | (~Q(stage=OpportunityStage.LOST) & Q(lost_reason__isnull=True)),
                name="opportunity_lost_has_reason",
            ),
        ]
        indexes = [
            # The board: each column's top cards and its count and total.
            models.Index(fields=["stage", "expected_close_date", "id"], name="opportunity_stage_close_idx"),
            models.Index(fields=["owner", "stage", "expected_close_date"], name="opportunity_owner_stage_idx"),
            models.Index(fields=["customer", "stage"], name="opportunity_customer_idx"),
            models.Index(fields=["-updated_at", "-id"], name="opportunity_updated_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("customers:opportunity_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def probability(self) -> int:
        """The owner's override, else the stage's default (annotated by `with_probability()`
        on lists, looked up here for a single opportunity)."""
        annotated = getattr(self, "probability_value", None)
        if annotated is not None:
            return annotated
        if self.probability_override is not None:
            return self.probability_override
        row = StageProbability.objects.filter(stage=self.stage).values_list("probability", flat=True).first()
        return row or 0

    @property
    def weighted_amount(self):
        return self.amount * self.probability / 100

    def idle_days(self, now=None) -> int:
        """Whole days since anything happened to the deal (its last change)."""
        return ((now or timezone.now()) - self.updated_at).days

    def is_stale(self, now=None) -> bool:
        return self.is_open and self.idle_days(now) > settings.OPPORTUNITY_STALE_DAYS


class OpportunityStageChange(models.Model):
    """One move between stages: who, when, from, to, and how long the deal sat in `from`.
    The first row of an opportunity (no `from`) records when it entered its first stage."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=OpportunityStage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=OpportunityStage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    seconds_in_from = models.PositiveBigIntegerField(_("seconds in the previous stage"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(to_stage__in=OpportunityStage.values), name="stage_change_to_valid"),
            models.CheckConstraint(
                condition=Q(from_stage="") | Q(from_stage__in=OpportunityStage.values), name="stage_change_from_valid"
            ),
        ]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="stage_change_opportunity_idx")]

    def __str__(self):
        return f"{self.opportunity}: {self.from_stage or '-'} -> {self.to_stage}"


class Activity(SensibleDatesMixin, models.Model):
    """A follow-up someone has to do: a call, a meeting, an e-mail or a to-do, due at a time."""

    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices, default=ActivityKind.CALL)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="activities"
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.OPEN, editable=False
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True, editable=False)
    outcome = models.TextField(_("outcome"), blank=True, editable=False)
    interaction = models.OneToOneField(
        Interaction,
        verbose_name=_("timeline entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity",
        editable=False,
    )
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ActivityStatus.values), name="activity_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=ActivityStatus.DONE) | Q(done_at__isnull=False), name="activity_done_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="activity_assignee_due_idx"),
            models.Index(fields=["customer", "due_at"], name="activity_customer_idx"),
            # The reminder job: open activities not yet reminded, by due time.
            models.Index(
                fields=["due_at"], condition=Q(status="open", reminded_at__isnull=True), name="activity_to_remind_idx"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"

    def get_absolute_url(self):
        return reverse("customers:activity_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == ActivityStatus.OPEN

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at < (now or timezone.now())
