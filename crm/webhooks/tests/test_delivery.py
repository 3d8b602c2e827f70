"""Webhooks as a receiver sees them: each workflow event, taken through the real services,
arrives at a real HTTP server, signed with the endpoint's secret; failures are retried
with back-off, then failed and told to the admins."""

import hashlib
import hmac
import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contracts import selectors as contract_selectors
from contracts import services as contract_services
from contracts import signatures
from contracts.choices import ContractStatus
from contracts.models import ApprovalRule
from contracts.tests.factories import default_approval_rules
from crm.core.models import AuditEvent, Notification
from crm.core.tests.factories import PASSWORD
from crm.webhooks.choices import DeliveryStatus
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import webhook_endpoint_create, webhook_event_dispatch
from orders import services as order_services
from orders.choices import OrderStatus, QuoteStatus
from orders.tests.factories import END, IN_PERIOD, START, ProductFactory, line, opportunity_for, order_for, quote_sent
from service import services as ticket_services
from service.tests.factories import ticket_for

pytestmark = pytest.mark.django_db


def signed_by(request, secret):
    """The signature header checks out with `secret` over "<t>.<body>" (what a receiver does)."""
    parts = dict(part.split("=", 1) for part in request.headers["X-CRM-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert abs(int(parts["t"]) - time.time()) < 60
    return hmac.compare_digest(parts["v1"], expected)


def contract_taken_to_active(run, rep, customer, manager, signatory):
    if not ApprovalRule.objects.exists():
        default_approval_rules()
    contract = contract_services.contract_create(
        actor=rep,
        customer_id=customer.pk,
        title="Annual supply",
        body="1. Scope\n",
        amount=Decimal("1000.00"),
        currency="CNY",
        start_date=START,
        end_date=END,
        payment_terms_days=30,
    )
    run(contract_services.contract_submit, actor=rep, contract_id=contract.pk)
    assert [role for _level, role in contract_selectors.approval_levels(contract.amount)] == ["Sales manager"]
    run(contract_services.contract_approve, actor=manager, contract_id=contract.pk, comment="OK")
    run(signatures.contract_sign_company, actor=signatory, contract_id=contract.pk, password=PASSWORD)
    _link, url = signatures.signing_link_send(actor=rep, contract_id=contract.pk)
    run(
        signatures.contract_sign_customer, token=url.rstrip("/").rsplit("/", 1)[-1], full_name="Zhao Lei", accepted=True
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    return contract


def test_every_workflow_event_reaches_the_receiver_signed_and_without_personal_data(
    run, receiver, endpoint, rep, customer, manager, signatory, service_manager, settings
):
    contract = contract_taken_to_active(run, rep, customer, manager, signatory)
    product = ProductFactory(unit_price=Decimal("100.00"))
    # An order outside any contract waits for a manager; one against the contract is approved at once.
    loose = order_for(rep, customer, lines=[line(product)])
    run(order_services.order_submit, actor=rep, order_id=loose.pk)
    run(order_services.order_approve, actor=manager, order_id=loose.pk, comment="ok")
    placed = order_for(rep, customer, contract=contract, lines=[line(product)], order_date=IN_PERIOD)
    assert run(order_services.order_submit, actor=rep, order_id=placed.pk).status == OrderStatus.APPROVED
    run(order_services.order_start_fulfilment, actor=manager, order_id=placed.pk)
    run(order_services.order_deliver, actor=manager, order_id=placed.pk)
    ticket = run(ticket_for, customer=customer, subject="Pump leaks")
    run(ticket_services.ticket_resolve, actor=service_manager, ticket_id=ticket.pk, comment="New seal")
    _quote, _token = quote_sent(rep, opportunity_for(rep, customer))
    quote = run(order_services.quote_accept, link_id=_quote.links.get().pk, full_name="Zhao Lei", accepted=True)
    assert quote.status == QuoteStatus.ACCEPTED

    got = [
        (request.json["type"], request.json["data"]["number"], request.json["data"]["status"])
        for request in receiver.requests
    ]
    assert (
        got
        == [
            ("contract.approved", contract.number, "approved"),
            ("contract.signed", contract.number, "signing"),
            ("contract.signed", contract.number, "active"),
            ("contract.activated", contract.number, "active"),
            ("order.approved", loose.number, "approved"),
            ("order.approved", placed.number, "approved"),
            ("order.delivered", placed.number, "delivered"),
            ("ticket.created", ticket.number, "new"),
            ("ticket.resolved", ticket.number, "resolved"),
            ("quote.accepted", quote.number, "accepted"),
        ]
        or got
    )
    site = settings.SITE_URL.rstrip("/")
    for request, obj in zip(
        receiver.requests, [contract] * 4 + [loose, placed, placed, ticket, ticket, quote], strict=True
    ):
        payload = request.json
        assert signed_by(request, endpoint.secret)
        assert not signed_by(request, "another secret")
        delivery = WebhookDelivery.objects.get(uuid=request.headers["X-CRM-Delivery"])
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
        assert delivery.response_code == 200 and delivery.response_body == '{"received": true}'
        assert delivery.duration_ms is not None and delivery.endpoint == endpoint
        assert request.headers["X-CRM-Event"] == payload["type"] == delivery.event
        assert request.headers["Content-Type"] == "application/json"
        assert {"X-CRM-Signature", "X-CRM-Event", "X-CRM-Delivery"} <= set(request.headers.keys()), "as spelled"
        assert request.path == "/hooks/crm"
        assert payload["id"] == str(delivery.event_id)
        assert timezone.datetime.fromisoformat(payload["occurred_at"]) <= timezone.now()
        assert payload["data"]["id"] == obj.pk
        assert payload["data"]["object"] == payload["type"].split(".")[0]
        assert payload["data"]["url"] == site + obj.get_absolute_url()
        # No personal data: no names, addresses, amounts or free text.
        body = request.body.decode()
        for personal in ["Hangzhou Tea Co", "Zhao Lei", "@", "Pump leaks", "1000.00", "New seal"]:
            assert personal not in body
    assert [request.json["data"].get("party") for request in receiver.of_type("contract.signed")] == [
        "company",
        "customer",
    ]
    assert len({request.headers["X-CRM-Delivery"] for request in receiver.requests}) == len(receiver.requests)


def test_only_active_endpoints_subscribed_to_the_event_receive_it(run, receiver, admin_user, customer):
    tickets_only = webhook_endpoint_create(
        actor=admin_user, name="Desk", url=receiver.url + "?desk", events=["ticket.created"]
    )
    webhook_endpoint_create(actor=admin_user, name="Orders", url=receiver.url + "?orders", events=["order.approved"])
    webhook_endpoint_create(
        actor=admin_user, name="Off", url=receiver.url + "?off", events=["ticket.created"], is_active=False
    )

    run(ticket_for, customer=customer)

    assert [request.path for request in receiver.requests] == ["/hooks/crm?desk"]
    assert WebhookDelivery.objects.get().endpoint == tickets_only


def test_a_failing_receiver_is_retried_until_it_answers(run, receiver, endpoint, customer):
    receiver.answers = [500, 503]

    ticket = run(ticket_for, customer=customer)

    assert len(receiver.requests) == 3
    assert len({request.headers["X-CRM-Delivery"] for request in receiver.requests}) == 1
    assert len({request.body for request in receiver.requests}) == 1, "a retry sends the same body"
    assert all(signed_by(request, endpoint.secret) for request in receiver.requests)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("delivered", 3, 200, "")
    assert delivery.payload["data"]["number"] == ticket.number
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert not Notification.objects.exists()


def test_after_the_last_attempt_the_delivery_fails_and_the_admins_are_told(
    run, receiver, endpoint, customer, admin_user, rep, settings, mailoutbox
):
    receiver.answers = [500] * 10

    run(ticket_for, customer=customer)

    assert len(receiver.requests) == settings.WEBHOOK_MAX_ATTEMPTS == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 500)
    assert delivery.error == "HTTP 500" and delivery.response_body == '{"received": false}'
    assert delivery.next_attempt_at is None
    told = Notification.objects.get()
    assert told.recipient == admin_user
    assert told.text == "The webhook ticket.created to ERP bridge failed after 3 attempts: HTTP 500"
    assert told.target_url == f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"
    assert [mail.to for mail in mailoutbox] == [[admin_user.email]]


def test_the_back_off_doubles_after_each_failed_attempt(receiver, endpoint, customer, settings):
    from crm.webhooks.delivery import RETRY, delivery_attempt

    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.WEBHOOK_RETRY_DELAY = 30
    receiver.answers = [500, 500, 500, 500]
    ticket = ticket_for(customer=customer)  # its event waits for a commit that never comes here
    (delivery,) = webhook_event_dispatch(event="ticket.created", object_id=ticket.pk)

    delays = []
    for _attempt in range(3):
        before = timezone.now()
        outcome, delay = delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert outcome == RETRY and delivery.status == "pending"
        assert abs((delivery.next_attempt_at - before).total_seconds() - delay) < 2
        delays.append(delay)

    assert delays == [30, 60, 120]
    assert delivery_attempt(delivery_id=delivery.pk) == ("failed", 0.0)
    assert delivery_attempt(delivery_id=delivery.pk) == ("skipped", 0.0), "a failed delivery is not sent again"
    assert len(receiver.requests) == 4


def test_a_redirect_is_not_followed(run, receiver, endpoint, customer):
    receiver.answers = [302, 302, 302]
    receiver.response_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}

    run(ticket_for, customer=customer)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.error) == ("failed", 302, "HTTP 302")
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_records_the_network_error(run, admin_user, customer):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_endpoint_create(actor=admin_user, name="Gone", url=f"http://127.0.0.1:{port}/", events=["ticket.created"])

    run(ticket_for, customer=customer)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_code is None
    assert "refused" in delivery.error.lower()


def test_a_host_that_turned_private_is_refused_at_delivery_time(run, receiver, endpoint, customer, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False

    run(ticket_for, customer=customer)

    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_code is None
    assert delivery.error == "The host 127.0.0.1 is a private or local address; webhooks go to public addresses only."


def test_the_job_queues_again_a_delivery_whose_hand_over_was_lost(receiver, endpoint, customer):
    ticket = ticket_for(customer=customer)
    # Outside a captured commit the hand-over to the queue never happens: a broker outage.
    (lost,) = webhook_event_dispatch(event="ticket.created", object_id=ticket.pk)
    (fresh,) = webhook_event_dispatch(event="ticket.resolved", object_id=ticket.pk)
    WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=11))

    call_command("requeue_webhook_deliveries", "--older-than-minutes", "10")

    assert [request.headers["X-CRM-Delivery"] for request in receiver.requests] == [str(lost.uuid)]
    assert WebhookDelivery.objects.get(pk=lost.pk).status == "delivered"
    assert WebhookDelivery.objects.get(pk=fresh.pk).status == "pending", "a fresh one is left to its task"
    call_command("requeue_webhook_deliveries", "--older-than-minutes", "10")
    assert len(receiver.requests) == 1, "a delivered one is never sent again"


@pytest.mark.parametrize("value", ["-1", "999999999"])
def test_the_requeue_command_refuses_a_bad_age(value):
    with pytest.raises(CommandError, match="older-than-minutes"):
        call_command("requeue_webhook_deliveries", "--older-than-minutes", value)


def test_registering_and_rotating_are_audited_without_the_secret(admin_user, endpoint):
    from crm.webhooks.services import webhook_endpoint_secret_rotate

    old = endpoint.secret
    rotated = webhook_endpoint_secret_rotate(actor=admin_user, endpoint_id=endpoint.pk)

    assert rotated.secret != old and rotated.secret.startswith("whsec_") and len(rotated.secret) == 70
    events = AuditEvent.objects.filter(action__startswith="webhook.").order_by("id")
    assert [event.action for event in events] == ["webhook.endpoint_created", "webhook.secret_rotated"]
    for event in events:
        assert old not in str(event.extra) + str(event.changes) and rotated.secret not in str(event.extra)
