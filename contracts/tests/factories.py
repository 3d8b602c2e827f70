"""Contract factories and helpers that reach each workflow state by calling the services.

`ContractFactory(owner=rep)` drafts through `contract_create`; `pending_contract`,
`approved_contract`, `rejected_contract`, `signing_contract` and `active_contract` go
further along the workflow the way users would. Nothing here sets `status=` directly.
"""

import datetime
from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType

from contracts import services, signatures
from contracts.choices import ContractStatus
from contracts.models import ApprovalRule, Contract, ContractTemplate
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from customers.tests.factories import CustomerFactory

# The rules migration 0002 installs. A transactional test flushes the database, so
# tests call `default_approval_rules()` instead of trusting the migration's rows.
DEFAULT_RULES = [
    (1, Decimal("0"), Role.SALES_MANAGER),
    (2, Decimal("1000000"), Role.FINANCE_APPROVER),
]
SMALL = Decimal("50000.00")  # one level: a sales manager
LARGE = Decimal("1000000.00")  # two levels: a sales manager, then finance

TEMPLATE_BODY = (
    "SUPPLY AGREEMENT ${contract_title}\n"
    "Between ${company_name} and ${customer_name}, ${customer_address} (${customer_email}).\n"
    "1. Scope\n"
    "2. Price: ${amount} ${currency}, payable within ${payment_terms_days} days.\n"
    "3. Term: from ${start_date} to ${end_date}.\n"
    "4. Confidentiality\n"
    "5. Governing law\n"
)


def default_approval_rules():
    """Exactly the default rules: level 1 sales manager, level 2 finance from 1,000,000."""
    ApprovalRule.objects.all().delete()
    return [
        ApprovalRule.objects.create(level=level, min_amount=min_amount, role=role)
        for level, min_amount, role in DEFAULT_RULES
    ]


class ContractTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractTemplate

    name = factory.Sequence(lambda n: f"Supply agreement {n}")
    body = TEMPLATE_BODY
    required_clauses = factory.LazyFunction(lambda: ["Confidentiality", "Governing law"])


class ContractFactory(factory.Factory):
    """A draft contract, created by `contract_create` acting as its owner."""

    class Meta:
        model = Contract

    owner = factory.SubFactory(UserFactory, role=Role.SALES_REP)
    customer = factory.SubFactory(CustomerFactory, owner=factory.SelfAttribute("..owner"))
    template = None
    title = factory.Sequence(lambda n: f"Annual supply {n}")
    body = "1. Scope\n2. Price\n3. Confidentiality\n4. Governing law\n"
    amount = SMALL
    currency = "CNY"
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 12, 31)
    payment_terms_days = 30

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Contracts are only drafted through contract_create.")

    @classmethod
    def _create(cls, model_class, *, owner, customer, template, **terms):
        return services.contract_create(
            actor=owner,
            customer_id=customer.pk,
            template_id=template.pk if template is not None else None,
            **terms,
        )


def reload(contract) -> Contract:
    return Contract.objects.get(pk=contract.pk)


def pending_contract(*, submitter=None, **kwargs) -> Contract:
    """Drafted and submitted (by the owner unless `submitter` is given)."""
    contract = ContractFactory(**kwargs)
    return services.contract_submit(actor=submitter or contract.owner, contract_id=contract.pk)


def approved_contract(*, approvers, **kwargs) -> Contract:
    """Submitted and approved at every level, `approvers` in level order."""
    contract = pending_contract(**kwargs)
    for approver in approvers:
        contract = services.contract_approve(actor=approver, contract_id=contract.pk, comment="OK")
    assert contract.status == ContractStatus.APPROVED, "give one approver per level"
    return contract


def rejected_contract(*, approver, comment="Price too low", **kwargs) -> Contract:
    contract = pending_contract(**kwargs)
    return services.contract_reject(actor=approver, contract_id=contract.pk, comment=comment)


def signing_contract(*, signatory, approvers, **kwargs) -> Contract:
    """Approved, then signed for the company by `signatory`: the contract is signing."""
    contract = approved_contract(approvers=approvers, **kwargs)
    signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
    return reload(contract)


def customer_sign(contract, *, sender=None, full_name="Li Wei"):
    """The owner (or `sender`) e-mails a signing link; the customer signs through it."""
    _link, url = signatures.signing_link_send(actor=sender or contract.owner, contract_id=contract.pk)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    return signatures.contract_sign_customer(token=token, full_name=full_name, accepted=True)


def active_contract(*, signatory, approvers, **kwargs) -> Contract:
    """Signed by the company and then by the customer: the contract is active."""
    contract = signing_contract(signatory=signatory, approvers=approvers, **kwargs)
    customer_sign(contract)
    return reload(contract)


def contract_events(contract, action=None):
    """The audit events about a contract, oldest first."""
    events = AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(Contract), target_id=str(contract.pk)
    ).order_by("id")
    return events.filter(action=action) if action else events


def last_event(contract) -> AuditEvent:
    return contract_events(contract).last()


def assert_audited(contract, action, *, actor, changes=None, extra=None) -> AuditEvent:
    """The newest event about the contract is `action` by `actor` with these changes.

    `changes` must match exactly; `extra` only has to be contained in the event's extra.
    """
    event = last_event(contract)
    assert event is not None, f"no audit event for {contract}"
    assert event.action == action
    assert event.actor_id == (actor.pk if actor is not None else None)
    assert event.actor_repr == (actor.get_username() if actor is not None else "")
    assert event.parent_id == str(contract.customer_id)
    if changes is not None:
        assert event.changes == changes
    for key, value in (extra or {}).items():
        assert event.extra.get(key) == value, f"extra[{key!r}] = {event.extra.get(key)!r}, not {value!r}"
    return event
