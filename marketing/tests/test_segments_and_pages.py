"""Segments select what their criteria say, only among the owner's customers; the pages
count live, preview masked and speak both languages; the admin goes through the services."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.workflow import SYSTEM
from customers.tests.factories import CustomerFactory
from marketing import selectors, services
from marketing.choices import CampaignStatus
from marketing.models import Campaign, CampaignOpportunity, Segment
from marketing.tests.factories import campaign_for, one_contact, segment_for
from orders.tests.factories import ProductFactory, line, order_for


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


@pytest.mark.django_db
def test_a_reps_segment_holds_only_their_customers_whoever_reads_it(rep, other_rep, manager):
    CustomerFactory(owner=rep, name="Rep Active", status="active")
    CustomerFactory(owner=rep, name="Rep Lead", status="lead")
    CustomerFactory(owner=other_rep, name="Other Active", status="active")
    mine = segment_for(rep, statuses=["active"])
    everyone = segment_for(manager, name="All active", statuses=["active"])

    assert names(selectors.segment_customers(segment=mine, user=rep)) == ["Rep Active"]
    assert names(selectors.segment_customers(segment=mine, user=manager)) == ["Rep Active"]
    assert names(selectors.segment_customers(segment=everyone, user=manager)) == ["Other Active", "Rep Active"]
    # The manager's segment read by a rep: only what the rep may see.
    assert names(selectors.segment_customers(segment=everyone, user=rep)) == ["Rep Active"]
    assert list(selectors.segment_list(user=other_rep)) == []


@pytest.mark.django_db
def test_the_criteria_select_by_tier_industry_owner_and_orders(rep, manager):
    tea = CustomerFactory(owner=rep, name="Tea", tier="key", industry="retail")
    pump = CustomerFactory(owner=rep, name="Pump", tier="small", industry="manufacturing")
    CustomerFactory(owner=rep, name="Idle", tier="key", industry="retail")
    product = ProductFactory()
    for day in (datetime.date(2026, 3, 1), datetime.date(2026, 6, 1)):
        order = order_for(rep, tea, lines=[line(product)], order_date=day)
        from orders.services import order_submit

        order_submit(actor=rep, order_id=order.pk)
    order_for(rep, pump, lines=[line(product)], order_date=datetime.date(2026, 1, 5))  # a draft: no order yet

    def matching(**criteria):
        return names(selectors.customers_matching(criteria=criteria, owner=manager, user=manager))

    assert matching(tiers=["key"], industries=["retail"]) == ["Idle", "Tea"]
    assert matching(min_orders=2) == ["Tea"]
    assert matching(max_orders=0) == ["Idle", "Pump"]
    assert matching(last_order_after=datetime.date(2026, 5, 1)) == ["Tea"]
    assert matching(last_order_before=datetime.date(2026, 4, 1)) == []  # Tea's last order is in June
    assert matching(customer_owner=rep.pk, tiers=["small"]) == ["Pump"]
    assert matching(insight_cluster="champions") == []  # no k-means provider yet: nobody, not everybody


@pytest.mark.django_db
def test_the_live_count_follows_the_criteria_and_never_fails(client_for, rep):
    customer = CustomerFactory(owner=rep, status="active")
    one_contact(customer, email="a@example.com")
    one_contact(customer, email="b@example.com", marketing_consent=False)
    CustomerFactory(owner=rep, status="lead")
    client = client_for(rep)
    url = reverse("marketing:segment_count")

    active = client.get(url, {"statuses": "active"})
    assert b'data-customers="1"' in active.content and b'data-reachable="1"' in active.content
    everyone = client.get(url, {"min_orders": "x", "last_order_after": "2026-02-30"})
    assert everyone.status_code == 200 and b'data-customers="2"' in everyone.content


@pytest.mark.django_db
def test_the_segment_form_shows_field_errors_and_saves_through_the_service(client_for, rep):
    client = client_for(rep)
    form_page = client.get(reverse("marketing:segment_create")).content.decode()
    assert f'hx-get="{reverse("marketing:segment_count")}"' in form_page  # the count follows each change
    assert 'id="segment-count"' in form_page
    bad = client.post(reverse("marketing:segment_create"), {"name": "X", "min_orders": "5", "max_orders": "2"})
    assert bad.status_code == 200 and "The most must not be below the least." in bad.content.decode()
    assert "customer_owner" not in bad.context["form"].fields  # a rep's segment is theirs only
    response = client.post(reverse("marketing:segment_create"), {"name": "Key accounts", "tiers": ["key"]})
    segment = Segment.objects.get(name="Key accounts")
    assert response.status_code == 302 and segment.tiers == ["key"] and segment.owner == rep


@pytest.mark.django_db
def test_the_campaign_form_refuses_an_unknown_placeholder_by_the_field(client_for, rep):
    segment = segment_for(rep)
    data = {"name": "C", "segment": segment.pk, "language": "en", "subject_en": "Hi", "body_en": "{{ contact.secret }}"}
    response = client_for(rep).post(reverse("marketing:campaign_create"), {**data, "rate_per_minute": 60})
    assert response.status_code == 200
    assert response.context["form"].errors["body_en"] == ["Unknown placeholder: {{ contact.secret }}."]


@pytest.mark.django_db
def test_the_preview_is_filled_for_a_sample_and_masked_for_a_masked_reader(client, rep, manager):
    customer = CustomerFactory(owner=rep, name="Tea Co")
    contact = one_contact(customer, name="Li Wei", title="Call 13912345678", email="li@example.com")
    campaign = campaign_for(rep, segment_for(rep), body_en="Dear {{ contact.name }} ({{ contact.title }})")
    viewer = UserFactory(username="marketing_viewer")
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_campaign", "view_all_campaign", "view_customer", "view_all_customer"]
        )
    )
    client.force_login(viewer)
    page = client.get(reverse("marketing:campaign_preview", args=[campaign.pk]), {"contact": contact.pk})
    body = page.content.decode()
    assert "Dear Li Wei (Call 139****5678)" in body and "13912345678" not in body
    client.force_login(rep)  # reps may see contact details
    assert "Call 13912345678" in client.get(reverse("marketing:campaign_preview", args=[campaign.pk])).content.decode()


@pytest.mark.django_db
def test_results_count_clicks_opportunities_and_the_revenue_that_followed(
    client_for, rep, manager, signatory, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep, name="Tea Co")
    one_contact(customer, email="li@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    client = client_for(rep)
    response = client.post(
        reverse("marketing:campaign_opportunity_create", args=[campaign.pk]),
        {"customer": customer.pk, "title": "Spring tea", "amount": "1200", "expected_close_date": "2027-03-31"},
    )
    assert response.status_code == 302
    link = CampaignOpportunity.objects.get(campaign=campaign)
    assert link.opportunity.source == "campaign"
    # The deal's quote becomes a contract, signed by both sides: its amount is the revenue.
    from contracts.models import Contract
    from orders.tests.factories import quote_line

    quote = __import__("orders.services", fromlist=["quote_create"]).quote_create(
        actor=rep, opportunity_id=link.opportunity.pk, lines=[quote_line(ProductFactory())], title="Q", terms="T"
    )
    contract = Contract.objects.create(
        number="CT-2026-900001",
        customer=customer,
        owner=rep,
        title="Tea supply",
        body="1.",
        amount=Decimal("1500.00"),
        currency="CNY",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
        status="active",
    )
    type(quote).objects.filter(pk=quote.pk).update(contract=contract)

    results = selectors.campaign_results(campaign=Campaign.objects.get(pk=campaign.pk), user=rep)

    assert results.by_status == {"sent": 1} and results.delivered == 1
    assert [o.title for o in results.opportunities] == ["Spring tea"]
    assert results.opportunity_amounts == {"CNY": Decimal("1200.00")}
    assert results.revenue == {"CNY": Decimal("1500.00")} and results.contracts == 1
    page = client.get(reverse("marketing:campaign_results", args=[campaign.pk])).content.decode()
    assert "Spring tea" in page and "1,500.00 CNY" in page


@pytest.mark.django_db
def test_the_pages_speak_chinese(client, rep, manager, django_capture_on_commit_callbacks):
    one_contact(CustomerFactory(owner=rep), email="li@example.com", language="zh-hans")
    campaign = campaign_for(rep, segment_for(rep))
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    token_line = [line for line in mail.outbox[-1].body.splitlines() if "/marketing/u/" in line][0]
    assert "一键退订" in token_line
    path = "/marketing/u/" + token_line.split("/marketing/u/")[1]
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    assert "停止向" in client.get(path, **zh).content.decode()
    assert "将不再收到我们的营销邮件" in client.post(path, **zh).content.decode()
    client.force_login(manager)
    page = client.get(reverse("marketing:campaign_detail", args=[campaign.pk]), **zh).content.decode()
    assert "营销活动" in page and "效果" in page and "给我发测试邮件" in page


@pytest.mark.django_db
def test_roles_hold_the_marketing_permissions_they_should(rep, manager, agent, finance):
    assert rep.has_perm("marketing.add_campaign") and not rep.has_perm("marketing.send_campaign")
    assert manager.has_perm("marketing.send_campaign") and manager.has_perm("marketing.view_all_campaign")
    assert not agent.has_perm("marketing.view_campaign") and not finance.has_perm("marketing.view_segment")


@pytest.mark.django_db
def test_the_admin_schedules_through_the_service_and_lists_only_visible_campaigns(client, rep, other_rep):
    one_contact(CustomerFactory(owner=rep), email="li@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    admin_manager = UserFactory(username="admin_manager", role=Role.SALES_MANAGER, is_staff=True)
    client.force_login(admin_manager)
    changelist = reverse("admin:marketing_campaign_changelist")
    response = client.post(changelist, {"action": "schedule_selected", "_selected_action": [campaign.pk]})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED  # for now: it starts once the action commits
    staff_rep = UserFactory(username="staff_other_rep", role=Role.SALES_REP, is_staff=True)
    client.force_login(staff_rep)
    assert campaign.name not in client.get(changelist).content.decode()


@pytest.mark.django_db
def test_the_command_exits_non_zero_with_a_reason_only_on_bad_input(capsys):
    from django.core.management import call_command

    call_command("send_due_campaigns", "--dry-run")
    assert "0 campaign(s) would start" in capsys.readouterr().out


@pytest.mark.django_db
def test_cancelling_while_sending_stops_the_rest(rep, manager):
    for n in range(3):
        one_contact(CustomerFactory(owner=rep), email=f"c{n}@example.com")
    campaign = campaign_for(rep, segment_for(rep), rate_per_minute=60)
    services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)
    mail.outbox.clear()
    services.campaign_batch_hand(campaign_id=campaign.pk)  # one a second at 60 per minute
    services.campaign_cancel(actor=manager, campaign_id=campaign.pk, reason="Typo in the subject")
    assert services.campaign_batch_hand(campaign_id=campaign.pk) == (0, 0, 0.0)
    assert campaign.recipients.count() == 1
