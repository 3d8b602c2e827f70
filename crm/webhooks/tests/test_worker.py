"""The deliveries through a real Celery worker (the broker of the test settings, Redis when
it answers): the step commits, the worker sends, a 500 is retried after the back-off."""

import pytest

from crm.core.tests.waiting import wait_until
from crm.webhooks.choices import DeliveryStatus
from crm.webhooks.models import WebhookDelivery
from service.tests.factories import ticket_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_delivers_and_retries_after_the_back_off(task_worker, receiver, endpoint, customer, settings):
    settings.WEBHOOK_RETRY_DELAY = 0.5
    receiver.answers = [500]

    ticket = ticket_for(customer=customer)

    wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists(), timeout=30)
    first, second = receiver.requests
    assert second.at - first.at >= 0.5, "the retry waited for the back-off"
    assert first.headers["X-CRM-Delivery"] == second.headers["X-CRM-Delivery"]
    assert second.json["type"] == "ticket.created" and second.json["data"]["number"] == ticket.number
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.response_code) == (2, 200)
