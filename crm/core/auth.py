"""Authentication backends: django-axes' login protection, and permissions read in one query."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class LoginAttemptBackend(AxesStandaloneBackend):
    """django-axes' check, for logins that come with a request.

    A login through a web form always carries its request, so every attempt an attacker
    can make over HTTP is counted and refused when locked. `authenticate()` called from
    code without a request (the test client's `login()`, a shell) has no client address
    to count against; axes would raise there, so this backend steps aside and the next
    backend decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PermissionBackend(ModelBackend):
    """Django's model backend, reading a user's own and their groups' permissions in one query.

    Every page and API call asks for some permission, on a user loaded afresh for that request,
    so the two queries Django's backend makes (one per source) were two of each request's."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                granted = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                own = Permission.objects.filter(user=user_obj)
                via_groups = Permission.objects.filter(group__user=user_obj)
                granted = own.values_list("content_type__app_label", "codename").union(
                    via_groups.values_list("content_type__app_label", "codename")
                )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in granted}
        return user_obj._perm_cache
