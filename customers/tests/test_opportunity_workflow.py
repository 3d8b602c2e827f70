"""The opportunity's steps: each allowed move with its stage-change row and audit event,
and each refusal."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent
from crm.core.workflow import SYSTEM
from customers.choices import OpportunityStage as S
from customers.models import LostReason, Opportunity, StageProbability
from customers.services import (
    opportunity_advance,
    opportunity_create,
    opportunity_lose,
    opportunity_reopen,
    opportunity_stage_move,
    opportunity_win,
)

pytestmark = pytest.mark.django_db


def _create(actor, customer, **values):
    values.setdefault("expected_close_date", timezone.localdate() + datetime.timedelta(days=30))
    return opportunity_create(
        actor=actor, customer=customer, title="Warehouse robots", amount=Decimal("250000"), currency="CNY", **values
    )


@pytest.fixture
def opportunity(rep, customer):
    return _create(rep, customer)


def test_create_starts_in_prospecting_with_a_first_stage_row_and_an_event(rep, customer, opportunity):
    assert opportunity.stage == S.PROSPECTING
    assert opportunity.owner == rep
    change = opportunity.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.changed_by) == ("", S.PROSPECTING, rep)
    assert AuditEvent.objects.filter(action="opportunity.created", target_id=str(opportunity.pk)).exists()


def test_probability_falls_back_to_the_stage_and_honours_the_override(opportunity):
    assert opportunity.probability == StageProbability.objects.get(stage=S.PROSPECTING).probability
    opportunity.probability_override = 42
    assert opportunity.probability == 42
    annotated = Opportunity.objects.with_probability().get(pk=opportunity.pk)
    assert annotated.probability == StageProbability.objects.get(stage=S.PROSPECTING).probability


def test_advance_records_who_when_from_to_and_time_in_stage(rep, opportunity):
    Opportunity.objects.filter(pk=opportunity.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(hours=5))
    moved = opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.QUALIFICATION, note="Budget known")
    assert moved.stage == S.QUALIFICATION
    change = moved.stage_changes.order_by("-id").first()
    assert (change.from_stage, change.to_stage, change.changed_by, change.note) == (
        S.PROSPECTING,
        S.QUALIFICATION,
        rep,
        "Budget known",
    )
    assert 5 * 3600 <= change.seconds_in_from < 5 * 3600 + 60
    event = AuditEvent.objects.get(action="opportunity.advanced", target_id=str(opportunity.pk))
    assert event.changes == {"stage": [S.PROSPECTING, S.QUALIFICATION]}


def test_moving_back_between_open_stages_is_allowed(rep, opportunity):
    opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.PROPOSAL)
    back = opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.QUALIFICATION)
    assert back.stage == S.QUALIFICATION


def test_moving_to_the_same_stage_is_refused(rep, opportunity):
    with pytest.raises(TransitionNotAllowed):
        opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.PROSPECTING)


def test_win_closes_the_deal(rep, opportunity):
    won = opportunity_win(actor=rep, opportunity_id=opportunity.pk)
    assert won.stage == S.WON and won.closed_at is not None
    with pytest.raises(TransitionNotAllowed):
        opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.PROPOSAL)


def test_lose_without_a_reason_is_refused(rep, opportunity):
    with pytest.raises(DomainError) as refused:
        opportunity_lose(actor=rep, opportunity_id=opportunity.pk, lost_reason=None)
    assert refused.value.field == "lost_reason"
    opportunity.refresh_from_db()
    assert opportunity.stage == S.PROSPECTING


def test_lose_with_an_inactive_reason_is_refused(rep, opportunity):
    reason = LostReason.objects.create(name="Retired reason", is_active=False)
    with pytest.raises(DomainError):
        opportunity_lose(actor=rep, opportunity_id=opportunity.pk, lost_reason=reason)


def test_reopen_returns_to_the_stage_it_was_lost_from(rep, opportunity):
    opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage=S.NEGOTIATION)
    lost = opportunity_lose(actor=rep, opportunity_id=opportunity.pk, lost_reason=LostReason.objects.first())
    assert lost.stage == S.LOST and lost.lost_reason is not None
    reopened = opportunity_reopen(actor=rep, opportunity_id=opportunity.pk, note="They came back")
    assert reopened.stage == S.NEGOTIATION
    assert reopened.lost_reason is None and reopened.closed_at is None
    assert AuditEvent.objects.filter(action="opportunity.reopened", target_id=str(opportunity.pk)).exists()


def test_won_cannot_be_reopened(rep, opportunity):
    opportunity_win(actor=rep, opportunity_id=opportunity.pk)
    with pytest.raises(TransitionNotAllowed):
        opportunity_reopen(actor=rep, opportunity_id=opportunity.pk)


def test_stage_move_picks_the_step_and_the_system_may_take_it(rep, opportunity):
    moved = opportunity_stage_move(actor=SYSTEM, opportunity_id=opportunity.pk, stage=S.NEGOTIATION)
    assert moved.stage == S.NEGOTIATION
    assert moved.stage_changes.order_by("-id").first().changed_by is None
    won = opportunity_stage_move(actor=SYSTEM, opportunity_id=opportunity.pk, stage=S.WON)
    assert won.stage == S.WON


def test_the_system_may_not_reopen(rep, opportunity):
    opportunity_lose(actor=rep, opportunity_id=opportunity.pk, lost_reason=LostReason.objects.first())
    with pytest.raises(TransitionNotAllowed):
        opportunity_stage_move(actor=SYSTEM, opportunity_id=opportunity.pk, stage=S.PROPOSAL)


def test_a_role_without_the_permission_is_refused(finance, opportunity):
    with pytest.raises(DomainError):
        opportunity_advance(actor=finance, opportunity_id=opportunity.pk, stage=S.PROPOSAL)


def test_another_rep_cannot_move_the_deal(other_rep, opportunity):
    with pytest.raises(DomainError):
        opportunity_advance(actor=other_rep, opportunity_id=opportunity.pk, stage=S.PROPOSAL)
