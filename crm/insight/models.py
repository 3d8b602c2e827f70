"""The models' versions and the scores they wrote.

Every training leaves a `ModelVersion` (its figures, its baseline's, the fitted model as
bytes with their SHA-256); the newest run of each kind is the active one. The scores are
rows (`CustomerSegmentMember`, `CustomerOrderScore`, `OpportunityScore`) written by the
training in the same transaction, so a page reads a row and never trains or waits.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.insight.choices import ModelKind, ModelStatus
from customers.models import Customer, Opportunity


class ModelVersion(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ModelKind.choices)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=ModelStatus.choices, default=ModelStatus.TRAINED)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    window_start = models.DateTimeField(_("training data from"), null=True, blank=True)
    window_end = models.DateTimeField(_("training data until"), null=True, blank=True)
    training_size = models.PositiveIntegerField(_("training rows"), default=0)
    test_size = models.PositiveIntegerField(_("held-out rows"), default=0)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True, help_text=_("Its own and its baseline's."))
    beats_baseline = models.BooleanField(_("beats its baseline"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    estimator = models.BinaryField(_("fitted model"), blank=True, default=b"")
    estimator_sha256 = models.CharField(_("SHA-256 of the fitted model"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="insight_model_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_active=True), name="insight_model_one_active_per_kind"
            ),
            models.CheckConstraint(condition=Q(kind__in=ModelKind.values), name="insight_model_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ModelStatus.values), name="insight_model_status_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def usable(self) -> bool:
        return self.status == ModelStatus.TRAINED

    @staticmethod
    def checksum(data: bytes) -> str:
        return hashlib.sha256(bytes(data)).hexdigest()


def segment_label(key: str) -> str:
    """A segment's name in plain words from its key (the recency, frequency and value levels,
    e.g. "210"), the same in every version."""
    recencies = [gettext("bought long ago"), gettext("bought a while ago"), gettext("bought recently")]
    frequencies = [gettext("rarely"), gettext("now and then"), gettext("often")]
    values = [gettext("low value"), gettext("medium value"), gettext("high value")]
    recency, frequency, value = (int(level) for level in key)
    return gettext("%(recency)s, %(frequency)s, %(value)s") % {
        "recency": recencies[recency],
        "frequency": frequencies[frequency],
        "value": values[value],
    }


class CustomerSegment(models.Model):
    """One k-means segment, named from its centre: a level (0 low, 1 middle, 2 high) for how
    recently, how often and how much its customers bought, against all customers' tertiles."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="segments")
    number = models.PositiveSmallIntegerField()
    recency_level = models.PositiveSmallIntegerField()  # 2: bought most recently
    frequency_level = models.PositiveSmallIntegerField()
    value_level = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField(default=0)
    centre = models.JSONField(default=dict)  # recency_days, orders, value

    class Meta:
        ordering = ["model_version", "number"]
        constraints = [models.UniqueConstraint(fields=["model_version", "number"], name="insight_segment_unique")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return segment_label(self.key)

    @property
    def key(self) -> str:
        """The same words give the same key in every version (for the list's filter)."""
        return f"{self.recency_level}{self.frequency_level}{self.value_level}"


class CustomerSegmentMember(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(CustomerSegment, on_delete=models.CASCADE, related_name="members")
    segment_key = models.CharField(max_length=3, db_index=True)

    def __str__(self):
        return f"{self.customer_id} → {self.segment_id}"


class CustomerOrderScore(models.Model):
    """The chance an active customer orders within the next 90 days."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    scored_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.customer_id}: {self.probability:.2f}"


class OpportunityScore(models.Model):
    """An open deal's chance of being won, with the factors that pushed it most."""

    opportunity = models.OneToOneField(Opportunity, on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    factors = models.JSONField(default=list)
    scored_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.opportunity_id}: {self.probability:.2f}"
