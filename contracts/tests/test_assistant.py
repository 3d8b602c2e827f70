"""The approval assistant: features, training, recommendations with reasons, the demo data."""

import datetime
import logging
import pickle
import random
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from contracts import assistant, demo
from contracts.assistant import (
    FEATURES,
    approval_model_cache_clear,
    approval_model_train,
    approval_recommendation,
    contract_features,
    contract_features_many,
    decided_contracts,
)
from contracts.choices import ContractStatus as S
from contracts.demo import demo_contracts_seed
from contracts.models import ApprovalModel, Contract, ContractTemplate
from contracts.services import contract_reject, contract_reopen, contract_update
from contracts.tests.factories import (
    ContractFactory,
    approved_contract,
    pending_contract,
    rejected_contract,
)
from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


@pytest.fixture(autouse=True)
def fresh_cache():
    approval_model_cache_clear()
    yield
    approval_model_cache_clear()


@pytest.fixture
def customers(rep):
    return [CustomerFactory(owner=rep, tier=tier) for tier in ("small", "standard", "key")]


def decided_history(*, owner, approver, customers, count=24, seed=0, outcomes=("approve", "reject")):
    """`count` decided contracts with one clear rule: payment terms over 60 days are
    rejected, shorter ones approved; amounts and customers are random noise."""
    rng = random.Random(seed)
    contracts = []
    for index in range(count):
        outcome = outcomes[index % len(outcomes)]
        terms = {
            "owner": owner,
            "customer": rng.choice(customers),
            "amount": Decimal(rng.randrange(10_000, 900_000)),
            "payment_terms_days": rng.choice([15, 30, 45] if outcome == "approve" else [75, 90, 120]),
        }
        if outcome == "approve":
            contracts.append(approved_contract(approvers=[approver], **terms))
        else:
            contracts.append(rejected_contract(approver=approver, comment="Terms too long", **terms))
    return contracts


# --- features ---------------------------------------------------------------------------------------


def test_features_count_earlier_contracts_and_rejections_of_the_customer(rep, manager):
    customer = CustomerFactory(owner=rep, tier="key", created_at=timezone.now() - datetime.timedelta(days=100))
    rejected_contract(approver=manager, owner=rep, customer=customer)
    approved_contract(approvers=[manager], owner=rep, customer=customer)
    other_customer = CustomerFactory(owner=rep)
    rejected_contract(approver=manager, owner=rep, customer=other_customer)
    contract = pending_contract(
        owner=rep,
        customer=customer,
        amount=Decimal("250000.00"),
        payment_terms_days=45,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 7, 1),
    )

    features = contract_features(contract)

    assert list(features) == FEATURES
    assert features == {
        "amount": 250000.0,
        "duration_days": 181,
        "payment_terms_days": 45,
        "customer_tenure_days": 100,
        "earlier_contracts": 2,
        "earlier_rejections": 1,
        "customer_tier": 2,
        "open_complaints": 0,  # counted by the service app (service/tests/test_complaints_feature.py)
    }


def test_features_ignore_a_rejection_decided_after_the_reference_time(rep, manager):
    customer = CustomerFactory(owner=rep)
    first = pending_contract(owner=rep, customer=customer)
    second = pending_contract(owner=rep, customer=customer)
    # The first is rejected only after the second was submitted.
    contract_reject(actor=manager, contract_id=first.pk, comment="No")

    assert contract_features(second)["earlier_rejections"] == 0
    assert contract_features(second, as_of=timezone.now())["earlier_rejections"] == 1


def test_features_of_many_contracts_take_two_queries(rep, manager, customers, django_assert_num_queries):
    decided_history(owner=rep, approver=manager, customers=customers, count=6)

    # One for the contracts, one for the open complaints the service app counts.
    with django_assert_num_queries(2):
        features = contract_features_many(Contract.objects.all())

    assert len(features) == 6
    assert {row["earlier_contracts"] for row in features.values()} >= {0}


def test_decided_contracts_label_the_latest_decided_round(rep, manager):
    customer = CustomerFactory(owner=rep)
    approved = approved_contract(approvers=[manager], owner=rep, customer=customer)
    rejected = rejected_contract(approver=manager, owner=rep, customer=customer)
    reopened = contract_reopen(
        actor=rep, contract_id=rejected_contract(approver=manager, owner=rep, customer=customer).pk
    )
    revised = contract_reopen(
        actor=rep, contract_id=rejected_contract(approver=manager, owner=rep, customer=customer).pk
    )
    contract_update(actor=rep, contract_id=revised.pk, payment_terms_days=15)
    second_round = approved_contract(approvers=[manager], owner=rep, customer=customer)
    pending_contract(owner=rep, customer=customer)
    ContractFactory(owner=rep, customer=customer)

    outcomes = dict(decided_contracts().values_list("pk", "outcome"))

    assert outcomes == {
        approved.pk: "approve",
        rejected.pk: "reject",
        reopened.pk: "reject",  # reopened but unchanged: its terms are the rejected ones
        second_round.pk: "approve",
    }


# --- training ---------------------------------------------------------------------------------------


def test_training_beats_the_baseline_and_stores_a_version_with_its_metrics(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=24)

    model = approval_model_train(min_samples=20, test_size=0.25, random_state=0)

    model.refresh_from_db()
    assert model.version == 1
    assert model.is_active
    assert (model.training_size, model.test_size) == (18, 6)
    assert model.baseline_accuracy == pytest.approx(0.5)
    assert model.accuracy > model.baseline_accuracy
    assert model.feature_names == FEATURES
    assert model.parameters["max_depth"] in (2, 3, 4, 5, 6)
    assert "cross-validation" in model.parameters["depth_chosen_by"]
    assert model.parameters["outcomes"] == {"approve": 12, "reject": 12}
    estimator = pickle.loads(bytes(model.estimator))
    assert FEATURES[estimator.tree_.feature[0]] == "payment_terms_days"
    event = AuditEvent.objects.get(action="approval_model.trained")
    assert event.target_id == str(model.pk)
    assert event.extra["version"] == 1
    assert event.extra["accuracy"] == pytest.approx(model.accuracy, abs=1e-4)


def test_training_again_increments_the_version_and_keeps_one_active(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=20)

    first = approval_model_train(min_samples=20)
    second = approval_model_train(min_samples=20, max_depth=2, random_state=1)

    assert (first.version, second.version) == (1, 2)
    assert list(ApprovalModel.objects.filter(is_active=True)) == [second]
    assert second.parameters["max_depth"] == 2


def test_training_refuses_with_too_little_history(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=4)

    with pytest.raises(DomainError, match="Too little history: 4 contracts have been decided"):
        approval_model_train()
    assert not ApprovalModel.objects.exists()


def test_training_refuses_when_every_contract_had_the_same_outcome(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=8, outcomes=("approve",))

    with pytest.raises(DomainError, match="8 were approved and 0 rejected"):
        approval_model_train(min_samples=5)
    assert not ApprovalModel.objects.exists()


# --- recommendations --------------------------------------------------------------------------------


def test_without_a_model_the_recommendation_says_there_is_too_little_history(rep, manager):
    contract = pending_contract(owner=rep)

    recommendation = approval_recommendation(contract)

    assert not recommendation.available
    assert recommendation.reason.startswith("Too little history: 0 contracts have been decided")
    assert recommendation.probability is None
    assert recommendation.decision is None


def test_without_a_model_but_enough_history_it_says_none_was_trained(rep, manager, customers, monkeypatch):
    monkeypatch.setattr(assistant, "MIN_SAMPLES", 4)
    decided_history(owner=rep, approver=manager, customers=customers, count=4)

    recommendation = approval_recommendation(pending_contract(owner=rep, customer=customers[0]))

    assert not recommendation.available
    assert recommendation.reason == "No approval model has been trained yet."
    assert recommendation.probability is None


def test_recommendation_gives_decision_probability_and_the_deciding_reason(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=24)
    model = approval_model_train(min_samples=20)
    risky = pending_contract(owner=rep, customer=customers[1], payment_terms_days=90)
    safe = pending_contract(owner=rep, customer=customers[1], payment_terms_days=30)

    against, towards = approval_recommendation(risky), approval_recommendation(safe)

    assert against.available and towards.available
    assert (against.decision, towards.decision) == ("reject", "approve")
    assert against.probability == pytest.approx(1.0)
    assert (against.model_version, against.accuracy, against.baseline_accuracy) == (
        model.version,
        model.accuracy,
        model.baseline_accuracy,
    )
    assert against.reasons[0].startswith("Payment terms of 90 days are longer than")
    assert towards.reasons[0].startswith("Payment terms of 30 days are at most")
    assert len(against.reasons) <= 3


def test_the_model_is_unpickled_once_per_process(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=20)
    approval_model_train(min_samples=20)
    contract = pending_contract(owner=rep, customer=customers[0])

    with mock.patch("contracts.assistant.pickle.loads", wraps=pickle.loads) as loads:
        approval_recommendation(contract)
        approval_recommendation(contract)
        assert loads.call_count == 1
        approval_model_train(min_samples=20, random_state=3)  # a new version is loaded afresh
        approval_recommendation(contract)
        assert loads.call_count == 2


def test_a_corrupt_model_makes_the_recommendation_unavailable_not_an_error(rep, manager, customers, caplog):
    decided_history(owner=rep, approver=manager, customers=customers, count=20)
    model = approval_model_train(min_samples=20)
    ApprovalModel.objects.filter(pk=model.pk).update(estimator=b"\x80\x04not a pickle")
    contract = pending_contract(owner=rep, customer=customers[0])

    with caplog.at_level(logging.ERROR, logger="contracts.assistant"):
        recommendation = approval_recommendation(contract)

    assert not recommendation.available
    assert recommendation.reason == "The model could not be loaded."
    assert recommendation.probability is None
    assert "Could not load approval model v1" in caplog.text


def test_a_model_that_fails_to_predict_makes_the_recommendation_unavailable(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=20)
    model = approval_model_train(min_samples=20)
    contract = pending_contract(owner=rep, customer=customers[0])

    with mock.patch.object(assistant, "contract_features_many", side_effect=RuntimeError("boom")):
        recommendation = approval_recommendation(contract)

    assert not recommendation.available
    assert recommendation.model_version is None
    assert "could not make a recommendation" in recommendation.reason
    assert model.is_active


# --- demo data --------------------------------------------------------------------------------------


def test_demo_contracts_seed_gives_both_outcomes_and_a_trainable_model(rep, other_rep, manager, finance):
    reps = [rep, other_rep]
    customers = [
        CustomerFactory(owner=reps[index % 2], tier=tier)
        for index, tier in enumerate(["small", "standard", "key", "strategic", "standard", "small"])
    ]

    counts = demo_contracts_seed(
        rng=random.Random(7), customers=customers, reps=reps, manager=manager, finance=finance, count=45
    )

    assert counts["contracts"] == Contract.objects.count() == 45
    assert counts["approved_decisions"] > 0 and counts["rejected_decisions"] > 0
    assert counts["by_status"].get(S.PENDING_APPROVAL, 0) > 0
    assert counts["templates_created"] == ContractTemplate.objects.count() == len(demo.TEMPLATES)
    assert decided_contracts().count() == counts["decided"]
    model = approval_model_train(min_samples=20)
    assert model.version == 1
    assert approval_recommendation(Contract.objects.filter(status=S.PENDING_APPROVAL).first()).available
    assert set(Contract.objects.values_list("owner", flat=True)) <= {rep.pk, other_rep.pk}
