"""Who calls the API: a personal access token (`Authorization: Bearer <token>`) or the
browser's session (with its CSRF token on writes, as DRF's SessionAuthentication asks)."""

import dataclasses

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from crm.api.models import ApiToken
from crm.api.services import token_used
from crm.core.context import _current, current_context
from crm.core.tokens import token_hash


def api_context(request, token: ApiToken | None) -> None:
    """The audit context of this request: source "api", and the token's name."""
    context = current_context()
    _current.set(dataclasses.replace(context, source="api", token_name=token.name if token else ""))


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Bearer <token>”."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = ApiToken.objects.select_related("user").filter(secret_hash=token_hash(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token's user is inactive."))
        if not token.last_use_is_current(now):  # most calls: no transaction, no write
            token_used(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser, CSRF-checked on every write."""
