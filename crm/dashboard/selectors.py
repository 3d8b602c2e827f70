"""Read-only figures for the dashboard, always over what the user may see.

The role sections read the summary rows (`DashboardFact`) the scheduler refreshes: each row
has the owner visibility follows (the customer's owner; the deal's owner for opportunities),
so a user's share is a filter on the owner — every row for a user who sees every record of
the source, only their own for the rest. Short lists (contracts ending soon, orders in
fulfilment, contracts awaiting a decision) are read live from the visible querysets.

Money is never added across currencies: the money figures (`MONEY_KINDS`) have one row per
currency, and the sections show one currency at a time — the default one unless the page
asks for another the user has figures in (`dashboard_currencies`)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.choices import ContractStatus, SigningParty
from contracts.selectors import approval_inbox, contract_list
from crm.core.roles import Role
from crm.core.types import Viewer
from crm.dashboard.charts import COUNT, MONEY, NUMBER, PERCENT, Chart, day_label, month_label
from crm.dashboard.models import DashboardFact, DashboardRefresh, FactKind, SalesTarget, TargetPeriod
from crm.insight.selectors import forecast_basis
from customers.choices import OPEN_STAGES, CustomerStatus, OpportunityStage
from customers.selectors import customer_list
from orders.choices import OrderStatus
from orders.selectors import order_list
from service.choices import TicketPriority

#: Who sees the rows of each kind of figure: (the source's view permission, its "view all").
SOURCE_PERMISSIONS = {
    FactKind.PIPELINE: ("customers.view_opportunity", "customers.view_all_customer"),
    FactKind.CLOSED: ("customers.view_opportunity", "customers.view_all_customer"),
    FactKind.SIGNED: ("contracts.view_contract", "contracts.view_all_contract"),
    FactKind.EXECUTION: ("contracts.view_contract", "contracts.view_all_contract"),
    FactKind.APPROVALS: ("contracts.view_contract", "contracts.view_all_contract"),
    FactKind.ORDERS: ("orders.view_order", "orders.view_all_order"),
    FactKind.BACKLOG: ("service.view_ticket", "service.view_all_ticket"),
    FactKind.AGENT_LOAD: ("service.view_ticket", "service.view_all_ticket"),
    FactKind.SLA: ("service.view_ticket", "service.view_all_ticket"),
    FactKind.SATISFACTION: ("service.view_ticket", "service.view_all_ticket"),
    FactKind.CUSTOMERS: ("customers.view_customer", "customers.view_all_customer"),
    FactKind.REVENUE: ("orders.view_order", "orders.view_all_order"),
    FactKind.CUSTOMER_REVENUE: ("orders.view_order", "orders.view_all_order"),
}

SECTIONS = [
    ("rep", Role.SALES_REP, _("My sales")),
    ("manager", Role.SALES_MANAGER, _("Sales team")),
    ("finance", Role.FINANCE_APPROVER, _("Finance")),
    ("signatory", Role.SIGNATORY, _("Signatory")),
    ("service", Role.SERVICE_MANAGER, _("Service desk")),
]
#: The kinds of figure whose amounts are money, kept per currency.
MONEY_KINDS = [FactKind.PIPELINE, FactKind.CLOSED, FactKind.SIGNED, FactKind.EXECUTION]
ENDING_WITHIN_DAYS = 60
LIST_LENGTH = 10
MONTHS_SHOWN = 12
WEEKS_SHOWN = 12


def _visible(user: Viewer, kind: str) -> Q | None:
    """Which rows of one kind the user may count: all of them (an empty Q) for a user who
    sees every record of the source, their own for one who sees their own, None for none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    view, view_all = SOURCE_PERMISSIONS[FactKind(kind)]
    if user.is_superuser or user.has_perm(view_all):
        return Q()
    if user.has_perm(view):
        return Q(owner=user)
    return None


def facts(*, user: Viewer, kind: str, currency: str | None = None) -> QuerySet[DashboardFact]:
    """The summary rows of one kind the user may count (`_visible`); of a money kind, only
    those in `currency` when it is given."""
    rows = DashboardFact.objects.filter(kind=kind)
    if currency is not None and kind in MONEY_KINDS:
        rows = rows.filter(currency=currency)
    visible = _visible(user, kind)
    return rows.none() if visible is None else rows.filter(visible)


def own_facts(*, user: Viewer, kinds: list[str], currency: str | None = None) -> dict[str, list[DashboardFact]]:
    """The user's own summary rows of several kinds (the rep's "my" figures, whatever else
    they may see), read in one query; of the money kinds, only those in `currency` when given."""
    by_kind: dict[str, list[DashboardFact]] = {kind: [] for kind in kinds}
    if user is None or not user.is_authenticated or not user.is_active:
        return by_kind
    rows = DashboardFact.objects.filter(owner=user, kind__in=kinds)
    if currency is not None:
        rows = rows.filter(~Q(kind__in=MONEY_KINDS) | Q(currency=currency))
    for row in rows:
        by_kind[row.kind].append(row)
    return by_kind


def dashboard_currencies(*, user: Viewer) -> list[str]:
    """The currencies of the money figures the user may count: the default one first (there
    even with no figures), then the others by code."""
    found = {settings.DEFAULT_CURRENCY}
    counted = Q(pk__in=[])
    for kind in MONEY_KINDS:
        visible = _visible(user, kind)
        if visible is not None:
            counted |= Q(kind=kind) & visible
    rows = DashboardFact.objects.filter(counted).exclude(currency="").order_by()
    found.update(rows.values_list("currency", flat=True).distinct())
    return sorted(found, key=lambda code: (code != settings.DEFAULT_CURRENCY, code))


def last_refresh() -> DashboardRefresh | None:
    return DashboardRefresh.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def months_back(first: date, count: int) -> list[date]:
    months = [first]
    for _i in range(count - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(months))


def add_months(day: date, count: int) -> date:
    month = day.month - 1 + count
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


def _sum(rows: Any, *fields: str) -> dict[str, Decimal]:
    totals = dict.fromkeys(fields, Decimal(0))
    for row in rows:
        for name in fields:
            totals[name] += getattr(row, name)
    return totals


def _user_names(ids: Any) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i]).only("username", "first_name", "last_name")
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def _ratio(part: Any, whole: Any) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)) if whole else None


def pipeline_chart(slug: str, rows: Any) -> Chart:
    by_stage: dict[str, list] = {stage: [0, Decimal(0), Decimal(0)] for stage in OPEN_STAGES}
    for row in rows:
        slot = by_stage.setdefault(row.key, [0, Decimal(0), Decimal(0)])
        slot[0] += row.count
        slot[1] += row.amount
        slot[2] += row.weighted
    chart = Chart(
        slug,
        _("Pipeline by stage"),
        "bar",
        [(_("Deals"), COUNT), (_("Amount"), MONEY), (_("Weighted amount"), MONEY)],
        label_header=_("Stage"),
        drawn=[1, 2],
    )
    if any(values[0] for values in by_stage.values()):
        chart.rows = [(str(OpportunityStage(stage).label), values) for stage, values in by_stage.items()]
    return chart


def forecast_periods(today: date) -> list[tuple[str, Any, date, date]]:
    month = month_start(today)
    quarter = quarter_start(today)
    return [
        (TargetPeriod.MONTH, _("This month"), month, add_months(month, 1)),
        (TargetPeriod.QUARTER, _("This quarter"), quarter, add_months(quarter, 3)),
    ]


def forecast_rows(pipeline: Any, closed: Any, start: date, end: date) -> tuple[Decimal, Decimal]:
    """(won in the period, weighted open pipeline expected to close in it)."""
    won = sum(
        (row.amount for row in closed if row.key == OpportunityStage.WON and start <= row.period < end), Decimal(0)
    )
    weighted = sum((row.weighted for row in pipeline if row.period and start <= row.period < end), Decimal(0))
    return won, weighted


def rep_section(*, user: Any, today: date, currency: str) -> dict[str, Any]:
    own = own_facts(
        user=user, kinds=[FactKind.PIPELINE, FactKind.CLOSED, FactKind.ORDERS, FactKind.BACKLOG], currency=currency
    )
    pipeline, closed = own[FactKind.PIPELINE], own[FactKind.CLOSED]
    forecast = []
    for _period, label, start, end in forecast_periods(today):
        won, weighted = forecast_rows(pipeline, closed, start, end)
        forecast.append({"label": label, "won": won, "weighted": weighted, "total": won + weighted})
    in_fulfilment = sum(row.count for row in own[FactKind.ORDERS] if row.key == OrderStatus.IN_FULFILMENT)
    backlog: dict[str, int] = {}
    for row in own[FactKind.BACKLOG]:
        backlog[row.key] = backlog.get(row.key, 0) + row.count
    tickets = Chart(
        "rep_tickets",
        _("My customers' open tickets"),
        "doughnut",
        [(_("Open tickets"), COUNT)],
        label_header=_("Priority"),
    )
    if backlog:
        tickets.rows = [(str(label), [backlog.get(value, 0)]) for value, label in TicketPriority.choices]
    ending = (
        contract_list(user=user)
        .filter(
            customer_owner=user,
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + timedelta(days=ENDING_WITHIN_DAYS),
        )
        .select_related("customer")
        .order_by("end_date", "id")
    )
    orders = (
        order_list(user=user)
        .filter(customer_owner=user, status=OrderStatus.IN_FULFILMENT)
        .select_related("customer")
        .order_by("order_date", "id")
    )
    return {
        "charts": [pipeline_chart("rep_pipeline", pipeline), tickets],
        "forecast": forecast,
        "ending": list(ending[:LIST_LENGTH]),
        "ending_days": ENDING_WITHIN_DAYS,
        "in_fulfilment": in_fulfilment,
        "orders": list(orders[:LIST_LENGTH]),
        "open_tickets": sum(backlog.values()),
    }


def _grouped(rows: Any, by: str = "key") -> Any:
    return rows.order_by().values(by).annotate(n=Sum("count"))


def targets_for(owner_ids: Any, period: str, start: date) -> dict[int, Decimal]:
    return dict(
        SalesTarget.objects.filter(owner_id__in=owner_ids, period=period, starts_on=start).values_list(
            "owner_id", "amount"
        )
    )


def forecast_chart(
    slug: str, title: Any, pipeline: Any, closed: Any, period: str, start: date, end: date, user: Any
) -> Chart:
    owners = {row.owner_id for row in pipeline} | {row.owner_id for row in closed}
    targets = (
        targets_for(owners | {user.pk}, period, start)
        if user.is_superuser or user.has_perm("customers.view_all_customer")
        else targets_for({user.pk}, period, start)
    )
    owners |= set(targets)
    names = _user_names(owners)
    chart = Chart(
        slug,
        title,
        "bar",
        [
            (_("Target"), MONEY),
            (_("Won"), MONEY),
            (_("Weighted pipeline"), MONEY),
            (_("Forecast"), MONEY),
            (_("Of target"), PERCENT),
        ],
        label_header=_("Owner"),
        drawn=[0, 1, 2],
    )
    rows = []
    for owner_id in owners:
        won, weighted = forecast_rows(
            [r for r in pipeline if r.owner_id == owner_id], [r for r in closed if r.owner_id == owner_id], start, end
        )
        target = targets.get(owner_id)
        if not (won or weighted or target):
            continue
        rows.append((names.get(owner_id, "–"), [target, won, weighted, won + weighted, _ratio(won + weighted, target)]))
    chart.rows = sorted(rows, key=lambda row: row[0])
    return chart


def signed_chart(slug: str, user: Any, today: date, currency: str) -> Chart:
    months = months_back(month_start(today), MONTHS_SHOWN)
    by_month: dict[date, list] = {month: [0, Decimal(0)] for month in months}
    for row in facts(user=user, kind=FactKind.SIGNED, currency=currency).filter(period__gte=months[0]):
        slot = by_month.get(row.period) if row.period else None
        if slot is not None:
            slot[0] += row.count
            slot[1] += row.amount
    chart = Chart(
        slug,
        _("Contract value signed by month"),
        "bar",
        [(_("Contracts"), COUNT), (_("Signed value"), MONEY)],
        label_header=_("Month"),
        drawn=[1],
    )
    if any(values[0] for values in by_month.values()):
        chart.rows = [(month_label(month), values) for month, values in by_month.items()]
    return chart


def manager_section(*, user: Any, today: date, currency: str) -> dict[str, Any]:
    pipeline = list(facts(user=user, kind=FactKind.PIPELINE, currency=currency))
    closed = list(facts(user=user, kind=FactKind.CLOSED, currency=currency))
    charts = [pipeline_chart("team_pipeline", pipeline)]
    for period, label, start, end in forecast_periods(today):
        title = _("Forecast against target: %(period)s") % {"period": label}
        charts.append(forecast_chart(f"team_forecast_{period}", title, pipeline, closed, period, start, end, user))

    since = months_back(month_start(today), MONTHS_SHOWN)[0]
    per_owner: dict[int, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for row in closed:
        if row.period and row.period >= since:
            slot = per_owner[row.owner_id or 0]
            slot[0 if row.key == OpportunityStage.WON else 1] += row.count
            slot[2] += row.extra
    names = _user_names(per_owner)
    win = Chart(
        "win_rate",
        _("Win rate and cycle time by owner (last 12 months)"),
        "bar",
        [(_("Won"), COUNT), (_("Lost"), COUNT), (_("Win rate"), PERCENT), (_("Average cycle (days)"), NUMBER)],
        label_header=_("Owner"),
        drawn=[0, 1],
        stacked=True,
    )
    win.rows = sorted(
        (
            (names.get(owner, "–"), [won, lost, _ratio(won, won + lost), _ratio(days, won + lost)])
            for owner, (won, lost, days) in per_owner.items()
        ),
        key=lambda row: row[0],
    )
    charts.append(win)
    charts.append(signed_chart("signed_by_month", user, today, currency))

    execution: dict[int, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in facts(user=user, kind=FactKind.EXECUTION, currency=currency):
        execution[row.owner_id or 0][0] += row.amount
        execution[row.owner_id or 0][1] += row.extra
    names = _user_names(execution)
    ordered = Chart(
        "order_execution",
        _("Order execution: ordered against contracted"),
        "bar",
        [(_("Contracted"), MONEY), (_("Ordered"), MONEY), (_("Ordered share"), PERCENT)],
        label_header=_("Owner"),
        drawn=[0, 1],
    )
    ordered.rows = sorted(
        ((names.get(owner, "–"), [c, o, _ratio(o, c)]) for owner, (c, o) in execution.items()), key=lambda row: row[0]
    )
    charts.append(ordered)

    from crm.dashboard.services import APPROVAL_AGE_BUCKETS, APPROVAL_AGE_OLDER

    buckets = [name for _limit, name in APPROVAL_AGE_BUCKETS] + [APPROVAL_AGE_OLDER]
    waiting: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(buckets, 0))
    for row in facts(user=user, kind=FactKind.APPROVALS):
        waiting[row.key][row.key2] = waiting[row.key].get(row.key2, 0) + row.count
    approvals = Chart(
        "approvals_waiting",
        _("Approvals waiting, by age in days"),
        "bar",
        [(_("%(range)s days") % {"range": name}, COUNT) for name in buckets],
        label_header=_("Waiting for"),
        drawn=list(range(len(buckets))),
        stacked=True,
    )
    approvals.rows = [
        (str(Role(role).label) if role in Role.values else role, [counts[name] for name in buckets])
        for role, counts in sorted(waiting.items())
    ]
    charts.append(approvals)
    return {"charts": charts}


def finance_section(*, user: Any, today: date, currency: str) -> dict[str, Any]:
    awaiting = approval_inbox(user=user)
    return {
        "charts": [signed_chart("finance_signed_by_month", user, today, currency)],
        "awaiting": list(awaiting[:LIST_LENGTH]),
        "awaiting_count": awaiting.count(),
    }


def signatory_section(*, user: Any, today: date, currency: str) -> dict[str, Any]:
    awaiting = (
        contract_list(user=user)
        .filter(status__in=[ContractStatus.APPROVED, ContractStatus.SIGNING])
        .exclude(signatures__party=SigningParty.COMPANY)
        .select_related("customer")
        .order_by("decided_at", "id")
    )
    return {
        "charts": [signed_chart("signatory_signed_by_month", user, today, currency)],
        "awaiting": list(awaiting[:LIST_LENGTH]),
        "awaiting_count": awaiting.count(),
    }


def service_section(*, user: Any, today: date, currency: str) -> dict[str, Any]:
    """Counts only: the same whatever the currency."""
    backlog = {row["key"]: row["n"] for row in _grouped(facts(user=user, kind=FactKind.BACKLOG))}
    by_priority = Chart(
        "backlog_by_priority", _("Backlog by priority"), "bar", [(_("Open tickets"), COUNT)], label_header=_("Priority")
    )
    if backlog:
        by_priority.rows = [(str(label), [backlog.get(value, 0)]) for value, label in TicketPriority.choices]

    this_week = today - timedelta(days=today.weekday())
    weeks = [this_week - timedelta(weeks=n) for n in reversed(range(WEEKS_SHOWN))]
    sla: dict[date, list] = {week: [0, 0] for week in weeks}
    for row in facts(user=user, kind=FactKind.SLA).filter(period__gte=weeks[0]):
        if row.period in sla:
            sla[row.period][0] += row.count
            sla[row.period][1] += int(row.extra)
    compliance = Chart(
        "sla_by_week",
        _("SLA compliance by week"),
        "line",
        [(_("Resolved"), COUNT), (_("Within SLA"), COUNT), (_("Compliance"), PERCENT)],
        label_header=_("Week of"),
        drawn=[2],
    )
    if any(values[0] for values in sla.values()):
        compliance.rows = [(day_label(week), [n, met, _ratio(met, n)]) for week, (n, met) in sla.items()]

    ratings: dict[date, list] = {week: [0, Decimal(0)] for week in weeks}
    for row in facts(user=user, kind=FactKind.SATISFACTION).filter(period__gte=weeks[0]):
        if row.period in ratings:
            ratings[row.period][0] += row.count
            ratings[row.period][1] += row.amount
    satisfaction = Chart(
        "satisfaction_trend",
        _("Satisfaction trend (1 to 5)"),
        "line",
        [(_("Ratings"), COUNT), (_("Average rating"), NUMBER)],
        label_header=_("Week of"),
        drawn=[1],
    )
    if any(values[0] for values in ratings.values()):
        satisfaction.rows = [(day_label(week), [n, _ratio(total, n)]) for week, (n, total) in ratings.items()]

    load = {row["key"]: row["n"] for row in _grouped(facts(user=user, kind=FactKind.AGENT_LOAD))}
    names = _user_names([int(key) for key in load if key.isdigit()])
    agents = Chart("agent_load", _("Agent load"), "bar", [(_("Open tickets"), COUNT)], label_header=_("Agent"))
    agents.rows = sorted(
        ((names.get(int(key), "–") if key.isdigit() else "–", [n]) for key, n in load.items()), key=lambda row: row[0]
    )
    return {"charts": [by_priority, compliance, satisfaction, agents]}


BUILDERS = {
    "rep": rep_section,
    "manager": manager_section,
    "finance": finance_section,
    "signatory": signatory_section,
    "service": service_section,
}


@dataclass
class Section:
    name: str
    title: Any
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def charts(self) -> list[Chart]:
        return self.data.get("charts", [])


def sections_for(user: Viewer) -> list[tuple[str, Any]]:
    """The role sections a user holds (every one for a superuser)."""
    if user is None or not user.is_authenticated:
        return []
    if user.is_superuser:
        return [(name, title) for name, _role, title in SECTIONS]
    groups = set(user.groups.values_list("name", flat=True))
    return [(name, title) for name, role, title in SECTIONS if role.value in groups]


def dashboard_sections(*, user: Viewer, only: str | None = None, currency: str | None = None) -> list[Section]:
    """The user's role sections; their money in `currency` (default: the default currency)."""
    today = timezone.localdate()
    currency = currency or settings.DEFAULT_CURRENCY
    return [
        Section(name, title, BUILDERS[name](user=user, today=today, currency=currency))
        for name, title in sections_for(user)
        if only is None or name == only
    ]


def dashboard_chart(*, user: Viewer, slug: str, currency: str | None = None) -> Chart | None:
    """One chart of the user's sections, by its slug (None when the user has no such chart)."""
    for section in dashboard_sections(user=user, currency=currency):
        for chart in section.charts:
            if chart.slug == slug:
                return chart
    return None


def dashboard_summary(*, user: Viewer, currency: str = "") -> dict[str, Any]:
    """The dashboard page; its money in `currency` when the user has figures in it, else in
    the default currency."""
    counts = {row["key"]: row["n"] for row in _grouped(facts(user=user, kind=FactKind.CUSTOMERS))}
    currencies = dashboard_currencies(user=user)
    currency = currency if currency in currencies else currencies[0]
    return {
        "status_counts": [(label, counts.get(value, 0), value) for value, label in CustomerStatus.choices],
        "customer_total": sum(counts.values()),
        "recent_customers": customer_list(user=user).order_by("-updated_at", "-id")[:8],
        "sections": dashboard_sections(user=user, currency=currency),
        "currency": currency,
        "currencies": currencies,
        "refreshed": last_refresh(),
        # The weighted forecast uses the win-probability model only where it beats the
        # per-stage defaults (crm.insight); the page says which.
        "forecast_basis": forecast_basis(),
    }
