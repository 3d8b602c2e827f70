"""Drafting, editing with versions, approval rules and the approval decisions."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts import selectors, services
from contracts.choices import ApprovalDecision
from contracts.choices import ContractStatus as S
from contracts.models import ApprovalRule, ApprovalStep, Contract, ContractVersion
from contracts.tests.factories import (
    LARGE,
    SMALL,
    ContractFactory,
    approved_contract,
    assert_audited,
    contract_events,
    pending_contract,
    rejected_contract,
    reload,
)
from crm.core.audit import snapshot
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


@pytest.fixture
def draft(rep, customer):
    return ContractFactory(owner=rep, customer=customer, title="Tea supply 2026")


@pytest.fixture
def manager2(db):
    return UserFactory(username="manager2", role=Role.SALES_MANAGER)


def create(actor, customer, **overrides):
    terms = {
        "title": "Tea supply",
        "body": "1. Scope",
        "amount": SMALL,
        "currency": "CNY",
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2026, 12, 31),
        "payment_terms_days": 30,
        **overrides,
    }
    return services.contract_create(actor=actor, customer_id=customer.pk, **terms)


# --- contract_create ---------------------------------------------------------------------


def test_contract_create_drafts_a_numbered_contract_and_audits_it(rep, customer):
    contract = create(rep, customer, title="Tea supply", amount=Decimal("12345.60"))

    assert contract.status == S.DRAFT
    assert contract.owner == rep
    assert contract.version == 1
    assert contract.approval_round == 0
    assert re.fullmatch(rf"CT-{timezone.localdate().year}-\d{{6}}", contract.number)
    assert_audited(
        contract,
        "contract.created",
        actor=rep,
        changes={
            "title": [None, "Tea supply"],
            "body": [None, "1. Scope"],
            "amount": [None, "12345.60"],
            "currency": [None, "CNY"],
            "start_date": [None, "2026-01-01"],
            "end_date": [None, "2026-12-31"],
            "payment_terms_days": [None, 30],
        },
        extra={"template": None},
    )


def test_contract_create_uses_the_default_currency(rep, customer, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    terms = {"title": "T", "body": "B", "amount": SMALL}
    dates = {"start_date": datetime.date(2026, 1, 1), "end_date": datetime.date(2026, 2, 1)}
    contract = services.contract_create(actor=rep, customer_id=customer.pk, **terms, **dates)
    assert contract.currency == "EUR"
    assert_audited(contract, "contract.created", actor=rep)


def test_contract_numbers_are_sequential(rep, customer):
    numbers = [create(rep, customer).number for _ in range(3)]
    year = timezone.localdate().year
    assert all(re.fullmatch(rf"CT-{year}-\d{{6}}", number) for number in numbers)
    values = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert values == [values[0], values[0] + 1, values[0] + 2]


def test_a_refused_draft_takes_no_number(rep, customer):
    first = create(rep, customer)
    with pytest.raises(ValidationError):
        create(rep, customer, amount=Decimal("0"))
    second = create(rep, customer)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_contract_create_refuses_a_customer_the_rep_may_not_see(rep, other_rep):
    foreign = CustomerFactory(owner=other_rep)
    with pytest.raises(DomainError) as refused:
        create(rep, foreign)
    assert refused.value.field == "customer"
    assert not Contract.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="contract.").exists()


def test_a_manager_may_draft_for_any_customer(manager, rep, customer):
    contract = create(manager, customer)
    assert contract.owner == manager
    assert_audited(contract, "contract.created", actor=manager)


def test_contract_create_refuses_roles_that_do_not_draft(finance, customer):
    with pytest.raises(DomainError):
        create(finance, customer)
    assert not Contract.objects.exists()


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("-0.01")])
def test_contract_create_refuses_an_amount_not_above_zero(rep, customer, amount):
    with pytest.raises(ValidationError) as refused:
        create(rep, customer, amount=amount)
    assert "amount" in refused.value.message_dict
    assert not Contract.objects.exists()


@pytest.mark.parametrize("end", [datetime.date(2025, 12, 31), datetime.date(2026, 1, 1)])
def test_contract_create_refuses_an_end_not_after_the_start(rep, customer, end):
    with pytest.raises(ValidationError) as refused:
        create(rep, customer, start_date=datetime.date(2026, 1, 1), end_date=end)
    assert "end_date" in refused.value.message_dict
    assert not Contract.objects.exists()


@pytest.mark.parametrize("currency", ["XYZ", "cny", "EURO", ""])
def test_contract_create_refuses_a_currency_that_is_not_an_iso_code(rep, customer, currency):
    with pytest.raises(ValidationError) as refused:
        create(rep, customer, currency=currency)
    assert "currency" in refused.value.message_dict
    assert not Contract.objects.exists()


def test_contract_create_refuses_an_inactive_template(rep, customer):
    from contracts.tests.factories import ContractTemplateFactory

    template = ContractTemplateFactory(is_active=False)
    with pytest.raises(DomainError) as refused:
        services.contract_create(
            actor=rep,
            customer_id=customer.pk,
            template_id=template.pk,
            title="T",
            amount=SMALL,
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 2, 1),
        )
    assert refused.value.field == "template"


# --- visibility ----------------------------------------------------------------------------


def test_a_rep_sees_their_own_contracts_and_those_of_their_customers(rep, other_rep, manager, customer):
    own = ContractFactory(owner=rep, customer=customer)
    drafted_by_manager_for_reps_customer = create(manager, customer)
    foreign = ContractFactory(owner=other_rep)
    drafted_by_manager_elsewhere = create(manager, CustomerFactory(owner=manager))

    assert set(Contract.objects.visible_to(rep)) == {own, drafted_by_manager_for_reps_customer}
    assert set(Contract.objects.visible_to(other_rep)) == {foreign}
    everything = {own, drafted_by_manager_for_reps_customer, foreign, drafted_by_manager_elsewhere}
    assert set(Contract.objects.visible_to(manager)) == everything


def test_other_rep_sees_none_of_a_reps_contracts(rep, other_rep, draft):
    assert not Contract.objects.visible_to(other_rep).exists()


@pytest.mark.parametrize("role", ["manager", "finance", "signatory", "admin_user"])
def test_managers_finance_and_signatories_see_every_contract(request, role, draft, other_rep):
    foreign = ContractFactory(owner=other_rep)
    user = request.getfixturevalue(role)
    assert set(Contract.objects.visible_to(user)) == {draft, foreign}


def test_finance_and_signatory_may_not_change_contracts(finance, signatory, draft):
    assert not Contract.objects.visible_to(finance, "change").exists()
    assert not Contract.objects.visible_to(signatory, "change").exists()


def test_a_contract_the_actor_may_not_see_cannot_be_acted_on(other_rep, draft):
    with pytest.raises(DomainError):
        services.contract_submit(actor=other_rep, contract_id=draft.pk)
    with pytest.raises(DomainError):
        services.contract_update(actor=other_rep, contract_id=draft.pk, title="Mine now")
    with pytest.raises(DomainError):
        services.contract_cancel(actor=other_rep, contract_id=draft.pk)
    assert reload(draft).status == S.DRAFT
    assert [event.action for event in contract_events(draft)] == ["contract.created"]


# --- contract_update and versions -------------------------------------------------------------


def test_each_saved_edit_of_a_draft_keeps_the_previous_terms_as_a_version(rep, draft):
    original = reload(draft)
    services.contract_update(actor=rep, contract_id=draft.pk, title="Tea supply 2026, revised")

    contract = reload(draft)
    assert contract.version == 2
    assert contract.status == S.DRAFT
    version = ContractVersion.objects.get(contract=contract)
    assert version.number == 1
    assert version.saved_by == rep
    for name in ("title", "body", "amount", "currency", "start_date", "end_date", "payment_terms_days"):
        assert getattr(version, name) == getattr(original, name)
    assert_audited(
        contract,
        "contract.updated",
        actor=rep,
        changes={"title": ["Tea supply 2026", "Tea supply 2026, revised"]},
        extra={"version": 2},
    )

    services.contract_update(actor=rep, contract_id=draft.pk, amount=Decimal("60000.00"), payment_terms_days=45)
    contract = reload(draft)
    assert contract.version == 3
    assert list(contract.versions.values_list("number", "title", "amount", "payment_terms_days")) == [
        (2, "Tea supply 2026, revised", SMALL, 30),
        (1, "Tea supply 2026", SMALL, 30),
    ]
    assert_audited(
        contract,
        "contract.updated",
        actor=rep,
        changes={"amount": ["50000.00", "60000.00"], "payment_terms_days": [30, 45]},
        extra={"version": 3},
    )


def test_saving_unchanged_terms_makes_no_version_and_no_event(rep, draft):
    services.contract_update(actor=rep, contract_id=draft.pk, title=draft.title, amount=Decimal("50000"))
    contract = reload(draft)
    assert contract.version == 1
    assert not contract.versions.exists()
    assert [event.action for event in contract_events(draft)] == ["contract.created"]


def test_saving_an_approved_contract_unchanged_keeps_its_approval(rep, manager, customer):
    contract = approved_contract(owner=rep, customer=customer, approvers=[manager])
    services.contract_update(actor=rep, contract_id=contract.pk, amount=50000, title=contract.title)
    contract = reload(contract)
    assert contract.status == S.APPROVED
    assert contract.version == 1
    assert not ApprovalStep.objects.filter(voided_at__isnull=False).exists()


def test_contract_update_refuses_fields_that_are_not_terms(rep, draft, other_rep):
    with pytest.raises(DomainError):
        services.contract_update(actor=rep, contract_id=draft.pk, owner=other_rep)
    with pytest.raises(DomainError):
        services.contract_update(actor=rep, contract_id=draft.pk, status=S.APPROVED)
    assert reload(draft).status == S.DRAFT
    assert reload(draft).owner == rep
    assert last_action(draft) == "contract.created"


def test_contract_update_refuses_invalid_terms_and_keeps_the_old_ones(rep, draft):
    with pytest.raises(ValidationError):
        services.contract_update(actor=rep, contract_id=draft.pk, end_date=datetime.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        services.contract_update(actor=rep, contract_id=draft.pk, currency="XYZ")
    contract = reload(draft)
    assert contract.version == 1
    assert contract.currency == "CNY"
    assert not contract.versions.exists()
    assert last_action(contract) == "contract.created"


def test_editing_an_approved_contract_returns_it_to_draft_and_voids_its_approvals(rep, manager, finance, customer):
    contract = approved_contract(owner=rep, customer=customer, amount=LARGE, approvers=[manager, finance])

    services.contract_update(actor=rep, contract_id=contract.pk, amount=Decimal("1200000.00"))

    contract = reload(contract)
    assert contract.status == S.DRAFT
    assert contract.version == 2
    steps = ApprovalStep.objects.filter(contract=contract)
    assert steps.count() == 2
    assert all(step.voided_at is not None for step in steps)
    assert not ApprovalStep.objects.current().filter(contract=contract).exists()
    assert_audited(
        contract,
        "contract.updated",
        actor=rep,
        changes={"amount": ["1000000.00", "1200000.00"], "status": ["approved", "draft"]},
        extra={"version": 2, "approvals_voided": 2},
    )


def test_a_resubmitted_contract_needs_fresh_approvals_in_a_new_round(rep, manager, manager2, customer):
    contract = approved_contract(owner=rep, customer=customer, approvers=[manager])
    services.contract_update(actor=rep, contract_id=contract.pk, title="Changed after approval")

    contract = services.contract_submit(actor=rep, contract_id=contract.pk)
    assert contract.status == S.PENDING_APPROVAL
    assert contract.approval_round == 2
    assert contract.awaiting_role == Role.SALES_MANAGER
    assert_audited(contract, "contract.submitted", actor=rep, extra={"round": 2})
    assert not ApprovalStep.objects.current().filter(contract=contract).exists()

    contract = services.contract_approve(actor=manager2, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    current = ApprovalStep.objects.current().get(contract=contract)
    assert (current.round, current.approver, current.voided_at) == (2, manager2, None)
    old = ApprovalStep.objects.get(contract=contract, round=1)
    assert old.approver == manager
    assert old.voided_at is not None


def test_editing_a_rejected_contract_returns_it_to_draft(rep, manager, customer):
    contract = rejected_contract(owner=rep, customer=customer, approver=manager)
    services.contract_update(actor=rep, contract_id=contract.pk, amount=Decimal("70000.00"))
    contract = reload(contract)
    assert contract.status == S.DRAFT
    assert contract.version == 2
    assert_audited(
        contract,
        "contract.updated",
        actor=rep,
        changes={"amount": ["50000.00", "70000.00"], "status": ["rejected", "draft"]},
        extra={"version": 2},
    )


@pytest.mark.parametrize("state", ["pending", "cancelled"])
def test_contract_update_refuses_a_contract_that_is_not_editable(rep, manager, customer, state):
    contract = pending_contract(owner=rep, customer=customer)
    if state == "cancelled":
        contract = services.contract_cancel(actor=rep, contract_id=contract.pk)
    before = contract_events(contract).count()
    with pytest.raises(TransitionNotAllowed):
        services.contract_update(actor=rep, contract_id=contract.pk, title="Too late")
    assert reload(contract).title != "Too late"
    assert contract_events(contract).count() == before


# --- approval rules by amount -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "levels"),
    [
        (Decimal("0.01"), [Role.SALES_MANAGER]),
        (Decimal("999999.99"), [Role.SALES_MANAGER]),
        (Decimal("1000000.00"), [Role.SALES_MANAGER, Role.FINANCE_APPROVER]),
        (Decimal("25000000.00"), [Role.SALES_MANAGER, Role.FINANCE_APPROVER]),
    ],
)
def test_the_amount_decides_the_approval_levels(rep, customer, amount, levels):
    contract = pending_contract(owner=rep, customer=customer, amount=amount)
    assert [role for _level, role in selectors.approval_levels(amount)] == levels
    assert contract.awaiting_role == Role.SALES_MANAGER
    assert contract.approval_round == 1
    assert contract.submitted_by == rep
    assert contract.submitted_at is not None
    assert_audited(
        contract,
        "contract.submitted",
        actor=rep,
        changes={"status": ["draft", "pending_approval"]},
        extra={"round": 1, "levels": [str(role) for role in levels], "missing_clauses": []},
    )


def test_below_one_million_one_manager_approves(rep, manager, customer):
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("999999.99"))

    contract = services.contract_approve(actor=manager, contract_id=contract.pk, comment=" Fine ")

    assert contract.status == S.APPROVED
    assert contract.awaiting_role == ""
    assert contract.decided_at is not None
    step = ApprovalStep.objects.get(contract=contract)
    assert (step.round, step.level, step.role, step.approver, step.decision, step.comment) == (
        1,
        1,
        Role.SALES_MANAGER,
        manager,
        ApprovalDecision.APPROVED,
        "Fine",
    )
    assert_audited(
        contract,
        "contract.approved",
        actor=manager,
        changes={"status": ["pending_approval", "approved"]},
        extra={"level": 1, "role": "Sales manager", "comment": "Fine"},
    )


def test_from_one_million_a_manager_then_finance_approve(rep, manager, finance, customer):
    contract = pending_contract(owner=rep, customer=customer, amount=LARGE)

    contract = services.contract_approve(actor=manager, contract_id=contract.pk)
    assert contract.status == S.PENDING_APPROVAL
    assert contract.awaiting_role == Role.FINANCE_APPROVER
    assert_audited(
        contract,
        "contract.level_approved",
        actor=manager,
        changes={"awaiting_role": ["Sales manager", "Finance approver"]},
        extra={"level": 1, "role": "Sales manager", "comment": ""},
    )

    contract = services.contract_approve(actor=finance, contract_id=contract.pk, comment="Budget ok")
    assert contract.status == S.APPROVED
    assert list(ApprovalStep.objects.filter(contract=contract).values_list("level", "approver")) == [
        (1, manager.pk),
        (2, finance.pk),
    ]
    assert_audited(
        contract,
        "contract.approved",
        actor=finance,
        changes={"status": ["pending_approval", "approved"]},
        extra={"level": 2, "role": "Finance approver", "comment": "Budget ok"},
    )


def test_finance_cannot_decide_level_one(rep, finance, customer):
    contract = pending_contract(owner=rep, customer=customer, amount=LARGE)
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=finance, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_reject(actor=finance, contract_id=contract.pk, comment="No")
    assert reload(contract).status == S.PENDING_APPROVAL
    assert not ApprovalStep.objects.exists()
    assert last_action(contract) == "contract.submitted"


def test_a_manager_cannot_decide_the_finance_level(rep, manager, manager2, customer):
    contract = pending_contract(owner=rep, customer=customer, amount=LARGE)
    services.contract_approve(actor=manager, contract_id=contract.pk)
    for decider in (manager, manager2):
        with pytest.raises(TransitionNotAllowed):
            services.contract_approve(actor=decider, contract_id=contract.pk)
        with pytest.raises(TransitionNotAllowed):
            services.contract_reject(actor=decider, contract_id=contract.pk, comment="No")
    assert reload(contract).awaiting_role == Role.FINANCE_APPROVER
    assert ApprovalStep.objects.count() == 1
    assert last_action(contract) == "contract.level_approved"


def edit_rule(admin, level, **values):
    """Change the active rule of a level through its service, checking the audit event."""
    rule = ApprovalRule.objects.get(level=level, is_active=True)
    before = snapshot(rule, list(values))
    for name, value in values.items():
        setattr(rule, name, value)
    rule = services.approval_rule_save(actor=admin, rule=rule)
    after = snapshot(rule, list(values))
    event = AuditEvent.objects.order_by("id").last()
    assert (event.action, event.actor, event.target_id) == ("approvalrule.updated", admin, str(rule.pk))
    assert event.changes == {name: [before[name], after[name]] for name in values}
    return rule


def test_lowering_the_finance_threshold_adds_a_level(rep, manager, finance, customer, admin_user):
    edit_rule(admin_user, 2, min_amount=Decimal("500000.00"))
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("600000.00"))
    assert_audited(contract, "contract.submitted", actor=rep, extra={"levels": ["Sales manager", "Finance approver"]})

    contract = services.contract_approve(actor=manager, contract_id=contract.pk)
    assert contract.status == S.PENDING_APPROVAL
    assert_audited(contract, "contract.level_approved", actor=manager, extra={"level": 1})
    contract = services.contract_approve(actor=finance, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=finance, extra={"level": 2})


def test_raising_the_finance_threshold_removes_a_level(rep, manager, customer, admin_user):
    edit_rule(admin_user, 2, min_amount=Decimal("2000000.00"))
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("1500000.00"))
    assert_audited(contract, "contract.submitted", actor=rep, extra={"levels": ["Sales manager"]})
    contract = services.contract_approve(actor=manager, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=manager, extra={"level": 1})


def test_an_inactive_rule_is_not_applied(rep, manager, customer, admin_user):
    edit_rule(admin_user, 2, is_active=False)
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("5000000.00"))
    assert_audited(contract, "contract.submitted", actor=rep, extra={"levels": ["Sales manager"]})
    contract = services.contract_approve(actor=manager, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=manager, extra={"level": 1})


def test_a_third_rule_adds_a_third_level(rep, manager, manager2, finance, customer, admin_user):
    rule = ApprovalRule(level=3, min_amount=Decimal("5000000"), role=Role.SALES_MANAGER)
    services.approval_rule_save(actor=admin_user, rule=rule)
    event = AuditEvent.objects.order_by("id").last()
    assert (event.action, event.actor, event.target_id) == ("approvalrule.created", admin_user, str(rule.pk))
    assert event.changes["role"] == [None, "Sales manager"]
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("5000000.00"))
    contract = services.contract_approve(actor=manager, contract_id=contract.pk)
    contract = services.contract_approve(actor=finance, contract_id=contract.pk)
    assert contract.status == S.PENDING_APPROVAL
    assert contract.awaiting_role == Role.SALES_MANAGER
    assert_audited(
        contract,
        "contract.level_approved",
        actor=finance,
        changes={"awaiting_role": ["Finance approver", "Sales manager"]},
        extra={"level": 2},
    )
    contract = services.contract_approve(actor=manager2, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=manager2, extra={"level": 3})


def test_a_rule_change_while_pending_does_not_strand_the_contract(rep, manager, finance, customer, admin_user):
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("1500000.00"))
    services.contract_approve(actor=manager, contract_id=contract.pk)
    edit_rule(admin_user, 2, min_amount=Decimal("2000000.00"))
    contract = services.contract_approve(actor=finance, contract_id=contract.pk)
    assert contract.status == S.APPROVED


def test_submit_is_refused_when_no_rule_applies(rep, customer, admin_user):
    edit_rule(admin_user, 1, min_amount=Decimal("100000.00"))
    contract = ContractFactory(owner=rep, customer=customer, amount=Decimal("50000.00"))
    with pytest.raises(DomainError):
        services.contract_submit(actor=rep, contract_id=contract.pk)
    contract = reload(contract)
    assert contract.status == S.DRAFT
    assert contract.approval_round == 0
    assert last_action(contract) == "contract.created"


def test_only_admins_edit_approval_rules(manager, finance):
    rule = ApprovalRule.objects.get(level=2)
    rule.min_amount = Decimal("1")
    for user in (manager, finance):
        with pytest.raises(DomainError):
            services.approval_rule_save(actor=user, rule=rule)
    assert ApprovalRule.objects.get(level=2).min_amount == Decimal("1000000")


def test_only_one_rule_per_level_is_active(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRule.objects.create(level=1, min_amount=Decimal("10"), role=Role.SALES_MANAGER)
    ApprovalRule.objects.create(level=1, min_amount=Decimal("10"), role=Role.SALES_MANAGER, is_active=False)


# --- who decides ------------------------------------------------------------------------------


def test_the_owner_cannot_decide_even_as_a_manager(manager, manager2):
    contract = pending_contract(owner=manager, customer=CustomerFactory(owner=manager))
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=manager, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_reject(actor=manager, contract_id=contract.pk, comment="Mine anyway")
    assert not ApprovalStep.objects.exists()
    assert last_action(contract) == "contract.submitted"

    contract = services.contract_approve(actor=manager2, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=manager2)


def test_the_submitter_cannot_decide_even_as_a_manager(rep, manager, manager2, customer):
    contract = pending_contract(owner=rep, customer=customer, submitter=manager)
    assert contract.submitted_by == manager
    assert_audited(contract, "contract.submitted", actor=manager)
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=manager, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_reject(actor=manager, contract_id=contract.pk, comment="Hmm")
    assert not ApprovalStep.objects.exists()

    contract = services.contract_reject(actor=manager2, contract_id=contract.pk, comment="Hmm")
    assert contract.status == S.REJECTED
    assert_audited(contract, "contract.rejected", actor=manager2, extra={"comment": "Hmm"})


def test_the_owner_cannot_decide_the_finance_level_either(customer, manager, manager2):
    owner = UserFactory(username="dual", role=Role.FINANCE_APPROVER)
    owner.groups.add(Group.objects.get(name=Role.SALES_REP))
    contract = pending_contract(owner=owner, customer=CustomerFactory(owner=owner), amount=LARGE)
    services.contract_approve(actor=manager, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=owner, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_reject(actor=owner, contract_id=contract.pk, comment="Mine")
    assert reload(contract).status == S.PENDING_APPROVAL
    assert last_action(contract) == "contract.level_approved"


@pytest.mark.parametrize("role", ["rep", "signatory", "agent"])
def test_roles_without_the_approve_permission_cannot_decide(request, role, rep, customer):
    contract = pending_contract(owner=rep, customer=customer)
    user = request.getfixturevalue(role)
    with pytest.raises(TransitionNotAllowed):
        services.contract_approve(actor=user, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed):
        services.contract_reject(actor=user, contract_id=contract.pk, comment="No")
    assert not ApprovalStep.objects.exists()
    assert reload(contract).status == S.PENDING_APPROVAL
    assert last_action(contract) == "contract.submitted"


def test_a_user_without_the_submit_permission_cannot_submit(customer, rep, draft):
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["view_contract", "change_contract"]
        )
    )
    customer.owner = clerk
    customer.save()
    with pytest.raises(TransitionNotAllowed):
        services.contract_submit(actor=clerk, contract_id=draft.pk)
    assert reload(draft).status == S.DRAFT
    assert last_action(draft) == "contract.created"


def test_rejection_needs_a_comment(rep, manager, customer):
    contract = pending_contract(owner=rep, customer=customer)
    for comment in ("", "   ", None):
        with pytest.raises(DomainError) as refused:
            services.contract_reject(actor=manager, contract_id=contract.pk, comment=comment)
        assert refused.value.field == "comment"
    assert reload(contract).status == S.PENDING_APPROVAL
    assert not ApprovalStep.objects.exists()
    assert last_action(contract) == "contract.submitted"


def test_the_database_refuses_a_rejection_without_a_comment(rep, manager, customer):
    contract = pending_contract(owner=rep, customer=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalStep.objects.create(
            contract=contract,
            round=1,
            level=1,
            role=Role.SALES_MANAGER,
            approver=manager,
            decision=ApprovalDecision.REJECTED,
            comment="",
        )


def test_finance_rejects_at_level_two(rep, manager, finance, customer):
    contract = pending_contract(owner=rep, customer=customer, amount=LARGE)
    services.contract_approve(actor=manager, contract_id=contract.pk)
    contract = services.contract_reject(actor=finance, contract_id=contract.pk, comment=" Over budget ")
    assert contract.status == S.REJECTED
    assert contract.awaiting_role == ""
    step = ApprovalStep.objects.get(contract=contract, level=2)
    assert (step.decision, step.comment, step.approver) == (ApprovalDecision.REJECTED, "Over budget", finance)
    assert_audited(
        contract,
        "contract.rejected",
        actor=finance,
        changes={"status": ["pending_approval", "rejected"]},
        extra={"level": 2, "role": "Finance approver", "comment": "Over budget"},
    )


def test_a_reopened_contract_starts_a_new_round(rep, manager, manager2, customer):
    contract = rejected_contract(owner=rep, customer=customer, approver=manager)
    services.contract_reopen(actor=rep, contract_id=contract.pk)
    assert_audited(contract, "contract.reopened", actor=rep, changes={"status": ["rejected", "draft"]})
    contract = services.contract_submit(actor=rep, contract_id=contract.pk)
    assert contract.approval_round == 2
    assert_audited(contract, "contract.submitted", actor=rep, extra={"round": 2})
    contract = services.contract_approve(actor=manager2, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert_audited(contract, "contract.approved", actor=manager2)
    assert list(ApprovalStep.objects.filter(contract=contract).values_list("round", "decision", "approver")) == [
        (1, "rejected", manager.pk),
        (2, "approved", manager2.pk),
    ]


def last_action(contract):
    return contract_events(contract).last().action


def test_one_person_does_not_decide_two_levels_of_a_round(rep, customer, finance):
    both = UserFactory(username="manager_and_finance", role=Role.SALES_MANAGER)
    both.groups.add(Group.objects.get(name=Role.FINANCE_APPROVER))
    contract = pending_contract(owner=rep, customer=customer, amount=Decimal("1500000.00"))
    services.contract_approve(actor=both, contract_id=contract.pk)
    with pytest.raises(TransitionNotAllowed, match="another person"):
        services.contract_approve(actor=both, contract_id=contract.pk)
    contract = services.contract_approve(actor=finance, contract_id=contract.pk)
    assert contract.status == S.APPROVED
    assert list(contract.approval_steps.values_list("approver__username", flat=True)) == [
        "manager_and_finance",
        "finance",
    ]
