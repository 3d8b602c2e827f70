"""The demo logins: one or more users per role, all with the same password.

`seed_demo` creates them and `demo_logins` prints them, so both read this one list.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from crm.core.roles import Role, roles_sync

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    sees: str
    is_staff: bool = False
    is_superuser: bool = False
    # The language of their pages: most of the demo company's staff work in Chinese.
    language: str = "zh-hans"

    @property
    def first_name(self) -> str:
        return self.full_name.partition(" ")[0]

    @property
    def last_name(self) -> str:
        return self.full_name.partition(" ")[2]

    @property
    def email(self) -> str:
        return f"{self.username}@demo.example.com"


_REP_SEES = _("only the customers they own, with their contacts and timeline")
_MANAGER_SEES = _("every customer; reassigns owners; first approver")
_FINANCE_SEES = _("customers read-only, phone/e-mail masked; approves large contracts")
_SIGNATORY_SEES = _("customers read-only, phone/e-mail masked; signs approved contracts")
_AGENT_SEES = _("their service tickets; customers read-only, phone/e-mail masked")
_SERVICE_MANAGER_SEES = _("all service tickets; customers read-only, phone/e-mail masked")
_ADMIN_SEES = _("everything, plus the Django admin at /admin/")

DEMO_USERS = [
    DemoUser("rep1", "Li Wei", Role.SALES_REP, _REP_SEES),
    DemoUser("rep2", "Emma Clark", Role.SALES_REP, _REP_SEES, language="en"),
    DemoUser("rep3", "Zhang Min", Role.SALES_REP, _REP_SEES),
    DemoUser("manager", "Wang Fang", Role.SALES_MANAGER, _MANAGER_SEES),
    DemoUser("finance", "Chen Jing", Role.FINANCE_APPROVER, _FINANCE_SEES),
    DemoUser("signatory", "Liu Yang", Role.SIGNATORY, _SIGNATORY_SEES),
    DemoUser("agent", "Sun Li", Role.SERVICE_AGENT, _AGENT_SEES),
    DemoUser("service_manager", "Olivia Brown", Role.SERVICE_MANAGER, _SERVICE_MANAGER_SEES, language="en"),
    DemoUser("admin", "Admin User", Role.ADMIN, _ADMIN_SEES, is_staff=True, is_superuser=True, language="en"),
]


def demo_user(role: Role) -> DemoUser:
    """The first demo user of a role."""
    return next(user for user in DEMO_USERS if user.role == role)


@transaction.atomic
def demo_users_ensure() -> dict:
    """Create the demo users, or bring existing ones back to their demo role, name and
    flags. The password is set only when a user is created (hashing is slow), so a demo
    user whose password was changed keeps it; so is the language, so a demo user who
    switched keeps their choice. Returns `{username: user}`."""
    from crm.core.models import UserPreference
    from crm.core.services import user_language_set

    roles_sync()
    groups = {group.name: group for group in Group.objects.filter(name__in=[role.value for role in Role])}
    users = {}
    for spec in DEMO_USERS:
        user, created = get_user_model().objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": spec.email,
                "is_staff": spec.is_staff,
                "is_superuser": spec.is_superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        else:
            user.first_name, user.last_name = spec.first_name, spec.last_name
            user.is_staff, user.is_superuser, user.is_active = spec.is_staff, spec.is_superuser, True
        user.save()
        user.groups.set([groups[spec.role.value]])
        if not UserPreference.objects.filter(user=user).exists():
            user_language_set(actor=user, language=spec.language)
        users[spec.username] = user
    return users


def demo_steps():
    """Each app's `demo.demo_step(rng=..., users=...)`, in the order of INSTALLED_APPS, so
    `seed_demo` fills the whole lifecycle without crm.core or customers importing later apps."""
    from importlib import import_module

    from django.apps import apps

    steps = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        if hasattr(module, "demo_step"):
            steps.append((config.label, module.demo_step))
    return steps
