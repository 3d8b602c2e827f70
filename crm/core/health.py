"""What /health/ checks: the database, the broker, the worker's last heartbeat and the
signing backend. Each check answers "ok", "down" or (broker and worker without a broker
configured) "embedded", and never raises: a health check that fails answers 503, not 500."""

import logging
import socket
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"
EMBEDDED = "embedded"


def worker_heartbeat_record(*, worker: str | None = None) -> WorkerHeartbeat:
    """Record that `worker` (default: this host's name) is alive now. Telemetry, not a
    business fact: it writes no audit event."""
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        worker=(worker or socket.gethostname())[:200], defaults={"beat_at": timezone.now()}
    )
    return heartbeat


def broker_configured() -> bool:
    """A broker of its own (Redis, RabbitMQ); the embedded default is kombu's filesystem transport."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return bool(url) and not url.startswith("filesystem")


def check_database() -> tuple[str, dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK, {}


def check_broker() -> tuple[str, dict]:
    if not broker_configured():
        return EMBEDDED, {}
    from kombu import Connection

    timeout = settings.HEALTH_BROKER_TIMEOUT
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
    return OK, {}


def check_worker() -> tuple[str, dict]:
    last = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    details = {"last_heartbeat": last.isoformat() if last else None}
    fresh = last is not None and timezone.now() - last <= timedelta(minutes=settings.HEALTH_HEARTBEAT_MAX_AGE_MINUTES)
    if fresh:
        return OK, details
    return (DOWN if broker_configured() else EMBEDDED), details


def check_signing() -> tuple[str, dict]:
    # crm.core imports no domain app: the checkpoint signer (a dotted path in settings) loads
    # the platform's signing backend and names the key it signs with.
    from crm.core.checkpoints import checkpoint_signer

    return OK, {"key_id": checkpoint_signer().key_id()}


CHECKS = {"database": check_database, "broker": check_broker, "worker": check_worker, "signing": check_signing}


def health_report() -> tuple[bool, dict[str, str], dict[str, dict]]:
    """(all up, status by component, details by component). Details (a key id, the time of
    the last heartbeat, the error) are for staff; anyone may see the statuses."""
    statuses: dict[str, str] = {}
    details: dict[str, dict] = {}
    for name, check in CHECKS.items():
        try:
            statuses[name], details[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure of a component means it is down
            logger.warning("health check %s failed: %s", name, error)
            statuses[name], details[name] = DOWN, {"error": f"{type(error).__name__}: {error}"[:300]}
    return all(status != DOWN for status in statuses.values()), statuses, details
