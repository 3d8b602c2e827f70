"""The domain events mechanism: delivered on commit only, and a failing subscriber breaks
neither the step that published nor the other subscribers."""

import logging

import pytest
from django.db import transaction

from crm.core.events import event_publish, event_subscribe, event_unsubscribe
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    """A subscriber to `test.happened` that writes down what it heard."""
    received = []

    def listener(name, payload):
        received.append((name, payload))

    event_subscribe("test.happened", listener)
    yield received
    event_unsubscribe("test.happened", listener)


def test_subscribers_hear_of_an_event_only_once_its_transaction_commits(heard):
    with transaction.atomic():
        event_publish("test.happened", order_id=7)
        assert heard == []
    assert heard == [("test.happened", {"order_id": 7})]


def test_subscribers_never_hear_of_an_event_whose_transaction_rolled_back(heard):
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish("test.happened", order_id=7)
        raise RuntimeError("the step failed")
    assert heard == []


def test_the_payload_is_what_it_was_when_published(heard):
    lines = [1, 2]
    with transaction.atomic():
        event_publish("test.happened", lines=lines)
        lines.append(3)
    assert heard == [("test.happened", {"lines": [1, 2]})]


def test_subscribing_twice_delivers_once(heard):
    listener = lambda name, payload: heard.append("again")  # noqa: E731
    event_subscribe("test.happened", listener)
    event_subscribe("test.happened", listener)
    try:
        event_publish("test.happened")
    finally:
        event_unsubscribe("test.happened", listener)
    assert heard.count("again") == 1


def test_a_failing_subscriber_is_logged_and_breaks_neither_the_step_nor_the_others(heard, caplog):
    def broken(name, payload):
        # Its own writes roll back with it.
        UserFactory(username="written_by_broken_subscriber", role=Role.SALES_REP)
        raise ValueError("subscriber bug")

    event_unsubscribe("test.happened", heard_listener := _only_subscriber("test.happened"))
    event_subscribe("test.happened", broken)
    event_subscribe("test.happened", heard_listener)
    try:
        with caplog.at_level(logging.ERROR, logger="crm.core.events"), transaction.atomic():
            step_user = UserFactory(username="the_step", role=Role.SALES_REP)
            event_publish("test.happened", user_id=step_user.pk)
    finally:
        event_unsubscribe("test.happened", broken)

    assert UserFactory._meta.model.objects.filter(username="the_step").exists()
    assert not UserFactory._meta.model.objects.filter(username="written_by_broken_subscriber").exists()
    assert heard == [("test.happened", {"user_id": step_user.pk})]
    assert "test.happened" in caplog.text and "subscriber bug" in caplog.text


def _only_subscriber(name):
    from crm.core.events import event_subscribers

    (subscriber,) = event_subscribers(name)
    return subscriber


def test_nothing_subscribed_is_fine():
    with transaction.atomic():
        event_publish("test.nobody_listens", x=1)
    assert not AuditEvent.objects.exists()
