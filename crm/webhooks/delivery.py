"""Sending one delivery: the attempt the Celery task makes, and the hand-over to the queue.

A delivery row is written in the transaction that decided it (`crm.webhooks.services`), and
its id handed to the task `crm.webhooks.tasks.webhook_deliver` once that commits. Each
attempt locks the row, skips a delivery already delivered or failed (a task delivered twice
never sends twice), resolves and checks the URL's host again (crm/webhooks/addresses.py),
POSTs the signed body (crm/webhooks/signing.py) to an address it checked, without following
redirects or proxies, and records the response
code, an excerpt of the body, the duration and the error. Any answer but 2xx, and any
network error, is retried with exponential back-off (WEBHOOK_RETRY_DELAY seconds, doubled
after each attempt) until WEBHOOK_MAX_ATTEMPTS attempts; then the delivery is failed and
the admins are told (crm/core/notifications.py). A broker outage never breaks the step: a
delivery whose hand-over or retry was lost is handed over again by the
`requeue_webhook_deliveries` job. Receivers get each delivery at least once and may see one
twice (a worker lost mid-attempt): `X-CRM-Delivery` is the id to deduplicate on.
"""

import datetime
import http.client
import logging
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from crm.core.notifications import notification_send
from crm.core.roles import Role
from crm.webhooks.addresses import Address, url_addresses
from crm.webhooks.choices import DeliveryStatus
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.signing import body_bytes, signature_header

logger = logging.getLogger("crm.webhooks")

RETRY = "retry"
RESPONSE_EXCERPT = 1000
USER_AGENT = "CRM-Webhooks/1"


def enqueue(delivery_id: int) -> None:
    from crm.webhooks.tasks import webhook_deliver

    try:
        webhook_deliver.delay(delivery_id)
    except Exception:  # noqa: BLE001 - a broker outage delays the delivery, it never fails the step
        logger.exception("Webhook delivery %s could not be queued; it stays pending", delivery_id)


def enqueue_on_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: enqueue(delivery_id))


def deliveries_requeue(*, older_than: datetime.timedelta) -> int:
    """Hand the queue again every pending delivery whose attempt is overdue by `older_than`:
    never attempted, or due for a retry, but its task was lost (the broker was down). A
    delivery queued twice is still attempted once at a time: each attempt locks the row."""
    cutoff = timezone.now() - older_than
    stranded = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff))
        .order_by("id")
        .values_list("pk", flat=True)
    )
    for delivery_id in stranded:
        enqueue(delivery_id)
    return len(stranded)


def _connect_checked(addresses: list[Address], timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers (as
    `socket.create_connection` tries each address of a name, without resolving it again)."""
    error: OSError = OSError("no address to connect to")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as refused:
            sock.close()
            error = refused
        else:
            return sock
    raise error


class _PinnedConnection(http.client.HTTPConnection):
    """An http.client connection to the addresses the URL check resolved (no second lookup
    of the name for an attacker's DNS to answer differently), still for the host by name:
    the Host header, and for https the TLS server name (SNI) and the certificate's hostname
    check, come from `host` as usual."""

    def __init__(self, host: str, port: int | None, *, addresses: list[Address], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._create_connection = lambda _address, timeout, _source: _connect_checked(addresses, timeout)


class _PinnedHTTPSConnection(_PinnedConnection, http.client.HTTPSConnection):
    pass


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """POST the delivery once: (response code or None, body excerpt, error or ""). Straight to
    an address the check resolved (no proxy), and a redirect is an answer, not an address to
    follow (it could point inside our network)."""
    url = delivery.endpoint.url
    addresses, refusal = url_addresses(url)
    if refusal:
        return None, "", refusal
    body = body_bytes(delivery.payload)
    parts = urlsplit(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedConnection
    connection = connection_class(
        parts.hostname or "", parts.port, addresses=addresses, timeout=settings.WEBHOOK_TIMEOUT
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": delivery.event,
        "X-CRM-Delivery": str(delivery.uuid),
        "X-CRM-Signature": signature_header(secret=delivery.endpoint.secret, timestamp=int(time.time()), body=body),
    }
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT * 4).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as error:  # refused, timed out, TLS, a bad answer
        return None, "", f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return response.status, excerpt, ""
    return response.status, excerpt, f"HTTP {response.status}"


def delivery_attempt(*, delivery_id: int) -> tuple[str, float]:
    """One attempt at a delivery, with the row locked: ("delivered" | "failed" | "skipped" |
    RETRY, seconds until the retry)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped", 0.0
        started = time.monotonic()
        code, excerpt, error = _post(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.duration_ms = int((time.monotonic() - started) * 1000)
        delivery.response_code = code
        delivery.response_body = excerpt[:RESPONSE_EXCERPT]
        delivery.error = error[:1000]
        delay = 0.0
        if not error and code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            outcome = "delivered"
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            outcome = "failed"
        else:
            delay = settings.WEBHOOK_RETRY_DELAY * (2 ** (delivery.attempts - 1))
            delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
            outcome = RETRY
        delivery.save()
    if outcome == "failed":
        logger.error(
            "Webhook %s %s to %s failed for good after %s attempt(s): %s",
            delivery.event,
            delivery.uuid,
            delivery.endpoint.url,
            delivery.attempts,
            delivery.error,
        )
        _tell_admins(delivery)
    elif outcome == RETRY:
        logger.warning("Webhook %s to %s not delivered, will retry: %s", delivery.uuid, delivery.endpoint.url, error)
    return outcome, delay


def _tell_admins(delivery: WebhookDelivery) -> None:
    admins = User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN.value), is_active=True).distinct()
    try:
        notification_send(
            recipients=admins,
            sentence=gettext_noop(
                "The webhook %(event)s to %(endpoint)s failed after %(attempts)s attempts: %(error)s"
            ),
            params={
                "event": delivery.event,
                "endpoint": delivery.endpoint.name,
                "attempts": delivery.attempts,
                "error": delivery.error,
            },
            target_url=reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]),
        )
    except Exception:  # noqa: BLE001 - telling the admins must not undo the recorded failure
        logger.exception("Telling the admins of failed webhook delivery %s failed", delivery.pk)
