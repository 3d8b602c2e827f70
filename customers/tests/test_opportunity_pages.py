"""The opportunity pages as a rep and a manager see them: list filters, the board's counts,
totals and moves, the detail's stage history, create, edit and assign."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.core.models import AuditEvent
from customers.choices import OpportunityStage as S
from customers.models import LostReason, Opportunity, StageProbability
from customers.services import opportunity_advance, opportunity_create
from customers.tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def _deal(actor, customer, title="Warehouse robots", amount="100000", **values):
    values.setdefault("expected_close_date", timezone.localdate() + datetime.timedelta(days=30))
    return opportunity_create(
        actor=actor, customer=customer, title=title, amount=Decimal(amount), currency="CNY", **values
    )


def test_a_rep_sees_only_deals_of_own_customers_and_gets_404_on_another_reps(client_for, rep, other_rep, customer):
    mine = _deal(rep, customer, title="Mine")
    theirs = _deal(other_rep, CustomerFactory(owner=other_rep), title="Theirs")
    client = client_for(rep)
    page = client.get(reverse("customers:opportunity_list")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.get(reverse("customers:opportunity_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("customers:opportunity_advance", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("customers:opportunity_detail", args=[mine.pk])).status_code == 200


def test_the_list_filters_by_stage_amount_close_date_and_idle(client_for, rep, customer):
    small = _deal(rep, customer, title="Small deal", amount="1000")
    big = _deal(rep, customer, title="Big deal", amount="900000")
    opportunity_advance(actor=rep, opportunity_id=big.pk, stage=S.PROPOSAL)
    _deal(rep, customer, title="Late deal", expected_close_date=timezone.localdate() + datetime.timedelta(days=300))
    Opportunity.objects.filter(pk=small.pk).update(updated_at=timezone.now() - datetime.timedelta(days=60))
    client = client_for(rep)
    url = reverse("customers:opportunity_list")

    def titles(**query):
        rows = client.get(url, query).context["object_list"]
        return {row.title for row in rows}

    assert titles(stage="proposal") == {"Big deal"}
    assert titles(amount_min="5000") == {"Big deal", "Late deal"}
    assert titles(close_to=(timezone.localdate() + datetime.timedelta(days=60)).isoformat()) == {
        "Small deal",
        "Big deal",
    }
    assert titles(stale="true") == {"Small deal"}


@pytest.mark.parametrize(
    "query",
    [{"amount_min": "abc"}, {"close_from": "2024-99-99"}, {"stage": "nonsense"}, {"owner": "x"}, {"sort": "evil"}],
)
def test_bad_filters_never_answer_500(client_for, manager, query):
    assert client_for(manager).get(reverse("customers:opportunity_list"), query).status_code == 200
    assert client_for(manager).get(reverse("customers:opportunity_board"), query).status_code == 200


def test_board_counts_and_weighted_totals(client_for, rep, customer):
    probability = StageProbability.objects.get(stage=S.PROPOSAL).probability
    for amount in ("100000", "50000"):
        deal = _deal(rep, customer, amount=amount)
        opportunity_advance(actor=rep, opportunity_id=deal.pk, stage=S.PROPOSAL)
    overridden = _deal(rep, customer, amount="200000", probability_override=90)
    opportunity_advance(actor=rep, opportunity_id=overridden.pk, stage=S.PROPOSAL)
    _deal(rep, customer, amount="10")  # prospecting
    columns = {
        column.stage: column
        for column in client_for(rep).get(reverse("customers:opportunity_board")).context["columns"]
    }
    proposal = columns[S.PROPOSAL]
    assert proposal.count == 3
    currency, amount, weighted = proposal.totals[0]
    assert (currency, amount) == ("CNY", Decimal("350000.00"))
    assert weighted == Decimal(150000 * probability) / 100 + Decimal("180000.00")
    assert columns[S.PROSPECTING].count == 1
    assert columns[S.NEGOTIATION].count == 0


def test_board_shows_the_top_cards_and_links_to_the_rest(client_for, rep, customer, settings):
    settings.BOARD_CARDS_PER_COLUMN = 3
    for _number in range(5):
        _deal(rep, customer)
    page = client_for(rep).get(reverse("customers:opportunity_board"))
    column = page.context["columns"][0]
    assert len(column.cards) == 3 and column.more == 2
    assert "Show 2 more in the list" in page.content.decode()


def test_board_query_count_does_not_grow_with_the_deals(client_for, rep, customer):
    client = client_for(rep)
    client.get(reverse("customers:opportunity_board"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("customers:opportunity_board")).status_code == 200
        return len(captured)

    for stage in (S.PROSPECTING, S.QUALIFICATION, S.PROPOSAL, S.NEGOTIATION):
        OpportunityFactory(customer=customer, stage=stage)
    few = queries()
    for stage in (S.PROSPECTING, S.QUALIFICATION, S.PROPOSAL, S.NEGOTIATION):
        for _number in range(6):
            OpportunityFactory(customer=customer, stage=stage)
    assert queries() == few


def test_the_move_to_form_moves_the_card_and_returns_to_the_board(client_for, rep, customer):
    deal = _deal(rep, customer)
    board = reverse("customers:opportunity_board")
    response = client_for(rep).post(
        reverse("customers:opportunity_advance", args=[deal.pk]), {"stage": "negotiation", "next": board}
    )
    assert response.status_code == 302 and response["Location"] == board
    deal.refresh_from_db()
    assert deal.stage == S.NEGOTIATION


def test_drag_and_drop_gets_json_and_a_refusal_says_why(client_for, rep, customer):
    deal = _deal(rep, customer)
    client = client_for(rep)
    url = reverse("customers:opportunity_advance", args=[deal.pk])
    answer = client.post(url, {"stage": "proposal"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["ok"] and answer.json()["stage"] == "proposal"
    again = client.post(url, {"stage": "proposal"}, headers={"Accept": "application/json"})
    assert again.status_code == 409 and "already" in again.json()["error"]


def test_lose_page_needs_a_reason(client_for, rep, customer):
    deal = _deal(rep, customer)
    client = client_for(rep)
    url = reverse("customers:opportunity_lose", args=[deal.pk])
    refused = client.post(url, {"note": "gone"})
    assert refused.status_code == 200 and refused.context["form"].errors["lost_reason"]
    reason = LostReason.objects.first()
    assert client.post(url, {"lost_reason": reason.pk}).status_code == 302
    deal.refresh_from_db()
    assert deal.stage == S.LOST and deal.lost_reason == reason


def test_detail_shows_stage_history_time_in_stage_and_suggests_the_next_step(client_for, rep, customer):
    deal = _deal(rep, customer)
    opportunity_advance(actor=rep, opportunity_id=deal.pk, stage=S.QUALIFICATION)
    page = client_for(rep).get(reverse("customers:opportunity_detail", args=[deal.pk]))
    content = page.content.decode()
    assert content.count('data-testid="stage-change"') == 2
    assert 'data-testid="time-in-stage"' in content
    assert page.context["next_step_suggestion"] == "Confirm budget, decision makers and timeline"


def test_create_from_the_customer_page_and_edit(client_for, rep, customer):
    client = client_for(rep)
    response = client.post(
        reverse("customers:opportunity_create"),
        {
            "customer": customer.pk,
            "title": "Cold store",
            "amount": "42000",
            "currency": "cny",
            "expected_close_date": "2027-03-01",
            "source": "campaign",
        },
    )
    deal = Opportunity.objects.get(title="Cold store")
    assert response.status_code == 302 and deal.currency == "CNY" and deal.owner == rep
    response = client.post(
        reverse("customers:opportunity_update", args=[deal.pk]),
        {
            "title": "Cold store v2",
            "amount": "43000",
            "currency": "CNY",
            "expected_close_date": "2027-03-01",
            "source": "web",
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Cold store v2"
    assert "Cold store v2" in client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()


def test_create_with_a_bad_currency_shows_the_error_next_to_the_field(client_for, rep, customer):
    response = client_for(rep).post(
        reverse("customers:opportunity_create"),
        {
            "customer": customer.pk,
            "title": "X",
            "amount": "1",
            "currency": "XXQ",
            "expected_close_date": "2027-03-01",
            "source": "web",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["currency"]


def test_a_manager_reassigns_and_the_new_owner_sees_it(client_for, manager, rep, other_rep, customer):
    deal = _deal(rep, customer)
    response = client_for(manager).post(
        reverse("customers:opportunity_assign"), {"opportunity": [deal.pk], "owner": other_rep.pk}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.owner == other_rep
    event = AuditEvent.objects.get(action="opportunity.assigned", target_id=str(deal.pk))
    assert event.changes == {"owner": ["rep", "other_rep"]}
    assert client_for(other_rep).get(reverse("customers:opportunity_detail", args=[deal.pk])).status_code == 200


def test_a_rep_may_not_assign(client_for, rep, other_rep, customer):
    deal = _deal(rep, customer)
    assert (
        client_for(rep)
        .post(reverse("customers:opportunity_assign"), {"opportunity": [deal.pk], "owner": other_rep.pk})
        .status_code
        == 403
    )
