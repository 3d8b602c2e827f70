"""What the pages show: the segment and next-order likelihood on the customer page, the
segment column and filter on the list, the win probability and its factors on the deal,
"not enough data" with no number, the forecast's basis on the dashboard, the models page;
and nothing of a customer the reader may not see."""

import pytest
from django.urls import reverse

from crm.core.workflow import SYSTEM
from crm.insight.choices import ModelKind
from crm.insight.services import model_train
from customers.choices import OpportunitySource
from customers.models import Opportunity

pytestmark = pytest.mark.django_db


def test_the_customer_page_and_list_show_the_segment_and_the_list_filters_by_it(client, buyers, rep):
    model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    model_train(actor=SYSTEM, kind=ModelKind.NEXT_ORDER)
    loyal = buyers["loyal"][0]
    client.force_login(rep)

    page = client.get(reverse("customers:customer_detail", args=[loyal.pk])).content.decode()
    assert 'data-testid="customer-segment"' in page and "bought recently, often, high value" in page
    assert 'data-testid="customer-next-order"' in page and "likely" in page

    listing = client.get(reverse("customers:customer_list")).content.decode()
    assert "<th>Segment</th>" in listing and "bought long ago, rarely, low value" in listing
    form = client.get(reverse("customers:customer_list")).context["filter"].form
    key = next(value for value, label in form.fields["segment"].choices if label.startswith("bought recently, often"))
    narrowed = client.get(reverse("customers:customer_list"), {"segment": key}).context["object_list"]
    assert {c.pk for c in narrowed} == {c.pk for c in buyers["loyal"]}
    assert client.get(reverse("customers:customer_list"), {"segment": "<script>"}).status_code == 200


def test_the_pages_are_in_chinese_too(client, buyers, rep):
    model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    client.force_login(rep)
    page = client.get(
        reverse("customers:customer_detail", args=[buyers["loyal"][0].pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "最近购买" in page and "高价值" in page


def test_another_rep_sees_no_score_of_a_customer_they_may_not_see(client, buyers, rep, other_rep):
    model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    client.force_login(other_rep)
    assert client.get(reverse("customers:customer_detail", args=[buyers["loyal"][0].pk])).status_code == 404
    listing = client.get(reverse("customers:customer_list")).content.decode()
    assert 'data-testid="customer-segment"' not in listing  # no row of theirs, no label
    assert buyers["loyal"][0].name not in listing


def test_with_too_little_history_the_pages_say_not_enough_data_and_show_no_number(client, rep, deal_history):
    customer = deal_history(pattern=True)  # a handful of open deals, no orders, too few customers
    Opportunity.objects.filter(stage__in=["won", "lost"]).delete()
    for kind in ModelKind.values:
        model_train(actor=SYSTEM, kind=kind)
    client.force_login(rep)

    page = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert page.count("Not enough data") == 2
    deal = Opportunity.objects.open().first()
    page = client.get(reverse("customers:opportunity_detail", args=[deal.pk])).content.decode()
    assert 'data-testid="win-probability-none"' in page and 'data-testid="win-probability-value"' not in page
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "not enough history for a win-probability model" in home


def test_the_deal_page_shows_the_model_probability_and_its_factors_and_the_dashboard_says_it_is_used(
    client, rep, deal_history
):
    deal_history(pattern=True)
    model_train(actor=SYSTEM, kind=ModelKind.WIN)
    referral = Opportunity.objects.open().get(source=OpportunitySource.REFERRAL)
    client.force_login(rep)

    page = client.get(reverse("customers:opportunity_detail", args=[referral.pk])).content.decode()
    assert 'data-testid="win-probability-value"' in page
    assert "Came from Referral — raises the chance" in page
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "Forecasts are weighted by the win-probability model v1" in home


def test_the_deal_page_says_the_stage_default_is_used_when_the_model_does_not_beat_it(client, rep, deal_history):
    deal_history(pattern=False)
    model_train(actor=SYSTEM, kind=ModelKind.WIN)
    deal = Opportunity.objects.open().first()
    client.force_login(rep)

    page = client.get(reverse("customers:opportunity_detail", args=[deal.pk])).content.decode()
    assert 'data-testid="win-probability-baseline"' in page and 'data-testid="win-probability-value"' not in page
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "the win-probability model does not predict better than them" in home


def test_the_models_page_shows_each_model_against_its_baseline_to_the_manager_only(client, buyers, rep, manager):
    model_train(actor=SYSTEM, kind=ModelKind.SEGMENTS)
    model_train(actor=SYSTEM, kind=ModelKind.WIN)
    client.force_login(manager)
    page = client.get(reverse("insight:model_list")).content.decode()
    assert 'data-testid="model-segments"' in page and "Silhouette" in page and 'data-testid="beats-baseline"' in page
    assert "bought recently, often, high value" in page
    assert 'data-testid="segment-table"' in page
    client.force_login(rep)
    assert client.get(reverse("insight:model_list")).status_code == 403
