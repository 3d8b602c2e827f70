"""The dashboard's own tables: the targets admins set, and the summary figures the
scheduler refreshes (so a page at a million orders reads a few hundred rows, not the orders)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class SalesTarget(models.Model):
    """What an owner should sell in a month or a quarter (admin-set)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="sales_targets"
    )
    period = models.CharField(_("period"), max_length=10, choices=TargetPeriod.choices, default=TargetPeriod.MONTH)
    starts_on = models.DateField(_("starts on"), help_text=_("The first day of the month or quarter."))
    amount = models.DecimalField(_("target amount"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-starts_on", "owner_id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "period", "starts_on"], name="sales_target_once_per_period"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_target_amount_not_negative"),
            models.CheckConstraint(condition=Q(period__in=TargetPeriod.values), name="sales_target_period_valid"),
        ]

    def __str__(self):
        return f"{self.owner} · {self.get_period_display()} {self.starts_on:%Y-%m}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.starts_on is None:
            return
        if self.starts_on.day != 1 or (
            self.period == TargetPeriod.QUARTER and self.starts_on.month not in (1, 4, 7, 10)
        ):
            raise ValidationError({"starts_on": _("A target starts on the first day of its month or quarter.")})


class FactKind(models.TextChoices):
    """What a summary row counts. `owner` is the row's visibility owner (the customer's
    owner, or the deal's owner for opportunities), so a user's share is `owner = user`."""

    PIPELINE = "pipeline", _("Open pipeline")  # key stage, period close month; amount, weighted
    CLOSED = "closed", _("Closed deals")  # key won/lost, period close month; amount, extra = cycle days
    SIGNED = "signed", _("Signed contracts")  # period signing month; amount
    EXECUTION = "execution", _("Order execution")  # live contracts: amount contracted, extra ordered
    ORDERS = "orders", _("Orders")  # key status, period order month; amount
    APPROVALS = "approvals", _("Approvals waiting")  # key awaiting role, key2 age bucket
    BACKLOG = "backlog", _("Ticket backlog")  # key priority
    SLA = "sla", _("SLA compliance")  # period week resolved; count resolved, extra met
    SATISFACTION = "satisfaction", _("Satisfaction")  # period week rated; count, amount = sum of scores
    AGENT_LOAD = "agent_load", _("Agent load")  # key assignee id; count open
    CUSTOMERS = "customers", _("Customers")  # key status; count
    # Revenue (orders approved and not cancelled), period order month: key2 the grouping
    # (industry, tier, region, segment), key the customer's value of it; count orders, amount.
    REVENUE = "revenue", _("Revenue")
    CUSTOMER_REVENUE = "customer_revenue", _("Revenue per customer")  # key customer id, period order month


class DashboardFact(models.Model):
    kind = models.CharField(max_length=20, choices=FactKind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=50, blank=True)
    key2 = models.CharField(max_length=50, blank=True)
    period = models.DateField(null=True)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    extra = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # The currency of a figure's amounts: one row per currency, since amounts in different
    # currencies are never added up; empty for the kinds that only count.
    currency = models.CharField(max_length=3, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["kind", "owner"], name="dashboard_fact_kind_owner"),
            # The reports read a range of months of one kind (a million orders give about as
            # many revenue-per-customer rows when customers order once).
            models.Index(fields=["kind", "period"], name="dashboard_fact_kind_period"),
        ]

    def __str__(self):
        return f"{self.kind} {self.owner_id} {self.key} {self.period}"


class DashboardRefresh(models.Model):
    """One row per refresh; the newest finished one says how fresh the figures are."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    facts = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}"
