"""Every write of the webhooks: the endpoints admins register, and the deliveries of events.

An endpoint's secret is generated here (never typed in) and never written to the audit
trail. Deliveries of domain events copy news their step already audited, so
`webhook_event_dispatch` writes no audit event; what an admin does (a test ping, a resend)
is audited.
"""

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.webhooks import payloads
from crm.webhooks.addresses import url_refusal
from crm.webhooks.choices import DeliveryStatus, WebhookEvent
from crm.webhooks.delivery import enqueue_on_commit
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

EDITABLE_FIELDS = ("name", "url", "is_active", "events")


def _new_secret() -> str:
    return "whsec_" + secrets.token_hex(32)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {name: values[name] for name in EDITABLE_FIELDS if name in values}
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise DomainError(_("Give the endpoint a name."), field="name")
    if "url" in cleaned:
        cleaned["url"] = (cleaned["url"] or "").strip()
        refusal = url_refusal(cleaned["url"])
        if refusal:
            raise DomainError(refusal, field="url")
    if "events" in cleaned:
        events = list(dict.fromkeys(cleaned["events"] or []))
        unknown = [event for event in events if event not in WebhookEvent.values]
        if unknown:
            raise DomainError(_("Unknown event: %(event)s") % {"event": unknown[0]}, field="events")
        cleaned["events"] = events
    return cleaned


def _locked(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise DomainError(_("This webhook endpoint does not exist."))
    return endpoint


@transaction.atomic
def webhook_endpoint_create(
    *, actor: User, name: str, url: str, events: Iterable[str], is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint with a newly generated secret."""
    values = _clean({"name": name, "url": url, "events": list(events), "is_active": is_active})
    endpoint = WebhookEndpoint.objects.create(**values, secret=_new_secret(), created_by=actor)
    audit_record(actor=actor, action="webhook.endpoint_created", target=endpoint, extra=_audited(endpoint))
    return endpoint


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "events": list(endpoint.events), "is_active": endpoint.is_active}


@transaction.atomic
def webhook_endpoint_update(*, actor: User, endpoint_id: int, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint's name, URL, events or active flag (its secret only by rotating)."""
    endpoint = _locked(endpoint_id)
    cleaned = _clean(changes)
    changed = {
        name: [getattr(endpoint, name), value] for name, value in cleaned.items() if getattr(endpoint, name) != value
    }
    for name, (_old, new) in changed.items():
        setattr(endpoint, name, new)
    if changed:
        endpoint.save()
        audit_record(actor=actor, action="webhook.endpoint_updated", target=endpoint, changes=changed)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint_id: int) -> None:
    """Remove an endpoint and its deliveries (pending ones are never sent)."""
    endpoint = _locked(endpoint_id)
    audit_record(
        actor=actor,
        action="webhook.endpoint_deleted",
        target=endpoint,
        extra={**_audited(endpoint), "deliveries": endpoint.deliveries.count()},
    )
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_secret_rotate(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Give the endpoint a new secret; deliveries from now on are signed with it."""
    endpoint = _locked(endpoint_id)
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(actor=actor, action="webhook.secret_rotated", target=endpoint)
    return endpoint


def _delivery_create(endpoint: WebhookEndpoint, payload: dict[str, Any], **values: Any) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=payload["id"], event=payload["type"], payload=payload, **values
    )
    enqueue_on_commit(delivery.pk)
    return delivery


@transaction.atomic
def webhook_endpoint_ping(*, actor: User, endpoint_id: int) -> WebhookDelivery:
    """Send the endpoint a signed test event ("ping"), whether active or not."""
    endpoint = _locked(endpoint_id)
    delivery = _delivery_create(endpoint, payloads.ping_payload())
    audit_record(actor=actor, action="webhook.pinged", target=endpoint, extra={"delivery": str(delivery.uuid)})
    return delivery


@transaction.atomic
def webhook_delivery_resend(*, actor: User, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, as a new delivery of the same event and payload."""
    original = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if original is None:
        raise DomainError(_("This webhook delivery does not exist."))
    if original.status == DeliveryStatus.PENDING:
        raise DomainError(_("This delivery is still being attempted; resend it once it has succeeded or failed."))
    endpoint = _locked(original.endpoint_id)
    delivery = _delivery_create(endpoint, original.payload, resent_from=original)
    audit_record(
        actor=actor,
        action="webhook.resent",
        target=endpoint,
        extra={"event": original.event, "delivery": str(original.uuid), "resent_as": str(delivery.uuid)},
    )
    return delivery


@transaction.atomic
def webhook_event_dispatch(*, event: str, object_id: int, extra: dict[str, Any] | None = None) -> list[WebhookDelivery]:
    """One delivery of `event` to each active endpoint subscribed to it, sent once this
    transaction commits. Not audited: the step the event announces is."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True, events__contains=[event]).order_by("id"))
    if not endpoints:
        return []
    payload = payloads.event_payload(event=event, object_id=object_id, extra=extra)
    if payload is None:
        return []
    return [_delivery_create(endpoint, payload) for endpoint in endpoints]
