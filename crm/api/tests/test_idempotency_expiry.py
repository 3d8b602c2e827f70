"""Idempotency keys expire: the hourly job deletes the answers kept longer than
API_IDEMPOTENCY_HOURS, and a retry with a deleted key is a new request."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.api.models import IdempotentRequest
from orders.models import Order
from orders.tests.factories import ProductFactory

from .test_api_basics import url

pytestmark = pytest.mark.django_db


def place(api, customer, product, key):
    payload = {"customer": customer.pk, "lines": [{"product": product.pk, "quantity": "1"}]}
    return api.post(url("orders/"), payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def age(key, hours):
    IdempotentRequest.objects.filter(key=key).update(created_at=timezone.now() - datetime.timedelta(hours=hours))


def test_the_job_deletes_expired_keys_and_keeps_fresh_ones(api_for, rep, customer, settings, capsys):
    settings.API_IDEMPOTENCY_HOURS = 24
    api, product = api_for(rep), ProductFactory()
    assert place(api, customer, product, "yesterday").status_code == 201
    assert place(api, customer, product, "this-morning").status_code == 201
    age("yesterday", 25)
    age("this-morning", 23)

    call_command("purge_idempotency_keys")

    assert "1 expired Idempotency-Key(s) deleted." in capsys.readouterr().out
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["this-morning"]
    fresh = place(api, customer, product, "this-morning")
    assert fresh["Idempotent-Replayed"] == "true", "a fresh key still answers its retry"
    assert Order.objects.filter(customer=customer).count() == 2


def test_a_retry_with_a_purged_key_places_a_new_order(api_for, rep, customer, settings):
    settings.API_IDEMPOTENCY_HOURS = 24
    api, product = api_for(rep), ProductFactory()
    first = place(api, customer, product, "order-42")
    age("order-42", 25)
    call_command("purge_idempotency_keys", verbosity=0)

    again = place(api, customer, product, "order-42")

    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert Order.objects.filter(customer=customer).count() == 2
    assert IdempotentRequest.objects.get(key="order-42").response["id"] == again.json()["id"]
