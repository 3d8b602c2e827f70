"""The reports: visibility of every row, filters (bad input is a message, never a 500), and
the CSV and XLSX exports, masked for the reader."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.core.workflow import SYSTEM
from crm.dashboard.reports import REPORTS, REVENUE_GROUPINGS
from crm.dashboard.services import REVENUE_GROUPS, dashboard_refresh
from crm.insight.choices import ModelKind
from crm.insight.models import CustomerSegment, CustomerSegmentMember, ModelVersion
from customers.choices import OpportunitySource, OpportunityStage
from customers.models import OpportunityStageChange
from customers.services import customer_reassign
from customers.tests.factories import CustomerFactory, OpportunityFactory
from orders.choices import OrderStatus
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(rep, other_rep):
    mine = CustomerFactory(owner=rep, name="Blue Lotus Textiles", email="buyer@lotus.example.com", phone="13912345678")
    theirs = CustomerFactory(owner=other_rep, name="Red Dragon Foods")
    won = OpportunityFactory(
        customer=mine, stage=OpportunityStage.WON, source=OpportunitySource.REFERRAL, closed_at=timezone.now()
    )
    OpportunityStageChange.objects.create(opportunity=won, from_stage="prospecting", to_stage="proposal")
    OpportunityFactory(customer=mine, stage=OpportunityStage.QUALIFICATION, source=OpportunitySource.WEB)
    OpportunityFactory(customer=theirs, stage=OpportunityStage.NEGOTIATION, source=OpportunitySource.WEB)
    return mine, theirs


def order_row(customer, total, status=OrderStatus.APPROVED, currency="CNY", order_date=None):
    """An order row as the demo data and benchmarks write it (the services are the orders app's
    own tests' business); the totals are what the report sums."""
    return Order.objects.create(
        number=f"SO-{Order.objects.count() + 1:06d}",
        customer=customer,
        owner=customer.owner,
        total=Decimal(total),
        currency=currency,
        status=status,
        order_date=order_date or timezone.localdate(),
    )


def get_csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))


def test_every_report_answers_for_every_role(
    client_for, rep, manager, finance, signatory, agent, service_manager, sales
):
    for user in (rep, manager, finance, signatory, agent, service_manager):
        client = client_for(user)
        assert client.get(reverse("dashboard:report_list")).status_code == 200
        for report in REPORTS:
            response = client.get(reverse("dashboard:report", args=[report.slug]))
            assert response.status_code == 200, (user, report.slug)
            assert 'data-testid="report-table"' in response.content.decode()


def test_the_funnel_of_a_rep_excludes_another_reps_deals(client_for, rep, manager, sales):
    url = reverse("dashboard:report", args=["funnel"])
    lines = get_csv(client_for(rep), url + "?group=owner&format=csv")
    assert lines[0][:6] == [
        "Owner",
        "Created",
        "Reached Qualification",
        "Reached Proposal",
        "Reached Negotiation",
        "Won",
    ]
    assert [line[:6] for line in lines[1:]] == [["rep", "2", "2", "1", "1", "1"]]
    by_source = get_csv(client_for(rep), url + "?group=source&format=csv")
    assert {line[0]: line[1] for line in by_source[1:]} == {"Referral": "1", "Website": "1"}
    team = get_csv(client_for(manager), url + "?group=owner&format=csv")
    assert {line[0] for line in team[1:]} == {"rep", "other_rep"}


def test_revenue_and_top_customers_respect_visibility_and_masking(client_for, rep, agent, manager, sales):
    mine, theirs = sales
    order_row(mine, "1200.00")
    order_row(theirs, "9900.00")
    order_row(mine, "500.00", status=OrderStatus.CANCELLED)
    dashboard_refresh(actor=SYSTEM)
    lines = get_csv(client_for(rep), reverse("dashboard:report", args=["revenue"]) + "?group=industry&format=csv")
    assert lines[1] == ["Manufacturing", "CNY", "1", "1200.0", "1.0"]
    top = get_csv(client_for(rep), reverse("dashboard:report", args=["top-customers"]) + "?format=csv")
    assert [line[0] for line in top[1:]] == ["Blue Lotus Textiles"]
    assert top[1][1] == "buyer@lotus.example.com"  # the owner sees the contact details
    masked = get_csv(client_for(agent), reverse("dashboard:report", args=["top-customers"]) + "?format=csv")
    text = "\n".join(",".join(line) for line in masked)
    assert "buyer@lotus.example.com" not in text and "13912345678" not in text
    assert "Red Dragon Foods" in text  # agents read every customer, masked


def test_the_xlsx_export_holds_the_same_rows(client_for, rep, sales):
    response = client_for(rep).get(reverse("dashboard:report", args=["win-loss"]) + "?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0] == ("Outcome", "Reason", "Currency", "Deals", "Amount", "Share")
    assert values[1][:4] == ("Won", None, "CNY", 1)


@pytest.mark.parametrize(
    "query",
    [
        "start=garbage",
        "start=2026-05-01&end=2026-01-01",
        "owner=999999",
        "owner=x",
        "group=nope",
        "start=0001-01-01",
        "format=xlsx&start=bad",
    ],
)
def test_bad_filters_answer_a_message_not_an_error(client_for, manager, sales, query):
    response = client_for(manager).get(reverse("dashboard:report", args=["funnel"]) + "?" + query)
    assert response.status_code == 200
    assert 'data-testid="report-errors"' in response.content.decode()


def test_a_rep_may_not_filter_on_another_owner(client_for, rep, other_rep, sales):
    response = client_for(rep).get(reverse("dashboard:report", args=["funnel"]) + f"?owner={other_rep.pk}")
    assert 'data-testid="report-errors"' in response.content.decode()


def test_the_range_filters_the_rows(client_for, manager, sales):
    past = (timezone.localdate() - datetime.timedelta(days=800)).isoformat()
    before = (timezone.localdate() - datetime.timedelta(days=700)).isoformat()
    lines = get_csv(
        client_for(manager), reverse("dashboard:report", args=["funnel"]) + f"?start={past}&end={before}&format=csv"
    )
    assert lines[1:] == []


def test_an_unknown_report_is_not_found(client_for, rep):
    assert client_for(rep).get(reverse("dashboard:report", args=["nope"])).status_code == 404


def test_revenue_is_a_total_per_currency_never_a_sum_across(client_for, rep, sales):
    """A rep's EUR and CNY orders: one row per currency, each share of its own currency."""
    mine, _theirs = sales
    order_row(mine, "1000.00", currency="CNY")
    order_row(mine, "3000.00", currency="CNY")
    order_row(mine, "250.00", currency="EUR")
    dashboard_refresh(actor=SYSTEM)
    url = reverse("dashboard:report", args=["revenue"]) + "?group=industry&format=csv"
    lines = get_csv(client_for(rep), url)
    assert lines[0] == ["Industry", "Currency", "Orders", "Revenue", "Share"]
    assert lines[1:] == [["Manufacturing", "CNY", "2", "4000.0", "1.0"], ["Manufacturing", "EUR", "1", "250.0", "1.0"]]
    top = get_csv(client_for(rep), reverse("dashboard:report", args=["top-customers"]) + "?format=csv")
    assert [(line[4], line[6]) for line in top[1:]] == [("CNY", "4000.0"), ("EUR", "250.0")]
    page = client_for(rep).get(reverse("dashboard:report", args=["revenue"])).content.decode()
    assert "never added across currencies" in page
    assert "4,250" not in page and "4250" not in page


def test_revenue_by_region(client_for, rep, manager, sales):
    mine, theirs = sales
    mine.region = "guangdong"
    mine.save()
    order_row(mine, "1200.00")
    order_row(theirs, "800.00")
    dashboard_refresh(actor=SYSTEM)
    lines = get_csv(client_for(manager), reverse("dashboard:report", args=["revenue"]) + "?group=region&format=csv")
    assert lines[1:] == [["Guangdong", "CNY", "1", "1200.0", "0.6"], ["No region", "CNY", "1", "800.0", "0.4"]]
    mine_only = get_csv(client_for(rep), reverse("dashboard:report", args=["revenue"]) + "?group=region&format=csv")
    assert mine_only[1:] == [["Guangdong", "CNY", "1", "1200.0", "1.0"]]


def test_revenue_and_top_customers_filtered_on_an_owner_hold_only_that_owners_customers(
    client_for, rep, other_rep, manager, sales
):
    mine, theirs = sales
    order_row(mine, "1200.00")
    order_row(theirs, "9900.00")
    dashboard_refresh(actor=SYSTEM)
    revenue = reverse("dashboard:report", args=["revenue"]) + "?group=industry&format=csv"
    team = get_csv(client_for(manager), revenue)
    assert sum(Decimal(line[3]) for line in team[1:]) == Decimal("11100")
    only_rep = get_csv(client_for(manager), revenue + f"&owner={rep.pk}")
    assert [line[1:4] for line in only_rep[1:]] == [["CNY", "1", "1200.0"]]
    top = reverse("dashboard:report", args=["top-customers"]) + "?format=csv"
    assert [line[0] for line in get_csv(client_for(manager), top)[1:]] == ["Red Dragon Foods", "Blue Lotus Textiles"]
    only_other = get_csv(client_for(manager), top + f"&owner={other_rep.pk}")
    assert [(line[0], line[3]) for line in only_other[1:]] == [("Red Dragon Foods", "other_rep")]


def test_revenue_counts_whole_months_and_says_so_and_how_fresh(client_for, rep, sales):
    """The range is widened to whole months (the summary rows are monthly); an order placed
    after the last refresh shows after the next one, and the page says when that was."""
    mine, _theirs = sales
    first_of_last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    order_row(mine, "700.00", order_date=first_of_last_month)
    url = reverse("dashboard:report", args=["revenue"])
    page = client_for(rep).get(url).content.decode()
    assert "have not been computed yet" in page
    dashboard_refresh(actor=SYSTEM)
    order_row(mine, "50.00")  # after the refresh
    mid_month = first_of_last_month.replace(day=15).isoformat()
    response = client_for(rep).get(url + f"?group=industry&start={mid_month}")
    page = response.content.decode()
    assert "Figures as of" in page and "counted by whole months" in page
    assert response.context["filters"]["start"] == first_of_last_month
    lines = get_csv(client_for(rep), url + f"?group=industry&start={mid_month}&format=csv")
    assert lines[1:] == [["Manufacturing", "CNY", "1", "700.0", "1.0"]]
    dashboard_refresh(actor=SYSTEM)
    lines = get_csv(client_for(rep), url + f"?group=industry&start={mid_month}&format=csv")
    assert lines[1:] == [["Manufacturing", "CNY", "2", "750.0", "1.0"]]


def test_revenue_by_segment_names_each_segment_in_words(client_for, manager, sales):
    mine, theirs = sales
    version = ModelVersion.objects.create(kind=ModelKind.SEGMENTS, version=1)
    segment = CustomerSegment.objects.create(
        model_version=version, number=0, recency_level=2, frequency_level=2, value_level=2
    )
    CustomerSegmentMember.objects.create(customer=mine, segment=segment, segment_key=segment.key)
    order_row(mine, "300.00")
    order_row(theirs, "100.00")
    dashboard_refresh(actor=SYSTEM)
    lines = get_csv(client_for(manager), reverse("dashboard:report", args=["revenue"]) + "?group=segment&format=csv")
    assert lines[1:] == [
        ["bought recently, often, high value", "CNY", "1", "300.0", "0.75"],
        ["No segment", "CNY", "1", "100.0", "0.25"],
    ]


def test_the_report_offers_every_grouping_the_refresh_counts():
    assert list(REVENUE_GROUPINGS) == REVENUE_GROUPS


def test_a_customer_reassigned_since_the_refresh_is_never_named_to_its_old_owner(
    client_for, rep, other_rep, manager, sales
):
    mine, _theirs = sales
    order_row(mine, "900.00")
    dashboard_refresh(actor=SYSTEM)
    customer_reassign(actor=manager, customer_ids=[mine.pk], new_owner=other_rep)

    page = client_for(rep).get(reverse("dashboard:report", args=["top-customers"])).content.decode()
    exported = get_csv(client_for(rep), reverse("dashboard:report", args=["top-customers"]) + "?format=csv")

    assert "Blue Lotus" not in page and "lotus.example.com" not in page
    assert not any("Blue Lotus" in cell for row in exported for cell in row)
    dashboard_refresh(actor=SYSTEM)
    url = reverse("dashboard:report", args=["top-customers"])
    assert "Blue Lotus Textiles" in client_for(other_rep).get(url).content.decode(), "counted for the new owner"
