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
