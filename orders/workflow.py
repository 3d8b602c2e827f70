"""The order and quote lifecycles as tables of steps, read by the engine in `crm/core/workflow.py`.

Submitting goes straight to approved unless an approval rule applies (see
`orders.selectors.order_approval_reasons`); a manager's rejection returns it to draft.
How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Note, Step, Workflow
from orders.choices import OrderStatus as S
from orders.choices import QuoteStatus as Q


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


def _quote_decided_by_another(quote, user):
    """Nobody approves or rejects the discount of a quote they wrote or submitted."""
    return user.pk not in (quote.owner_id, quote.submitted_by_id)


def _quote_needs_approval(quote, user):
    return bool(quote.approval_reasons)


def _quote_sendable(quote, user):
    return quote.status == Q.APPROVED or not quote.approval_reasons


# A quote goes to the customer once its discounts are within the limits (`QuoteDiscountLimit`)
# or a sales manager approved them; the customer accepts or declines through the e-mailed link
# (steps the system takes for them); revising a sent quote drafts the next revision, whose
# sending supersedes it.
QUOTE_WORKFLOW = Workflow(
    model="orders.Quote",
    states=Q,
    id_argument="quote_id",
    cannot_become=_("A quote that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "submit",
            from_=Q.DRAFT,
            to=Q.PENDING_APPROVAL,
            permission="orders.send_quote",
            service="orders.services.quote_submit",
            label=_("Submit for approval"),
            title=_("Submit the discount for approval"),
            visibility="change",
            when=_quote_needs_approval,
            success=_("%(object)s waits for a sales manager's approval."),
        ),
        Step(
            "approve",
            from_=Q.PENDING_APPROVAL,
            to=Q.APPROVED,
            permission="orders.approve_quote",
            service="orders.services.quote_approve",
            label=_("Approve discount"),
            comment=Note(required=False),
            style="btn-success",
            when=_quote_decided_by_another,
            success=_("You approved the discount of %(object)s."),
            admin=_("Approve the discount of selected pending quotes"),
            admin_done=_("%(count)d quote(s) approved."),
        ),
        Step(
            "reject",
            from_=Q.PENDING_APPROVAL,
            to=Q.DRAFT,
            permission="orders.approve_quote",
            service="orders.services.quote_reject",
            label=_("Reject discount"),
            comment=Note(required=True, label=_("Why is the quote sent back?")),
            style="btn-outline-danger",
            when=_quote_decided_by_another,
            success=_("You sent %(object)s back to draft."),
        ),
        Step(
            "send",
            from_=[Q.DRAFT, Q.APPROVED],
            to=Q.SENT,
            permission="orders.send_quote",
            service="orders.services.quote_send",
            label=_("Send to customer"),
            title=_("Send the quote to the customer"),
            visibility="change",
            form="orders.forms.QuoteSendForm",
            view="orders.views.QuoteSendView",
            when=_quote_sendable,
        ),
        Step(
            "accept",
            from_=Q.SENT,
            to=Q.ACCEPTED,
            permission=None,  # the customer, through the link
            page=False,
        ),
        Step(
            "decline",
            from_=Q.SENT,
            to=Q.DECLINED,
            permission=None,  # the customer, through the link
            page=False,
        ),
        Step(
            "expire",
            from_=[Q.DRAFT, Q.PENDING_APPROVAL, Q.APPROVED, Q.SENT],
            to=Q.EXPIRED,
            permission=None,  # expire_quotes, daily
            service="orders.services.quote_expire",
            page=False,
        ),
        Step(
            "supersede",
            from_=Q.SENT,
            to=Q.SUPERSEDED,
            permission=None,  # sending the next revision
            page=False,
        ),
        Step(
            "revise",
            from_=[Q.SENT, Q.DECLINED, Q.EXPIRED],
            to=None,  # stays; a new draft revision is made
            permission="orders.add_quote",
            service="orders.services.quote_revise",
            label=_("Revise"),
            title=_("Draft the next revision"),
            visibility="change",
            style="btn-outline-primary",
            view="orders.views.QuoteReviseView",
        ),
        Step(
            "cancel",
            from_=[Q.DRAFT, Q.PENDING_APPROVAL, Q.APPROVED, Q.SENT],
            to=Q.CANCELLED,
            permission="orders.cancel_quote",
            service="orders.services.quote_cancel",
            label=_("Cancel quote"),
            reason=Note(required=True),
            ends=True,
            style="btn-outline-danger",
            visibility="change",
            success=_("%(object)s was cancelled."),
        ),
    ],
)


def transition_permission(source, target):
    return TRANSITIONS[source][target]
