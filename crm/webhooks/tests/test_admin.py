"""Admins register endpoints, ping them, rotate their secrets and resend deliveries in the
Django admin, through the services; deliveries are read-only there."""

import hashlib
import hmac

import pytest
from django.urls import reverse

from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.webhooks.choices import DeliveryStatus
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint
from crm.webhooks.services import webhook_event_dispatch
from service.tests.factories import ticket_for

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webhooks_webhookendpoint_add")
ENDPOINTS = reverse("admin:webhooks_webhookendpoint_changelist")
DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


@pytest.fixture
def admin(client_for, admin_user):
    return client_for(admin_user)


def add(admin, url, events=("ticket.created",), name="ERP bridge"):
    return admin.post(ADD, {"name": name, "url": url, "is_active": "on", "events": list(events)})


def test_an_admin_registers_an_endpoint_and_reads_its_generated_secret(admin, receiver, admin_user):
    response = add(admin, receiver.url, events=["ticket.created", "order.delivered"])

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["ticket.created", "order.delivered"] and endpoint.is_active
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by == admin_user
    page = admin.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page, "the admin can read the secret again"
    assert f"?endpoint__id__exact={endpoint.pk}" in page
    event = AuditEvent.objects.get(action="webhook.endpoint_created")
    assert event.actor == admin_user and endpoint.secret not in str(event.extra)
    assert "ERP bridge" in admin.get(ENDPOINTS).content.decode()


def test_a_secret_cannot_be_typed_in(admin, receiver):
    add(admin, receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])

    admin.post(change, {"name": "Renamed", "url": receiver.url, "events": ["ticket.created"], "secret": "mine"})

    endpoint.refresh_from_db()
    assert endpoint.name == "Renamed" and endpoint.secret != "mine" and not endpoint.is_active
    event = AuditEvent.objects.get(action="webhook.endpoint_updated")
    assert event.changes == {"name": ["ERP bridge", "Renamed"], "is_active": [True, False]}


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://hooks.example.com/crm", "The URL must start with https://."),
        ("https://127.0.0.1:8443/crm", "is a private or local address"),
        ("https://localhost/crm", "is a private or local address"),
        ("https://10.1.2.3/crm", "is a private or local address"),
        ("https://192.168.0.10/crm", "is a private or local address"),
        ("https://169.254.169.254/latest/meta-data/", "is a private or local address"),
        ("https://[::1]/crm", "is a private or local address"),
        ("https://[::ffff:10.0.0.1]/crm", "is a private or local address"),
        ("https://0.0.0.0/crm", "is a private or local address"),
        ("https://no-such-host.invalid/crm", "cannot be found"),
        ("ftp://hooks.example.com/", "Enter a valid URL."),
    ],
)
def test_an_endpoint_on_a_private_host_or_without_https_is_refused(admin, settings, url, error):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.WEBHOOK_ALLOW_HTTP = False

    response = add(admin, url)

    assert response.status_code == 200
    assert error in " ".join(response.context["adminform"].form.errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_accepted(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.WEBHOOK_ALLOW_HTTP = False

    assert add(admin, "https://93.184.216.34/crm").status_code == 302
    assert WebhookEndpoint.objects.get().url == "https://93.184.216.34/crm"


def test_the_private_host_setting_is_read_at_every_save(admin, receiver, settings):
    add(admin, receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False

    response = admin.post(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        {"name": "ERP", "url": receiver.url, "is_active": "on", "events": ["ticket.created"]},
    )

    assert "private or local address" in response.content.decode()
    assert WebhookEndpoint.objects.get().name == "ERP bridge"


def test_send_a_test_ping(admin, receiver, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(ENDPOINTS, {"action": "ping_selected", "_selected_action": [endpoint.pk]}, follow=True)

    assert "A test ping is on its way to 1 endpoint." in response.content.decode()
    (request,) = receiver.requests
    assert request.headers["X-CRM-Event"] == "ping" and request.json["type"] == "ping"
    parts = dict(part.split("=", 1) for part in request.headers["X-CRM-Signature"].split(","))
    expected = hmac.new(endpoint.secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256)
    assert parts["v1"] == expected.hexdigest()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.status, delivery.response_code) == ("ping", DeliveryStatus.DELIVERED, 200)
    assert AuditEvent.objects.filter(action="webhook.pinged").count() == 1


def test_rotate_the_secret(admin, receiver, endpoint):
    old = endpoint.secret

    response = admin.post(
        ENDPOINTS, {"action": "rotate_secret_selected", "_selected_action": [endpoint.pk]}, follow=True
    )

    assert "1 endpoint has a new signing secret." in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old


def test_resend_a_failed_delivery_from_the_admin(
    admin, receiver, endpoint, customer, admin_user, django_capture_on_commit_callbacks
):
    receiver.answers = [500] * 3
    with django_capture_on_commit_callbacks(execute=True):
        ticket_for(customer=customer)
    failed = WebhookDelivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(DELIVERIES, {"action": "resend_selected", "_selected_action": [failed.pk]}, follow=True)

    assert "1 delivery is sent again." in response.content.decode()
    resent = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert (resent.status, resent.attempts, resent.resent_from) == (DeliveryStatus.DELIVERED, 1, failed)
    assert resent.payload == failed.payload and resent.event_id == failed.event_id and resent.uuid != failed.uuid
    assert receiver.requests[-1].headers["X-CRM-Delivery"] == str(resent.uuid)
    assert receiver.requests[-1].body == receiver.requests[0].body
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED, "the failed attempt stays on record"
    event = AuditEvent.objects.get(action="webhook.resent")
    assert event.actor == admin_user and event.extra["resent_as"] == str(resent.uuid)


def test_a_pending_delivery_is_not_resent(admin, endpoint, customer):
    ticket = ticket_for(customer=customer)  # its event waits for a commit that never comes here
    (pending,) = webhook_event_dispatch(event="ticket.created", object_id=ticket.pk)

    response = admin.post(DELIVERIES, {"action": "resend_selected", "_selected_action": [pending.pk]}, follow=True)

    assert "still being attempted" in response.content.decode()
    assert WebhookDelivery.objects.count() == 1


def test_deliveries_are_read_only_and_listed_with_their_outcome(admin, receiver, endpoint, customer, run):
    run(ticket_for, customer=customer)
    delivery = WebhookDelivery.objects.get()

    listing = admin.get(DELIVERIES).content.decode()
    assert "ticket.created" in listing or "Ticket created" in listing
    page = admin.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and str(delivery.uuid) in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert admin.post(reverse("admin:webhooks_webhookdelivery_delete", args=[delivery.pk])).status_code == 403
    assert admin.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403
    assert admin.get(DELIVERIES, {"q": "not-a-uuid"}).status_code == 200
    assert admin.get(DELIVERIES, {"q": str(delivery.uuid)}).context["cl"].result_count == 1


def test_deleting_an_endpoint_goes_through_the_service(admin, endpoint):
    response = admin.post(reverse("admin:webhooks_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.endpoint_deleted").count() == 1


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.SIGNATORY])
def test_other_staff_cannot_see_webhooks(client_for, endpoint, role):
    user = UserFactory(username="staffer", role=role, is_staff=True)
    client = client_for(user)

    assert client.get(ENDPOINTS).status_code == 403
    assert client.get(DELIVERIES).status_code == 403


def test_the_admin_role_manages_webhooks(client_for, endpoint):
    client = client_for(UserFactory(username="admin2", role=Role.ADMIN, is_staff=True))

    assert client.get(ENDPOINTS).status_code == 200
    assert client.get(DELIVERIES).status_code == 200
