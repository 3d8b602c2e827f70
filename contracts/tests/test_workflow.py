"""The transition table in contracts/workflow.py: every step taken, every wrong step refused.

Each state is reached by calling the services (see factories.py); each test of a step
checks the audit event it writes.
"""

import datetime
import itertools
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission

from contracts import services, signatures
from contracts.choices import ContractStatus as S
from contracts.models import Contract
from contracts.tests.factories import (
    ContractFactory,
    active_contract,
    approved_contract,
    assert_audited,
    contract_events,
    customer_sign,
    pending_contract,
    rejected_contract,
    reload,
    signing_contract,
)
from contracts.workflow import EDITABLE, TRANSITIONS, WORKFLOW, transition_permission
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.tests.factories import PASSWORD, UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

END = datetime.date(2026, 12, 31)  # every contract here runs 2026-01-01 .. 2026-12-31
LONG_AFTER = datetime.date(2100, 1, 1)


@pytest.fixture
def users(rep, other_rep, manager, finance, signatory):
    return SimpleNamespace(
        rep=rep,
        other_rep=other_rep,
        manager=manager,
        finance=finance,
        signatory=signatory,
        customer=CustomerFactory(owner=rep),
    )


def reach(state, u) -> Contract:
    """A contract of `rep` in `state`, got there through the services."""
    owned = {"owner": u.rep, "customer": u.customer}
    if state == S.DRAFT:
        return ContractFactory(**owned)
    if state == S.PENDING_APPROVAL:
        return pending_contract(**owned)
    if state == S.APPROVED:
        return approved_contract(approvers=[u.manager], **owned)
    if state == S.REJECTED:
        return rejected_contract(approver=u.manager, **owned)
    if state == S.CANCELLED:
        return services.contract_cancel(actor=u.rep, contract_id=ContractFactory(**owned).pk)
    if state == S.SIGNING:
        return signing_contract(signatory=u.signatory, approvers=[u.manager], **owned)
    contract = active_contract(signatory=u.signatory, approvers=[u.manager], **owned)
    if state == S.ACTIVE:
        return contract
    if state == S.COMPLETED:
        return services.contract_complete(actor=u.manager, contract_id=contract.pk)
    if state == S.TERMINATED:
        return services.contract_terminate(actor=u.manager, contract_id=contract.pk, reason="Breach")
    if state == S.EXPIRED:
        return services.contract_expire(contract_id=contract.pk, today=LONG_AFTER)
    raise AssertionError(state)


# Each service called by someone whose role allows it, so only the state can refuse it.
ACTIONS = {
    "submit": lambda c, u: services.contract_submit(actor=u.rep, contract_id=c.pk),
    "approve": lambda c, u: services.contract_approve(actor=u.manager, contract_id=c.pk),
    "reject": lambda c, u: services.contract_reject(actor=u.manager, contract_id=c.pk, comment="No"),
    "reopen": lambda c, u: services.contract_reopen(actor=u.rep, contract_id=c.pk),
    "cancel": lambda c, u: services.contract_cancel(actor=u.rep, contract_id=c.pk),
    "update": lambda c, u: services.contract_update(actor=u.rep, contract_id=c.pk, title="Edited"),
    "complete": lambda c, u: services.contract_complete(actor=u.manager, contract_id=c.pk),
    "terminate": lambda c, u: services.contract_terminate(actor=u.manager, contract_id=c.pk, reason="x"),
    "expire": lambda c, u: services.contract_expire(contract_id=c.pk, today=LONG_AFTER),
}

# Written out independently of TRANSITIONS: the states each service accepts.
ACCEPTED = {
    "submit": {S.DRAFT},
    "approve": {S.PENDING_APPROVAL},
    "reject": {S.PENDING_APPROVAL},
    "reopen": {S.REJECTED},
    "cancel": {S.DRAFT, S.PENDING_APPROVAL, S.REJECTED},
    "update": {S.DRAFT, S.REJECTED, S.APPROVED},
    "complete": {S.ACTIVE},
    "terminate": {S.ACTIVE},
    "expire": {S.ACTIVE},
}

REFUSED = [(state, action) for state, action in itertools.product(S, ACTIONS) if state not in ACCEPTED[action]]


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=[f"{s.value}-{a}" for s, a in REFUSED])
def test_a_step_from_the_wrong_state_is_refused(users, state, action):
    contract = reach(state, users)
    events = contract_events(contract).count()
    with pytest.raises(TransitionNotAllowed):
        ACTIONS[action](contract, users)
    assert reload(contract).status == state
    assert contract_events(contract).count() == events


@pytest.mark.parametrize("state", list(S))
def test_every_state_is_reachable_through_the_services(users, state):
    assert reach(state, users).status == state
    assert reload(reach(state, users)).status == state


# --- the table itself ---------------------------------------------------------------------------


def test_the_table_names_every_state():
    assert set(TRANSITIONS) == set(S)
    assert all(set(targets) <= set(S) for targets in TRANSITIONS.values())


@pytest.mark.parametrize("state", [S.COMPLETED, S.TERMINATED, S.EXPIRED, S.CANCELLED])
def test_end_states_lead_nowhere(state):
    assert TRANSITIONS[state] == {}


def test_can_transition_reads_the_table():
    for source, target in itertools.product(S, S):
        assert Contract(status=source).can_transition(target) == (target in TRANSITIONS[source])


def test_transition_permission_refuses_a_step_not_in_the_table():
    assert transition_permission(S.DRAFT, S.PENDING_APPROVAL) == "contracts.submit_contract"
    with pytest.raises(KeyError):
        transition_permission(S.DRAFT, S.APPROVED)


def test_only_draft_rejected_and_approved_contracts_are_editable():
    assert {S.DRAFT, S.REJECTED, S.APPROVED} == EDITABLE
    assert [state for state in S if Contract(status=state).is_editable()] == [
        S.DRAFT,
        S.APPROVED,
        S.REJECTED,
    ]


# --- every step of the table, one test each ----------------------------------------------------------

COVERED = {
    (S.DRAFT, S.PENDING_APPROVAL): "test_draft_to_pending_approval",
    (S.DRAFT, S.CANCELLED): "test_draft_to_cancelled",
    (S.PENDING_APPROVAL, S.APPROVED): "test_pending_approval_to_approved",
    (S.PENDING_APPROVAL, S.REJECTED): "test_pending_approval_to_rejected",
    (S.PENDING_APPROVAL, S.CANCELLED): "test_pending_approval_to_cancelled",
    (S.REJECTED, S.DRAFT): "test_rejected_to_draft",
    (S.REJECTED, S.CANCELLED): "test_rejected_to_cancelled",
    (S.APPROVED, S.DRAFT): "test_approved_to_draft",
    (S.APPROVED, S.SIGNING): "test_approved_to_signing",
    (S.SIGNING, S.ACTIVE): "test_signing_to_active",
    (S.ACTIVE, S.COMPLETED): "test_active_to_completed",
    (S.ACTIVE, S.TERMINATED): "test_active_to_terminated",
    (S.ACTIVE, S.EXPIRED): "test_active_to_expired",
}


def test_every_step_of_the_table_has_a_test():
    steps = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert set(COVERED) == steps
    assert all(callable(globals().get(name)) for name in COVERED.values())


def test_draft_to_pending_approval(users):
    contract = services.contract_submit(actor=users.rep, contract_id=reach(S.DRAFT, users).pk)
    assert contract.status == S.PENDING_APPROVAL
    assert_audited(
        contract,
        "contract.submitted",
        actor=users.rep,
        changes={"status": ["draft", "pending_approval"]},
        extra={"round": 1, "levels": ["Sales manager"]},
    )


def test_draft_to_cancelled(users):
    contract = reach(S.DRAFT, users)
    contract = services.contract_cancel(actor=users.rep, contract_id=contract.pk, reason=" Lost the deal ")
    assert reload(contract).status == S.CANCELLED
    assert reload(contract).ended_reason == "Lost the deal"
    assert_audited(
        contract,
        "contract.cancelled",
        actor=users.rep,
        changes={"status": ["draft", "cancelled"]},
        extra={"reason": "Lost the deal"},
    )


def test_pending_approval_to_approved(users):
    contract = reach(S.PENDING_APPROVAL, users)
    contract = services.contract_approve(actor=users.manager, contract_id=contract.pk, comment="Good")
    assert reload(contract).status == S.APPROVED
    assert_audited(
        contract,
        "contract.approved",
        actor=users.manager,
        changes={"status": ["pending_approval", "approved"]},
        extra={"level": 1, "comment": "Good"},
    )


def test_pending_approval_to_approved_is_never_taken_by_hand(users):
    contract = reach(S.PENDING_APPROVAL, users)
    with pytest.raises(TransitionNotAllowed):
        WORKFLOW.check(contract, "finish_approval", actor=users.manager)


def test_pending_approval_to_rejected(users):
    contract = reach(S.PENDING_APPROVAL, users)
    contract = services.contract_reject(actor=users.manager, contract_id=contract.pk, comment="Too cheap")
    assert reload(contract).status == S.REJECTED
    assert_audited(
        contract,
        "contract.rejected",
        actor=users.manager,
        changes={"status": ["pending_approval", "rejected"]},
        extra={"level": 1, "role": "Sales manager", "comment": "Too cheap"},
    )


def test_pending_approval_to_cancelled(users):
    contract = reach(S.PENDING_APPROVAL, users)
    contract = services.contract_cancel(actor=users.rep, contract_id=contract.pk)
    contract = reload(contract)
    assert contract.status == S.CANCELLED
    assert contract.awaiting_role == ""
    assert_audited(
        contract,
        "contract.cancelled",
        actor=users.rep,
        changes={"status": ["pending_approval", "cancelled"]},
        extra={"reason": ""},
    )
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=users.manager, contract_id=contract.pk)


def test_rejected_to_draft(users):
    contract = reach(S.REJECTED, users)
    contract = services.contract_reopen(actor=users.rep, contract_id=contract.pk)
    assert reload(contract).status == S.DRAFT
    assert_audited(contract, "contract.reopened", actor=users.rep, changes={"status": ["rejected", "draft"]})


def test_rejected_to_cancelled(users):
    contract = reach(S.REJECTED, users)
    contract = services.contract_cancel(actor=users.rep, contract_id=contract.pk, reason="Gave up")
    assert reload(contract).status == S.CANCELLED
    assert_audited(
        contract,
        "contract.cancelled",
        actor=users.rep,
        changes={"status": ["rejected", "cancelled"]},
        extra={"reason": "Gave up"},
    )


def test_approved_to_draft(users):
    contract = reach(S.APPROVED, users)
    old_title = contract.title
    contract = services.contract_update(actor=users.rep, contract_id=contract.pk, title="New title")
    assert reload(contract).status == S.DRAFT
    assert_audited(
        contract,
        "contract.updated",
        actor=users.rep,
        changes={"status": ["approved", "draft"], "title": [old_title, "New title"]},
        extra={"version": 2, "approvals_voided": 1},
    )


@pytest.mark.parametrize("first", ["company signature", "customer link"])
def test_approved_to_signing(users, first):
    """The system takes this step when the first signature is made or the first link sent."""
    contract = reach(S.APPROVED, users)
    assert transition_permission(S.APPROVED, S.SIGNING) is None
    for user in (users.rep, users.manager, users.signatory):
        with pytest.raises(TransitionNotAllowed):
            WORKFLOW.check(contract, "start_signing", actor=user)

    if first == "company signature":
        signatures.contract_sign_company(actor=users.signatory, contract_id=contract.pk, password=PASSWORD)
        starter = users.signatory
    else:
        signatures.signing_link_send(actor=users.rep, contract_id=contract.pk)
        starter = users.rep

    assert reload(contract).status == S.SIGNING
    started = contract_events(contract, "contract.signing_started").get()
    assert (started.actor, started.changes) == (starter, {"status": ["approved", "signing"]})


def test_signing_to_active(users):
    contract = reach(S.SIGNING, users)
    for user in (users.rep, users.manager, users.signatory):
        with pytest.raises(TransitionNotAllowed):
            WORKFLOW.check(contract, "activate", actor=user)

    customer_sign(contract)

    assert reload(contract).status == S.ACTIVE
    assert_audited(contract, "contract.activated", actor=None, changes={"status": ["signing", "active"]})


def test_active_to_completed(users):
    contract = reach(S.ACTIVE, users)
    contract = services.contract_complete(actor=users.manager, contract_id=contract.pk)
    assert reload(contract).status == S.COMPLETED
    assert_audited(contract, "contract.completed", actor=users.manager, changes={"status": ["active", "completed"]})


def test_active_to_terminated(users):
    contract = reach(S.ACTIVE, users)
    contract = services.contract_terminate(actor=users.manager, contract_id=contract.pk, reason=" Breach ")
    contract = reload(contract)
    assert contract.status == S.TERMINATED
    assert contract.ended_reason == "Breach"
    assert_audited(
        contract,
        "contract.terminated",
        actor=users.manager,
        changes={"status": ["active", "terminated"]},
        extra={"reason": "Breach"},
    )


def test_active_to_expired(users):
    contract = reach(S.ACTIVE, users)
    contract = services.contract_expire(contract_id=contract.pk, today=END + datetime.timedelta(days=1))
    assert reload(contract).status == S.EXPIRED
    assert_audited(contract, "contract.expired", actor=None, changes={"status": ["active", "expired"]})


# --- refusals other than the state -------------------------------------------------------------


@pytest.mark.parametrize("today", [END, END - datetime.timedelta(days=100)])
def test_a_contract_does_not_expire_before_its_end_date_has_passed(users, today):
    contract = reach(S.ACTIVE, users)
    with pytest.raises(TransitionNotAllowed):
        services.contract_expire(contract_id=contract.pk, today=today)
    assert reload(contract).status == S.ACTIVE
    assert contract_events(contract).last().action == "contract.activated"


def test_termination_needs_a_reason(users):
    contract = reach(S.ACTIVE, users)
    for reason in ("", "  ", None):
        with pytest.raises(DomainError) as refused:
            services.contract_terminate(actor=users.manager, contract_id=contract.pk, reason=reason)
        assert refused.value.field == "reason"
    assert reload(contract).status == S.ACTIVE


@pytest.mark.parametrize("role", ["rep", "finance", "signatory"])
def test_only_managers_complete_or_terminate(users, role):
    contract = reach(S.ACTIVE, users)
    user = getattr(users, role)
    with pytest.raises(TransitionNotAllowed):
        services.contract_complete(actor=user, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_terminate(actor=user, contract_id=contract.pk, reason="Breach")
    assert reload(contract).status == S.ACTIVE


@pytest.mark.parametrize("role", ["finance", "signatory", "other_rep"])
def test_roles_that_may_not_change_the_contract_cannot_submit_cancel_or_reopen(users, role):
    user = getattr(users, role)
    draft, rejected = reach(S.DRAFT, users), reach(S.REJECTED, users)
    with pytest.raises(DomainError):
        services.contract_submit(actor=user, contract_id=draft.pk)
    with pytest.raises(DomainError):
        services.contract_cancel(actor=user, contract_id=draft.pk)
    with pytest.raises(DomainError):
        services.contract_reopen(actor=user, contract_id=rejected.pk)
    assert reload(draft).status == S.DRAFT
    assert reload(rejected).status == S.REJECTED


def test_cancelling_needs_the_cancel_permission(users):
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["view_contract", "change_contract"]
        )
    )
    contract = reach(S.DRAFT, users)
    users.customer.owner = clerk  # the clerk may now see and change the contract
    users.customer.save()
    assert Contract.objects.visible_to(clerk, "change").filter(pk=contract.pk).exists()
    with pytest.raises(TransitionNotAllowed):
        services.contract_cancel(actor=clerk, contract_id=contract.pk)
    assert reload(contract).status == S.DRAFT


def test_a_manager_may_cancel_and_reopen_a_reps_contract(users):
    rejected = reach(S.REJECTED, users)
    services.contract_reopen(actor=users.manager, contract_id=rejected.pk)
    assert_audited(rejected, "contract.reopened", actor=users.manager)
    services.contract_cancel(actor=users.manager, contract_id=rejected.pk)
    assert reload(rejected).status == S.CANCELLED
    assert_audited(rejected, "contract.cancelled", actor=users.manager)
