"""Reads of customers that start from what the user may see."""

import dataclasses
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.audit import audit_history
from crm.core.exceptions import DuplicateRecord
from crm.core.gram_search import contains_fragment, search_filter
from crm.core.types import Viewer
from customers.choices import OPEN_STAGES, ActivityStatus, OpportunityStage
from customers.models import Activity, Contact, Customer, Interaction, Opportunity, StageProbability
from customers.querysets import email_key, name_key, phone_key_digits
from customers.querysets import phone_key as phone_digits


def customer_list(*, user: Viewer) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("owner")


def customer_get(*, user: Viewer, pk: int, action: str = "view") -> Customer:
    return get_object_or_404(Customer.objects.visible_to(user, action).select_related("owner"), pk=pk)


def customer_check_duplicates(
    *, actor: Viewer, name: str, email: str, phone: str, exclude_pk: int | None = None
) -> None:
    """Refuse a customer whose name, e-mail or phone matches an existing one's, naming it
    when the actor may see it."""
    for field, label, value in (
        ("name", _("name"), name),
        ("email", _("e-mail"), email),
        ("phone", _("phone number"), phone),
    ):
        blank = not phone_key_digits(value) if field == "phone" else not value.strip()
        if blank:
            continue
        existing = Customer.objects.duplicates_of(field, value).exclude(pk=exclude_pk).first()
        if existing is None:
            continue
        if Customer.objects.visible_to(actor).filter(pk=existing.pk).exists():
            message = _("A customer with this %(label)s already exists: %(name)s.")
            raise DuplicateRecord(message % {"label": label, "name": existing.name}, field, existing)
        message = _("A customer with this %(label)s already exists and belongs to another owner; ask a sales manager.")
        raise DuplicateRecord(message % {"label": label}, field)


DUPLICATE_LABELS = {
    "name": gettext_lazy("name"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone number"),
}


def duplicate_keys(field: str, values: list[str]) -> list[str]:
    """The normalized keys ("name", "email" or "phone") of many values at once, computed by
    PostgreSQL with the very expressions behind the customers' generated key columns and
    their duplicate rule (customers.querysets), in one query."""
    key = {"name": name_key, "email": email_key, "phone": phone_digits}[field]
    query = Query(Customer)
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.compile(key(RawSQL("value", ())).resolve_expression(query))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM unnest(%s::text[]) WITH ORDINALITY AS v(value, n) ORDER BY n",
            [*params, [value or "" for value in values]],
        )
        return [row[0] or "" for row in cursor.fetchall()]


@dataclass(frozen=True)
class CustomerMatch:
    pk: int
    name: str
    owner_id: int


def customers_matching(*, field: str, keys: list[str]) -> dict[str, CustomerMatch]:
    """{key: customer} for the customers whose normalized `field` (or external reference) is
    one of `keys`. The condition "not empty" lets PostgreSQL use the partial unique indexes
    even for a list of thousands of keys."""
    wanted = [key for key in set(keys) if key]
    if not wanted:
        return {}
    column = "external_ref" if field == "external_ref" else f"{field}_key"
    found = (
        Customer.objects.filter(**{f"{column}__in": wanted})
        .exclude(**{column: ""})
        .values_list(column, "pk", "name", "owner_id")
    )
    return {key: CustomerMatch(pk, name, owner_id) for key, pk, name, owner_id in found}


def customer_search(queryset: QuerySet[Customer], text: str, *, reveal: bool) -> QuerySet[Customer]:
    """Customers whose name, e-mail or phone contains the text, found through the search
    grams' index (crm/core/gram_search.py) for any fragment, two Chinese characters too.

    E-mail and phone are searched only for users who may see them unmasked, so a
    masked value cannot be discovered by probing the search box.
    """
    return search_filter(queryset, text, **_contact_details(text, ["name"], "email", "phone_key", reveal))


def customer_detail_context(*, customer: Customer, user: Viewer) -> dict[str, Any]:
    """Contacts, timeline and history shown on a customer's page, as far as the user may see them."""
    return {
        "contacts": Contact.objects.visible_to(user).filter(customer=customer).order_by("-is_primary", "name"),
        "interactions": Interaction.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("contact", "author", "opportunity")[:50],
        "history": audit_history(customer).select_related("actor")[:100],
        "opportunities": Opportunity.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("owner")
        .with_probability()
        .order_by(F("closed_at").desc(nulls_first=True), "expected_close_date", "id")[:50],
        "activities": Activity.objects.visible_to(user)
        .filter(customer=customer, status=ActivityStatus.OPEN)
        .select_related("assignee", "opportunity")
        .order_by("due_at", "id")[:50],
    }


def contact_list(*, user: Viewer) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("customer", "customer__owner")


def contact_search(queryset: QuerySet[Contact], text: str, *, reveal: bool) -> QuerySet[Contact]:
    """Contacts whose name, customer's name, e-mail or phone contains the text, through the
    contact's own grams (its customer's name is copied onto it: no join, no OR across tables);
    e-mail and phone only for users who may see them unmasked."""
    fields = _contact_details(text, ["name", "customer_name"], "email", phone_digits(F("phone")), reveal)
    return search_filter(queryset, text, **fields)


def _contact_details(text: str, names: list[Any], email: Any, phone: Any, reveal: bool) -> dict[str, Any]:
    """`search_filter`'s fields: the names, plus e-mail and phone for a user who may see them
    (a phone by its digits, so `138-0013` finds `13800135678`)."""
    if not reveal:
        return {"fields": names}  # the grams hold e-mail and phone too: always rechecked
    fields, extra = [*names, email], []
    digits = phone_key_digits(text)
    if len(digits) >= 3:
        if digits == text.strip():  # the text is the digits alone: the phone is one more field
            fields.append(phone)
        else:
            extra.append((digits, contains_fragment(phone, digits)))
    return {"fields": fields, "extra": extra, "complete": True}


# --- opportunities ---------------------------------------------------------------------------


def opportunity_list(*, user: Viewer) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related("customer", "owner").with_probability()


def opportunity_get(*, user: Viewer, pk: int, action: str = "view") -> Opportunity:
    queryset = Opportunity.objects.visible_to(user, action).select_related("customer", "owner", "lost_reason")
    return get_object_or_404(queryset, pk=pk)


def stage_probabilities() -> dict[str, int]:
    """{stage: default probability} as the admin set them (0 for a stage without a row)."""
    found = dict(StageProbability.objects.values_list("stage", "probability"))
    return {stage: found.get(stage, 0) for stage in OpportunityStage.values}


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """Open opportunities last changed before this moment are flagged as idle."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.OPPORTUNITY_STALE_DAYS)


@dataclass
class BoardColumn:
    stage: OpportunityStage
    count: int = 0
    # [(currency, amount, weighted amount)]: deals in different currencies are not added up.
    totals: list[tuple[str, Decimal, Decimal]] = dataclasses.field(default_factory=list)
    cards: list[Opportunity] = dataclasses.field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


def opportunity_board(*, queryset: QuerySet[Opportunity], cards_per_column: int | None = None) -> list[BoardColumn]:
    """The board's open columns over a (visible, filtered) queryset: each column's count and
    totals in one grouped query, and its top cards (closing soonest) in one query per column,
    so the number of queries does not grow with the number of deals."""
    per_column = cards_per_column or settings.BOARD_CARDS_PER_COLUMN
    defaults = stage_probabilities()
    stage_default = Case(
        *[When(stage=stage, then=Value(defaults[stage])) for stage in OPEN_STAGES],
        default=Value(0),
        output_field=IntegerField(),
    )
    percent = Coalesce(F("probability_override"), stage_default, output_field=IntegerField())
    weighted = Sum(ExpressionWrapper(F("amount") * percent, output_field=DecimalField(max_digits=20, decimal_places=2)))
    columns = {stage: BoardColumn(stage=stage) for stage in OPEN_STAGES}
    rows = (
        queryset.filter(stage__in=OPEN_STAGES)
        .order_by()
        .values("stage", "currency")
        .annotate(deals=Count("id"), total=Sum("amount"), weighted_total=weighted)
        .order_by("stage", "currency")
    )
    for row in rows:
        column = columns[OpportunityStage(row["stage"])]
        column.count += row["deals"]
        column.totals.append((row["currency"], row["total"], (row["weighted_total"] / 100).quantize(Decimal("0.01"))))
    for stage, column in columns.items():
        if column.count:
            cards = queryset.filter(stage=stage).select_related("customer", "owner")
            column.cards = list(cards.order_by("expected_close_date", "id")[:per_column])
            for card in column.cards:
                # What `with_probability()` annotates, without its subquery on every row.
                card.probability_value = (  # type: ignore[attr-defined]
                    card.probability_override if card.probability_override is not None else defaults[stage]
                )
    return list(columns.values())


def opportunity_detail_context(*, opportunity: Opportunity, user: Viewer) -> dict[str, Any]:
    """The stage history with the time spent in each stage, the deal's activities and
    timeline entries, and its audit history."""
    changes = list(opportunity.stage_changes.select_related("changed_by"))
    time_in_stage: dict[str, int] = {}
    for change in changes:
        if change.from_stage and change.seconds_in_from is not None:
            time_in_stage[change.from_stage] = time_in_stage.get(change.from_stage, 0) + change.seconds_in_from
    if opportunity.is_open:
        running = int((timezone.now() - opportunity.stage_entered_at).total_seconds())
        time_in_stage[opportunity.stage] = time_in_stage.get(opportunity.stage, 0) + max(0, running)
    return {
        "stage_changes": changes,
        "time_in_stage": [
            (OpportunityStage(stage), datetime.timedelta(seconds=time_in_stage[stage]))
            for stage in OpportunityStage.values
            if stage in time_in_stage
        ],
        "activities": Activity.objects.visible_to(user)
        .filter(opportunity=opportunity)
        .select_related("assignee")
        .order_by("status", "due_at")[:50],
        "interactions": Interaction.objects.visible_to(user)
        .filter(opportunity=opportunity)
        .select_related("author", "contact")[:50],
        "history": audit_history(opportunity).select_related("actor")[:100],
    }


# --- activities ------------------------------------------------------------------------------


def activity_get(*, user: Viewer, pk: int, action: str = "view") -> Activity:
    queryset = Activity.objects.visible_to(user, action).select_related("customer", "opportunity", "assignee")
    return get_object_or_404(queryset, pk=pk)


@dataclass
class MyDay:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]
    team_overdue: list[Activity] | None  # a manager's view of the others' overdue work


def _day_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def my_day(*, user: Viewer, now: datetime.datetime | None = None, upcoming_limit: int = 50) -> MyDay:
    """The user's open activities: overdue (due before now), today (due later today) and
    upcoming (after today); for a manager also the team's overdue ones."""
    now = now or timezone.now()
    _start, end = _day_bounds(now)
    mine = (
        Activity.objects.visible_to(user)
        .filter(assignee=user, status=ActivityStatus.OPEN)
        .select_related("customer", "opportunity")
        .order_by("due_at", "id")
    )
    team = None
    if user.has_perm("customers.view_all_customer") and user.has_perm("customers.assign_opportunity"):
        team = list(
            Activity.objects.visible_to(user)
            .filter(status=ActivityStatus.OPEN, due_at__lt=now)
            .exclude(assignee=user)
            .select_related("customer", "assignee", "opportunity")
            .order_by("due_at", "id")[:100]
        )
    return MyDay(
        overdue=list(mine.filter(due_at__lt=now)[:200]),
        today=list(mine.filter(due_at__gte=now, due_at__lt=end)),
        upcoming=list(mine.filter(due_at__gte=end)[:upcoming_limit]),
        team_overdue=team,
    )


def my_day_waiting(user: Viewer) -> QuerySet[Activity] | None:
    """What the navigation counts: the user's open activities overdue or due today."""
    if not user.is_authenticated or not user.has_perm("customers.view_activity"):
        return None
    _start, end = _day_bounds(timezone.now())
    return Activity.objects.filter(assignee=user, status=ActivityStatus.OPEN, due_at__lt=end)


def opportunity_search(queryset: QuerySet[Opportunity], text: str) -> QuerySet[Opportunity]:
    """Opportunities whose title or customer's name contains the text."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(title__icontains=text) | Q(customer__name_key__contains=re.sub(r"\s+", " ", text).lower()))


# What to plan after a deal reaches a stage: the UI offers it as the next activity.
NEXT_STEP_SUGGESTIONS = {
    OpportunityStage.PROSPECTING: gettext_lazy("Call to qualify the need"),
    OpportunityStage.QUALIFICATION: gettext_lazy("Confirm budget, decision makers and timeline"),
    OpportunityStage.PROPOSAL: gettext_lazy("Send the proposal and book a review"),
    OpportunityStage.NEGOTIATION: gettext_lazy("Agree the final terms"),
    OpportunityStage.WON: gettext_lazy("Hand over to delivery and plan the kick-off"),
    OpportunityStage.LOST: gettext_lazy("Check back in a few months"),
}


def next_step_suggestion(*, opportunity: Opportunity, user: Viewer) -> str | None:
    """The activity to suggest after the latest stage change, unless one was planned since."""
    latest = opportunity.stage_changes.order_by("-changed_at", "-id").first()
    if latest is None or not latest.from_stage:
        return None
    planned_since = Activity.objects.filter(opportunity=opportunity, created_at__gte=latest.changed_at).exists()
    if planned_since:
        return None
    return str(NEXT_STEP_SUGGESTIONS[OpportunityStage(latest.to_stage)])


def next_working_hour(now: datetime.datetime | None = None) -> datetime.datetime:
    """The default due time of a new activity: the next full hour, local time."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
