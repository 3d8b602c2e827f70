"""Training through `model_train`: each model finds the pattern put in the data and beats
its baseline, does not claim to on data without one, splits by time, says "not enough
data" with too little history, and stores its model with a checksum checked on load."""

import pickle

import pytest

from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from crm.core.workflow import SYSTEM
from crm.insight import selectors
from crm.insight.choices import ModelKind, ModelStatus
from crm.insight.models import CustomerOrderScore, CustomerSegmentMember, ModelVersion, OpportunityScore
from crm.insight.services import model_train
from customers.choices import OpportunitySource
from customers.models import Opportunity

pytestmark = pytest.mark.django_db


def test_with_too_little_history_each_model_says_not_enough_data_and_scores_nothing(rep):
    for kind in ModelKind.values:
        version = model_train(actor=SYSTEM, kind=kind)
        assert version.status == ModelStatus.NOT_ENOUGH_DATA
        assert version.reason and not version.estimator_sha256 and version.is_active
        event = AuditEvent.objects.get(action="model_version.trained", target_id=str(version.pk))
        assert event.extra["status"] == ModelStatus.NOT_ENOUGH_DATA
    assert not CustomerSegmentMember.objects.exists()
    assert not OpportunityScore.objects.exists() and not CustomerOrderScore.objects.exists()
    assert selectors.forecast_basis()["uses_model"] is False


def test_segments_find_the_three_kinds_of_buyer(buyers, rep):
    version = model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS, seed=3)

    assert version.status == ModelStatus.TRAINED and version.beats_baseline
    assert version.metrics["k"] == 3
    assert version.metrics["silhouette"] > version.metrics["baseline"]["silhouette"]
    assert version.metrics["stability_ari"] > 0.9
    labels = selectors.segment_labels(user=rep, customer_ids=[c.pk for group in buyers.values() for c in group])
    for kind, customers in buyers.items():
        assert len({labels[c.pk] for c in customers}) == 1, kind  # each kind of buyer is one segment
    assert labels[buyers["loyal"][0].pk] == "bought recently, often, high value"
    assert labels[buyers["lapsed"][0].pk] == "bought long ago, rarely, low value"
    loyal = {choice for choice, label in selectors.segment_choices() if label.startswith("bought recently, often")}
    in_segment = selectors.customers_in_segment(user=rep, key=loyal.pop())
    assert set(in_segment) == set(buyers["loyal"])


def test_segments_are_seen_only_by_who_sees_the_customer(buyers, rep, other_rep):
    model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    ids = [c.pk for c in buyers["loyal"]]
    assert selectors.segment_labels(user=other_rep, customer_ids=ids) == {}
    assert selectors.customer_insight(user=other_rep, customer=buyers["loyal"][0]) is None
    key = selectors.segment_choices()[0][0]
    assert not selectors.customers_in_segment(user=other_rep, key=key).exists()


def test_win_probability_learns_the_source_pattern_and_beats_the_stage_default(deal_history, rep):
    deal_history(pattern=True)
    version = model_train(actor=SYSTEM, kind=ModelKind.WIN)

    assert version.status == ModelStatus.TRAINED, version.reason
    assert version.beats_baseline, version.metrics
    assert version.metrics["brier"] < version.metrics["baseline"]["brier"]
    assert version.metrics["log_loss"] < version.metrics["baseline"]["log_loss"]
    # The split is by time: every held-out deal closed after every training deal.
    assert version.parameters["split"] == "by close date" and version.test_size > 0
    referral = Opportunity.objects.open().get(source=OpportunitySource.REFERRAL)
    web = Opportunity.objects.open().get(source=OpportunitySource.WEB)
    shown = selectors.opportunity_insight(user=rep, opportunity=referral)
    assert shown["status"] == selectors.SCORED and shown["probability"] > 0.7
    assert "Came from Referral — raises the chance" in shown["factors"]
    assert selectors.opportunity_insight(user=rep, opportunity=web)["probability"] < 0.3
    assert selectors.forecast_basis()["uses_model"] is True
    weighted = selectors.with_win_probability(Opportunity.objects.open()).get(pk=referral.pk).probability_value
    assert weighted == round(OpportunityScore.objects.get(opportunity=referral).probability * 100)


def test_win_probability_on_deals_without_a_pattern_keeps_the_stage_default(deal_history, rep):
    deal_history(pattern=False)
    version = model_train(actor=SYSTEM, kind=ModelKind.WIN)

    assert version.status == ModelStatus.TRAINED, version.reason
    assert not version.beats_baseline, version.metrics
    deal = Opportunity.objects.open().first()
    shown = selectors.opportunity_insight(user=rep, opportunity=deal)
    assert shown["status"] == selectors.BASELINE and shown["probability"] is None
    assert selectors.forecast_basis()["uses_model"] is False
    assert selectors.with_win_probability(Opportunity.objects.open()).get(pk=deal.pk).probability_value == 40


def test_next_order_beats_recency_alone_on_a_later_period(buyers, rep):
    version = model_train(actor=SYSTEM, kind=ModelKind.NEXT_ORDER)

    assert version.status == ModelStatus.TRAINED, version.reason
    # Trained on cut-offs before the held-out one, never on rows after it.
    assert all(day < version.parameters["held_out_cutoff"] for day in version.parameters["training_cutoffs"])
    assert version.beats_baseline, version.metrics
    assert version.metrics["brier"] < version.metrics["baseline"]["brier"]
    loyal = selectors.customer_insight(user=rep, customer=buyers["loyal"][0])["next_order"]
    lapsed = selectors.customer_insight(user=rep, customer=buyers["lapsed"][0])["next_order"]
    assert loyal["probability"] > 0.8 > 0.2 > lapsed["probability"]


def test_the_stored_model_is_checked_against_its_checksum_before_loading(buyers):
    version = model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    stored = ModelVersion.objects.get(pk=version.pk)
    assert selectors.estimator_load(stored)["kmeans"].n_clusters == version.metrics["k"]

    stored.estimator = pickle.dumps({"kmeans": "tampered"})
    with pytest.raises(DomainError, match="checksum"):
        selectors.estimator_load(stored)


def test_each_training_is_a_new_version_and_the_newest_is_active(buyers):
    first = model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    second = model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS, seed=1)

    assert (first.version, second.version) == (1, 2)
    assert list(ModelVersion.objects.filter(kind=ModelKind.SEGMENTS, is_active=True)) == [second]
    assert set(CustomerSegmentMember.objects.values_list("segment__model_version", flat=True)) == {second.pk}
