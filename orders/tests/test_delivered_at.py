"""An order records when it was delivered (`delivered_at`), set by the deliver step and
kept through later changes; the migration backfills the orders delivered before it."""

import datetime
import importlib
from decimal import Decimal
from unittest import mock

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from orders import services
from orders.models import Order
from orders.tests.factories import ProductFactory, line, order_for, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_fulfilment(rep, manager):
    pump = ProductFactory(actor=manager, unit_price=Decimal(9))
    order = order_for(rep, CustomerFactory(owner=rep), lines=[line(pump)])
    services.order_submit(actor=rep, order_id=order.pk)
    services.order_approve(actor=manager, order_id=order.pk)
    return services.order_start_fulfilment(actor=manager, order_id=order.pk)


def test_delivering_records_the_delivery_time_and_closing_keeps_it(in_fulfilment, manager):
    assert reload(in_fulfilment).delivered_at is None
    at = timezone.now() - datetime.timedelta(days=3)

    with mock.patch("django.utils.timezone.now", return_value=at):
        services.order_deliver(actor=manager, order_id=in_fulfilment.pk)

    assert reload(in_fulfilment).delivered_at == at
    services.order_close(actor=manager, order_id=in_fulfilment.pk)
    order = reload(in_fulfilment)
    assert order.delivered_at == at
    assert order.updated_at > at


def test_the_migration_backfills_delivered_orders_from_their_delivery_event(in_fulfilment, manager, rep):
    delivered_at = timezone.now() - datetime.timedelta(days=20)
    with mock.patch("django.utils.timezone.now", return_value=delivered_at):
        services.order_deliver(actor=manager, order_id=in_fulfilment.pk)
    services.order_close(actor=manager, order_id=in_fulfilment.pk)  # updated_at: now
    # A delivered order with no event (loaded in bulk): its last update is the best guess.
    bulk = order_for(rep, CustomerFactory(owner=rep), lines=[line(ProductFactory(actor=manager))])
    touched = timezone.now() - datetime.timedelta(days=9)
    Order.objects.filter(pk=bulk.pk).update(status="delivered", updated_at=touched)
    Order.objects.update(delivered_at=None)  # as before the migration
    migration = importlib.import_module("orders.migrations.0004_order_delivered_at")

    with connection.schema_editor() as schema_editor:
        migration.delivered_at_backfill(apps, schema_editor)

    assert reload(in_fulfilment).delivered_at == delivered_at
    assert reload(bulk).delivered_at == touched
