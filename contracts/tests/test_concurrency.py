"""Two people deciding at the same moment: exactly one decision is recorded.

Real threads against real PostgreSQL, each in its own connection and transaction.
"""

import pytest

from contracts import services
from contracts.choices import ContractStatus as S
from contracts.models import ApprovalStep
from contracts.tests.factories import (
    LARGE,
    contract_events,
    default_approval_rules,
    pending_contract,
    reload,
)
from crm.core.audit import audit_chain_verify
from crm.core.exceptions import TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.concurrency import race
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    # A transactional test starts from a flushed database: set the rules up explicitly.
    default_approval_rules()
    rep = UserFactory(username="race_rep", role=Role.SALES_REP)
    return {
        "rep": rep,
        "customer": CustomerFactory(owner=rep),
        "manager_a": UserFactory(username="manager_a", role=Role.SALES_MANAGER),
        "manager_b": UserFactory(username="manager_b", role=Role.SALES_MANAGER),
    }


def split(outcomes):
    winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    return winners, losers


def test_two_managers_approving_at_once_record_one_decision(people):
    contract = pending_contract(owner=people["rep"], customer=people["customer"])

    outcomes = race(
        lambda: services.contract_approve(actor=people["manager_a"], contract_id=contract.pk),
        lambda: services.contract_approve(actor=people["manager_b"], contract_id=contract.pk),
    )

    winners, losers = split(outcomes)
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], TransitionNotAllowed)
    winner = [people["manager_a"], people["manager_b"]][outcomes.index(winners[0])]
    step = ApprovalStep.objects.get(contract=contract)
    assert (step.approver, step.round, step.level) == (winner, 1, 1)
    assert reload(contract).status == S.APPROVED
    approved = contract_events(contract, "contract.approved")
    assert approved.count() == 1
    assert approved.get().actor_id == step.approver_id
    assert audit_chain_verify() is None


def test_approve_and_reject_at_once_record_one_decision(people):
    contract = pending_contract(owner=people["rep"], customer=people["customer"])

    outcomes = race(
        lambda: services.contract_approve(actor=people["manager_a"], contract_id=contract.pk),
        lambda: services.contract_reject(actor=people["manager_b"], contract_id=contract.pk, comment="No"),
    )

    winners, losers = split(outcomes)
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], TransitionNotAllowed)
    approve_won = not isinstance(outcomes[0], Exception)
    step = ApprovalStep.objects.get(contract=contract)
    assert step.decision == ("approved" if approve_won else "rejected")
    contract = reload(contract)
    decided = contract_events(contract).filter(action__in=["contract.approved", "contract.rejected"])
    assert decided.count() == 1
    event = decided.get()
    if step.decision == "approved":
        assert (contract.status, step.approver, event.action) == (
            S.APPROVED,
            people["manager_a"],
            "contract.approved",
        )
    else:
        assert (contract.status, step.approver, event.action) == (
            S.REJECTED,
            people["manager_b"],
            "contract.rejected",
        )
    assert event.actor_id == step.approver_id
    assert audit_chain_verify() is None


def test_two_managers_deciding_the_first_of_two_levels_record_one_decision(people):
    contract = pending_contract(owner=people["rep"], customer=people["customer"], amount=LARGE)

    outcomes = race(
        lambda: services.contract_approve(actor=people["manager_a"], contract_id=contract.pk),
        lambda: services.contract_approve(actor=people["manager_b"], contract_id=contract.pk),
    )

    winners, losers = split(outcomes)
    assert len(winners) == 1
    assert isinstance(losers[0], TransitionNotAllowed)
    assert ApprovalStep.objects.filter(contract=contract).count() == 1
    contract = reload(contract)
    assert contract.status == S.PENDING_APPROVAL
    assert contract.awaiting_role == Role.FINANCE_APPROVER
    assert contract_events(contract, "contract.level_approved").count() == 1
    assert audit_chain_verify() is None


def test_many_decisions_at_once_keep_the_audit_chain_whole(people):
    contracts = [pending_contract(owner=people["rep"], customer=people["customer"]) for _ in range(4)]
    calls = []
    for contract in contracts:
        calls.append(lambda pk=contract.pk: services.contract_approve(actor=people["manager_a"], contract_id=pk))
        calls.append(
            lambda pk=contract.pk: services.contract_reject(actor=people["manager_b"], contract_id=pk, comment="No")
        )

    outcomes = race(*calls)

    winners, losers = split(outcomes)
    assert len(winners) == len(contracts)
    assert all(isinstance(loser, TransitionNotAllowed) for loser in losers)
    for contract in contracts:
        assert ApprovalStep.objects.filter(contract=contract).count() == 1
        assert reload(contract).status in {S.APPROVED, S.REJECTED}
    assert audit_chain_verify() is None
