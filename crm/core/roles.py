"""The roles of DESIGN.md as Django groups.

Each domain app declares in its `permissions.py` a `ROLE_PERMISSIONS` mapping
`{role: ["app_label.codename", ...]}`; `roles_sync` merges them, so crm.core does not
import domain apps.
"""

from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(TextChoices):
    SALES_REP = "Sales rep", _("Sales rep")
    SALES_MANAGER = "Sales manager", _("Sales manager")
    FINANCE_APPROVER = "Finance approver", _("Finance approver")
    SIGNATORY = "Signatory", _("Signatory")
    SERVICE_AGENT = "Service agent", _("Service agent")
    SERVICE_MANAGER = "Service manager", _("Service manager")
    ADMIN = "Admin", pgettext_lazy("role", "Admin")


SALES_ROLES = [Role.SALES_REP, Role.SALES_MANAGER]


def owner_candidates():
    """Users who can own customers, contracts and orders: active members of the sales roles."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[role.value for role in SALES_ROLES])
        .distinct()
        .order_by("username")
    )


def declared_role_permissions() -> tuple[dict[str, set[str]], set[str]]:
    """Every app's declared permissions per role, and the labels of the apps that
    declare them (the Admin role gets all their permissions, and users and groups)."""
    wanted = {role.value: set() for role in Role}
    admin_app_labels = {"auth", "core"}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.permissions":
                raise
            continue
        for role, codes in getattr(module, "ROLE_PERMISSIONS", {}).items():
            wanted[str(role)].update(codes)
        admin_app_labels.add(config.label)
    return wanted, admin_app_labels


def _permissions_for(codes) -> list[Permission]:
    found = []
    for code in sorted(codes):
        app_label, codename = code.split(".", 1)
        try:
            found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        except Permission.DoesNotExist:
            raise ImproperlyConfigured(
                f"Permission {code} does not exist yet; run `manage.py migrate` first."
            ) from None
    return found


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and set exactly their declared permissions. Idempotent."""
    wanted, admin_app_labels = declared_role_permissions()
    counts = {}
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMIN:
            permissions = list(Permission.objects.filter(content_type__app_label__in=admin_app_labels))
        else:
            permissions = _permissions_for(wanted[role.value])
        group.permissions.set(permissions)
        counts[role.value] = len(permissions)
    return counts
