"""Who is told of an order's approval: the managers who may approve it, then its owner."""

import pytest

from crm.core.models import Notification
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from orders import services
from orders.choices import OrderStatus
from orders.tests.factories import line, order_for

pytestmark = pytest.mark.django_db


def told(user):
    return [notification.text for notification in Notification.objects.filter(recipient=user).order_by("id")]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return call


@pytest.fixture
def loose(rep, customer, pump):
    """A draft order of `rep`'s outside any contract: it needs a manager's approval."""
    return order_for(rep, customer, lines=[line(pump)])


def test_an_order_pending_approval_tells_the_sales_managers_not_its_owner(
    run, rep, other_rep, manager, loose, mailoutbox
):
    order = run(services.order_submit, actor=rep, order_id=loose.pk)

    assert order.status == OrderStatus.PENDING_APPROVAL
    sentence = f"Order {order.number} for Hangzhou Tea Co waits for your approval."
    assert told(manager) == [sentence]
    assert told(rep) == [] and told(other_rep) == []
    assert [mail.to for mail in mailoutbox] == [[manager.email]]
    assert order.get_absolute_url() in mailoutbox[0].body


def test_a_manager_who_owns_the_order_is_not_told_to_approve_it(run, manager, customer, pump):
    other_manager = UserFactory(username="manager2", role=Role.SALES_MANAGER)
    order = order_for(manager, customer, lines=[line(pump)])

    run(services.order_submit, actor=manager, order_id=order.pk)

    assert told(manager) == []
    assert len(told(other_manager)) == 1


def test_the_owner_is_told_when_a_manager_approves(run, rep, manager, loose):
    run(services.order_submit, actor=rep, order_id=loose.pk)

    run(services.order_approve, actor=manager, order_id=loose.pk, comment="ok")

    assert told(rep) == [f"{manager.get_full_name() or manager.username} approved order {loose.number}."]
    assert len(told(manager)) == 1  # the request to approve, not their own approval


def test_the_owner_is_told_when_the_order_is_sent_back(run, rep, manager, loose):
    run(services.order_submit, actor=rep, order_id=loose.pk)

    run(services.order_reject, actor=manager, order_id=loose.pk, comment="Discount too deep")

    name = manager.get_full_name() or manager.username
    assert told(rep) == [f"{name} sent order {loose.number} back: Discount too deep"]
