"""Which domain events (crm/core/events.py) become which webhook events."""

from typing import Any

from crm.core.events import event_subscribe
from crm.webhooks.choices import WebhookEvent
from crm.webhooks.services import webhook_event_dispatch

#: domain event -> (webhook event, the payload key of the object's id)
FORWARDED = {
    "contract.approved": (WebhookEvent.CONTRACT_APPROVED, "contract_id"),
    "contract.signed": (WebhookEvent.CONTRACT_SIGNED, "contract_id"),
    "contract.activated": (WebhookEvent.CONTRACT_ACTIVATED, "contract_id"),
    "order.approved": (WebhookEvent.ORDER_APPROVED, "order_id"),
    # An order no rule holds for a manager is approved as it is submitted.
    "order.submitted": (WebhookEvent.ORDER_APPROVED, "order_id"),
    "order.delivered": (WebhookEvent.ORDER_DELIVERED, "order_id"),
    "ticket.created": (WebhookEvent.TICKET_CREATED, "ticket_id"),
    "ticket.resolved": (WebhookEvent.TICKET_RESOLVED, "ticket_id"),
    "quote.accepted": (WebhookEvent.QUOTE_ACCEPTED, "quote_id"),
}


def forward(name: str, payload: dict[str, Any]) -> None:
    if name == "order.submitted" and not payload.get("automatic"):
        return  # waiting for a manager: "order.approved" follows when one decides
    event, key = FORWARDED[name]
    extra = {"party": payload["party"]} if name == "contract.signed" else None
    webhook_event_dispatch(event=event.value, object_id=payload[key], extra=extra)


def subscribe() -> None:
    for name in FORWARDED:
        event_subscribe(name, forward)
