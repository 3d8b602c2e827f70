"""Rate limits per token and per user, from API_THROTTLE_RATES.

Each limit is a counter per window (a minute for "600/m") that every server process
increments in the cache named by API_THROTTLE_CACHE: Redis when API_THROTTLE_CACHE_URL is
set (an atomic INCR), else the default database cache (Django's increment there is a read
and a write, so two calls at the same moment may count once). A call over the limit is
answered 429 with Retry-After: the seconds until the window ends. (DRF's own throttles keep
a list of timestamps with a read and a write that are not atomic, so concurrent workers
lose counts, and cost six queries each on the database cache.)"""

import math

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from crm.api.models import ApiToken


class _WindowCounterThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        ident_key = self.get_cache_key(request, view)
        if ident_key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.seconds_left = (window + 1) * self.duration - now
        key = f"{ident_key}_{window}"
        cache = caches[settings.API_THROTTLE_CACHE]
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first call (or another process's add just won)
            cache.add(key, 0, timeout=math.ceil(self.seconds_left) + 1)
            count = cache.incr(key)
        return count <= self.num_requests

    def wait(self):
        return math.ceil(self.seconds_left)


class TokenRateThrottle(_WindowCounterThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_WindowCounterThrottle):
    """Every call of one user, whichever tokens or sessions it comes through."""

    scope = "user"

    def get_cache_key(self, request, view):
        signed_in = request.user and request.user.is_authenticated
        ident = request.user.pk if signed_in else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
