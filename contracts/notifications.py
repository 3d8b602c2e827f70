"""Who is told of a contract's steps, and the daily renewal reminders.

The services publish domain events (`contract.submitted`, `contract.level_approved`,
`contract.approved`, `contract.rejected`, `contract.signed`, `contract.activated`); the
rules below, subscribed in `ContractsConfig.ready()`, turn each into notifications through
the kernel's `notification_send` after the step commits. Nobody is told of their own act,
and only people who may see the contract are told of it.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from contracts.choices import ContractStatus
from contracts.models import ApprovalStep, Contract
from crm.core.audit import audit_record
from crm.core.events import event_subscribe
from crm.core.models import AuditEvent
from crm.core.notifications import notification_send, waiting_counter_register
from crm.core.roles import Role

#: Days before a contract's end date its owner and the sales managers are reminded.
RENEWAL_MARKS = (30, 7)

WAITS = gettext_noop("Contract %(number)s for %(customer)s waits for your approval.")
LEVEL_APPROVED = gettext_noop("%(actor)s approved level %(level)s of contract %(number)s; it goes to the next level.")
APPROVED = gettext_noop("%(actor)s approved contract %(number)s.")
REJECTED = gettext_noop("%(actor)s rejected contract %(number)s: %(comment)s")
SIGNED_COMPANY = gettext_noop("%(signer)s signed contract %(number)s for the company.")
SIGNED_CUSTOMER = gettext_noop("%(signer)s signed contract %(number)s for the customer.")
ACTIVATED = gettext_noop("Contract %(number)s is active: both parties signed.")
RENEWAL = gettext_noop("Contract %(number)s for %(customer)s ends on %(end_date)s, in %(days)s days.")


def _contract(payload: dict[str, Any]) -> Contract | None:
    return (
        Contract.objects.select_related("customer", "owner", "submitted_by").filter(pk=payload["contract_id"]).first()
    )


def _name(user_id: int | None) -> str:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return (user.get_full_name() or user.get_username()) if user else ""


def _who_may_see(users: Iterable[User], contract: Contract) -> list[User]:
    """The users among `users` to whom the contract is visible (a rep sees only their own)."""
    return [user for user in users if Contract.objects.visible_to(user).filter(pk=contract.pk).exists()]


def contract_deciders(contract: Contract) -> list[User]:
    """The people who may decide the level the contract waits for: of its role, allowed to
    approve and to see it, neither its owner nor its submitter, not a decider of this round."""
    if contract.status != ContractStatus.PENDING_APPROVAL or not contract.awaiting_role:
        return []
    decided = ApprovalStep.objects.filter(contract=contract, round=contract.approval_round).values("approver_id")
    candidates = (
        User.objects.filter(is_active=True, groups__name=contract.awaiting_role)
        .exclude(pk__in=[pk for pk in (contract.owner_id, contract.submitted_by_id) if pk])
        .exclude(pk__in=decided)
        .distinct()
    )
    return [user for user in _who_may_see(candidates, contract) if user.has_perm("contracts.approve_contract")]


def _tell_deciders(contract: Contract, actor_id: int | None) -> None:
    notification_send(
        recipients=contract_deciders(contract),
        sentence=WAITS,
        params={"number": contract.number, "customer": contract.customer.name},
        target_url=contract.get_absolute_url(),
        exclude=[actor_id],
    )


def _tell_owner(contract: Contract, sentence: str, params: dict[str, Any], *, actor_id=None, submitter=False) -> None:
    people = [contract.owner, contract.submitted_by if submitter else None]
    notification_send(
        recipients=_who_may_see([user for user in people if user is not None], contract),
        sentence=sentence,
        params={"number": contract.number, **params},
        target_url=contract.get_absolute_url(),
        exclude=[actor_id],
    )


def _on_submitted(name: str, payload: dict[str, Any]) -> None:
    contract = _contract(payload)
    if contract is not None:
        _tell_deciders(contract, payload.get("actor_id"))


def _on_level_approved(name: str, payload: dict[str, Any]) -> None:
    contract = _contract(payload)
    if contract is None:
        return
    actor_id = payload.get("actor_id")
    _tell_deciders(contract, actor_id)
    _tell_owner(
        contract, LEVEL_APPROVED, {"actor": _name(actor_id), "level": payload.get("level", "")}, actor_id=actor_id
    )


def _on_decided(name: str, payload: dict[str, Any]) -> None:
    contract = _contract(payload)
    if contract is None:
        return
    actor_id = payload.get("actor_id")
    sentence = APPROVED if name == "contract.approved" else REJECTED
    params = {"actor": _name(actor_id), "comment": payload.get("comment", "")}
    _tell_owner(contract, sentence, params, actor_id=actor_id, submitter=True)


def _on_signed(name: str, payload: dict[str, Any]) -> None:
    contract = _contract(payload)
    if contract is None:
        return
    sentence = SIGNED_COMPANY if payload.get("party") == "company" else SIGNED_CUSTOMER
    _tell_owner(contract, sentence, {"signer": payload.get("signer", "")}, actor_id=payload.get("signer_id"))


def _on_activated(name: str, payload: dict[str, Any]) -> None:
    contract = _contract(payload)
    if contract is not None:
        _tell_owner(contract, ACTIVATED, {})


def _approvals_waiting(user: User) -> QuerySet | None:
    """The approvals inbox, counted in the navigation for those who may decide approvals."""
    if not user.has_perm("contracts.approve_contract"):
        return None
    from contracts.selectors import approval_inbox

    return approval_inbox(user=user)


def subscribe() -> None:
    """Register the rules (from `ContractsConfig.ready()`)."""
    event_subscribe("contract.submitted", _on_submitted)
    event_subscribe("contract.level_approved", _on_level_approved)
    event_subscribe("contract.approved", _on_decided)
    event_subscribe("contract.rejected", _on_decided)
    event_subscribe("contract.signed", _on_signed)
    event_subscribe("contract.activated", _on_activated)
    waiting_counter_register("approvals", _approvals_waiting)


# --- renewal reminders ------------------------------------------------------------------


def _reminded_marks(contract: Contract) -> set[int]:
    events = AuditEvent.objects.filter(
        action="contract.renewal_reminded",
        target_type=ContentType.objects.get_for_model(Contract),
        target_id=str(contract.pk),
    )
    return {int(extra.get("mark", 0)) for extra in events.values_list("extra", flat=True)}


def renewal_mark_due(contract: Contract, today: datetime.date) -> int | None:
    """The reminder mark (days before the end) a contract has reached, or None: the
    smallest of RENEWAL_MARKS at or past which it stands, so a run that missed a day still
    reminds once, and a contract that starts inside both marks gets one reminder."""
    days = (contract.end_date - today).days
    if days < 0:
        return None
    reached = [mark for mark in RENEWAL_MARKS if days <= mark]
    return min(reached) if reached else None


@transaction.atomic
def contract_renewal_reminders_send(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> list[tuple[Contract, int]]:
    """Remind the owner and the sales managers (who may see it) of each active contract
    ending in RENEWAL_MARKS days, once per contract per mark: each reminder is recorded as
    the audit event `contract.renewal_reminded` (with its mark), which a later run reads.
    Returns [(contract, mark)] reminded (or, with `dry_run`, that would be)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=max(RENEWAL_MARKS))
    candidates = (
        Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__gte=today, end_date__lte=horizon)
        .select_related("customer", "owner")
        .order_by("end_date", "id")
    )
    reminded = []
    managers = list(User.objects.filter(is_active=True, groups__name=Role.SALES_MANAGER).distinct())
    for contract in candidates:
        mark = renewal_mark_due(contract, today)
        if mark is None or mark in _reminded_marks(contract):
            continue
        reminded.append((contract, mark))
        if dry_run:
            continue
        contract = (
            Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner").get(pk=contract.pk)
        )
        if mark in _reminded_marks(contract):  # a concurrent run was first
            reminded.pop()
            continue
        days = (contract.end_date - today).days
        audit_record(
            actor=None,
            actor_label="system",
            action="contract.renewal_reminded",
            target=contract,
            parent=contract.customer,
            extra={"mark": mark, "days_left": days, "end_date": contract.end_date.isoformat()},
        )
        notification_send(
            recipients=_who_may_see([contract.owner, *managers], contract),
            sentence=RENEWAL,
            params={
                "number": contract.number,
                "customer": contract.customer.name,
                "end_date": contract.end_date.isoformat(),
                "days": days,
            },
            target_url=contract.get_absolute_url(),
        )
    return reminded
