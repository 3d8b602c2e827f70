"""The transition table in orders/workflow.py: every step taken, every wrong step refused.

Each state is reached by calling the services; each step's test checks its audit event.
"""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import override_settings

from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.workflow import SYSTEM
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus as S
from orders.tests.factories import ProductFactory, active_contract, assert_audited, line, order_for, reload
from orders.workflow import LIVE, TRANSITIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def u(rep, other_rep, manager, finance, signatory):
    customer = CustomerFactory(owner=rep)
    return SimpleNamespace(
        rep=rep,
        other_rep=other_rep,
        manager=manager,
        manager_b=UserFactory(username="manager_b", role=Role.SALES_MANAGER),
        finance=finance,
        signatory=signatory,
        customer=customer,
        pump=ProductFactory(actor=manager, sku="HP-100", unit_price=Decimal("1000.00")),
    )


@pytest.fixture
def contract(u):
    return active_contract(u.rep, u.customer, "50000.00", manager=u.manager, signatory=u.signatory)


def reach(state, u):
    """An order of `rep`'s without a contract (so submitting asks for approval) in `state`."""
    order = order_for(u.rep, u.customer, lines=[line(u.pump)])
    if state == S.DRAFT:
        return order
    if state == S.CANCELLED:
        return services.order_cancel(actor=u.rep, order_id=order.pk, reason="Duplicate")
    order = services.order_submit(actor=u.rep, order_id=order.pk)
    if state == S.PENDING_APPROVAL:
        return order
    order = services.order_approve(actor=u.manager, order_id=order.pk)
    if state == S.APPROVED:
        return order
    order = services.order_start_fulfilment(actor=u.manager, order_id=order.pk)
    if state == S.IN_FULFILMENT:
        return order
    order = services.order_deliver(actor=u.manager, order_id=order.pk)
    if state == S.DELIVERED:
        return order
    return services.order_close(actor=u.manager, order_id=order.pk)


def test_reach_gets_every_state(u):
    for state in S:
        assert reload(reach(state, u)).status == state


def test_live_is_every_state_but_cancelled():
    assert set(LIVE) == set(S) - {S.CANCELLED}


# --- every step in the table ------------------------------------------------------------------

# (from, to) -> (placed against the contract?, the step, the audit action)
STEPS = {
    (S.DRAFT, S.PENDING_APPROVAL): (False, "submit", "order.submitted"),
    (S.DRAFT, S.APPROVED): (True, "submit", "order.approved"),
    (S.DRAFT, S.CANCELLED): (False, "cancel", "order.cancelled"),
    (S.PENDING_APPROVAL, S.APPROVED): (False, "approve", "order.approved"),
    (S.PENDING_APPROVAL, S.DRAFT): (False, "reject", "order.rejected"),
    (S.PENDING_APPROVAL, S.CANCELLED): (False, "cancel", "order.cancelled"),
    (S.APPROVED, S.IN_FULFILMENT): (False, "start_fulfilment", "order.fulfilment_started"),
    (S.APPROVED, S.CANCELLED): (False, "cancel", "order.cancelled"),
    (S.IN_FULFILMENT, S.DELIVERED): (False, "deliver", "order.delivered"),
    (S.DELIVERED, S.CLOSED): (False, "close", "order.closed"),
}


def test_every_transition_in_the_table_has_a_test():
    table = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert table == set(STEPS)


def _take(step, order, u):
    """The step as the person who takes it; returns (actor, extra expected in the event)."""
    if step == "submit":
        services.order_submit(actor=u.rep, order_id=order.pk)
        return u.rep, None
    if step == "cancel":
        services.order_cancel(actor=u.rep, order_id=order.pk, reason="  Customer withdrew ")
        return u.rep, {"reason": "Customer withdrew"}
    if step == "approve":
        services.order_approve(actor=u.manager, order_id=order.pk, comment="Fine")
        return u.manager, {"comment": "Fine"}
    if step == "reject":
        services.order_reject(actor=u.manager, order_id=order.pk, comment="Discount too high")
        return u.manager, {"comment": "Discount too high"}
    getattr(services, f"order_{step}")(actor=u.manager, order_id=order.pk)
    return u.manager, None


@pytest.mark.parametrize(("source", "target"), list(STEPS))
def test_each_step_moves_the_order_and_records_it(u, contract, source, target):
    on_contract, step, action = STEPS[(source, target)]
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump)]) if on_contract else reach(source, u)
    assert reload(order).status == source

    actor, extra = _take(step, order, u)

    order = reload(order)
    assert order.status == target
    parent = order.contract or order.customer
    assert_audited(order, action, actor=actor, parent=parent, changes={"status": [source, target]}, extra=extra)


def test_an_automatic_approval_records_no_approver(u, contract):
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump)])
    services.order_submit(actor=u.rep, order_id=order.pk)
    order = reload(order)
    assert (order.status, order.submitted_by, order.approved_by, order.approval_reasons) == (
        S.APPROVED,
        u.rep,
        None,
        [],
    )
    assert_audited(order, "order.approved", actor=u.rep, extra={"automatic": True, "approval_reasons": []})


def test_a_managers_approval_records_the_approver(u):
    order = reach(S.PENDING_APPROVAL, u)
    services.order_approve(actor=u.manager, order_id=order.pk)
    order = reload(order)
    assert (order.approved_by, order.submitted_by) == (u.manager, u.rep)


def test_a_rejected_order_can_be_edited_and_submitted_again(u):
    order = reach(S.PENDING_APPROVAL, u)
    services.order_reject(actor=u.manager, order_id=order.pk, comment="Wrong quantity")
    services.order_update(actor=u.rep, order_id=order.pk, lines=[line(u.pump, 2)])
    services.order_submit(actor=u.rep, order_id=order.pk)
    assert reload(order).status == S.PENDING_APPROVAL


def test_cancelling_records_the_reason(u):
    order = reach(S.APPROVED, u)
    services.order_cancel(actor=u.rep, order_id=order.pk, reason="Out of budget")
    assert reload(order).cancel_reason == "Out of budget"


# --- when submitting needs a manager ------------------------------------------------------------


def test_an_order_without_a_contract_waits_for_approval(u):
    order = order_for(u.rep, u.customer, lines=[line(u.pump)])
    services.order_submit(actor=u.rep, order_id=order.pk)
    order = reload(order)
    assert order.status == S.PENDING_APPROVAL
    assert order.approval_reasons == ["it is not placed against a contract"]
    assert_audited(
        order,
        "order.submitted",
        actor=u.rep,
        extra={"automatic": False, "approval_reasons": ["it is not placed against a contract"]},
    )


@override_settings(ORDER_APPROVAL_TOTAL_ABOVE="5000")
def test_an_order_above_the_total_limit_waits_for_approval(u, contract):
    at_limit = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump, 5)])
    above = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump, "5.01")])

    assert services.order_submit(actor=u.rep, order_id=at_limit.pk).status == S.APPROVED
    assert services.order_submit(actor=u.rep, order_id=above.pk).status == S.PENDING_APPROVAL
    assert reload(above).approval_reasons == ["its total is above 5,000.00 CNY"]


@override_settings(ORDER_APPROVAL_DISCOUNT_ABOVE="10")
def test_an_order_with_a_line_discounted_above_the_limit_waits_for_approval(u, contract):
    at_limit = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump), line(u.pump, 1, 10)])
    above = order_for(u.rep, u.customer, contract=contract, lines=[line(u.pump), line(u.pump, 1, "10.5")])

    assert services.order_submit(actor=u.rep, order_id=at_limit.pk).status == S.APPROVED
    assert services.order_submit(actor=u.rep, order_id=above.pk).status == S.PENDING_APPROVAL
    assert reload(above).approval_reasons == ["a line is discounted by more than 10%"]


@override_settings(ORDER_APPROVAL_TOTAL_ABOVE="500", ORDER_APPROVAL_DISCOUNT_ABOVE="5")
def test_every_reason_is_recorded(u):
    order = order_for(u.rep, u.customer, lines=[line(u.pump, 1, 20)])
    services.order_submit(actor=u.rep, order_id=order.pk)
    assert reload(order).approval_reasons == [
        "it is not placed against a contract",
        "its total is above 500.00 CNY",
        "a line is discounted by more than 5%",
    ]


# --- every wrong step is refused ------------------------------------------------------------------

SERVICES = {
    "submit": (S.APPROVED, S.PENDING_APPROVAL),  # either target, depending on the rules
    "approve": (S.APPROVED,),
    "reject": (S.DRAFT,),
    "start_fulfilment": (S.IN_FULFILMENT,),
    "deliver": (S.DELIVERED,),
    "close": (S.CLOSED,),
    "cancel": (S.CANCELLED,),
}
# The only states each service starts from (the table, read per service).
ALLOWED_FROM = {
    "submit": {S.DRAFT},
    "approve": {S.PENDING_APPROVAL},
    "reject": {S.PENDING_APPROVAL},
    "start_fulfilment": {S.APPROVED},
    "deliver": {S.IN_FULFILMENT},
    "close": {S.DELIVERED},
    "cancel": {S.DRAFT, S.PENDING_APPROVAL, S.APPROVED},
}
WRONG = [(state, step) for step in SERVICES for state in S if state not in ALLOWED_FROM[step]]


def _call(step, order, actor):
    if step == "cancel":
        return services.order_cancel(actor=actor, order_id=order.pk, reason="Because")
    if step == "reject":
        return services.order_reject(actor=actor, order_id=order.pk, comment="Because")
    return getattr(services, f"order_{step}")(actor=actor, order_id=order.pk)


@pytest.mark.parametrize(("state", "step"), WRONG)
def test_a_step_from_the_wrong_state_is_refused(u, state, step):
    order = reach(state, u)
    # The rep submits and cancels; a manager who neither owns nor submitted takes the rest.
    actor = u.rep if step in ("submit", "cancel") else u.manager_b
    with pytest.raises(TransitionNotAllowed):
        _call(step, order, actor)
    assert reload(order).status == state


def test_cancel_is_refused_once_fulfilment_started(u):
    for state in (S.IN_FULFILMENT, S.DELIVERED, S.CLOSED, S.CANCELLED):
        order = reach(state, u)
        with pytest.raises(TransitionNotAllowed, match=f"that is {S(state).label.lower()} cannot become cancelled"):
            services.order_cancel(actor=u.manager, order_id=order.pk, reason="Too late")


def test_a_manager_cannot_approve_a_draft_directly(u):
    """Approving is a decision on a submitted order; a draft is submitted first."""
    order = reach(S.DRAFT, u)
    with pytest.raises(TransitionNotAllowed):
        services.order_approve(actor=u.manager, order_id=order.pk)
    assert reload(order).status == S.DRAFT


# --- wrong role -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (S.PENDING_APPROVAL, "approve"),
        (S.PENDING_APPROVAL, "reject"),
        (S.APPROVED, "start_fulfilment"),
        (S.IN_FULFILMENT, "deliver"),
        (S.DELIVERED, "close"),
    ],
)
def test_a_rep_may_not_take_a_managers_step(u, state, step):
    order = reach(state, u)
    with pytest.raises(TransitionNotAllowed, match="Your role may not take this step"):
        _call(step, order, u.rep)
    assert reload(order).status == state


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (S.PENDING_APPROVAL, "approve"),
        (S.APPROVED, "start_fulfilment"),
        (S.IN_FULFILMENT, "deliver"),
        (S.DELIVERED, "close"),
    ],
)
def test_finance_sees_orders_but_may_not_move_them(u, state, step):
    order = reach(state, u)
    with pytest.raises(TransitionNotAllowed, match="Your role may not take this step"):
        _call(step, order, u.finance)
    assert reload(order).status == state


@pytest.mark.parametrize("step", ["submit", "cancel"])
def test_finance_may_not_submit_or_cancel(u, step):
    order = reach(S.DRAFT, u)
    with pytest.raises(DomainError, match="does not exist or you may not act on it"):
        _call(step, order, u.finance)
    assert reload(order).status == S.DRAFT


@pytest.mark.parametrize("step", ["approve", "reject", "cancel"])
def test_another_rep_cannot_act_on_an_order_they_cannot_see(u, step):
    order = reach(S.PENDING_APPROVAL, u)
    with pytest.raises(DomainError, match="does not exist or you may not act on it"):
        _call(step, order, u.other_rep)
    assert reload(order).status == S.PENDING_APPROVAL


def test_the_system_may_close_a_delivered_order(u):
    order = reach(S.DELIVERED, u)
    services.order_close(actor=SYSTEM, order_id=order.pk)
    assert_audited(reload(order), "order.closed", actor=None, changes={"status": [S.DELIVERED, S.CLOSED]})


# --- four eyes, comments and reasons ------------------------------------------------------------


@pytest.mark.parametrize("step", ["approve", "reject"])
def test_nobody_decides_on_their_own_order(u, step):
    order = order_for(u.manager, u.customer, lines=[line(u.pump)])
    services.order_submit(actor=u.manager, order_id=order.pk)
    with pytest.raises(TransitionNotAllowed, match="Nobody approves their own order"):
        _call(step, order, u.manager)
    assert reload(order).status == S.PENDING_APPROVAL
    _call(step, order, u.manager_b)


@pytest.mark.parametrize("step", ["approve", "reject"])
def test_the_submitter_does_not_decide_either(u, step):
    order = reach(S.DRAFT, u)
    services.order_submit(actor=u.manager, order_id=order.pk)  # submitted for the rep
    with pytest.raises(TransitionNotAllowed, match="Nobody approves their own order"):
        _call(step, order, u.manager)
    _call(step, order, u.manager_b)


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_rejecting_needs_a_comment(u, comment):
    order = reach(S.PENDING_APPROVAL, u)
    with pytest.raises(DomainError, match="Say why") as error:
        services.order_reject(actor=u.manager, order_id=order.pk, comment=comment)
    assert error.value.field == "comment"
    assert reload(order).status == S.PENDING_APPROVAL


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancelling_needs_a_reason(u, reason):
    order = reach(S.APPROVED, u)
    with pytest.raises(DomainError, match="Say why") as error:
        services.order_cancel(actor=u.rep, order_id=order.pk, reason=reason)
    assert error.value.field == "reason"
    assert reload(order).status == S.APPROVED


def test_can_transition_reads_the_table(u):
    order = reach(S.APPROVED, u)
    assert order.can_transition(S.IN_FULFILMENT)
    assert order.can_transition(S.CANCELLED)
    assert not order.can_transition(S.DELIVERED)
    assert not order.can_transition(S.DRAFT)
