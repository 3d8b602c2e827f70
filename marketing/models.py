"""Segments (saved filters over customers), e-mail campaigns to them, each recipient's
outcome, the addresses that said no, and the opportunities a campaign brought."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerStatus, CustomerTier, Industry, Region
from marketing import workflow  # noqa: F401 - registers the campaign workflow with the engine
from marketing.choices import CampaignLanguage, CampaignStatus, RecipientStatus, ReturnedMailKind, SuppressionReason
from marketing.querysets import CampaignQuerySet, RecipientQuerySet, SegmentQuerySet

SEGMENT_FIELDS = [
    "name",
    "description",
    "statuses",
    "industries",
    "tiers",
    "regions",
    "customer_owner",
    "last_order_after",
    "last_order_before",
    "min_orders",
    "max_orders",
    "insight_cluster",
]
CAMPAIGN_FIELDS = [
    "name",
    "segment",
    "language",
    "subject_en",
    "body_en",
    "subject_zh",
    "body_zh",
    "rate_per_minute",
]


def default_send_rate() -> int:
    return settings.MARKETING_SEND_RATE_PER_MINUTE


class Segment(models.Model):
    """A saved filter over customers. Every criterion left empty matches everyone; the
    members are always narrowed to the customers the segment's owner may see."""

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    statuses = ArrayField(
        models.CharField(max_length=20, choices=CustomerStatus.choices),
        verbose_name=_("customer statuses"),
        default=list,
        blank=True,
    )
    industries = ArrayField(
        models.CharField(max_length=30, choices=Industry.choices),
        verbose_name=_("industries"),
        default=list,
        blank=True,
    )
    tiers = ArrayField(
        models.CharField(max_length=20, choices=CustomerTier.choices), verbose_name=_("tiers"), default=list, blank=True
    )
    regions = ArrayField(
        models.CharField(max_length=20, choices=Region.choices), verbose_name=_("regions"), default=list, blank=True
    )
    customer_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customers owned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_order_after = models.DateField(_("last order on or after"), null=True, blank=True)
    last_order_before = models.DateField(_("last order on or before"), null=True, blank=True)
    min_orders = models.PositiveIntegerField(_("at least this many orders"), null=True, blank=True)
    max_orders = models.PositiveIntegerField(_("at most this many orders"), null=True, blank=True)
    # The insight issue's k-means segment (recency, frequency, monetary value): applied by the
    # provider crm.insight registers (marketing.selectors.segment_cluster_provider_register).
    insight_cluster = models.CharField(_("customer segment (k-means)"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]
        permissions = [("view_all_segment", _("Can view every segment"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_orders__isnull=True)
                | Q(max_orders__isnull=True)
                | Q(min_orders__lte=models.F("max_orders")),
                name="segment_order_count_range",
            ),
            models.CheckConstraint(
                condition=Q(last_order_after__isnull=True)
                | Q(last_order_before__isnull=True)
                | Q(last_order_after__lte=models.F("last_order_before")),
                name="segment_last_order_range",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:segment_detail", args=[self.pk])


class Campaign(models.Model):
    """An e-mail to a segment's contacts who agreed to marketing mail, in English and/or
    Chinese: each recipient gets the version in their preferred language when there is one."""

    name = models.CharField(_("name"), max_length=150)
    segment = models.ForeignKey(Segment, verbose_name=_("segment"), on_delete=models.PROTECT, related_name="campaigns")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, editable=False
    )
    language = models.CharField(
        _("main language"),
        max_length=10,
        choices=CampaignLanguage.choices,
        default=CampaignLanguage.CHINESE,
        help_text=_("Contacts whose language has no version of their own get this one."),
    )
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    rate_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        default=default_send_rate,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True, editable=False)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True, editable=False)
    # The body's links, fixed when sending starts: a tracked link names one of these by its
    # position, so the redirect can only lead where the campaign itself pointed.
    links = models.JSONField(_("links"), default=list, blank=True, editable=False)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_campaign", _("Can view every campaign")),
            ("send_campaign", _("Can schedule, send and cancel campaigns")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"),
            models.CheckConstraint(condition=Q(language__in=CampaignLanguage.values), name="campaign_language_valid"),
            models.CheckConstraint(condition=Q(rate_per_minute__gte=1), name="campaign_rate_positive"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:campaign_detail", args=[self.pk])

    def version_for(self, language: str) -> tuple[str, str, str]:
        """(language, subject, body) a recipient preferring `language` gets."""
        versions = {
            CampaignLanguage.ENGLISH.value: (self.subject_en, self.body_en),
            CampaignLanguage.CHINESE.value: (self.subject_zh, self.body_zh),
        }
        for choice in (language, self.language, *versions):
            subject, body = versions.get(choice, ("", ""))
            if subject.strip() and body.strip():
                return choice, subject, body
        return self.language, "", ""


class Recipient(models.Model):
    """One contact's copy of a campaign and what became of it."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="recipients"
    )
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=150)
    status = models.CharField(
        _("status"), max_length=20, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED
    )
    # SHA-256 of the token in the recipient's links (unsubscribe, tracked links); the token
    # itself is only in the mail.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    mail_id = models.BigIntegerField(null=True, blank=True, editable=False)  # its OutgoingMail
    error = models.CharField(_("error"), max_length=500, blank=True)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    handed_at = models.DateTimeField(_("handed to the mail queue"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("first click"), null=True, blank=True)
    click_count = models.PositiveIntegerField(_("clicks"), default=0)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    # SHA-256 of the token in the copy's return path (bounces+<token>@...) and Message-ID: a
    # bounce or a reply names the recipient by it. Not the links' token, so knowing one
    # address cannot unsubscribe anybody.
    return_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    soft_bounces = models.PositiveIntegerField(_("temporary bounces"), default=0, db_default=0)
    replied_at = models.DateTimeField(_("first reply"), null=True, blank=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="recipient_once_per_campaign"),
            models.CheckConstraint(condition=Q(status__in=RecipientStatus.values), name="recipient_status_valid"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="recipient_campaign_status_idx"),
            models.Index(fields=["campaign", "handed_at", "id"], name="recipient_to_hand_idx"),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class Suppression(models.Model):
    """An address no campaign mails again: its owner unsubscribed, or it bounced."""

    email = models.EmailField(_("e-mail"), unique=True)  # stored lower-cased
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"),
        ]

    def __str__(self):
        return self.email


class ReturnedMail(models.Model):
    """One message read from the campaign mailbox (`fetch_campaign_mail`): a bounce, an
    automatic reply, a recipient's reply, or something not understood, kept so the same
    message read twice is taken once and an admin can see what came back."""

    message_key = models.CharField(max_length=250, unique=True, editable=False)  # Message-ID, else the bytes' SHA-256
    kind = models.CharField(_("kind"), max_length=20, choices=ReturnedMailKind.choices)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_email = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    address = models.CharField(_("address that failed"), max_length=254, blank=True)
    status_code = models.CharField(_("status code"), max_length=20, blank=True)
    diagnostic = models.CharField(_("diagnostic"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("read"), default=timezone.now)

    class Meta:
        verbose_name = _("returned mail")
        verbose_name_plural = _("returned mail")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ReturnedMailKind.values), name="returned_mail_kind_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class CampaignOpportunity(models.Model):
    """An opportunity opened because of a campaign (its source is "campaign")."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="opportunity_links"
    )
    opportunity = models.OneToOneField(
        "customers.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign opportunity")
        verbose_name_plural = _("campaign opportunities")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.campaign} → {self.opportunity}"
