import logging
import time

from django.conf import settings
from django.utils import translation

from crm.core.context import RequestContext, _current

# The language a signed-in user chose (crm.core.UserPreference), copied into their session
# at login and when they switch, so applying it costs no query.
LANGUAGE_SESSION_KEY = "crm_language"


def client_ip(request) -> str | None:
    """The client's address, for the audit trail and the login lockout.

    X-Forwarded-For is read only when a proxy is declared (BEHIND_PROXY), and then its
    last entry: the one our proxy added. Entries before it are whatever the client sent,
    so an attacker cannot pick their address by sending the header themselves."""
    from django.conf import settings

    if getattr(settings, "USE_X_FORWARDED_FOR", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1][:45]
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        admin_prefix = "/admin/"
        context = RequestContext(
            source="admin" if request.path.startswith(admin_prefix) else "web",
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        request.request_id = context.request_id
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response


request_logger = logging.getLogger("crm.request")


class RequestLogMiddleware:
    """One log line per request on `crm.request`: its request id, the user's id (None when
    anonymous), method, path, status and time in milliseconds. The path is logged without
    its query string, which can carry tokens (a password-reset or signing link's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "request_id": getattr(request, "request_id", None),
                "user_id": _user_id(request),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


def _user_id(request):
    user = getattr(request, "user", None)
    try:
        return user.pk if user is not None and user.is_authenticated else None
    except Exception:  # noqa: BLE001 - a session that cannot be read (database down) is no reason to lose the line
        return None


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response, and `Cache-Control: no-store` on every page
    Django serves, so no browser or proxy keeps a copy of customer data or of a signing
    page. One rule for all: a signed-in user's pages always carry it; an anonymous
    response keeps a Cache-Control its view chose (none does yet). Static files are
    served outside Django and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if not response.has_header("Cache-Control") or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store"
        return response


class UserLanguageMiddleware:
    """A signed-in user's own language on every request, over the cookie and the browser's
    Accept-Language that LocaleMiddleware (before authentication) went by. Anonymous pages
    (login, the customer's signing and verification pages) keep LocaleMiddleware's choice."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = request.session.get(LANGUAGE_SESSION_KEY)
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
