"""The reports: each a table over what the user may see, for a date range and an owner,
shown as a page and exported as CSV or XLSX (the same rows, masked for the reader).

Revenue and top customers read the monthly summary rows the scheduler refreshes
(`FactKind.REVENUE`, `FactKind.CUSTOMER_REVENUE`), not the orders: their range is counted
in whole months, and the page says so and how fresh the figures are.

Money is never added across currencies: every amount is shown with its currency, and a
sum is one row per currency (a share is of that currency's total). Converting at a rate
would need rates someone keeps up to date; a total per currency is exact."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.choices import ContractStatus
from contracts.selectors import contract_list
from crm.core.dates import DATE_INPUT_BOUNDS, validate_sensible_date
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates
from crm.dashboard.charts import COUNT, MONEY, NUMBER, PERCENT, day_label, format_value, month_label
from crm.dashboard.models import FactKind
from crm.dashboard.selectors import add_months, facts, month_start
from crm.insight.models import segment_label
from customers.choices import CustomerTier, Industry, OpportunitySource, OpportunityStage, Region
from customers.models import OpportunityStageChange
from customers.selectors import customer_list, opportunity_list
from orders.selectors import order_list
from service.choices import TicketChannel, TicketType
from service.selectors import ticket_list

TEXT, DATE = "text", "date"
TOP_CUSTOMERS = 50
CURRENCY_NOTE = _("Amounts are in their own currency and are never added across currencies.")
DEFAULT_DAYS = 365


def _choice_name(choices: Any, empty: Any = "") -> Callable[[str], str]:
    names = {"": empty, **dict(choices.choices)}
    return lambda value: str(names.get(value, value))


#: How revenue can be grouped (the REVENUE facts' groups, `services.REVENUE_GROUPS`): its
#: title, and the name of each of the customer's values.
REVENUE_GROUPINGS: dict[str, tuple[Any, Callable[[str], str]]] = {
    "industry": (_("Industry"), _choice_name(Industry)),
    "tier": (_("Tier"), _choice_name(CustomerTier)),
    "region": (_("Region"), _choice_name(Region, _("No region"))),
    "segment": (_("Segment"), lambda key: segment_label(key) if key else str(_("No segment"))),
}
FUNNEL_GROUPINGS: dict[str, tuple[Any, str, dict[str, Any] | None]] = {
    "owner": (_("Owner"), "owner__username", None),
    "source": (_("Source"), "source", dict(OpportunitySource.choices)),
}
STAGE_RANK = {
    OpportunityStage.PROSPECTING: 1,
    OpportunityStage.QUALIFICATION: 2,
    OpportunityStage.PROPOSAL: 3,
    OpportunityStage.NEGOTIATION: 4,
    OpportunityStage.WON: 5,
    OpportunityStage.LOST: 0,
}


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        validators=[validate_sensible_date],
        widget=forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}),
    )
    end = forms.DateField(
        label=_("Until"),
        required=False,
        validators=[validate_sensible_date],
        widget=forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=owner_candidates(), required=False, empty_label=_("Everyone")
    )
    group = forms.ChoiceField(label=_("Group by"), required=False)

    def __init__(self, *args, user, groupings=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not (user.is_superuser or user.has_perm("customers.view_all_customer")):
            self.fields["owner"].queryset = owner_candidates().filter(pk=user.pk)
        if groupings:
            self.fields["group"].choices = [(key, label) for key, (label, *_rest) in groupings.items()]
        else:
            del self.fields["group"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end of the range comes before its start."))
        return data

    def values(self, *, whole_months: bool = False) -> dict[str, Any]:
        """The filters to run with: the form's, with the defaults for what was left empty;
        with `whole_months`, the range widened to the first day of its first month and the
        last day of its last (what monthly summary rows can count exactly)."""
        data = self.cleaned_data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or min(end, today) - timedelta(days=DEFAULT_DAYS)
        if whole_months:
            start, end = month_start(start), add_months(end, 1) - timedelta(days=1)
        group = data.get("group") or (self.fields["group"].choices[0][0] if "group" in self.fields else None)
        return {"start": start, "end": end, "owner": data.get("owner"), "group": group}


@dataclass
class Table:
    columns: list[tuple[Any, str]]  # (header, format)
    rows: list[list[Any]] = field(default_factory=list)
    note: Any = ""

    def header(self) -> list[str]:
        return [str(title) for title, _fmt in self.columns]

    def shown(self) -> list[list[str]]:
        return [
            [_show(value, fmt) for value, (_title, fmt) in zip(row, self.columns, strict=True)] for row in self.rows
        ]

    def plain(self) -> list[list[Any]]:
        return [
            [_plain(value, fmt) for value, (_title, fmt) in zip(row, self.columns, strict=True)] for row in self.rows
        ]


def _show(value, fmt):
    if fmt == TEXT:
        return "" if value is None else str(value)
    if isinstance(value, date):
        return day_label(value)
    return format_value(value, fmt)


def _plain(value, fmt):
    if value is None:
        return None
    if fmt == TEXT:
        return str(value)
    if fmt == PERCENT:
        return round(float(value), 4)
    if isinstance(value, Decimal):
        return float(round(value, 2))
    return value


def _ratio(part, whole):
    return Decimal(part) / Decimal(whole) if whole else None


def _days(duration) -> Decimal | None:
    return None if duration is None else Decimal(duration.total_seconds() / 86400).quantize(Decimal("0.1"))


def _in_range(queryset, field_name: str, filters, *, is_datetime=False):
    lookup = f"{field_name}__date" if is_datetime else field_name
    return queryset.filter(**{f"{lookup}__gte": filters["start"], f"{lookup}__lte": filters["end"]})


def _owned(queryset, path: str, filters):
    return queryset.filter(**{path: filters["owner"]}) if filters["owner"] else queryset


def funnel(*, user, filters) -> Table:
    label, path, names = FUNNEL_GROUPINGS[filters["group"]]
    deals = _owned(_in_range(opportunity_list(user=user), "created_at", filters, is_datetime=True), "owner", filters)
    rank = Case(
        *(When(to_stage=stage, then=Value(value)) for stage, value in STAGE_RANK.items()), output_field=IntegerField()
    )
    reached_history = (
        OpportunityStageChange.objects.filter(opportunity=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by()
        .values("opportunity")
        .annotate(top=Max("rank"))
        .values("top")
    )
    current = Case(
        *(When(stage=stage, then=Value(value)) for stage, value in STAGE_RANK.items()), output_field=IntegerField()
    )
    deals = deals.annotate(reached=Greatest(current, Coalesce(Subquery(reached_history), Value(0))))
    stages = [OpportunityStage.QUALIFICATION, OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION]
    grouped = (
        deals.order_by()
        .values(path)
        .annotate(
            created=Count("id"),
            **{f"r{STAGE_RANK[stage]}": Count("id", filter=Q(reached__gte=STAGE_RANK[stage])) for stage in stages},
            won=Count("id", filter=Q(stage=OpportunityStage.WON)),
        )
        .order_by(path)
    )
    columns: list[tuple[Any, str]] = [(label, TEXT), (_("Created"), COUNT)]
    for stage in stages:
        columns.append((_("Reached %(stage)s") % {"stage": OpportunityStage(stage).label}, COUNT))
    columns += [
        (_("Won"), COUNT),
        (_("Created → qualification"), PERCENT),
        (_("Qualification → proposal"), PERCENT),
        (_("Proposal → negotiation"), PERCENT),
        (_("Negotiation → won"), PERCENT),
        (_("Created → won"), PERCENT),
    ]
    table = Table(columns)
    for row in grouped:
        name = row[path]
        name = str(names.get(name, name)) if names else name
        counts = [row["created"], row["r2"], row["r3"], row["r4"], row["won"]]
        steps = [_ratio(counts[i + 1], counts[i]) for i in range(4)]
        table.rows.append([name, *counts, *steps, _ratio(row["won"], row["created"])])
    return table


def win_loss(*, user, filters) -> Table:
    deals = _owned(
        _in_range(opportunity_list(user=user), "closed_at", filters, is_datetime=True).filter(
            stage__in=[OpportunityStage.WON, OpportunityStage.LOST]
        ),
        "owner",
        filters,
    )
    rows = (
        deals.order_by().values("stage", "lost_reason__name", "currency").annotate(n=Count("id"), total=Sum("amount"))
    )
    total = sum(row["n"] for row in rows)
    table = Table(
        [
            (_("Outcome"), TEXT),
            (_("Reason"), TEXT),
            (_("Currency"), TEXT),
            (_("Deals"), COUNT),
            (_("Amount"), MONEY),
            (_("Share"), PERCENT),
        ]
    )
    for row in sorted(rows, key=lambda r: (r["stage"] != OpportunityStage.WON, -r["n"], r["currency"])):
        table.rows.append(
            [
                OpportunityStage(row["stage"]).label,
                row["lost_reason__name"] or "",
                row["currency"],
                row["n"],
                row["total"],
                _ratio(row["n"], total),
            ]
        )
    table.note = CURRENCY_NOTE
    return table


def _revenue_facts(user, kind: str, filters):
    """The user's revenue rows of `kind` for the months of the range (whole months, see
    `ReportFilterForm.values`) and the owner filter."""
    rows = facts(user=user, kind=kind).filter(
        period__gte=month_start(filters["start"]), period__lte=month_start(filters["end"])
    )
    return _owned(rows, "owner", filters)


def _currency_order(currency: str) -> tuple[bool, str]:
    """The default currency first, then the others by code."""
    return currency != settings.DEFAULT_CURRENCY, currency


def revenue(*, user, filters) -> Table:
    """Revenue per group and currency; each share is of its currency's total."""
    label, name_of = REVENUE_GROUPINGS[filters["group"]]
    rows = (
        _revenue_facts(user, FactKind.REVENUE, filters)
        .filter(key2=filters["group"])
        .order_by()
        .values("key", "currency")
        .annotate(n=Sum("count"), total=Sum("amount"))
    )
    per_currency: dict[str, Decimal] = {}
    for row in rows:
        per_currency[row["currency"]] = per_currency.get(row["currency"], Decimal(0)) + (row["total"] or 0)
    table = Table(
        [(label, TEXT), (_("Currency"), TEXT), (_("Orders"), COUNT), (_("Revenue"), MONEY), (_("Share"), PERCENT)]
    )
    for row in sorted(rows, key=lambda r: (_currency_order(r["currency"]), -(r["total"] or 0), r["key"])):
        table.rows.append(
            [
                name_of(row["key"]),
                row["currency"],
                row["n"],
                row["total"],
                _ratio(row["total"] or 0, per_currency[row["currency"]]),
            ]
        )
    table.note = CURRENCY_NOTE
    return table


def top_customers(*, user, filters) -> Table:
    """The customers with the most revenue in one currency: summed from the per-customer
    monthly rows, then the top ones' names read (masked for the reader)."""
    masker = masker_for(user)
    rows = list(
        _revenue_facts(user, FactKind.CUSTOMER_REVENUE, filters)
        .order_by()
        .values("key", "currency")
        .annotate(n=Sum("count"), total=Sum("amount"), customer=Cast("key", BigIntegerField()))
        .order_by("-total", "customer", "currency")[:TOP_CUSTOMERS]
    )
    # Through the customers' visibility: one reassigned since the last refresh is still
    # counted in its old owner's rows until the next, but never named to them.
    customers = customer_list(user=user).filter(pk__in={row["customer"] for row in rows})
    by_id = {customer.pk: customer for customer in customers.only("name", "email", "phone", "owner__username")}
    table = Table(
        [
            (_("Customer"), TEXT),
            (_("E-mail"), TEXT),
            (_("Phone"), TEXT),
            (_("Owner"), TEXT),
            (_("Currency"), TEXT),
            (_("Orders"), COUNT),
            (_("Revenue"), MONEY),
        ]
    )
    table.note = CURRENCY_NOTE
    for row in rows:
        customer = by_id.get(row["customer"])
        if customer is None:  # deleted, or no longer the reader's, since the last refresh
            continue
        table.rows.append(
            [
                masker.text(customer.name),
                masker.email(customer.email),
                masker.phone(customer.phone),
                customer.owner.get_username(),
                row["currency"],
                row["n"],
                row["total"],
            ]
        )
    return table


def contract_expiry(*, user, filters) -> Table:
    masker = masker_for(user)
    contracts = _owned(
        _in_range(contract_list(user=user), "end_date", filters).filter(
            status__in=[ContractStatus.ACTIVE, ContractStatus.SIGNING, ContractStatus.APPROVED]
        ),
        "customer_owner",
        filters,
    ).select_related("customer", "owner")
    table = Table(
        [
            (_("Month"), TEXT),
            (_("Ends on"), DATE),
            (_("Contract"), TEXT),
            (_("Customer"), TEXT),
            (_("Owner"), TEXT),
            (_("Currency"), TEXT),
            (_("Amount"), MONEY),
            (_("Ordered"), MONEY),
        ]
    )
    for contract in contracts.order_by("end_date", "id")[:1000]:
        table.rows.append(
            [
                month_label(contract.end_date),
                contract.end_date,
                contract.number,
                masker.text(contract.customer.name),
                contract.owner.get_username(),
                contract.currency,
                contract.amount,
                contract.ordered_amount,
            ]
        )
    return table


def fulfilment_times(*, user, filters) -> Table:
    orders = _owned(
        _in_range(order_list(user=user), "delivered_at", filters, is_datetime=True).filter(delivered_at__isnull=False),
        "customer_owner",
        filters,
    )
    took = ExpressionWrapper(F("delivered_at") - F("created_at"), output_field=DurationField())
    rows = (
        orders.order_by()
        .values(month=TruncMonth("delivered_at"))
        .annotate(n=Count("id"), average=Avg(took), longest=Max(took))
        .order_by("month")
    )
    table = Table(
        [(_("Month delivered"), TEXT), (_("Orders"), COUNT), (_("Average days"), NUMBER), (_("Longest days"), NUMBER)]
    )
    for row in rows:
        table.rows.append([month_label(row["month"]), row["n"], _days(row["average"]), _days(row["longest"])])
    table.note = _("Days from the order being entered to its delivery.")
    return table


def ticket_volumes(*, user, filters) -> Table:
    tickets = _owned(
        _in_range(ticket_list(user=user), "created_at", filters, is_datetime=True), "customer__owner", filters
    )
    counts = {
        (row["kind"], row["channel"]): row["n"]
        for row in tickets.order_by().values("kind", "channel").annotate(n=Count("id"))
    }
    table = Table(
        [(_("Type"), TEXT), *((label, COUNT) for _value, label in TicketChannel.choices), (_("Total"), COUNT)]
    )
    for kind, kind_label in TicketType.choices:
        values = [counts.get((kind, channel), 0) for channel, _label in TicketChannel.choices]
        table.rows.append([kind_label, *values, sum(values)])
    return table


@dataclass(frozen=True)
class Report:
    slug: str
    title: Any
    description: Any
    build: Callable[..., Table]
    groupings: dict[str, tuple] | None = None
    #: Read from the monthly summary rows: counted in whole months, as fresh as the last refresh.
    monthly_summary: bool = False


REPORTS = [
    Report(
        "funnel",
        _("Sales funnel"),
        _("Conversion between stages of the deals created in the range, by owner or by source."),
        funnel,
        FUNNEL_GROUPINGS,
    ),
    Report("win-loss", _("Win/loss reasons"), _("Deals closed in the range: won, and lost by reason."), win_loss),
    Report(
        "revenue",
        _("Revenue by group"),
        _("Revenue of the orders placed in the range, by the customer's industry, tier, region or segment."),
        revenue,
        REVENUE_GROUPINGS,
        monthly_summary=True,
    ),
    Report(
        "top-customers",
        _("Top customers"),
        _("The customers with the most revenue from orders placed in the range."),
        top_customers,
        monthly_summary=True,
    ),
    Report(
        "contract-expiry",
        _("Contract expiry calendar"),
        _("Contracts ending in the range, month by month."),
        contract_expiry,
    ),
    Report(
        "fulfilment",
        _("Order fulfilment times"),
        _("Orders delivered in the range: how long they took."),
        fulfilment_times,
    ),
    Report("tickets", _("Ticket volumes"), _("Tickets opened in the range, by type and channel."), ticket_volumes),
]
REPORTS_BY_SLUG = {report.slug: report for report in REPORTS}
