"""The contract lifecycle as one table: {from: {to: permission}}.

A `None` permission marks a step only the system takes (the last approval, the first
signing action, the second signature, expiry at the end date); services check the
rest against the actor.
"""

from contracts.choices import ContractStatus as S

TRANSITIONS = {
    S.DRAFT: {
        S.PENDING_APPROVAL: "contracts.submit_contract",
        S.CANCELLED: "contracts.cancel_contract",
    },
    S.PENDING_APPROVAL: {
        S.APPROVED: None,
        S.REJECTED: "contracts.approve_contract",
        S.CANCELLED: "contracts.cancel_contract",
    },
    S.REJECTED: {
        S.DRAFT: "contracts.change_contract",
        S.CANCELLED: "contracts.cancel_contract",
    },
    S.APPROVED: {
        S.DRAFT: "contracts.change_contract",
        S.SIGNING: None,  # the first signature or the first signing link starts it
    },
    S.SIGNING: {S.ACTIVE: None},
    S.ACTIVE: {
        S.COMPLETED: "contracts.complete_contract",
        S.TERMINATED: "contracts.terminate_contract",
        S.EXPIRED: None,
    },
    S.COMPLETED: {},
    S.TERMINATED: {},
    S.EXPIRED: {},
    S.CANCELLED: {},
}

# Terms may be edited in these states; editing an approved contract returns it to draft.
EDITABLE = {S.DRAFT, S.REJECTED, S.APPROVED}


def transition_permission(source, target):
    """The permission a step needs; KeyError when the step is not in the table."""
    return TRANSITIONS[source][target]


# The permission each step page needs. Where the step is a transition of the table above,
# its permission is read from there. Approving records one level's decision (the last one
# moves the contract on as a system step), so it needs the decider's permission, the one
# rejecting needs; signing and signing links start system steps.
STEP_PERMISSIONS = {
    "submit": transition_permission(S.DRAFT, S.PENDING_APPROVAL),
    "approve": transition_permission(S.PENDING_APPROVAL, S.REJECTED),
    "reject": transition_permission(S.PENDING_APPROVAL, S.REJECTED),
    "reopen": transition_permission(S.REJECTED, S.DRAFT),
    "cancel": transition_permission(S.DRAFT, S.CANCELLED),
    "terminate": transition_permission(S.ACTIVE, S.TERMINATED),
    "complete": transition_permission(S.ACTIVE, S.COMPLETED),
    "sign": "contracts.sign_contract",
    "signing_link_send": "contracts.change_contract",
    "signing_link_revoke": "contracts.change_contract",
}
