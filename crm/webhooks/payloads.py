"""What a webhook says about the object an event concerns.

The payload names the object and where to find it, never what it holds: the event's id,
type and time, and the object's kind, id, number, state and page URL (plus, for a signature,
which party signed). No names, e-mail addresses, phone numbers, amounts or free text leave
the system this way, so the payload carries no personal data and the masking of contact
details (crm/core/masking.py) has nothing to apply to: a receiver that needs more asks the
API, where the caller's own visibility and masking apply.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from contracts.models import Contract
from crm.webhooks.choices import PING
from orders.models import Order, Quote
from service.models import Ticket

#: event prefix -> (the object's kind in the payload, its model)
KINDS: dict[str, tuple[str, type[models.Model]]] = {
    "contract": ("contract", Contract),
    "order": ("order", Order),
    "quote": ("quote", Quote),
    "ticket": ("ticket", Ticket),
}


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def event_payload(*, event: str, object_id: int, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The payload of `event` about the object with `object_id`, read now; None when the
    object is gone (the step was undone meanwhile)."""
    kind, model = KINDS[event.split(".", 1)[0]]
    obj: Any = model._default_manager.filter(pk=object_id).first()
    if obj is None:
        return None
    data: dict[str, Any] = {
        "object": kind,
        "id": obj.pk,
        "number": obj.number,
        "status": obj.status,
        "url": _absolute(obj.get_absolute_url()),
    }
    data.update(extra or {})
    return {"id": str(uuid.uuid4()), "type": event, "occurred_at": timezone.now().isoformat(), "data": data}


def ping_payload() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": PING, "occurred_at": timezone.now().isoformat(), "data": {}}
