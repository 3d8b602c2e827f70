"""Reads of the service desk: tickets as a user may see them, the queue, the board, the
SLA policy and calendar a ticket follows, and the agents' load."""

import datetime
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.core.audit import audit_history
from crm.core.gram_search import search_filter
from crm.core.models import AuditEvent
from crm.core.roles import Role
from customers.models import Customer
from service.choices import OPEN_STATUSES, PRIORITY_WEIGHT, TicketEntryKind, TicketStatus, TicketType
from service.mail_models import InboundStatus, TicketAttachment
from service.models import AgentDuty, BusinessCalendar, ResolutionCode, SlaPolicy, Ticket, TicketEntry
from service.sla import Calendar, Clock

Viewer = Any  # a user, or AnonymousUser


def ticket_list(*, user: Viewer) -> QuerySet[Ticket]:
    """The tickets the user may see, with what a list row shows."""
    return Ticket.objects.visible_to(user).select_related("customer", "assignee")


def ticket_search(queryset: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Tickets whose number or subject contains the text, through the ticket's search grams
    (a `TK-` prefix: by number only)."""
    text = text.strip()
    if text.upper().startswith("TK-"):
        return queryset.filter(number__istartswith=text)
    return search_filter(queryset, text, fields=["number", "subject"], complete=True)


def ticket_get(*, user: Viewer, ticket_id: int) -> Ticket | None:
    return (
        ticket_list(user=user).select_related("contact", "contract", "order", "sla_policy").filter(pk=ticket_id).first()
    )


def ticket_queue(*, user: Viewer) -> QuerySet[Ticket]:
    """The agent's queue: their open tickets and the unassigned ones, nearest deadline first
    (tickets without a deadline last)."""
    return (
        ticket_list(user=user)
        .filter(status__in=OPEN_STATUSES)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .order_by(F("resolution_due_at").asc(nulls_last=True), "id")
    )


def ticket_breaching(*, user: Viewer, now: datetime.datetime | None = None) -> QuerySet[Ticket]:
    """The open tickets the user sees that breach a clock."""
    now = now or timezone.now()
    return (
        ticket_list(user=user)
        .filter(tickets_breaching(now))
        .order_by(F("resolution_due_at").asc(nulls_last=True), "id")
    )


def tickets_breaching(now: datetime.datetime) -> Q:
    """Open tickets with a clock past its deadline; a ticket waiting on the customer only if
    it breached before the pause (its deadlines move on by the pause when it resumes)."""
    running = ~Q(status=TicketStatus.WAITING_ON_CUSTOMER)
    response = Q(first_responded_at__isnull=True, first_response_due_at__lt=now) & (
        running | Q(paused_since__gt=F("first_response_due_at"))
    )
    resolution = Q(resolution_due_at__lt=now) & (running | Q(paused_since__gt=F("resolution_due_at")))
    return Q(status__in=OPEN_STATUSES) & (response | resolution)


def ticket_board(*, user: Viewer, limit: int = 20) -> dict[str, Any]:
    """The manager's board: the unassigned queue, the breaching tickets, and each agent's open
    tickets (counts and weighted load)."""
    open_tickets = ticket_list(user=user).filter(status__in=OPEN_STATUSES)
    # One pass over the open tickets, by assignee only: the covering index of the open tickets
    # (`ticket_open_queue_idx`) answers it without reading the table; the names come after.
    per_agent = list(
        open_tickets.filter(assignee__isnull=False)
        .values("assignee")
        .annotate(
            open=Count("id"),
            load=Sum(_weight()),
            waiting=Sum(Case(When(status=TicketStatus.WAITING_ON_CUSTOMER, then=1), default=0)),
        )
        .order_by()
    )
    people = User.objects.in_bulk([row["assignee"] for row in per_agent])
    agents = sorted(
        (
            {
                "id": row["assignee"],
                "name": people[row["assignee"]].get_full_name() or people[row["assignee"]].get_username(),
                "username": people[row["assignee"]].get_username(),
                "open": row["open"],
                "load": row["load"],
                "waiting": row["waiting"],
            }
            for row in per_agent
            if row["assignee"] in people
        ),
        key=lambda agent: (-agent["load"], agent["username"]),
    )
    unassigned = open_tickets.filter(assignee__isnull=True).order_by(F("resolution_due_at").asc(nulls_last=True), "id")
    breaching = ticket_breaching(user=user)
    return {
        "unassigned": list(unassigned[:limit]),
        "unassigned_count": unassigned.count(),
        "breaching": list(breaching[:limit]),
        "breaching_count": breaching.count(),
        "agents": agents,
    }


def ticket_ids_sla_due(*, now: datetime.datetime, warn_minutes: int) -> list[int]:
    """The running tickets with a clock that is near its deadline or past it and not yet
    escalated: what the SLA watch looks at (each then under its own lock)."""
    soon = now + datetime.timedelta(minutes=warn_minutes)
    running = Ticket.objects.filter(status__in=OPEN_STATUSES).exclude(status=TicketStatus.WAITING_ON_CUSTOMER)
    due = Q(first_responded_at__isnull=True, first_response_due_at__lte=soon, response_escalated=False) | Q(
        resolution_due_at__lte=soon, resolution_escalated=False
    )
    return list(running.filter(due).order_by("pk").values_list("pk", flat=True))


def ticket_entries(*, user: Viewer, ticket: Ticket) -> QuerySet[TicketEntry]:
    """The processing record, oldest first; whoever sees the ticket sees its notes too
    (the customer never does: they only get public replies)."""
    return (
        TicketEntry.objects.visible_to(user)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=TicketAttachment.objects.defer("content")))
    )


def resolution_codes() -> QuerySet[ResolutionCode]:
    """The codes the resolve step offers, in the admin's order."""
    return ResolutionCode.objects.filter(is_active=True).order_by("position", "name")


def ticket_attachments(*, ticket: Ticket) -> QuerySet[TicketAttachment]:
    """The files that came with a ticket (its form, its mail, the customer's answers), without
    their content; seen by whoever sees the ticket."""
    return TicketAttachment.objects.filter(ticket=ticket).defer("content").order_by("created_at", "pk")


def status_files(*, ticket: Ticket) -> QuerySet[TicketAttachment]:
    """The files the customer's status page lists beside the request itself: those sent with
    the form or with the mail that opened or joined the ticket (never those of a stranger's
    mail that names the ticket and waits to be sorted); a message's own files show with it."""
    joined = Q(inbound_mail__isnull=True) | Q(
        inbound_mail__status__in=[InboundStatus.THREADED, InboundStatus.TICKET_OPENED]
    )
    return ticket_attachments(ticket=ticket).filter(joined, entry__isnull=True)


def status_entries(*, ticket: Ticket) -> QuerySet[TicketEntry]:
    """What the customer's status page shows: the public replies and their own messages
    (never an internal note), with the names of the files they sent."""
    return (
        ticket.entries.exclude(kind=TicketEntryKind.INTERNAL_NOTE)
        .prefetch_related(Prefetch("attachments", queryset=TicketAttachment.objects.defer("content")))
        .order_by("created_at", "pk")
    )


def ticket_history(*, ticket: Ticket) -> QuerySet[AuditEvent]:
    return audit_history(ticket).select_related("actor")[:100]


def customer_tickets(*, user: Viewer, customer: Customer) -> QuerySet[Ticket]:
    return ticket_list(user=user).filter(customer=customer).order_by("-created_at", "-id")


def customer_open_complaints(*, user: Viewer, customer: Customer) -> QuerySet[Ticket]:
    return customer_tickets(user=user, customer=customer).filter(kind=TicketType.COMPLAINT, status__in=OPEN_STATUSES)


def ticket_can_write(*, ticket: Ticket, user: Viewer) -> bool:
    """Whether the page offers the note/reply form (the service decides again)."""
    if not user.has_perm("service.work_ticket") or ticket.status == TicketStatus.CLOSED:
        return False
    return ticket.assignee_id == user.pk or user.has_perm("service.view_all_ticket")


def ticket_can_edit(*, ticket: Ticket, user: Viewer) -> bool:
    """Whether the page offers "Edit" (the service decides again): the assignee or a
    service manager, until the ticket is closed; reps read only."""
    if not user.has_perm("service.change_ticket") or not user.has_perm("service.work_ticket"):
        return False
    if ticket.status == TicketStatus.CLOSED:
        return False
    return ticket.assignee_id == user.pk or user.has_perm("service.view_all_ticket")


def agent_duty(*, agent: User) -> AgentDuty | None:
    return AgentDuty.objects.filter(agent=agent).first()


def agent_duties() -> list[dict[str, Any]]:
    """Every service agent with their duty (no row: on duty), for the board."""
    agents = User.objects.filter(is_active=True, groups__name=Role.SERVICE_AGENT.value).distinct().order_by("username")
    duties = {duty.agent_id: duty for duty in AgentDuty.objects.filter(agent__in=agents)}
    return [{"agent": agent, "on_duty": duties[agent.pk].on_duty if agent.pk in duties else True} for agent in agents]


def _weight() -> Case:
    return Case(
        *[When(priority=priority, then=Value(weight)) for priority, weight in PRIORITY_WEIGHT.items()],
        default=Value(1),
        output_field=IntegerField(),
    )


def agent_candidates() -> QuerySet[User]:
    """The active service agents on duty (an agent without a duty row is on duty), least
    loaded first (open tickets weighted by priority), ties to whoever waited longest."""
    open_assigned = Q(assigned_tickets__status__in=OPEN_STATUSES)
    return (
        User.objects.filter(is_active=True, groups__name=Role.SERVICE_AGENT.value)
        .exclude(service_duty__on_duty=False)
        .annotate(
            load=Coalesce(
                Sum(
                    Case(
                        *[
                            When(open_assigned & Q(assigned_tickets__priority=priority), then=Value(weight))
                            for priority, weight in PRIORITY_WEIGHT.items()
                        ],
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                ),
                0,
            )
        )
        .order_by("load", F("service_duty__last_assigned_at").asc(nulls_first=True), "id")
    )


def service_agents() -> QuerySet[User]:
    """Who a manager may assign a ticket to: active service agents and managers."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.SERVICE_AGENT.value, Role.SERVICE_MANAGER.value])
        .distinct()
        .order_by("username")
    )


def service_managers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name=Role.SERVICE_MANAGER.value).distinct().order_by("id")


def sla_policy_for(*, priority: str, tier: str, kind: str) -> SlaPolicy | None:
    """The most specific active policy: tier and type, then tier, then type, then priority alone."""
    candidates = SlaPolicy.objects.filter(
        is_active=True, priority=priority, customer_tier__in=[tier, ""], kind__in=[kind, ""]
    ).select_related("calendar")
    return max(candidates, key=lambda policy: (bool(policy.customer_tier), bool(policy.kind)), default=None)


def calendar_for(policy: SlaPolicy | None) -> Calendar | None:
    """The arithmetic calendar of a policy (its own, else the default one)."""
    calendar = policy.calendar if policy is not None and policy.calendar_id else None
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(is_default=True).first()
    return calendar_load(calendar) if calendar is not None else None


def calendar_load(calendar: BusinessCalendar) -> Calendar:
    hours: dict[int, list] = defaultdict(list)
    for row in calendar.hours.order_by("weekday", "starts"):
        hours[row.weekday].append((row.starts, row.ends))
    holidays, workdays = set(), {}
    for holiday in calendar.holidays.all():
        if holiday.is_workday:
            workdays[holiday.date] = holiday.works_like
        else:
            holidays.add(holiday.date)
    return Calendar(
        time_zone=ZoneInfo(calendar.time_zone), hours=dict(hours), holidays=frozenset(holidays), workdays=workdays
    )


def ticket_is_breaching(ticket: Ticket, now: datetime.datetime) -> bool:
    """The same rule as `tickets_breaching`, for one ticket in hand."""
    if ticket.status not in OPEN_STATUSES:
        return False
    waiting = ticket.status == TicketStatus.WAITING_ON_CUSTOMER
    for due, running in (
        (ticket.first_response_due_at, ticket.first_responded_at is None),
        (ticket.resolution_due_at, True),
    ):
        if due is not None and running and due < now and (not waiting or (ticket.paused_since or now) > due):
            return True
    return False


def ticket_clocks(ticket: Ticket) -> dict[str, Clock]:
    """The two SLA clocks of a ticket, as its page shows them."""
    paused = ticket.status == TicketStatus.WAITING_ON_CUSTOMER
    return {
        "first_response": Clock(ticket.first_response_due_at, ticket.first_responded_at, paused),
        "to_resolve": Clock(ticket.resolution_due_at, ticket.resolved_at, paused),
    }
