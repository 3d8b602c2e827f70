"""Every write to the service desk: tickets, their steps and processing record, the SLA
clocks' warnings and escalations, and the agents' duty.

The SLA clocks run in business time (`service/sla.py`) from the ticket's creation. While a
ticket waits on the customer both running clocks pause: when it resumes, each running
deadline moves on by the business minutes the pause took.
"""

import datetime
import zlib
from collections.abc import Collection
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contracts.models import Contract
from contracts.selectors import contract_list
from crm.core.audit import audit_record, diff, snapshot
from crm.core.events import event_publish
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.masking import masker_for
from crm.core.notifications import notification_send
from crm.core.numbering import number_allocate
from crm.core.versions import version_check
from crm.core.workflow import SYSTEM, Actor, audit_actor
from customers.models import Contact, Customer
from customers.selectors import customer_list
from orders.models import Order
from orders.selectors import order_list
from service.choices import (
    OPEN_STATUSES,
    TicketEntryKind,
    TicketPriority,
    TicketStatus,
    priority_raised,
)
from service.models import (
    TICKET_FIELDS,
    AgentDuty,
    DeskSettings,
    Holiday,
    ResolutionCode,
    Ticket,
    TicketEntry,
    WorkingHours,
)
from service.selectors import agent_candidates, calendar_for, service_managers, sla_policy_for
from service.sla import Calendar
from service.workflow import WORKFLOW

S = TicketStatus

# The advisory lock that serialises the automatic assignment's choice (one number for the app).
ASSIGNMENT_LOCK = zlib.crc32(b"service.ticket_auto_assign")

WARN_RESPONSE = gettext_noop("%(number)s (%(customer)s) needs a first response by %(due)s.")
WARN_RESOLUTION = gettext_noop("%(number)s (%(customer)s) is due to be resolved by %(due)s.")
ESCALATED_RESPONSE = gettext_noop(
    "%(number)s (%(customer)s) breached its first-response target; priority is now %(priority)s."
)
ESCALATED_RESOLUTION = gettext_noop(
    "%(number)s (%(customer)s) breached its resolution target; priority is now %(priority)s."
)
ASSIGNED = gettext_noop("%(number)s (%(customer)s) is assigned to you: %(subject)s")
CUSTOMER_WROTE = gettext_noop("%(customer)s wrote on %(number)s.")


# --- helpers -------------------------------------------------------------------------------


def _ticket_locked(actor: Actor, ticket_id: int, action: str = "change") -> Ticket:
    """The ticket under a row lock, if the actor may act on it (`SYSTEM` may on every one).

    Visibility is checked before the lock, not inside it: a ticket another agent claimed
    meanwhile is then refused as taken (by the step's own check), not as missing."""
    if actor is not SYSTEM and not Ticket.objects.visible_to(actor, action).filter(pk=ticket_id).exists():
        raise DomainError(_("This ticket does not exist or you may not act on it."))
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "sla_policy", "sla_policy__calendar")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise DomainError(_("This ticket does not exist or you may not act on it."))
    return ticket


def _works_on_it(actor: Actor, ticket: Ticket) -> None:
    """An agent works only the tickets assigned to them; a manager on every one."""
    if actor is SYSTEM:
        return
    person = cast(User, actor)
    if person.has_perm("service.view_all_ticket"):
        return
    if ticket.assignee_id != person.pk:
        raise TransitionNotAllowed(_("Only the ticket's assignee or a service manager may do this."))


def _calendar(ticket: Ticket) -> Calendar | None:
    return calendar_for(ticket.sla_policy)


def _set_status(
    ticket: Ticket, target: str, *, actor: Actor, action: str, extra: dict | None = None, **changes: Any
) -> Ticket:
    before = {"status": ticket.status, **{name: _plain(getattr(ticket, name)) for name in changes}}
    ticket.status = target
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.updated_at = timezone.now()
    ticket.save()
    after = {"status": target, **{name: _plain(value) for name, value in changes.items()}}
    audit_record(
        actor=audit_actor(actor),
        action=action,
        target=ticket,
        parent=ticket.customer,
        changes=diff(before, after),
        extra=extra,
    )
    return ticket


def _plain(value: Any) -> Any:
    if isinstance(value, User):
        return value.get_username()
    if isinstance(value, ResolutionCode):
        return value.name
    return value


def _pause_end(ticket: Ticket, now: datetime.datetime) -> None:
    """End a pause: each running clock's deadline moves on by the pause's business minutes."""
    if ticket.paused_since is None:
        return
    calendar = _calendar(ticket)
    if calendar is not None:
        minutes = calendar.between(ticket.paused_since, now)
        ticket.paused_minutes += minutes
        if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
            ticket.first_response_due_at = calendar.add(ticket.first_response_due_at, minutes)
            if ticket.first_response_due_at > now:
                ticket.response_warned = ticket.response_escalated = False
        if ticket.resolved_at is None and ticket.resolution_due_at is not None:
            ticket.resolution_due_at = calendar.add(ticket.resolution_due_at, minutes)
            if ticket.resolution_due_at > now:
                ticket.resolution_warned = ticket.resolution_escalated = False
    ticket.paused_since = None


# --- creating ------------------------------------------------------------------------------


def _related_checked(
    customer: Customer, contact: Contact | None, contract: Contract | None, order: Order | None
) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("The contact belongs to another customer."), field="contact")
    if contract is not None and contract.customer_id != customer.pk:
        raise DomainError(_("The contract belongs to another customer."), field="contract")
    if order is not None and order.customer_id != customer.pk:
        raise DomainError(_("The order belongs to another customer."), field="order")


def _links_visible(actor: Actor, *, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A person links a ticket only to a contract or order they may see, and does not unlink
    or replace one they may not see (the page does not offer it; this holds at every door)."""
    if actor is SYSTEM:
        return
    person = cast(User, actor)
    lists: dict[str, QuerySet[Any]] = {"contract": contract_list(user=person), "order": order_list(user=person)}
    for name, visible in lists.items():
        old, new = before.get(name), after.get(name)
        old_id, new_id = getattr(old, "pk", None), getattr(new, "pk", None)
        if old_id == new_id:
            continue
        if old_id is not None and not visible.filter(pk=old_id).exists():
            message = (
                _("The ticket's contract is one you may not see; you cannot change or remove it.")
                if name == "contract"
                else _("The ticket's order is one you may not see; you cannot change or remove it.")
            )
            raise DomainError(message, field=name)
        if new_id is not None and not visible.filter(pk=new_id).exists():
            message = _("Choose a contract you may see.") if name == "contract" else _("Choose an order you may see.")
            raise DomainError(message, field=name)


@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    customer: Customer,
    contact: Contact | None,
    kind: str,
    channel: str,
    subject: str,
    description: str,
    priority: str = TicketPriority.NORMAL,
    contract: Contract | None = None,
    order: Order | None = None,
    created_at: datetime.datetime | None = None,
) -> Ticket:
    """Open a ticket with its SLA deadlines, and give it to the least-loaded agent on duty.

    `actor` is a member of staff, or `SYSTEM` for a ticket from the public form or a mail."""
    if actor is not SYSTEM:
        person = cast(User, actor)
        if not person.has_perm("service.add_ticket"):
            raise DomainError(_("You may not open tickets."))
        if not customer_list(user=person).filter(pk=customer.pk).exists():
            raise DomainError(_("Choose a customer you may see."), field="customer")
    _related_checked(customer, contact, contract, order)
    _links_visible(actor, before={}, after={"contract": contract, "order": order})
    created_at = created_at or timezone.now()
    ticket = Ticket(
        customer=customer,
        contact=contact,
        contract=contract,
        order=order,
        kind=kind,
        channel=channel,
        subject=subject.strip(),
        description=description,
        priority=priority,
        created_by=audit_actor(actor),
        created_at=created_at,
        updated_at=created_at,
    )
    ticket.sla_policy = sla_policy_for(priority=priority, tier=customer.tier, kind=kind)
    calendar = _calendar(ticket)
    if ticket.sla_policy is not None and calendar is not None:
        ticket.first_response_due_at = calendar.due(created_at, ticket.sla_policy.first_response_minutes)
        ticket.resolution_due_at = calendar.due(created_at, ticket.sla_policy.resolution_minutes)
    try:
        ticket.full_clean(exclude=["number", "assignee", "sla_policy"])
    except Exception as error:  # ValidationError: shown next to the first field it names
        fields = list(getattr(error, "error_dict", {}) or [None])
        raise DomainError(" ".join(getattr(error, "messages", [str(error)])), field=fields[0]) from None
    ticket.number = number_allocate("TK", year=timezone.localtime(created_at).year)
    ticket.save(force_insert=True)
    audit_record(
        actor=audit_actor(actor),
        action="ticket.created",
        target=ticket,
        parent=customer,
        changes=diff({}, snapshot(ticket, TICKET_FIELDS)),
        extra={
            "first_response_due_at": ticket.first_response_due_at,
            "resolution_due_at": ticket.resolution_due_at,
            "policy": str(ticket.sla_policy or ""),
        },
        actor_label=_("the customer") if actor is SYSTEM else "",
    )
    event_publish("ticket.created", ticket_id=ticket.pk, kind=ticket.kind, customer_id=customer.pk)
    _auto_assign(ticket)
    return ticket


EDITABLE_FIELDS = ("subject", "description", "kind", "priority", "contact", "contract", "order")


def _masked_text_kept(actor: User, ticket: Ticket, values: dict[str, Any]) -> None:
    """Text holding what the actor sees masked is not theirs to change: they could only
    write the stars back over it (the edit page leaves such a field out; the API and any
    other caller are refused here)."""
    masker = masker_for(actor)
    for name in ("subject", "description"):
        current = getattr(ticket, name)
        if name in values and values[name] != current and masker.hides(current):
            raise DomainError(_("Masked for you, so it cannot be changed here."), field=name)


@transaction.atomic
def ticket_update(
    *, actor: User, ticket_id: int, expected_version: Collection[str] | None = None, **values: Any
) -> Ticket:
    """Change what a ticket is about: subject, description, type, priority, contact,
    contract and order (the last three only the customer's). The assignee or a service
    manager may, until the ticket is closed.

    A new priority (or type) takes the policy that now matches: each clock still running
    is set again from the ticket's creation by the new policy's target, plus the business
    minutes the ticket has waited on the customer (the time waiting now is added when it
    resumes, as for any pause). A clock that is moved later may warn and escalate again."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if not actor.has_perm("service.change_ticket"):
        raise DomainError(_("You may not change tickets."))
    ticket = _ticket_locked(actor, ticket_id)
    version_check(ticket, expected_version)
    _works_on_it(actor, ticket)
    if ticket.status == S.CLOSED:
        raise TransitionNotAllowed(_("A closed ticket cannot be changed; reopen it first."))
    if "subject" in values:
        values["subject"] = " ".join(str(values["subject"] or "").split())
        if not values["subject"]:
            raise DomainError(_("Give the ticket a subject."), field="subject")
    _masked_text_kept(actor, ticket, values)
    before = snapshot(ticket, TICKET_FIELDS)
    _links_visible(
        actor,
        before={"contract": ticket.contract, "order": ticket.order},
        after={"contract": values.get("contract", ticket.contract), "order": values.get("order", ticket.order)},
    )
    for name, value in values.items():
        setattr(ticket, name, value)
    _related_checked(ticket.customer, ticket.contact, ticket.contract, ticket.order)
    try:
        ticket.full_clean(exclude=["number", "assignee", "sla_policy"], validate_constraints=False)
    except Exception as error:  # ValidationError: shown next to the first field it names
        fields = list(getattr(error, "error_dict", {}) or [None])
        raise DomainError(" ".join(getattr(error, "messages", [str(error)])), field=fields[0]) from None
    changes = diff(before, snapshot(ticket, TICKET_FIELDS))
    if not changes:
        return ticket
    extra: dict[str, Any] = {}
    if "priority" in changes or "kind" in changes:
        extra = _sla_recompute(ticket)
    ticket.updated_at = timezone.now()
    ticket.save()
    audit_record(
        actor=actor, action="ticket.updated", target=ticket, parent=ticket.customer, changes=changes, extra=extra
    )
    event_publish("ticket.updated", ticket_id=ticket.pk, fields=sorted(changes))
    return ticket


def _sla_recompute(ticket: Ticket) -> dict[str, Any]:
    """Set the running clocks again by the policy that matches the ticket now; returns the
    old and new deadlines for the history."""
    old = {"first_response_due_at": ticket.first_response_due_at, "resolution_due_at": ticket.resolution_due_at}
    ticket.sla_policy = sla_policy_for(priority=ticket.priority, tier=ticket.customer.tier, kind=ticket.kind)
    calendar = _calendar(ticket)
    if ticket.sla_policy is None or calendar is None:
        return {"policy": "", "sla": "unchanged"}
    now = timezone.now()
    policy = ticket.sla_policy
    if ticket.first_responded_at is None:
        ticket.first_response_due_at = calendar.add(
            ticket.created_at, policy.first_response_minutes + ticket.paused_minutes
        )
        if ticket.first_response_due_at > now:
            ticket.response_warned = ticket.response_escalated = False
    if ticket.resolved_at is None:
        ticket.resolution_due_at = calendar.add(ticket.created_at, policy.resolution_minutes + ticket.paused_minutes)
        if ticket.resolution_due_at > now:
            ticket.resolution_warned = ticket.resolution_escalated = False
    return {
        "policy": str(policy),
        "first_response_due_at": [old["first_response_due_at"], ticket.first_response_due_at],
        "resolution_due_at": [old["resolution_due_at"], ticket.resolution_due_at],
    }


def _auto_assign(ticket: Ticket) -> None:
    """Give the ticket to the least-loaded agent on duty (ties: who waited longest).

    The choice is serialised by a transaction-level advisory lock: the next ticket's choice
    waits until this one commits, so it counts this assignment in the loads."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ASSIGNMENT_LOCK])
    agent = agent_candidates().first()
    if agent is None:
        return  # nobody on duty: the ticket waits in the unassigned queue
    _assign(ticket, agent, actor=SYSTEM, automatic=True)


def _assign(ticket: Ticket, agent: User, *, actor: Actor, automatic: bool = False, comment: str = "") -> Ticket:
    WORKFLOW.check(ticket, "assign", actor=actor)
    now = timezone.now()
    _pause_end(ticket, now)
    AgentDuty.objects.update_or_create(agent=agent, defaults={"last_assigned_at": now})
    _set_status(
        ticket,
        S.ASSIGNED,
        actor=actor,
        action="ticket.assigned",
        extra={"automatic": automatic, "comment": comment},
        assignee=agent,
    )
    event_publish("ticket.assigned", ticket_id=ticket.pk, assignee_id=agent.pk, automatic=automatic)
    notification_send(
        recipients=[agent],
        sentence=ASSIGNED,
        params={"number": ticket.number, "customer": ticket.customer.name, "subject": ticket.subject},
        target_url=ticket.get_absolute_url(),
        exclude=[getattr(actor, "pk", None)],
    )
    return ticket


# --- the steps -------------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(*, actor: Actor, ticket_id: int, assignee: User, comment: str = "") -> Ticket:
    """A service manager gives the ticket to an agent (or takes it from one for another)."""
    ticket = _ticket_locked(actor, ticket_id)
    if not assignee.is_active or not assignee.has_perm("service.work_ticket"):
        raise DomainError(_("Tickets go to active service agents."), field="assignee")
    if ticket.assignee_id == assignee.pk and ticket.status == S.ASSIGNED:
        raise DomainError(_("The ticket is already assigned to %(agent)s.") % {"agent": assignee}, field="assignee")
    return _assign(ticket, assignee, actor=actor, comment=comment)


@transaction.atomic
def ticket_claim(*, actor: User, ticket_id: int) -> Ticket:
    """An agent takes an unassigned ticket and starts on it; of two claiming at once, one
    gets it and the other is told it is taken."""
    ticket = _ticket_locked(actor, ticket_id, "view")
    if ticket.assignee_id is not None:
        raise TransitionNotAllowed(
            _("%(number)s was taken by %(agent)s.") % {"number": ticket, "agent": ticket.assignee}
        )
    WORKFLOW.check(ticket, "claim", actor=actor)
    AgentDuty.objects.update_or_create(agent=actor, defaults={"last_assigned_at": timezone.now()})
    _set_status(ticket, S.IN_PROGRESS, actor=actor, action="ticket.claimed", assignee=actor)
    event_publish("ticket.assigned", ticket_id=ticket.pk, assignee_id=actor.pk, automatic=False)
    return ticket


@transaction.atomic
def ticket_start(*, actor: Actor, ticket_id: int) -> Ticket:
    """The assignee starts work (or resumes a ticket that waited on the customer)."""
    ticket = _ticket_locked(actor, ticket_id)
    WORKFLOW.check(ticket, "start", actor=actor)
    _works_on_it(actor, ticket)
    resumed = ticket.status == S.WAITING_ON_CUSTOMER
    _pause_end(ticket, timezone.now())
    return _set_status(ticket, S.IN_PROGRESS, actor=actor, action="ticket.resumed" if resumed else "ticket.started")


@transaction.atomic
def ticket_wait(*, actor: User, ticket_id: int, comment: str = "") -> Ticket:
    """The ticket waits on the customer: its clocks pause until it resumes."""
    ticket = _ticket_locked(actor, ticket_id)
    WORKFLOW.check(ticket, "wait", actor=actor)
    _works_on_it(actor, ticket)
    return _set_status(
        ticket,
        S.WAITING_ON_CUSTOMER,
        actor=actor,
        action="ticket.waiting",
        extra={"comment": comment},
        paused_since=timezone.now(),
    )


@transaction.atomic
def ticket_resolve(
    *, actor: User, ticket_id: int, comment: str, resolution_code: ResolutionCode | int | None = None
) -> Ticket:
    """Resolve with a note and, optionally, one of the admin's resolution codes (the page asks
    for one whenever the list offers any)."""
    ticket = _ticket_locked(actor, ticket_id)
    WORKFLOW.check(ticket, "resolve", actor=actor)
    _works_on_it(actor, ticket)
    if not comment.strip():
        raise DomainError(_("Say how the ticket was resolved."), field="comment")
    code = None
    if resolution_code is not None:
        code_id = resolution_code.pk if isinstance(resolution_code, ResolutionCode) else resolution_code
        code = ResolutionCode.objects.filter(pk=code_id, is_active=True).first()
        if code is None:
            raise DomainError(_("Choose a resolution code from the list."), field="resolution_code")
    now = timezone.now()
    _pause_end(ticket, now)
    _set_status(
        ticket,
        S.RESOLVED,
        actor=actor,
        action="ticket.resolved",
        extra={
            "comment": comment,
            "resolution_code": code.name if code else "",
            "resolution_breached": bool(ticket.resolution_due_at and now > ticket.resolution_due_at),
        },
        resolved_at=now,
        resolution=comment.strip(),
        resolution_code=code,
        assignee=ticket.assignee or (actor if actor is not SYSTEM else None),
    )
    event_publish("ticket.resolved", ticket_id=ticket.pk, actor_id=getattr(actor, "pk", None))
    return ticket


@transaction.atomic
def ticket_close(*, actor: Actor, ticket_id: int) -> Ticket:
    ticket = _ticket_locked(actor, ticket_id)
    WORKFLOW.check(ticket, "close", actor=actor)
    _works_on_it(actor, ticket)
    _set_status(ticket, S.CLOSED, actor=actor, action="ticket.closed", closed_at=timezone.now())
    event_publish("ticket.closed", ticket_id=ticket.pk)
    return ticket


@transaction.atomic
def ticket_reopen(*, actor: Actor, ticket_id: int, reason: str) -> Ticket:
    """Back to its assignee (in progress) or the unassigned queue; a closed ticket only
    within the days the desk's settings allow. The resolution clock restarts where it stood:
    the time the ticket lay resolved does not count."""
    ticket = _ticket_locked(actor, ticket_id)
    target = S.IN_PROGRESS if ticket.assignee_id else S.NEW
    WORKFLOW.check(ticket, "reopen", actor=actor, target=target)
    if not reason.strip():
        raise DomainError(_("Say why the ticket is reopened."), field="reason")
    now = timezone.now()
    if ticket.status == S.CLOSED:
        days = DeskSettings.current().reopen_closed_days
        if ticket.closed_at is None or ticket.closed_at < now - datetime.timedelta(days=days):
            raise TransitionNotAllowed(
                _("A closed ticket can be reopened within %(days)d days of closing; open a new one instead.")
                % {"days": days}
            )
    ticket.paused_since = ticket.resolved_at
    ticket.resolved_at = None
    _pause_end(ticket, now)
    _set_status(
        ticket,
        target,
        actor=actor,
        action="ticket.reopened",
        extra={"reason": reason},
        closed_at=None,
        resolution="",
        resolution_code=None,
    )
    event_publish("ticket.reopened", ticket_id=ticket.pk)
    return ticket


# --- the processing record -----------------------------------------------------------------


@transaction.atomic
def ticket_reply_add(*, actor: User, ticket: Ticket, body: str, public: bool) -> TicketEntry:
    """A staff note (internal) or a reply the customer gets by e-mail; the first public reply
    stops the first-response clock."""
    if not actor.has_perm("service.work_ticket"):
        raise DomainError(_("You may not write on tickets."))
    ticket = _ticket_locked(actor, ticket.pk)
    _works_on_it(actor, ticket)
    if not body.strip():
        raise DomainError(_("Write something first."), field="body")
    if public and ticket.status in (S.CLOSED,):
        raise TransitionNotAllowed(_("A closed ticket takes no replies; reopen it first."))
    entry = TicketEntry.objects.create(
        ticket=ticket,
        kind=TicketEntryKind.PUBLIC_REPLY if public else TicketEntryKind.INTERNAL_NOTE,
        author=actor,
        author_email=actor.email,
        body=body.strip(),
    )
    changes: dict[str, Any] = {}
    if public and ticket.first_responded_at is None:
        ticket.first_responded_at = entry.created_at
        changes["first_responded_at"] = [None, entry.created_at]
    ticket.updated_at = timezone.now()
    ticket.save()
    audit_record(
        actor=actor,
        action="ticket.replied" if public else "ticket.noted",
        target=ticket,
        parent=ticket.customer,
        changes=changes,
        extra={"entry_id": entry.pk, "body": entry.body[:500]},
    )
    if public:
        event_publish("ticket.replied", ticket_id=ticket.pk, entry_id=entry.pk)
    return entry


@transaction.atomic
def ticket_customer_message_add(
    *, ticket: Ticket, body: str, author_email: str = "", received_at: datetime.datetime | None = None
) -> TicketEntry:
    """The customer wrote (by e-mail or on the status page): the message joins the record and
    a ticket waiting on them resumes; a resolved one stays resolved (the assignee is told)."""
    ticket = _ticket_locked(SYSTEM, ticket.pk)
    if not body.strip():
        raise DomainError(_("Write something first."), field="body")
    entry = TicketEntry.objects.create(
        ticket=ticket,
        kind=TicketEntryKind.CUSTOMER_MESSAGE,
        author_email=author_email,
        body=body.strip(),
        created_at=received_at or timezone.now(),
    )
    audit_record(
        actor=None,
        action="ticket.customer_wrote",
        target=ticket,
        parent=ticket.customer,
        extra={"entry_id": entry.pk, "from": author_email},
        actor_label=author_email or _("the customer"),
    )
    if ticket.status == S.WAITING_ON_CUSTOMER:
        WORKFLOW.check(ticket, "start", actor=SYSTEM)
        _pause_end(ticket, timezone.now())
        _set_status(ticket, S.IN_PROGRESS, actor=SYSTEM, action="ticket.resumed", extra={"by_customer": True})
    else:
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
    event_publish("ticket.customer_wrote", ticket_id=ticket.pk, entry_id=entry.pk)
    notification_send(
        recipients=_assignee_or_managers(ticket),
        sentence=CUSTOMER_WROTE,
        params={"number": ticket.number, "customer": ticket.customer.name},
        target_url=ticket.get_absolute_url(),
    )
    return entry


# --- SLA warnings and escalations ------------------------------------------------------------


@transaction.atomic
def ticket_sla_check(*, ticket_id: int, now: datetime.datetime | None = None) -> dict[str, int]:
    """One ticket's clocks: a warning when a deadline is near, an escalation (the service
    managers told, the priority one step up) when it has passed, each once."""
    now = now or timezone.now()
    ticket = _ticket_locked(SYSTEM, ticket_id)
    outcome = {"warned": 0, "escalated": 0}
    if ticket.status not in OPEN_STATUSES or ticket.status == S.WAITING_ON_CUSTOMER:
        return outcome
    warn_before = datetime.timedelta(minutes=settings.SERVICE_SLA_WARN_MINUTES)
    clocks = [
        ("response", ticket.first_response_due_at if ticket.first_responded_at is None else None),
        ("resolution", ticket.resolution_due_at),
    ]
    for clock, due in clocks:
        if due is None:
            continue
        warned, escalated = f"{clock}_warned", f"{clock}_escalated"
        if due <= now and not getattr(ticket, escalated):
            _escalate(ticket, clock, due)
            setattr(ticket, escalated, True)
            setattr(ticket, warned, True)
            outcome["escalated"] += 1
        elif now < due <= now + warn_before and not getattr(ticket, warned):
            _warn(ticket, clock, due)
            setattr(ticket, warned, True)
            outcome["warned"] += 1
    if any(outcome.values()):
        ticket.save()
    return outcome


def _assignee_or_managers(ticket: Ticket) -> list[User]:
    """Who hears of a ticket: its assignee, or the service managers while it has none."""
    return [ticket.assignee] if ticket.assignee is not None else list(service_managers())


def _due_text(due: datetime.datetime) -> str:
    return timezone.localtime(due).strftime("%Y-%m-%d %H:%M")


def _warn(ticket: Ticket, clock: str, due: datetime.datetime) -> None:
    notification_send(
        recipients=_assignee_or_managers(ticket),
        sentence=WARN_RESPONSE if clock == "response" else WARN_RESOLUTION,
        params={"number": ticket.number, "customer": ticket.customer.name, "due": _due_text(due)},
        target_url=ticket.get_absolute_url(),
    )
    audit_record(
        actor=None,
        action="ticket.sla_warned",
        target=ticket,
        parent=ticket.customer,
        extra={"clock": clock, "due": due},
    )


def _escalate(ticket: Ticket, clock: str, due: datetime.datetime) -> None:
    before = ticket.priority
    ticket.priority = priority_raised(before)
    audit_record(
        actor=None,
        action="ticket.escalated",
        target=ticket,
        parent=ticket.customer,
        changes={"priority": [before, ticket.priority]} if before != ticket.priority else {},
        extra={"clock": clock, "due": due},
    )
    notification_send(
        recipients=[*service_managers(), *([ticket.assignee] if ticket.assignee is not None else [])],
        sentence=ESCALATED_RESPONSE if clock == "response" else ESCALATED_RESOLUTION,
        params={
            "number": ticket.number,
            "customer": ticket.customer.name,
            "priority": str(TicketPriority(ticket.priority).label),
        },
        target_url=ticket.get_absolute_url(),
    )
    event_publish("ticket.escalated", ticket_id=ticket.pk, clock=clock)


# --- agents' duty --------------------------------------------------------------------------


@transaction.atomic
def agent_duty_set(*, actor: User, agent: User, on_duty: bool) -> AgentDuty:
    """Put an agent on or off duty (a service manager, or the agent themselves)."""
    if actor.pk != agent.pk and not actor.has_perm("service.change_agentduty"):
        raise DomainError(_("You may not change other agents' duty."))
    duty, _created = AgentDuty.objects.select_for_update().get_or_create(agent=agent)
    if duty.on_duty != on_duty:
        duty.on_duty = on_duty
        duty.save(update_fields=["on_duty"])
        audit_record(actor=actor, action="agent.duty_changed", target=duty, changes={"on_duty": [not on_duty, on_duty]})
    return duty


# --- the calendar's days (the admin) -------------------------------------------------------


@transaction.atomic
def calendar_day_delete(*, actor: User, day: Holiday | WorkingHours) -> None:
    """Remove a holiday, a make-up day or a working period from a calendar, audited; tickets
    opened from then on follow the calendar without it."""
    opts = day._meta
    if not actor.has_perm(f"service.delete_{opts.model_name}"):
        raise DomainError(_("You may not change the business calendars."))
    audit_record(actor=actor, action=f"{opts.model_name}.deleted", target=day, parent=day.calendar)
    day.delete()
