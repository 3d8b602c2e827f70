"""Every write to contracts: drafting, editing with versions, and each workflow step.

Each step locks the contract row, checks the transition table and the actor, changes
the state and records the audit event in one transaction.
"""

import datetime
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.choices import ApprovalDecision
from contracts.choices import ContractStatus as S
from contracts.models import (
    CONTRACT_TERMS,
    ApprovalRule,
    ApprovalStep,
    Contract,
    ContractTemplate,
    ContractVersion,
)
from contracts.selectors import Level, approval_levels, next_approval_level
from contracts.signed_terms import contract_signatures_verified
from contracts.steps import contract_locked, status_set
from contracts.templating import clauses_missing, template_render
from contracts.workflow import WORKFLOW
from crm.core.audit import audit_record, diff, snapshot
from crm.core.events import event_publish
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.numbering import number_allocate
from crm.core.roles import Role
from crm.core.services import reference_row_save
from crm.core.versions import version_check
from crm.core.workflow import SYSTEM
from customers.models import Customer
from customers.selectors import customer_list

TEMPLATE_TERMS = ["title", "amount", "currency", "start_date", "end_date", "payment_terms_days"]


def _template_values(
    *,
    customer: Customer,
    title: str,
    amount: Decimal,
    currency: str,
    start_date: datetime.date,
    end_date: datetime.date,
    payment_terms_days: int,
) -> dict[str, Any]:
    return {
        "customer_name": customer.name,
        "customer_address": customer.address,
        "customer_email": customer.email,
        "contract_title": title,
        "amount": number_format(amount, decimal_pos=2, force_grouping=True),
        "currency": currency,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "payment_terms_days": payment_terms_days,
        "company_name": settings.COMPANY_NAME,
    }


@transaction.atomic
def contract_create(
    *, actor: User, customer_id: int, template_id: int | None = None, body: str = "", annex: str = "", **terms: Any
) -> Contract:
    """Draft a contract for a customer the actor may see, filling the template if one is chosen.
    `annex` is appended to the body (an accepted quote's lines)."""
    if not actor.has_perm("contracts.add_contract"):
        raise DomainError(_("You may not draft contracts."))
    customer = customer_list(user=actor).filter(pk=customer_id).first()
    if customer is None:
        raise DomainError(_("Choose a customer you may see."), field="customer")
    template = None
    if template_id is not None:
        template = ContractTemplate.objects.filter(pk=template_id, is_active=True).first()
        if template is None:
            raise DomainError(_("Choose an active template."), field="template")
    terms.setdefault("currency", settings.DEFAULT_CURRENCY)
    contract = Contract(customer=customer, template=template, body=body, owner=actor, **terms)
    if template is not None and not body.strip():
        # Fill from the validated terms, model defaults included (payment terms).
        contract.full_clean(exclude=["number", "body"])
        contract.body = template_render(
            template.body,
            _template_values(customer=customer, **{name: getattr(contract, name) for name in TEMPLATE_TERMS}),
        )
    if annex.strip():
        contract.body = f"{contract.body.rstrip()}\n\n{annex.strip()}" if contract.body.strip() else annex.strip()
    contract.full_clean(exclude=["number"])
    contract.number = number_allocate("CT")
    contract.save(force_insert=True)
    audit_record(
        actor=actor,
        action="contract.created",
        target=contract,
        parent=customer,
        changes=diff({}, snapshot(contract, CONTRACT_TERMS)),
        extra={"template": template.name if template else None},
    )
    event_publish("contract.drafted", contract_id=contract.pk, customer_id=customer.pk, number=contract.number)
    return contract


@transaction.atomic
def contract_update(
    *, actor: User, contract_id: int, expected_version: Collection[str] | None = None, **terms: Any
) -> Contract:
    """Edit the terms, keeping the previous ones as a numbered version.

    Editing a rejected or approved contract returns it to draft; an approved one's
    approvals are voided, so it must be approved again.
    """
    contract = contract_locked(actor, contract_id, "change")
    version_check(contract, expected_version)
    if not contract.is_editable():
        raise TransitionNotAllowed(
            _("A contract that is %(status)s cannot be edited.") % {"status": contract.get_status_display().lower()}
        )
    before = snapshot(contract, CONTRACT_TERMS)
    for name, value in terms.items():
        if name not in CONTRACT_TERMS:
            raise DomainError(_("%(field)s cannot be edited here.") % {"field": name})
        setattr(contract, name, value)
    contract.full_clean(exclude=["number"])
    changes = diff(before, snapshot(contract, CONTRACT_TERMS))
    if not changes:
        return contract
    previous = Contract.objects.get(pk=contract.pk)
    ContractVersion.objects.create(
        contract=contract,
        number=previous.version,
        saved_by=actor,
        **{name: getattr(previous, name) for name in CONTRACT_TERMS},
    )
    contract.version = previous.version + 1
    extra = {"version": contract.version}
    if contract.status != S.DRAFT:
        WORKFLOW.check(contract, "edit", actor=actor)
        voided = ApprovalStep.objects.filter(contract=contract, round=contract.approval_round, voided_at__isnull=True)
        extra["approvals_voided"] = voided.update(voided_at=timezone.now())
        changes["status"] = [contract.status, S.DRAFT]
        contract.status = S.DRAFT
    contract.updated_at = timezone.now()
    contract.save()
    audit_record(
        actor=actor,
        action="contract.updated",
        target=contract,
        parent=contract.customer,
        changes=changes,
        extra=extra,
    )
    return contract


@transaction.atomic
def contract_submit(*, actor: User, contract_id: int) -> Contract:
    contract = contract_locked(actor, contract_id, "change")
    WORKFLOW.check(contract, "submit", actor=actor)
    levels = approval_levels(contract.amount)
    if not levels:
        raise DomainError(_("No approval rule applies to this amount; ask an admin to set the rules."))
    contract.approval_round += 1
    contract.required_levels = [[level, role] for level, role in levels]
    contract.awaiting_role = levels[0][1]
    contract.submitted_by = actor
    contract.submitted_at = timezone.now()
    contract.decided_at = None
    required = contract.template.required_clauses if contract.template else []
    event_publish("contract.submitted", contract_id=contract.pk, actor_id=actor.pk)
    return status_set(
        contract,
        S.PENDING_APPROVAL,
        actor=actor,
        action="contract.submitted",
        extra={
            "round": contract.approval_round,
            "levels": [role for _level, role in levels],
            "missing_clauses": clauses_missing(contract.body, required),
        },
    )


def _check_decider(contract: Contract, actor: User) -> Level:
    """The four-eyes rule and the level's role, for approving and rejecting alike."""
    if contract.status != S.PENDING_APPROVAL:
        raise TransitionNotAllowed(
            _("This contract is %(status)s; there is nothing to decide.")
            % {"status": contract.get_status_display().lower()}
        )
    if not actor.has_perm("contracts.approve_contract"):
        raise TransitionNotAllowed(_("Your role may not decide on approvals."))
    if actor.pk in (contract.owner_id, contract.submitted_by_id):
        raise TransitionNotAllowed(_("Nobody decides on a contract they own or submitted."))
    level = next_approval_level(contract)
    if level is None:
        raise TransitionNotAllowed(_("Every level has already decided."))
    if not actor.groups.filter(name=level[1]).exists():
        raise TransitionNotAllowed(
            _("This level waits for a decision by a %(role)s.") % {"role": str(Role(level[1]).label).lower()}
        )
    already = ApprovalStep.objects.filter(contract=contract, round=contract.approval_round, approver=actor)
    if already.exists():
        raise TransitionNotAllowed(_("You decided an earlier level; another person decides this one."))
    return level


def _record_step(contract: Contract, level: Level, actor: User, decision: str, comment: str) -> ApprovalStep:
    try:
        with transaction.atomic():
            return ApprovalStep.objects.create(
                contract=contract,
                round=contract.approval_round,
                level=level[0],
                role=level[1],
                approver=actor,
                decision=decision,
                comment=comment,
            )
    except IntegrityError:
        raise TransitionNotAllowed(_("Someone else decided this level a moment ago.")) from None


@transaction.atomic
def contract_approve(*, actor: User, contract_id: int, comment: str = "") -> Contract:
    contract = contract_locked(actor, contract_id)
    level = _check_decider(contract, actor)
    WORKFLOW.check(contract, "approve", actor=actor)
    step = _record_step(contract, level, actor, ApprovalDecision.APPROVED, (comment or "").strip())
    remaining = next_approval_level(contract)
    extra = {"level": step.level, "role": step.role, "comment": step.comment}
    if remaining is not None:
        contract.awaiting_role = remaining[1]
        contract.updated_at = timezone.now()
        contract.save()
        audit_record(
            actor=actor,
            action="contract.level_approved",
            target=contract,
            parent=contract.customer,
            changes={"awaiting_role": [level[1], remaining[1]]},
            extra=extra,
        )
        event_publish("contract.level_approved", contract_id=contract.pk, actor_id=actor.pk, level=step.level)
        return contract
    WORKFLOW.check(contract, "finish_approval", actor=SYSTEM)
    contract.awaiting_role = ""
    contract.decided_at = timezone.now()
    event_publish("contract.approved", contract_id=contract.pk, actor_id=actor.pk)
    return status_set(contract, S.APPROVED, actor=actor, action="contract.approved", extra=extra)


@transaction.atomic
def contract_reject(*, actor: User, contract_id: int, comment: str) -> Contract:
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Say why the contract is rejected."), field="comment")
    contract = contract_locked(actor, contract_id)
    level = _check_decider(contract, actor)
    WORKFLOW.check(contract, "reject", actor=actor)
    step = _record_step(contract, level, actor, ApprovalDecision.REJECTED, comment)
    contract.awaiting_role = ""
    contract.decided_at = timezone.now()
    event_publish("contract.rejected", contract_id=contract.pk, actor_id=actor.pk, comment=comment)
    return status_set(
        contract,
        S.REJECTED,
        actor=actor,
        action="contract.rejected",
        extra={"level": step.level, "role": step.role, "comment": comment},
    )


@transaction.atomic
def contract_reopen(*, actor: User, contract_id: int) -> Contract:
    """A rejected contract goes back to draft for another try."""
    contract = contract_locked(actor, contract_id, "change")
    if contract.status != S.REJECTED:
        raise TransitionNotAllowed(_("Only a rejected contract is reopened."))
    WORKFLOW.check(contract, "reopen", actor=actor)
    return status_set(contract, S.DRAFT, actor=actor, action="contract.reopened")


@transaction.atomic
def contract_cancel(*, actor: User, contract_id: int, reason: str = "") -> Contract:
    contract = contract_locked(actor, contract_id, "change")
    WORKFLOW.check(contract, "cancel", actor=actor)
    contract.ended_reason = (reason or "").strip()
    contract.awaiting_role = ""
    return status_set(
        contract, S.CANCELLED, actor=actor, action="contract.cancelled", extra={"reason": contract.ended_reason}
    )


@transaction.atomic
def contract_terminate(*, actor: User, contract_id: int, reason: str) -> Contract:
    """End an active contract early. Allowed also when its signatures no longer verify:
    terminating is how a contract changed behind the application's back is stopped."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the contract is terminated."), field="reason")
    contract = contract_locked(actor, contract_id)
    WORKFLOW.check(contract, "terminate", actor=actor)
    contract.ended_reason = reason
    return status_set(contract, S.TERMINATED, actor=actor, action="contract.terminated", extra={"reason": reason})


@transaction.atomic
def contract_complete(*, actor: User, contract_id: int) -> Contract:
    contract = contract_locked(actor, contract_id)
    WORKFLOW.check(contract, "complete", actor=actor)
    # Completing says the signed terms were fulfilled: not when they no longer verify.
    contract_signatures_verified(contract)
    return status_set(contract, S.COMPLETED, actor=actor, action="contract.completed")


@transaction.atomic
def contract_expire(*, contract_id: int, today: datetime.date | None = None) -> Contract:
    """The system expires an active contract whose end date has passed (also one whose
    signatures no longer verify: expiring, like terminating, stops business)."""
    contract = contract_locked(SYSTEM, contract_id)
    today = today or timezone.localdate()
    if contract.end_date >= today:
        raise TransitionNotAllowed(_("This contract runs until %(date)s.") % {"date": contract.end_date})
    WORKFLOW.check(contract, "expire", actor=SYSTEM)
    return status_set(contract, S.EXPIRED, actor=SYSTEM, action="contract.expired")


TEMPLATE_FIELDS = ["name", "body", "required_clauses", "is_active"]
RULE_FIELDS = ["min_amount", "level", "role", "is_active"]


@transaction.atomic
def contract_template_save(*, actor: User, template: ContractTemplate) -> ContractTemplate:
    """Create or change a template (admins), recording what changed."""
    refusal = _("You may not manage contract templates.")
    return reference_row_save(actor=actor, instance=template, fields=TEMPLATE_FIELDS, refusal=refusal)


@transaction.atomic
def approval_rule_save(*, actor: User, rule: ApprovalRule) -> ApprovalRule:
    """Create or change an approval rule (admins), recording what changed."""
    refusal = _("You may not manage approval rules.")
    return reference_row_save(actor=actor, instance=rule, fields=RULE_FIELDS, refusal=refusal)


@transaction.atomic
def contract_ordered_amount_set(*, actor: User, contract: Contract, amount: Decimal, order_number: str) -> None:
    """Record the sum of the contract's live orders after order `order_number` changed, with its audit
    event when the sum moved. The order services call it inside their transaction, holding the
    contract's lock (`contracts.selectors.contract_lock_for_orders`) while they sum the orders;
    called alone it is atomic by itself, like every service."""
    before, amount = contract.ordered_amount, Decimal(amount).quantize(Decimal("0.01"))
    if before == amount:
        return
    Contract.objects.filter(pk=contract.pk).update(ordered_amount=amount)
    contract.ordered_amount = amount
    audit_record(
        actor=actor,
        action="contract.ordered_amount_changed",
        target=contract,
        parent=contract.customer,
        changes={"ordered_amount": [before, amount]},
        extra={"order": order_number},
    )
