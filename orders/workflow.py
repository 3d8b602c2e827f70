"""The order lifecycle as one table: {from: {to: permission}}.

Submitting goes straight to approved unless an approval rule applies (see
`orders.services.order_approval_reasons`); a manager's rejection returns it to draft.
"""

from orders.choices import OrderStatus as S

TRANSITIONS = {
    S.DRAFT: {
        S.PENDING_APPROVAL: "orders.submit_order",
        S.APPROVED: "orders.submit_order",
        S.CANCELLED: "orders.cancel_order",
    },
    S.PENDING_APPROVAL: {
        S.APPROVED: "orders.approve_order",
        S.DRAFT: "orders.approve_order",
        S.CANCELLED: "orders.cancel_order",
    },
    S.APPROVED: {
        S.IN_FULFILMENT: "orders.fulfil_order",
        S.CANCELLED: "orders.cancel_order",
    },
    S.IN_FULFILMENT: {S.DELIVERED: "orders.fulfil_order"},
    S.DELIVERED: {S.CLOSED: "orders.close_order"},
    S.CLOSED: {},
    S.CANCELLED: {},
}

# Orders in these states count against their contract's amount.
LIVE = [status for status in S if status != S.CANCELLED]


def transition_permission(source, target):
    return TRANSITIONS[source][target]


# The permission each step page needs, read from the table above (the view refuses a role
# without it; the service checks the exact transition again). Cancelling needs the same
# permission from every state it leaves, submitting the same for either outcome.
STEP_PERMISSIONS = {
    "submit": transition_permission(S.DRAFT, S.PENDING_APPROVAL),
    "approve": transition_permission(S.PENDING_APPROVAL, S.APPROVED),
    "reject": transition_permission(S.PENDING_APPROVAL, S.DRAFT),
    "start_fulfilment": transition_permission(S.APPROVED, S.IN_FULFILMENT),
    "deliver": transition_permission(S.IN_FULFILMENT, S.DELIVERED),
    "close": transition_permission(S.DELIVERED, S.CLOSED),
    "cancel": transition_permission(S.DRAFT, S.CANCELLED),
}
