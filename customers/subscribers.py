"""What customers do when a higher app's step happens (domain events, crm/core/events.py).

Registered in `CustomersConfig.ready()`; each subscriber calls a customers service."""

from crm.core.events import event_subscribe
from customers.services import LIFECYCLE_STEPS, customer_status_follow


def customer_status_follow_document(name: str, payload: dict) -> None:
    """A contract was drafted or became active: its customer's status follows."""
    customer_status_follow(customer_id=payload["customer_id"], cause=name, document=payload.get("number", ""))


def subscribe() -> None:
    for name in LIFECYCLE_STEPS:
        event_subscribe(name, customer_status_follow_document)
