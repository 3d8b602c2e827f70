"""Orders, contracts and tickets through the API: the same services and step tables as the
pages, refusals with the pages' messages, idempotent order placing."""

from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.tests.factories import ContractFactory, default_approval_rules
from crm.api import views
from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from crm.core.workflow import workflows
from orders import services as order_services
from orders.choices import OrderStatus
from orders.models import Order
from orders.tests.factories import ProductFactory, active_contract, order_for
from service.choices import TicketStatus
from service.models import Ticket
from service.selectors import resolution_codes
from service.tests.factories import agent_for, ticket_for

from .test_api_basics import assert_problem, url

pytestmark = pytest.mark.django_db

API_RESOURCES = {
    view.model._meta.label: (basename, view)
    for basename, view in [
        ("order", views.OrderViewSet),
        ("quote", views.QuoteViewSet),
        ("contract", views.ContractViewSet),
        ("ticket", views.TicketViewSet),
        ("opportunity", views.OpportunityViewSet),
    ]
}


def test_every_step_of_every_table_is_a_post_on_its_resource():
    """A step added to a table appears in the API; company signing stays in the browser."""
    covered = 0
    for workflow in workflows():
        if workflow.model_label not in API_RESOURCES:
            continue
        basename, view = API_RESOURCES[workflow.model_label]
        for step in workflow.page_steps():
            name = f"api:{basename}-{step.name}"
            if step.name in view.excluded_steps:
                with pytest.raises(NoReverseMatch):
                    reverse(name, args=[1])
                continue
            assert reverse(name, args=[1]).startswith("/api/v1/"), name
            covered += 1
    assert covered >= 25
    assert views.ContractViewSet.excluded_steps == ("sign",)


def test_an_order_is_placed_once_however_often_it_is_retried(api_for, rep, customer):
    product = ProductFactory()
    api = api_for(rep)
    payload = {"customer": customer.pk, "lines": [{"product": product.pk, "quantity": "2"}]}

    first = api.post(url("orders/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    second = api.post(url("orders/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="order-7")

    assert first.status_code == 201, first.content
    assert second.json()["id"] == first.json()["id"] and second["Idempotent-Replayed"] == "true"
    assert Order.objects.filter(customer=customer).count() == 1
    body = first.json()
    assert body["status"] == "draft" and body["total"] == "200.00" and len(body["lines"]) == 1


def test_an_order_for_an_invisible_customer_is_refused(api_for, rep, other_rep):
    from customers.tests.factories import CustomerFactory

    theirs = CustomerFactory(owner=other_rep)
    response = api_for(rep).post(
        url("orders/"),
        {"customer": theirs.pk, "lines": [{"product": ProductFactory().pk, "quantity": "1"}]},
        format="json",
    )
    assert "customer" in assert_problem(response, 422)["errors"]


def test_order_steps_and_their_refusals(api_for, rep, manager, other_rep, customer):
    order = order_for(rep, customer, total="100.00")
    api = api_for(rep)

    # Approving a draft: the wrong state, a 409 with the message the page shows.
    with pytest.raises(DomainError) as page_refusal:
        order_services.order_approve(actor=manager, order_id=order.pk)
    refused = api_for(manager).post(url(f"orders/{order.pk}/approve/"), {}, format="json")
    assert assert_problem(refused, 409)["detail"] == page_refusal.value.message

    assert_problem(api.post(url(f"orders/{order.pk}/approve/"), {}, format="json"), 403)  # a rep may not approve
    assert_problem(api_for(other_rep).post(url(f"orders/{order.pk}/submit/"), {}, format="json"), 404)

    submitted = api.post(url(f"orders/{order.pk}/submit/"), {}, format="json")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] in (OrderStatus.APPROVED, OrderStatus.PENDING_APPROVAL)
    event = AuditEvent.objects.filter(target_id=str(order.pk), action__startswith="order.").latest("id")
    assert event.source == "api" and event.token_name


def test_a_rule_refuses_with_422(api_for, manager, customer):
    """A manager's own order waits for another manager: approving it oneself is a rule's refusal."""
    order = order_for(manager, customer, total="100.00")  # no contract: a manager must approve
    api = api_for(manager)
    assert api.post(url(f"orders/{order.pk}/submit/"), {}, format="json").json()["status"] == "pending_approval"

    body = assert_problem(api.post(url(f"orders/{order.pk}/approve/"), {}, format="json"), 422)
    assert body["detail"] == "Nobody approves their own order."


def test_a_step_that_needs_a_comment_says_so_by_field(api_for, rep, manager, customer):
    order = order_for(manager, customer, total="100.00")
    order_services.order_submit(actor=manager, order_id=order.pk)
    other_manager = type(manager).objects.create_user("manager2", password="x")
    other_manager.groups.set(manager.groups.all())

    body = assert_problem(api_for(other_manager).post(url(f"orders/{order.pk}/reject/"), {}, format="json"), 400)
    assert "comment" in body["errors"]
    done = api_for(other_manager).post(url(f"orders/{order.pk}/reject/"), {"comment": "Wrong price"}, format="json")
    assert done.json()["status"] == "draft"


def test_a_draft_order_is_changed_with_if_match(api_for, rep, customer):
    order = order_for(rep, customer, total="100.00")
    api = api_for(rep)
    etag = api.get(url(f"orders/{order.pk}/"))["ETag"]
    lines = [{"product": order.lines.get().product_id, "quantity": "3"}]

    changed = api.patch(
        url(f"orders/{order.pk}/"), {"lines": lines, "notes": "Rush"}, format="json", HTTP_IF_MATCH=etag
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["total"] == "300.00" and changed.json()["notes"] == "Rush"


def test_a_patch_keeps_the_contract_and_lines_it_leaves_out(api_for, rep, customer):
    contract = active_contract(rep, customer, "10000.00")
    order = order_for(rep, customer, contract=contract, total="100.00")
    api = api_for(rep)
    etag = api.get(url(f"orders/{order.pk}/"))["ETag"]

    changed = api.patch(url(f"orders/{order.pk}/"), {"notes": "Call first"}, format="json", HTTP_IF_MATCH=etag)

    assert changed.status_code == 200, changed.content
    order.refresh_from_db()
    assert order.contract_id == contract.pk and order.notes == "Call first"
    assert order.total == Decimal("100.00") and order.lines.count() == 1


def test_contracts_are_drafted_changed_and_approved(api_for, rep, manager, customer):
    default_approval_rules()
    api = api_for(rep)
    created = api.post(
        url("contracts/"),
        {
            "customer": customer.pk,
            "title": "Supply 2027",
            "body": "1. Scope",
            "amount": "50000.00",
            "currency": "CNY",
            "start_date": "2027-01-01",
            "end_date": "2027-12-31",
            "payment_terms_days": 30,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    contract_id = created.json()["id"]
    changed = api.patch(
        url(f"contracts/{contract_id}/"), {"title": "Supply 2027 (v2)"}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert changed.json()["title"] == "Supply 2027 (v2)" and changed.json()["version"] == 2

    assert api.post(url(f"contracts/{contract_id}/submit/"), {}, format="json").json()["status"] == "pending_approval"
    approved = api_for(manager).post(url(f"contracts/{contract_id}/approve/"), {"comment": "Fine"}, format="json")
    assert approved.json()["status"] == ContractStatus.APPROVED
    assert Contract.objects.get(pk=contract_id).status == ContractStatus.APPROVED

    # The company signs in the browser only.
    assert_problem(api_for(manager).post(url(f"contracts/{contract_id}/sign/"), {}, format="json"), 404)
    # An approved contract is no longer a draft: a second approval is the wrong state.
    assert_problem(api_for(manager).post(url(f"contracts/{contract_id}/approve/"), {}, format="json"), 409)


def test_contract_terms_are_masked_for_who_does_not_decide(api_for, rep, agent, manager, customer):
    contract = ContractFactory(owner=rep, customer=customer, body="Call 13812345678 for delivery.")
    from crm.core.roles import Role
    from crm.core.tests.factories import UserFactory

    assert api_for(manager).get(url(f"contracts/{contract.pk}/")).json()["body"].startswith("Call 13812345678")
    reader = UserFactory(username="reader", role=Role.SERVICE_AGENT)
    response = api_for(reader).get(url(f"contracts/{contract.pk}/"))
    if response.status_code == 200:
        assert "13812345678" not in response.json()["body"]
    else:
        assert_problem(response, 404)


def test_tickets_are_opened_replied_to_and_resolved(api_for, rep, customer):
    agent = agent_for("desk_agent")
    created = api_for(agent).post(
        url("tickets/"),
        {"customer": customer.pk, "channel": "phone", "kind": "inquiry", "subject": "Where is my order?",
         "description": "Ordered last week."},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    ticket = Ticket.objects.get(pk=created.json()["id"])
    assert ticket.assignee == agent  # the automatic assignment, as from the page

    api = api_for(agent)
    reply = api.post(url(f"tickets/{ticket.pk}/reply/"), {"body": "It ships tomorrow.", "public": False}, format="json")
    assert reply.status_code == 201, reply.content
    assert "comment" in assert_problem(api.post(url(f"tickets/{ticket.pk}/resolve/"), {}, format="json"), 400)["errors"]
    code = resolution_codes().first()  # the admin's list (seeded), when it offers any, must be answered
    answer = {"comment": "Shipped.", **({"resolution_code": code.pk} if code else {})}
    resolved = api.post(url(f"tickets/{ticket.pk}/resolve/"), answer, format="json")
    assert resolved.json()["status"] == TicketStatus.RESOLVED

    assert_problem(api.post(url(f"tickets/{ticket.pk}/wait/"), {}, format="json"), 409)


def test_a_rep_cannot_reply_on_tickets(api_for, rep, customer):
    ticket = ticket_for(customer)
    assert_problem(api_for(rep).post(url(f"tickets/{ticket.pk}/reply/"), {"body": "Hi"}, format="json"), 403)


def test_another_reps_ticket_is_not_found(api_for, other_rep, customer):
    ticket = ticket_for(customer)
    assert_problem(api_for(other_rep).get(url(f"tickets/{ticket.pk}/")), 404)


def test_the_schema_and_docs_are_served(client, rep):
    assert APIClient().get("/api/schema/").status_code == 401
    client.force_login(rep)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/orders/{id}/submit/" in paths and "/api/v1/contracts/{id}/approve/" in paths
    assert "/api/v1/contracts/{id}/sign/" not in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()
