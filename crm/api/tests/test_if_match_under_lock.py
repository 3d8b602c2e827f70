"""If-Match is compared under the update service's row lock: a change committed between a
PATCH's read and its write is refused (412), never overwritten. Two real transactions."""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from contracts.tests.factories import ContractFactory
from customers import services as customer_services
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from orders.models import Quote
from orders.tests.factories import opportunity_for, quote_for

from .test_api_basics import url


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def patch_while_the_row_is_changed(*, patch, change):
    """Hold the row in `change`'s transaction until `patch` (sent with the version read
    before) waits for its lock, then commit; return `patch`'s answer."""
    locked, answer = threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                change()
                locked.set()
                deadline = time.monotonic() + 30
                while not waiting_for_a_lock() and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            connection.close()

    def patcher():
        try:
            locked.wait(30)
            answer["response"] = patch()
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=patcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return answer["response"]


def api(token_for, user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


@pytest.mark.django_db(transaction=True)
def test_a_customer_changed_while_a_patch_waits_for_the_lock_is_not_overwritten(token_for, rep):
    customer = CustomerFactory(owner=rep, tier="standard")
    client = api(token_for, rep)
    etag = client.get(url(f"customers/{customer.pk}/"))["ETag"]

    response = patch_while_the_row_is_changed(
        change=lambda: customer_services.customer_update(actor=rep, customer_id=customer.pk, notes="Changed meanwhile"),
        patch=lambda: client.patch(
            url(f"customers/{customer.pk}/"), {"tier": "key"}, format="json", HTTP_IF_MATCH=etag
        ),
    )

    assert response.status_code == 412, response.content
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.notes, customer.tier) == ("Changed meanwhile", "standard")


@pytest.mark.django_db(transaction=True)
def test_a_quote_changed_while_a_patch_waits_for_the_lock_is_not_overwritten(token_for, rep):
    from orders import services as order_services

    customer = CustomerFactory(owner=rep)
    quote = quote_for(rep, opportunity_for(rep, customer), title="First")
    client = api(token_for, rep)
    etag = client.get(url(f"quotes/{quote.pk}/"))["ETag"]
    lines = [{"id": line.pk, "product": line.product, "quantity": line.quantity} for line in quote.lines.all()]

    response = patch_while_the_row_is_changed(
        change=lambda: order_services.quote_update(
            actor=rep,
            quote_id=quote.pk,
            lines=lines,
            title="Theirs",
            currency=quote.currency,
            language=quote.language,
            valid_until=quote.valid_until,
            terms=quote.terms,
        ),  # fmt: skip
        patch=lambda: client.patch(url(f"quotes/{quote.pk}/"), {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag),
    )

    assert response.status_code == 412, response.content
    assert Quote.objects.get(pk=quote.pk).title == "Theirs"


@pytest.mark.django_db(transaction=True)
def test_a_patch_that_read_the_latest_version_waits_and_then_goes_through(token_for, rep):
    """The lock only orders the two writers: a PATCH whose version is still current after the
    other transaction (which changed nothing) commits is applied."""
    contract = ContractFactory(owner=rep)
    client = api(token_for, rep)
    etag = client.get(url(f"contracts/{contract.pk}/"))["ETag"]

    def lock_only():
        from contracts.models import Contract

        Contract.objects.select_for_update().get(pk=contract.pk)

    response = patch_while_the_row_is_changed(
        change=lock_only,
        patch=lambda: client.patch(
            url(f"contracts/{contract.pk}/"), {"title": "New title"}, format="json", HTTP_IF_MATCH=etag
        ),
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "New title"
