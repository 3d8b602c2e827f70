"""The order lifecycle as one table of steps, read by the engine in `crm/core/workflow.py`.

Submitting goes straight to approved unless an approval rule applies (see
`orders.selectors.order_approval_reasons`); a manager's rejection returns it to draft.
How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Note, Step, Workflow
from orders.choices import OrderStatus as S


def _decided_by_another(order, user):
    """Nobody approves or sends back their own order (the service refuses it too)."""
    return user.pk not in (order.owner_id, order.submitted_by_id)


WORKFLOW = Workflow(
    model="orders.Order",
    states=S,
    id_argument="order_id",
    cannot_become=_("An order that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "submit",
            from_=S.DRAFT,
            to=[S.PENDING_APPROVAL, S.APPROVED],  # approved at once unless a rule asks for a manager
            permission="orders.submit_order",
            service="orders.services.order_submit",
            label=_("Submit"),
            title=_("Submit order"),
            visibility="change",
            view="orders.views.OrderSubmitView",
        ),
        Step(
            "approve",
            from_=S.PENDING_APPROVAL,
            to=S.APPROVED,
            permission="orders.approve_order",
            service="orders.services.order_approve",
            label=_("Approve"),
            comment=Note(required=False),
            style="btn-success",
            when=_decided_by_another,
            success=_("You approved %(object)s."),
            admin=_("Approve selected pending orders"),
            admin_done=_("%(count)d order(s) approved."),
        ),
        Step(
            "reject",
            from_=S.PENDING_APPROVAL,
            to=S.DRAFT,
            permission="orders.approve_order",
            service="orders.services.order_reject",
            label=_("Reject"),
            comment=Note(required=True, label=_("Why is the order sent back?")),
            style="btn-outline-danger",
            when=_decided_by_another,
            success=_("You sent %(object)s back to draft."),
        ),
        Step(
            "start_fulfilment",
            from_=S.APPROVED,
            to=S.IN_FULFILMENT,
            permission="orders.fulfil_order",
            service="orders.services.order_start_fulfilment",
            label=_("Start fulfilment"),
            success=_("%(object)s is in fulfilment."),
            admin=_("Start fulfilment of selected approved orders"),
            admin_done=_("%(count)d order(s) in fulfilment."),
        ),
        Step(
            "deliver",
            from_=S.IN_FULFILMENT,
            to=S.DELIVERED,
            permission="orders.fulfil_order",
            service="orders.services.order_deliver",
            label=_("Mark delivered"),
            success=_("%(object)s is delivered."),
            admin=_("Mark selected orders delivered"),
            admin_done=_("%(count)d order(s) delivered."),
        ),
        Step(
            "close",
            from_=S.DELIVERED,
            to=S.CLOSED,
            permission="orders.close_order",
            by_system=True,  # close_delivered_orders closes what was delivered long ago
            service="orders.services.order_close",
            label=_("Close"),
            title=_("Close order"),
            style="btn-outline-success",
            success=_("%(object)s is closed."),
            admin=_("Close selected delivered orders"),
            admin_done=_("%(count)d order(s) closed."),
        ),
        Step(
            "cancel",
            from_=[S.DRAFT, S.PENDING_APPROVAL, S.APPROVED],
            to=S.CANCELLED,
            permission="orders.cancel_order",
            service="orders.services.order_cancel",
            label=_("Cancel order"),
            reason=Note(required=True),
            ends=True,
            style="btn-outline-danger",
            visibility="change",
            success=_("%(object)s was cancelled."),
        ),
    ],
)

# {from: {to: permission}}, derived from the steps.
TRANSITIONS = WORKFLOW.transitions

# Orders in these states count against their contract's amount.
LIVE = [status for status in S if status != S.CANCELLED]


def transition_permission(source, target):
    return TRANSITIONS[source][target]
