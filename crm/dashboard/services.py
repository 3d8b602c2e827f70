"""The dashboard's writes: the refresh of its summary figures, and the targets admins set."""

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, DurationField, ExpressionWrapper, F, Max, Q, Sum, Value
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.models import Contract
from crm.core.audit import audit_record
from crm.dashboard.models import DashboardFact, DashboardRefresh, FactKind, SalesTarget
from crm.insight.models import CustomerSegmentMember
from crm.insight.selectors import with_win_probability
from customers.choices import CLOSED_STAGES
from customers.models import Customer, Opportunity
from orders.choices import OrderStatus
from orders.models import Order
from service.choices import OPEN_STATUSES
from service.models import SatisfactionRating, Ticket

MONEY: DecimalField = DecimalField(max_digits=20, decimal_places=2)

# Contracts that have been signed by both parties (what "signed value" counts).
SIGNED_STATUSES = [ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED, ContractStatus.EXPIRED]
# Contracts orders are placed against, for "ordered against contracted".
LIVE_CONTRACT_STATUSES = [ContractStatus.ACTIVE, ContractStatus.COMPLETED]
# How long an approval has waited: the upper bound in days of each bucket, then "older".
APPROVAL_AGE_BUCKETS = [(1, "0-1"), (3, "1-3"), (7, "3-7")]
APPROVAL_AGE_OLDER = "7+"
REFRESH_LOCK = 0x0DA5B0A2D  # the advisory lock two refreshes take turns on
#: Orders that count as revenue: approved by the company, not cancelled.
REVENUE_STATUSES = [OrderStatus.APPROVED, OrderStatus.IN_FULFILMENT, OrderStatus.DELIVERED, OrderStatus.CLOSED]
#: The customer's columns revenue is grouped by (REVENUE facts' key2); "segment" is its
#: k-means segment's key (crm.insight), empty for a customer in none.
REVENUE_GROUPS = ["industry", "tier", "region", "segment"]


def _age_bucket(since: Any, now: Any) -> str:
    if since is None:
        return APPROVAL_AGE_OLDER
    days = (now - since).total_seconds() / 86400
    for limit, name in APPROVAL_AGE_BUCKETS:
        if days < limit:
            return name
    return APPROVAL_AGE_OLDER


def _facts(now: Any) -> list[DashboardFact]:
    facts: list[DashboardFact] = []

    def add(
        kind: str,
        rows: Any,
        *,
        owner: str = "owner",
        key: Any = None,
        key2: Any = None,
        period: Any = None,
        **fields: str,
    ) -> None:
        for row in rows:
            facts.append(
                DashboardFact(
                    kind=kind,
                    owner_id=row[owner],
                    key="" if key is None else str(row[key] or ""),
                    key2="" if key2 is None else str(row[key2] or ""),
                    period=row[period] if period else None,
                    currency=row.get("currency") or "",
                    **{name: row[source] or 0 for name, source in fields.items()},
                )
            )

    # The open pipeline, weighted by each deal's probability (`with_win_probability`: the
    # owner's override, else the model's where it beats the stage default, else the
    # stage's), per owner, stage and month.
    pipeline = (
        with_win_probability(Opportunity.objects.open())
        .values("owner", "stage", "currency", month=TruncMonth("expected_close_date"))
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted_total=Sum(F("amount") * F("probability_value") / Value(100), output_field=MONEY),
        )
        .order_by()
    )
    add(FactKind.PIPELINE, pipeline, key="stage", period="month", count="n", amount="total", weighted="weighted_total")

    closed = (
        Opportunity.objects.filter(stage__in=CLOSED_STAGES, closed_at__isnull=False)
        .values("owner", "stage", "currency", month=TruncMonth("closed_at"))
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            cycle=Sum(ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())),
        )
        .order_by()
    )
    for row in closed:
        cycle = row["cycle"] or timedelta()
        facts.append(
            DashboardFact(
                kind=FactKind.CLOSED,
                owner_id=row["owner"],
                key=row["stage"],
                period=row["month"].date() if hasattr(row["month"], "date") else row["month"],
                count=row["n"],
                amount=row["total"] or 0,
                currency=row["currency"],
                extra=Decimal(max(cycle.total_seconds(), 0) / 86400).quantize(Decimal("0.01")),
            )
        )

    signed = (
        Contract.objects.filter(status__in=SIGNED_STATUSES)
        .annotate(signed_on=Max("signatures__signed_at"))
        .filter(signed_on__isnull=False)
        .values("customer_owner", "currency", month=TruncMonth("signed_on"))
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    for row in signed:
        row["month"] = row["month"].date() if hasattr(row["month"], "date") else row["month"]
    add(FactKind.SIGNED, signed, owner="customer_owner", period="month", count="n", amount="total")

    execution = (
        Contract.objects.filter(status__in=LIVE_CONTRACT_STATUSES)
        .values("customer_owner", "status", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), ordered=Sum("ordered_amount"))
        .order_by()
    )
    add(FactKind.EXECUTION, execution, owner="customer_owner", key="status", count="n", amount="total", extra="ordered")

    customers = Customer.objects.values("owner", "status").annotate(n=Count("id")).order_by()
    add(FactKind.CUSTOMERS, customers, key="status", count="n")

    orders = (
        Order.objects.values("customer_owner", "status", "currency", month=TruncMonth("order_date"))
        .annotate(n=Count("id"), total=Sum("total"))
        .order_by()
    )
    add(FactKind.ORDERS, orders, owner="customer_owner", key="status", period="month", count="n", amount="total")

    waiting: dict[tuple, list] = {}
    pending = Contract.objects.filter(status=ContractStatus.PENDING_APPROVAL).values_list(
        "customer_owner", "awaiting_role", "submitted_at", "amount"
    )
    for owner_id, role, submitted_at, amount in pending.iterator():
        slot = waiting.setdefault((owner_id, role, _age_bucket(submitted_at, now)), [0, Decimal(0)])
        slot[0] += 1
        slot[1] += amount
    for (owner_id, role, bucket), (n, total) in waiting.items():
        facts.append(
            DashboardFact(kind=FactKind.APPROVALS, owner_id=owner_id, key=role, key2=bucket, count=n, amount=total)
        )

    backlog = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values("customer__owner", "priority")
        .annotate(n=Count("id"))
        .order_by()
    )
    add(FactKind.BACKLOG, backlog, owner="customer__owner", key="priority", count="n")

    load = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=False)
        .values("customer__owner", "assignee")
        .annotate(n=Count("id"))
        .order_by()
    )
    add(FactKind.AGENT_LOAD, load, owner="customer__owner", key="assignee", count="n")

    sla = (
        Ticket.objects.filter(resolved_at__isnull=False, resolution_due_at__isnull=False)
        .values("customer__owner", week=TruncWeek("resolved_at"))
        .annotate(n=Count("id"), met=Count("id", filter=Q(resolved_at__lte=F("resolution_due_at"))))
        .order_by()
    )
    for row in sla:
        row["week"] = row["week"].date()
    add(FactKind.SLA, sla, owner="customer__owner", period="week", count="n", extra="met")

    ratings = (
        SatisfactionRating.objects.values("ticket__customer__owner", week=TruncWeek("created_at"))
        .annotate(n=Count("id"), total=Sum("score"))
        .order_by()
    )
    for row in ratings:
        row["week"] = row["week"].date()
    add(FactKind.SATISFACTION, ratings, owner="ticket__customer__owner", period="week", count="n", amount="total")
    return facts


def _insert_revenue_facts() -> int:
    """Write the REVENUE and CUSTOMER_REVENUE rows in the database (INSERT ... SELECT, one
    read of the orders): at a million orders, the revenue-per-customer rows are about as
    many as the orders, too many to pass through Python. Returns the rows written."""
    facts = DashboardFact._meta.db_table
    columns = "kind, owner_id, key, key2, period, count, amount, weighted, extra, currency"
    per_group = " UNION ALL ".join(
        f"SELECT %s, owner_id, {group}, %s, month, SUM(n), SUM(total), 0, 0, currency FROM sales "
        f"GROUP BY owner_id, {group}, month, currency"
        for group in REVENUE_GROUPS
    )
    sql = f"""
        WITH sales AS (
            SELECT o.customer_owner_id AS owner_id, o.customer_id, o.currency,
                   DATE_TRUNC('month', o.order_date)::date AS month,
                   c.industry, c.tier, c.region, COALESCE(m.segment_key, '') AS segment,
                   COUNT(*) AS n, SUM(o.total) AS total
            FROM {Order._meta.db_table} o
            JOIN {Customer._meta.db_table} c ON c.id = o.customer_id
            LEFT JOIN {CustomerSegmentMember._meta.db_table} m ON m.customer_id = o.customer_id
            WHERE o.status = ANY(%s)
            GROUP BY o.customer_owner_id, o.customer_id, o.currency, month, c.industry, c.tier, c.region, segment
        ), per_customer AS (
            INSERT INTO {facts} ({columns})
            SELECT %s, owner_id, customer_id::text, '', month, SUM(n), SUM(total), 0, 0, currency FROM sales
            GROUP BY owner_id, customer_id, month, currency
            RETURNING 1
        ), per_group AS (
            INSERT INTO {facts} ({columns}) {per_group}
            RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM per_customer) + (SELECT COUNT(*) FROM per_group)
    """
    params: list[Any] = [[str(status) for status in REVENUE_STATUSES], str(FactKind.CUSTOMER_REVENUE)]
    for group in REVENUE_GROUPS:
        params += [str(FactKind.REVENUE), group]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@transaction.atomic
def dashboard_refresh(*, actor: Any) -> DashboardRefresh:
    """Recompute every summary figure from the source tables, in one transaction: a page
    sees the old figures or the new ones, never half. Two refreshes at once take turns (the
    second waits on the first's advisory lock and then recomputes). Derived figures, not records:
    no audit entry (the run is recorded as a JobRun when the scheduler runs it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
    started = time.monotonic()
    now = timezone.now()
    run = DashboardRefresh.objects.create(started_at=now)
    facts = _facts(now)
    DashboardFact.objects.all().delete()
    DashboardFact.objects.bulk_create(facts, batch_size=2000)
    revenue_rows = _insert_revenue_facts()
    run.finished_at = timezone.now()
    run.facts = len(facts) + revenue_rows
    run.seconds = round(time.monotonic() - started, 3)
    run.save(update_fields=["finished_at", "facts", "seconds"])
    DashboardRefresh.objects.filter(started_at__lt=now - timedelta(days=7)).delete()
    return run


@transaction.atomic
def sales_target_save(*, actor: Any, target: SalesTarget) -> SalesTarget:
    """Create or change a target (from the admin), audited."""
    target.full_clean()
    old = None
    if target.pk:
        old = SalesTarget.objects.select_for_update().filter(pk=target.pk).first()
    target.save()
    changes = {}
    for field in ("owner_id", "period", "starts_on", "amount"):
        before = getattr(old, field) if old else None
        after = getattr(target, field)
        if before != after:
            changes[field.removesuffix("_id")] = [str(before) if before is not None else None, str(after)]
    audit_record(
        actor=actor, action="sales_target.changed" if old else "sales_target.created", target=target, changes=changes
    )
    return target
