"""Rate limits per token and per user (DRF throttles on the shared cache: the database
cache, or Redis when CACHES names it). Rates come from API_THROTTLE_RATES."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from crm.api.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_SettingsRateThrottle):
    """Every call of one user, whichever tokens or sessions it comes through."""

    scope = "user"

    def get_cache_key(self, request, view):
        signed_in = request.user and request.user.is_authenticated
        ident = request.user.pk if signed_in else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
