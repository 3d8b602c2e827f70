"""Reads that may be slightly stale go to a read replica; everything else to the primary.

With `DATABASE_REPLICA_URL` set, the settings add a `replica` database alias (a streaming
standby of the primary) and this router. A read goes to the replica unless

- it happens inside `transaction.atomic` (every service, every `select_for_update`, and
  the reads a service makes before it writes): a transaction sees the primary only;
- the request is pinned to the primary: `ReplicaPinMiddleware` pins a request that writes
  (any method but GET, HEAD and OPTIONS), and, for `REPLICA_STICKY_SECONDS` after it, every
  request of the same browser (a cookie), so a user reads their own write at once even while
  the replica lags;
- the model must always be read fresh (sessions, the login lockout, the database cache that
  holds the rate limits): `PRIMARY_ONLY_APPS`.

Writes and migrations go to the primary only. Without a `replica` alias the router says
nothing and Django uses `default` for everything.
"""

import time
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"
# Their reads decide who is signed in, who is locked out and how many tries are left.
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes", "django_cache"})
STICKY_COOKIE = "crm_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_pinned: ContextVar[bool] = ContextVar("crm_primary_pinned", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def primary_pinned() -> bool:
    return _pinned.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not replica_configured():
            return None
        if _pinned.get() or model._meta.app_label in PRIMARY_ONLY_APPS or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows: one database as far as relations go

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaPinMiddleware:
    """Pins to the primary a request that writes, and every request of the same browser for
    `REPLICA_STICKY_SECONDS` after one (the `crm_primary_until` cookie holds the time)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        now = time.time()
        writes = request.method not in SAFE_METHODS
        try:
            pinned_until = float(request.COOKIES.get(STICKY_COOKIE, 0))
        except ValueError:
            pinned_until = 0.0
        token = _pinned.set(writes or pinned_until > now)
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if writes:
            sticky = int(getattr(settings, "REPLICA_STICKY_SECONDS", 10))
            response.set_cookie(
                STICKY_COOKIE,
                f"{now + sticky:.0f}",
                max_age=sticky,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
