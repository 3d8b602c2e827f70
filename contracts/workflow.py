"""The contract lifecycle as one table of steps, read by the engine in `crm/core/workflow.py`.

A step without a permission is one only the system takes (the last approval, the first
signing action, the second signature, expiry at the end date): a service takes it with
`actor=SYSTEM` after a person's step. How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from contracts.choices import ContractStatus as S
from crm.core.workflow import Note, Step, Workflow


def _unsigned_by(party):
    def when(contract, user):
        return not contract.signatures.filter(party=party).exists()

    return when


def _signatures_verify(contract, user):
    """No "Mark completed" button on a contract whose signed terms no longer verify (the
    service refuses it too, naming what changed); terminating stays possible."""
    from contracts.selectors import contract_integrity

    return not any(contract_integrity(contract=contract).values())


WORKFLOW = Workflow(
    model="contracts.Contract",
    states=S,
    id_argument="contract_id",
    cannot_become=_("A contract that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "submit",
            from_=S.DRAFT,
            to=S.PENDING_APPROVAL,
            permission="contracts.submit_contract",
            service="contracts.services.contract_submit",
            label=_("Submit for approval"),
            visibility="change",
            success=_("%(object)s was submitted for approval."),
            view="contracts.views.ContractSubmitView",
            admin=_("Submit selected for approval"),
            admin_done=_("%(count)d contract(s) submitted."),
        ),
        # One level's decision; the approval card on the detail page holds its form.
        Step(
            "approve",
            from_=S.PENDING_APPROVAL,
            to=None,
            permission="contracts.approve_contract",
            service="contracts.services.contract_approve",
            label=_("Approve"),
            comment=Note(required=False),
            style="btn-success",
            button=False,
            success=_("You approved %(object)s."),
            view="contracts.views.ContractDecisionView",
            admin=_("Approve selected (your level)"),
            admin_done=_("%(count)d approval(s) recorded."),
        ),
        # The last level's approval moves the contract on.
        Step("finish_approval", from_=S.PENDING_APPROVAL, to=S.APPROVED, permission=None, page=False),
        Step(
            "reject",
            from_=S.PENDING_APPROVAL,
            to=S.REJECTED,
            permission="contracts.approve_contract",
            service="contracts.services.contract_reject",
            label=_("Reject"),
            comment=Note(required=True, label=_("Why reject?")),
            style="btn-outline-danger",
            button=False,
            success=_("You rejected %(object)s."),
            view="contracts.views.ContractDecisionView",
        ),
        Step(
            "reopen",
            from_=S.REJECTED,
            to=S.DRAFT,
            permission="contracts.change_contract",
            service="contracts.services.contract_reopen",
            label=_("Reopen as draft"),
            style="btn-outline-primary",
            visibility="change",
            success=_("%(object)s is a draft again."),
            admin=_("Reopen selected rejected contracts as drafts"),
            admin_done=_("%(count)d contract(s) reopened."),
        ),
        # Editing a rejected or approved contract's terms (contract_update) returns it to draft.
        Step("edit", from_=[S.REJECTED, S.APPROVED], to=S.DRAFT, permission="contracts.change_contract", page=False),
        Step(
            "cancel",
            from_=[S.DRAFT, S.PENDING_APPROVAL, S.REJECTED],
            to=S.CANCELLED,
            permission="contracts.cancel_contract",
            service="contracts.services.contract_cancel",
            label=_("Cancel contract"),
            reason=Note(required=True),
            ends=True,
            style="btn-outline-danger",
            visibility="change",
            success=_("%(object)s was cancelled."),
        ),
        Step("start_signing", from_=S.APPROVED, to=S.SIGNING, permission=None, page=False),
        Step(
            "sign",
            from_=[S.APPROVED, S.SIGNING],
            to=None,  # the first signature starts signing, the second activates: system steps
            permission="contracts.sign_contract",
            service="contracts.signatures.contract_sign_company",
            label=_("Sign for the company"),
            style="btn-success",
            form="contracts.forms.CompanySignForm",
            view="contracts.views.CompanySignView",
            when=_unsigned_by("company"),
            success=_("You signed %(object)s for the company."),
        ),
        Step(
            "send_signing_link",
            from_=[S.APPROVED, S.SIGNING],
            to=None,
            permission="contracts.change_contract",
            service="contracts.signatures.signing_link_send",
            label=_("Send signing link"),
            title=_("Send signing link to the customer"),
            style="btn-outline-primary",
            visibility="change",
            path="signing-link",
            url_name="signing_link_send",
            form="contracts.forms.SigningLinkForm",
            view="contracts.views.SigningLinkSendView",
            when=_unsigned_by("customer"),
        ),
        Step("activate", from_=S.SIGNING, to=S.ACTIVE, permission=None, page=False),
        Step(
            "complete",
            from_=S.ACTIVE,
            to=S.COMPLETED,
            permission="contracts.complete_contract",
            service="contracts.services.contract_complete",
            label=_("Mark completed"),
            style="btn-outline-success",
            when=_signatures_verify,
            success=_("%(object)s is completed."),
            admin=_("Mark selected active contracts completed"),
            admin_done=_("%(count)d contract(s) completed."),
        ),
        Step(
            "terminate",
            from_=S.ACTIVE,
            to=S.TERMINATED,
            permission="contracts.terminate_contract",
            service="contracts.services.contract_terminate",
            label=_("Terminate contract"),
            reason=Note(required=True),
            ends=True,
            style="btn-outline-danger",
            success=_("%(object)s was terminated."),
        ),
        Step("expire", from_=S.ACTIVE, to=S.EXPIRED, permission=None, page=False),
    ],
)

# {from: {to: permission}}, derived from the steps.
TRANSITIONS = WORKFLOW.transitions

# Terms may be edited in these states; editing an approved contract returns it to draft.
EDITABLE = {S.DRAFT, S.REJECTED, S.APPROVED}


def transition_permission(source, target):
    """The permission a transition needs; KeyError when it is not in the table."""
    return TRANSITIONS[source][target]
