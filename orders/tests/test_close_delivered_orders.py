import datetime
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus as S
from orders.models import Order
from orders.tests.factories import ProductFactory, assert_audited, events_about, line, order_for, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def make(rep, manager):
    """`make(state, days_ago)`: an order taken to `state` through the services, its last step
    taken `days_ago` days ago."""
    customer = CustomerFactory(owner=rep)
    pump = ProductFactory(actor=manager, unit_price=Decimal("1000.00"))

    def build(state, days_ago):
        at = timezone.now() - datetime.timedelta(days=days_ago)
        with mock.patch("django.utils.timezone.now", return_value=at):
            order = order_for(rep, customer, lines=[line(pump)])
            services.order_submit(actor=rep, order_id=order.pk)
            services.order_approve(actor=manager, order_id=order.pk)
            services.order_start_fulfilment(actor=manager, order_id=order.pk)
            if state in (S.DELIVERED, S.CLOSED):
                services.order_deliver(actor=manager, order_id=order.pk)
            if state == S.CLOSED:
                services.order_close(actor=manager, order_id=order.pk)
        return reload(order)

    return build


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("close_delivered_orders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_closes_orders_delivered_longer_ago_than_the_limit(make):
    old = [make(S.DELIVERED, 40), make(S.DELIVERED, 31)]
    recent = make(S.DELIVERED, 29)
    old_in_fulfilment = make(S.IN_FULFILMENT, 60)
    already_closed = make(S.CLOSED, 60)

    out, _err = run("--older-than", "30")

    assert "2 order(s) closed." in out
    for order in old:
        order = reload(order)
        assert order.status == S.CLOSED
        event = assert_audited(order, "order.closed", actor=None, changes={"status": [S.DELIVERED, S.CLOSED]})
        assert event.source == "command"
    assert reload(recent).status == S.DELIVERED
    assert reload(old_in_fulfilment).status == S.IN_FULFILMENT
    assert events_about(already_closed, "order.closed").count() == 1


def test_zero_days_closes_every_delivered_order(make):
    orders = [make(S.DELIVERED, 0), make(S.DELIVERED, 3)]
    out, _err = run("--older-than", "0")
    assert "2 order(s) closed." in out
    assert {reload(order).status for order in orders} == {S.CLOSED}


def test_dry_run_changes_nothing(make):
    order = make(S.DELIVERED, 10)
    events_before = AuditEvent.objects.count()

    out, _err = run("--older-than", "7", "--dry-run")

    assert f"would close {order.number}" in out
    assert "1 order(s) would be closed." in out
    assert reload(order).status == S.DELIVERED
    assert AuditEvent.objects.count() == events_before


def test_nothing_to_close(make):
    make(S.DELIVERED, 1)
    out, _err = run("--older-than", "30")
    assert "0 order(s) closed." in out


def test_negative_days_are_refused():
    with pytest.raises(CommandError, match="--older-than must be 0 or more days"):
        run("--older-than", "-1")


@pytest.mark.parametrize("args", [(), ("--older-than", "soon")])
def test_missing_or_bad_days_are_refused(args):
    with pytest.raises(CommandError):
        run(*args)


def test_the_delivery_time_counts_not_a_later_change(make):
    """An order delivered 40 days ago and touched since (the admin, a later step of
    another app) is still due; one delivered 5 days ago is not, however old its rows."""
    delivered_long_ago = make(S.DELIVERED, 40)
    Order.objects.filter(pk=delivered_long_ago.pk).update(updated_at=timezone.now())
    delivered_recently = make(S.DELIVERED, 5)
    Order.objects.filter(pk=delivered_recently.pk).update(updated_at=timezone.now() - datetime.timedelta(days=90))

    out, _err = run("--older-than", "30", "--dry-run")

    when = timezone.localtime(reload(delivered_long_ago).delivered_at).strftime("%Y-%m-%d")
    assert when == timezone.localdate(timezone.now() - datetime.timedelta(days=40)).isoformat()
    assert f"would close {delivered_long_ago.number} (delivered {when})" in out
    assert delivered_recently.number not in out

    out, _err = run("--older-than", "30")

    assert "1 order(s) closed." in out
    assert reload(delivered_long_ago).status == S.CLOSED
    assert reload(delivered_recently).status == S.DELIVERED
