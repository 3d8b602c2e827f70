from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from crm.api.models import ApiToken


class TokenScopes(permissions.BasePermission):
    """Signed in, and a token may write only with the write scope (a session may do what
    the user may; the services decide the rest)."""

    message = _("This token may only read; create a token with the write scope to change data.")

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        token = request.auth
        if isinstance(token, ApiToken) and request.method not in permissions.SAFE_METHODS:
            return token.may_write()
        return True
