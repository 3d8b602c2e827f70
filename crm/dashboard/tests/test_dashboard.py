"""The role dashboards: what each role sees, that every figure stays inside what the user
may see, the refresh (command and scheduled job), and each chart's CSV export."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.core.jobs import job_run
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.workflow import SYSTEM
from crm.dashboard.models import DashboardFact, DashboardRefresh, SalesTarget, TargetPeriod
from crm.dashboard.selectors import dashboard_sections, quarter_start
from crm.dashboard.services import dashboard_refresh, sales_target_save
from customers.choices import OpportunityStage
from customers.models import StageProbability
from customers.tests.factories import CustomerFactory, OpportunityFactory
from service.choices import TicketPriority
from service.tests.factories import ticket_for

pytestmark = pytest.mark.django_db


def chart(sections, slug):
    for section in sections:
        for found in section.charts:
            if found.slug == slug:
                return found
    raise AssertionError(f"no chart {slug} in {[s.name for s in sections]}")


def rows(sections, slug):
    return dict(chart(sections, slug).rows)


def name(user):
    return user.get_full_name() or user.get_username()


@pytest.fixture
def deals(rep, other_rep):
    """rep: two open deals (proposal 100,000 and 50,000) and one won this month; other_rep: one
    large negotiation deal. The proposal stage weighs 50 %, negotiation 80 %."""
    StageProbability.objects.update_or_create(stage=OpportunityStage.PROPOSAL, defaults={"probability": 50})
    StageProbability.objects.update_or_create(stage=OpportunityStage.NEGOTIATION, defaults={"probability": 80})
    mine = CustomerFactory(owner=rep)
    theirs = CustomerFactory(owner=other_rep)
    today = timezone.localdate()
    OpportunityFactory(
        customer=mine, stage=OpportunityStage.PROPOSAL, amount=Decimal("100000"), expected_close_date=today
    )
    OpportunityFactory(
        customer=mine, stage=OpportunityStage.PROPOSAL, amount=Decimal("50000"), expected_close_date=today
    )
    OpportunityFactory(
        customer=mine,
        stage=OpportunityStage.WON,
        amount=Decimal("20000"),
        closed_at=timezone.now(),
        created_at=timezone.now() - datetime.timedelta(days=10),
    )
    OpportunityFactory(
        customer=theirs, stage=OpportunityStage.NEGOTIATION, amount=Decimal("900000"), expected_close_date=today
    )
    ticket_for(mine, priority=TicketPriority.HIGH)
    ticket_for(theirs, priority=TicketPriority.URGENT)
    return mine, theirs


def test_before_the_first_refresh_the_page_says_so_and_shows_no_figures(client_for, rep, deals):
    response = client_for(rep).get(reverse("dashboard:home"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "have not been computed yet" in text
    assert 'data-testid="section-rep"' in text
    assert "Nothing to show yet." in text


def test_a_reps_figures_never_include_another_reps_deals(client_for, rep, other_rep, manager, deals):
    dashboard_refresh(actor=SYSTEM)
    mine = rows(dashboard_sections(user=rep), "rep_pipeline")
    assert mine["Proposal"] == [2, Decimal("150000.00"), Decimal("75000.00")]
    assert mine["Negotiation"] == [0, 0, 0]  # other_rep's 900,000 is not in it
    theirs = rows(dashboard_sections(user=other_rep), "rep_pipeline")
    assert theirs["Negotiation"] == [1, Decimal("900000.00"), Decimal("720000.00")]
    assert theirs["Proposal"] == [0, 0, 0]
    # rep's customers' open tickets: the high one only.
    assert rows(dashboard_sections(user=rep), "rep_tickets") == {
        "Low": [0],
        "Normal": [0],
        "High": [1],
        "Urgent": [0],
    }
    # The manager sees the team.
    team = rows(dashboard_sections(user=manager), "team_pipeline")
    assert team["Proposal"][1] == Decimal("150000.00") and team["Negotiation"][1] == Decimal("900000.00")

    page = client_for(rep).get(reverse("dashboard:home")).content.decode()
    assert "Figures as of" in page
    assert "900,000" not in page and "720,000" not in page
    assert "150,000.00" in page


def test_the_reps_forecast_is_won_plus_weighted_pipeline(rep, deals):
    dashboard_refresh(actor=SYSTEM)
    (section,) = dashboard_sections(user=rep)
    month, quarter = section.data["forecast"]
    assert month["won"] == Decimal("20000.00") and month["weighted"] == Decimal("75000.00")
    assert quarter["total"] == Decimal("95000.00")


def test_the_managers_forecast_is_set_against_each_owners_target(rep, other_rep, manager, deals):
    start = quarter_start(timezone.localdate())
    sales_target_save(
        actor=manager,
        target=SalesTarget(owner=rep, period=TargetPeriod.QUARTER, starts_on=start, amount=Decimal("190000")),
    )
    dashboard_refresh(actor=SYSTEM)
    forecast = rows(dashboard_sections(user=manager), "team_forecast_quarter")
    target, won, weighted, total, share = forecast[name(rep)]
    assert (target, won, weighted, total) == (
        Decimal("190000"),
        Decimal("20000.00"),
        Decimal("75000.00"),
        Decimal("95000.00"),
    )
    assert share == Decimal("0.5")
    assert forecast[name(other_rep)][0] is None  # no target set
    win = rows(dashboard_sections(user=manager), "win_rate")
    assert win[name(rep)][:3] == [1, 0, Decimal(1)]
    assert win[name(rep)][3] == pytest.approx(Decimal(10), abs=Decimal("0.1"))


def test_each_role_sees_the_sections_it_holds(rep, manager, finance, signatory, service_manager, agent):
    def names(user):
        return [section.name for section in dashboard_sections(user=user)]

    assert names(rep) == ["rep"]
    assert names(manager) == ["manager"]
    assert names(finance) == ["finance"]
    assert names(signatory) == ["signatory"]
    assert names(service_manager) == ["service"]
    assert names(agent) == []
    both = UserFactory(username="both", role=Role.SALES_REP)
    both.groups.add(*type(both.groups.first()).objects.filter(name=Role.SERVICE_MANAGER))
    assert names(both) == ["rep", "service"]
    assert [c.slug for c in dashboard_sections(user=service_manager)[0].charts] == [
        "backlog_by_priority",
        "sla_by_week",
        "satisfaction_trend",
        "agent_load",
    ]


def test_the_service_managers_backlog_counts_every_ticket(service_manager, deals):
    dashboard_refresh(actor=SYSTEM)
    backlog = rows(dashboard_sections(user=service_manager), "backlog_by_priority")
    assert backlog["High"] == [1] and backlog["Urgent"] == [1]


def test_the_command_and_the_scheduled_job_refresh_the_figures(rep, deals):
    out = io.StringIO()
    call_command("refresh_dashboard", stdout=out)
    assert "summary figure(s) refreshed" in out.getvalue()
    first = DashboardFact.objects.count()
    assert first > 0
    run = job_run("refresh_dashboard")
    assert run.ok, run.error
    assert DashboardFact.objects.count() == first  # replaced, not added to
    assert DashboardRefresh.objects.filter(finished_at__isnull=False).count() == 2


def test_a_charts_csv_holds_only_the_users_figures(client_for, rep, deals):
    dashboard_refresh(actor=SYSTEM)
    client = client_for(rep)
    response = client.get(reverse("dashboard:chart_export", args=["rep_pipeline"]))
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert lines[0] == ["Stage", "Deals", "Amount", "Weighted amount"]
    assert ["Proposal", "2", "150000.00", "75000.00"] in lines
    assert ["Negotiation", "0", "0.00", "0.00"] in lines
    # A chart of a section the rep does not hold is not found.
    assert client.get(reverse("dashboard:chart_export", args=["team_pipeline"])).status_code == 404


def test_the_page_speaks_chinese(client_for, rep, deals):
    dashboard_refresh(actor=SYSTEM)
    client = client_for(rep)
    response = client.get(reverse("dashboard:home"), headers={"accept-language": "zh-hans"})
    text = response.content.decode()
    assert "按阶段的销售管道" in text


def test_a_reps_totals_are_per_currency_never_added_across(client_for, rep, deals):
    """EUR deals beside the CNY ones: the CNY figures leave them out, the EUR view shows only
    them, and the page says which currency it shows and offers the others."""
    mine, _theirs = deals
    today = timezone.localdate()
    OpportunityFactory(
        customer=mine,
        stage=OpportunityStage.PROPOSAL,
        amount=Decimal("40000"),
        currency="EUR",
        expected_close_date=today,
    )
    OpportunityFactory(
        customer=mine, stage=OpportunityStage.WON, amount=Decimal("5000"), currency="EUR", closed_at=timezone.now()
    )
    dashboard_refresh(actor=SYSTEM)

    (cny,) = dashboard_sections(user=rep)
    month, _quarter = cny.data["forecast"]
    assert (month["won"], month["weighted"]) == (Decimal("20000.00"), Decimal("75000.00"))
    (eur,) = dashboard_sections(user=rep, currency="EUR")
    month, _quarter = eur.data["forecast"]
    assert (month["won"], month["weighted"]) == (Decimal("5000.00"), Decimal("20000.00"))
    assert rows([eur], "rep_pipeline")["Proposal"][:2] == [1, Decimal("40000.00")]

    client = client_for(rep)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "Amounts in CNY" in page and 'href="?currency=EUR"' in page
    assert "150,000.00" in page and "190,000" not in page  # 150,000 CNY + 40,000 EUR is no total
    page = client.get(reverse("dashboard:home") + "?currency=EUR").content.decode()
    assert "Amounts in EUR" in page and "40,000.00" in page and "150,000.00" not in page
    # An unknown or hostile currency is the default one, never an error.
    for value in ("XYZ", "<script>", "eur"):
        page = client.get(reverse("dashboard:home"), {"currency": value})
        assert page.status_code == 200 and "Amounts in CNY" in page.content.decode()
    response = client.get(reverse("dashboard:chart_export", args=["rep_pipeline"]) + "?currency=EUR")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert ["Proposal", "1", "40000.00", "20000.00"] in lines
