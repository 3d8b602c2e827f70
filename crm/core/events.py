"""Domain events: how a lower app hears of a higher app's step without importing it.

A service publishes an event inside its transaction:

    event_publish("contract.activated", contract_id=contract.pk, customer_id=contract.customer_id)

and each subscriber receives it once that transaction commits (`transaction.on_commit`),
so nobody reacts to a change that was rolled back. Subscribers are registered in the
subscribing app's `AppConfig.ready()`:

    event_subscribe("contract.activated", customer_status_follow_contract)

and are called as `subscriber(name, payload)` with the payload as a plain dict.

Decisions:
- Delivery is after commit, outside the publisher's transaction. A subscriber that must
  write opens its own (it calls a service, which is atomic), and records its own audit
  event; the step that published has already happened and stays.
- Each subscriber runs in its own transaction. An error in one subscriber
  is logged (logger `crm.core.events`, with the traceback) and rolls back only that
  subscriber's writes; the other subscribers still run and the step's request still
  succeeds. A reaction that must never be lost needs a queue, not this mechanism.
- Payload values must be plain (ids, strings, numbers): they are copied at publishing
  time, so a later change to an object does not change what subscribers hear.
- Publishing an event nobody subscribes to is allowed (notifications and webhooks will
  subscribe later); publishing outside a transaction delivers at once, as `on_commit` does.
"""

import copy
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Subscriber = Callable[[str, dict[str, Any]], None]

_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def event_subscribe(name: str, subscriber: Subscriber) -> None:
    """Call `subscriber(name, payload)` after each committed publication of `name`.
    Subscribing the same function twice (a `ready()` run again) has no further effect."""
    if subscriber not in _subscribers[name]:
        _subscribers[name].append(subscriber)


def event_unsubscribe(name: str, subscriber: Subscriber) -> None:
    """Stop delivering `name` to `subscriber` (for tests)."""
    if subscriber in _subscribers.get(name, []):
        _subscribers[name].remove(subscriber)


def event_subscribers(name: str) -> list[Subscriber]:
    return list(_subscribers.get(name, []))


def event_publish(name: str, **payload: Any) -> None:
    """Announce that `name` happened; subscribers hear of it when the current transaction
    commits, and never when it rolls back."""
    frozen = copy.deepcopy(payload)
    transaction.on_commit(lambda: _deliver(name, frozen))


def _deliver(name: str, payload: dict[str, Any]) -> None:
    for subscriber in event_subscribers(name):
        try:
            with transaction.atomic():
                subscriber(name, copy.deepcopy(payload))
        except Exception:  # noqa: BLE001 - one subscriber's failure must not break the step or the others
            logger.exception(
                "Subscriber %s.%s failed on event %s %r",
                getattr(subscriber, "__module__", "?"),
                getattr(subscriber, "__qualname__", repr(subscriber)),
                name,
                payload,
            )
