"""Opportunities, quotes and the timeline written through the API: the pages' services and
rules, visibility (404), masking, refusals with the pages' messages, If-Match, idempotency."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from crm.core.tests.factories import UserFactory
from customers import services as customer_services
from customers.models import Interaction, Opportunity
from customers.tests.factories import ContactFactory, CustomerFactory, InteractionFactory
from orders import services as order_services
from orders.models import Quote
from orders.tests.factories import ProductFactory, opportunity_for, quote_for

from .test_api_basics import assert_problem, url

pytestmark = pytest.mark.django_db

CLOSE = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()


def deal(customer):
    return {"customer": customer.pk, "title": "Boiler retrofit", "amount": "80000.00", "expected_close_date": CLOSE}


@pytest.fixture
def masked_seller(db):
    """A seller who works deals but sees contact details masked (a custom role)."""
    user = UserFactory(username="masked_seller")
    wanted = {"view_customer", "view_all_customer", "view_opportunity"}
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="customers", codename__in=wanted))
    return user


# --- opportunities ------------------------------------------------------------------------------


def test_a_rep_opens_a_deal_through_the_service_and_it_is_audited_from_the_api(api_for, rep, customer):
    response = api_for(rep).post(url("opportunities/"), deal(customer), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    opportunity = Opportunity.objects.get(pk=body["id"])
    assert (opportunity.owner, opportunity.stage, body["currency"]) == (rep, "prospecting", "CNY")
    assert opportunity.stage_changes.count() == 1  # the first stage is on the record, as from the page
    event = AuditEvent.objects.get(action="opportunity.created", target_id=str(opportunity.pk))
    assert event.source == "api" and event.token_name
    assert response["ETag"]


def test_a_deal_for_another_reps_customer_is_refused_and_theirs_are_not_found(api_for, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)
    body = assert_problem(api_for(rep).post(url("opportunities/"), deal(theirs), format="json"), 400)
    assert "customer" in body["errors"]
    assert not Opportunity.objects.filter(customer=theirs).exists()

    their_deal = opportunity_for(other_rep, theirs)
    api = api_for(rep)
    assert_problem(api.get(url(f"opportunities/{their_deal.pk}/")), 404)
    patched = api.patch(url(f"opportunities/{their_deal.pk}/"), {"title": "Mine"}, format="json", HTTP_IF_MATCH="*")
    assert_problem(patched, 404)
    their_deal.refresh_from_db()
    assert their_deal.title == "Conveyor upgrade"


def test_only_a_manager_gives_a_new_deal_to_another_owner(api_for, rep, other_rep, manager, customer):
    refused = api_for(rep).post(url("opportunities/"), {**deal(customer), "owner": other_rep.pk}, format="json")
    body = assert_problem(refused, 422)
    assert body["errors"]["owner"] == ["Only a sales manager can give an opportunity to another owner."]

    given = api_for(manager).post(url("opportunities/"), {**deal(customer), "owner": rep.pk}, format="json")
    assert given.status_code == 201, given.content
    assert given.json()["owner"] == rep.pk


def test_a_deals_text_is_masked_for_who_may_not_see_contact_details(api_for, masked_seller, rep, customer):
    opportunity = opportunity_for(rep, customer, title="Call 13812345678 about it")
    customer_services.opportunity_update(actor=rep, opportunity_id=opportunity.pk, next_step="Mail li@tea.example.com")

    masked = api_for(masked_seller).get(url(f"opportunities/{opportunity.pk}/")).json()
    assert "13812345678" not in masked["title"] and "138****5678" in masked["title"]
    assert "li@tea.example.com" not in masked["next_step"]
    revealed = api_for(rep).get(url(f"opportunities/{opportunity.pk}/")).json()
    assert "13812345678" in revealed["title"]


def test_a_deal_is_changed_with_if_match_and_a_stale_one_is_refused(api_for, rep, customer):
    opportunity = opportunity_for(rep, customer)
    api = api_for(rep)
    etag = api.get(url(f"opportunities/{opportunity.pk}/"))["ETag"]

    assert_problem(api.patch(url(f"opportunities/{opportunity.pk}/"), {"amount": "1.00"}, format="json"), 428)
    changed = api.patch(
        url(f"opportunities/{opportunity.pk}/"),
        {"amount": "90000.00", "currency": "usd"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["amount"], changed.json()["currency"]) == ("90000.00", "USD")
    assert changed["ETag"] != etag
    assert AuditEvent.objects.filter(action="opportunity.updated", target_id=str(opportunity.pk)).count() == 1

    stale = api.patch(url(f"opportunities/{opportunity.pk}/"), {"amount": "5.00"}, format="json", HTTP_IF_MATCH=etag)
    assert assert_problem(stale, 412)["detail"].startswith("Someone changed it")
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("90000.00")


def test_a_closed_deal_is_refused_with_the_pages_message(api_for, rep, customer):
    opportunity = opportunity_for(rep, customer)
    customer_services.opportunity_win(actor=rep, opportunity_id=opportunity.pk)
    with pytest.raises(DomainError) as page_refusal:
        customer_services.opportunity_update(actor=rep, opportunity_id=opportunity.pk, title="Later")

    api = api_for(rep)
    etag = api.get(url(f"opportunities/{opportunity.pk}/"))["ETag"]
    response = api.patch(url(f"opportunities/{opportunity.pk}/"), {"title": "Later"}, format="json", HTTP_IF_MATCH=etag)
    assert assert_problem(response, 422)["detail"] == page_refusal.value.message


def test_a_deal_is_opened_once_however_often_it_is_retried(api_for, rep, customer):
    api = api_for(rep)
    first = api.post(url("opportunities/"), deal(customer), format="json", HTTP_IDEMPOTENCY_KEY="deal-1")
    again = api.post(url("opportunities/"), deal(customer), format="json", HTTP_IDEMPOTENCY_KEY="deal-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Opportunity.objects.filter(customer=customer).count() == 1


# --- quotes -------------------------------------------------------------------------------------


def quote_payload(opportunity, product):
    return {"opportunity": opportunity.pk, "lines": [{"product": product.pk, "quantity": "2", "tax_rate": "13"}]}


def test_a_quote_is_drafted_with_its_lines_and_totals(api_for, rep, customer):
    opportunity = opportunity_for(rep, customer)
    product = ProductFactory(unit_price=Decimal("1000.00"))

    response = api_for(rep).post(url("quotes/"), quote_payload(opportunity, product), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["number"].startswith("QT")
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("2000.00", "260.00", "2260.00")
    assert body["title"] == opportunity.title and body["terms"]  # the defaults the page uses
    assert len(body["lines"]) == 1
    event = AuditEvent.objects.get(action="quote.created", target_id=str(body["id"]))
    assert event.source == "api"


def test_a_quote_for_another_reps_deal_is_refused_and_theirs_is_not_found(api_for, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)
    their_deal = opportunity_for(other_rep, theirs)
    product = ProductFactory()
    api = api_for(rep)

    body = assert_problem(api.post(url("quotes/"), quote_payload(their_deal, product), format="json"), 422)
    assert body["errors"]["opportunity"] == ["Choose an opportunity you may change."]
    their_quote = quote_for(other_rep, their_deal)
    assert_problem(api.get(url(f"quotes/{their_quote.pk}/")), 404)
    assert_problem(api.patch(url(f"quotes/{their_quote.pk}/"), {"title": "X"}, format="json", HTTP_IF_MATCH="*"), 404)


def test_a_quotes_terms_are_masked_for_service_staff(api_for, rep, agent, customer):
    quote = quote_for(rep, opportunity_for(rep, customer), terms="Questions: 13812345678")
    masked = api_for(agent).get(url(f"quotes/{quote.pk}/")).json()
    assert "13812345678" not in masked["terms"] and "138****5678" in masked["terms"]


def test_a_draft_quote_is_changed_with_if_match_keeping_what_a_patch_omits(api_for, rep, customer):
    product = ProductFactory(unit_price=Decimal("1000.00"))
    quote = quote_for(rep, opportunity_for(rep, customer), product=product)
    order_services.product_update(actor=UserFactory(is_superuser=True), product_id=product.pk, unit_price="1500.00")
    api = api_for(rep)
    etag = api.get(url(f"quotes/{quote.pk}/"))["ETag"]

    retitled = api.patch(url(f"quotes/{quote.pk}/"), {"title": "Phase 1"}, format="json", HTTP_IF_MATCH=etag)
    assert retitled.status_code == 200, retitled.content
    assert retitled.json()["title"] == "Phase 1" and retitled.json()["net_total"] == "1000.00"  # the kept price

    kept = retitled.json()["lines"][0]["id"]  # the lines are written again: the answer names them
    lines = [{"id": kept, "product": product.pk, "quantity": "3"}, {"product": product.pk, "quantity": "1"}]
    relined = api.patch(url(f"quotes/{quote.pk}/"), {"lines": lines}, format="json", HTTP_IF_MATCH=retitled["ETag"])
    assert relined.status_code == 200, relined.content
    assert relined.json()["net_total"] == "4500.00"  # 3 at the kept 1,000 and 1 at today's 1,500

    stale = api.patch(url(f"quotes/{quote.pk}/"), {"title": "Phase 2"}, format="json", HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)
    assert Quote.objects.get(pk=quote.pk).title == "Phase 1"


def test_a_sent_quote_is_refused_with_the_pages_message(api_for, rep, customer):
    quote = quote_for(rep, opportunity_for(rep, customer))
    order_services.quote_send(actor=rep, quote_id=quote.pk, send_email=False)
    api = api_for(rep)
    etag = api.get(url(f"quotes/{quote.pk}/"))["ETag"]

    response = api.patch(url(f"quotes/{quote.pk}/"), {"title": "Late"}, format="json", HTTP_IF_MATCH=etag)
    assert assert_problem(response, 409)["detail"] == "Only a draft quote can be edited."


def test_a_line_of_a_product_no_longer_sold_is_refused_by_field(api_for, rep, customer):
    product = ProductFactory(is_active=False)
    response = api_for(rep).post(url("quotes/"), quote_payload(opportunity_for(rep, customer), product), format="json")
    body = assert_problem(response, 422)
    assert body["errors"]["lines"] == [f"{product} is no longer sold."]


def test_a_quote_is_drafted_once_however_often_it_is_retried(api_for, rep, customer):
    opportunity, product = opportunity_for(rep, customer), ProductFactory()
    api = api_for(rep)
    for _ in range(2):
        response = api.post(
            url("quotes/"), quote_payload(opportunity, product), format="json", HTTP_IDEMPOTENCY_KEY="quote-1"
        )
        assert response.status_code == 201
    assert Quote.objects.filter(opportunity=opportunity).count() == 1


# --- the timeline -------------------------------------------------------------------------------


def test_an_interaction_is_logged_through_the_service(api_for, rep, customer):
    contact = ContactFactory(customer=customer)
    payload = {"customer": customer.pk, "kind": "meeting", "subject": "Site visit", "contact": contact.pk}

    response = api_for(rep).post(url("interactions/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")
    again = api_for(rep).post(url("interactions/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")

    assert response.status_code == 201, response.content
    assert again.json()["id"] == response.json()["id"]
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.author, interaction.contact, interaction.kind) == (rep, contact, "meeting")
    assert AuditEvent.objects.get(action="interaction.created", target_id=str(interaction.pk)).source == "api"


def test_the_timeline_of_another_reps_customer_is_out_of_reach(api_for, rep, other_rep, customer):
    theirs = CustomerFactory(owner=other_rep)
    entry = InteractionFactory(customer=theirs)
    api = api_for(rep)

    assert_problem(api.get(url(f"interactions/{entry.pk}/")), 404)
    body = assert_problem(
        api.post(url("interactions/"), {"customer": theirs.pk, "kind": "call", "subject": "Hi"}, format="json"), 400
    )
    assert "customer" in body["errors"]
    their_contact = ContactFactory(customer=theirs)
    mixed = {"customer": customer.pk, "kind": "call", "subject": "Hi", "contact": their_contact.pk}
    assert "contact" in assert_problem(api.post(url("interactions/"), mixed, format="json"), 400)["errors"]


def test_a_contact_of_another_customer_is_refused_with_the_services_message(api_for, rep, customer):
    elsewhere = ContactFactory(customer=CustomerFactory(owner=rep))
    payload = {"customer": customer.pk, "kind": "call", "subject": "Hi", "contact": elsewhere.pk}
    body = assert_problem(api_for(rep).post(url("interactions/"), payload, format="json"), 422)
    assert body["errors"]["contact"] == ["The contact must belong to this customer."]


def test_service_staff_log_calls_and_read_them_masked(api_for, agent, customer):
    payload = {"customer": customer.pk, "kind": "call", "subject": "Callback", "body": "Reach me on 13812345678"}
    created = api_for(agent).post(url("interactions/"), payload, format="json")
    assert created.status_code == 201, created.content
    assert "13812345678" not in created.json()["body"] and "138****5678" in created.json()["body"]


def test_the_timeline_filters_and_pages_in_a_stable_order(api_for, rep, manager, other_rep, customer):
    other = CustomerFactory(owner=other_rep)
    now = timezone.now()
    for days in range(5):
        InteractionFactory(customer=customer, kind="call", occurred_at=now - datetime.timedelta(days=days))
    InteractionFactory(customer=customer, kind="email", occurred_at=now - datetime.timedelta(days=30))
    InteractionFactory(customer=other, kind="call", occurred_at=now)
    api = api_for(manager)

    def all_pages(query):
        seen, address = [], url(f"interactions/?{query}&limit=2")
        while address:
            page = api.get(address)
            assert page.status_code == 200, page.content
            seen += page.json()["results"]
            address = page.json()["next"]
        return seen

    calls = all_pages(f"customer={customer.pk}&kind=call")
    assert len(calls) == 5 and {row["kind"] for row in calls} == {"call"}
    moments = [row["occurred_at"] for row in calls]
    assert moments == sorted(moments, reverse=True)
    since = (now - datetime.timedelta(days=10)).date().isoformat()
    assert len(all_pages(f"customer={customer.pk}&occurred_from={since}")) == 5
    assert len(all_pages(f"owner={other_rep.pk}")) == 1
    oldest_first = all_pages(f"customer={customer.pk}&sort=occurred")
    assert [row["kind"] for row in oldest_first][0] == "email"
    assert "kind" in assert_problem(api.get(url("interactions/?kind=fax")), 400)["errors"]
    # A rep's timeline holds only their customers', and no owner filter to ask about others.
    assert {row["customer"] for row in all_pages(f"owner={other_rep.pk}")} == {other.pk}
    assert {row["customer"] for row in api_for(rep).get(url("interactions/?limit=100")).json()["results"]} == {
        customer.pk
    }
