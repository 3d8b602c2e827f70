"""Permissions are what the user's groups and the user's own grants allow, read in one query;
sessions signed in before this backend replaced Django's stay signed in."""

from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory


def fresh(user):
    """The user as a new request loads it, with nothing remembered."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.django_db
def test_a_reps_permissions_come_from_the_role_and_from_grants_of_their_own(rep):
    assert fresh(rep).has_perm("customers.view_customer")
    assert not fresh(rep).has_perm("customers.view_all_customer")

    rep.user_permissions.add(Permission.objects.get(codename="view_all_customer"))

    user = fresh(rep)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("customers.view_all_customer")
        assert user.has_perm("customers.view_customer")
        assert not user.has_perm("contracts.approve_contract")
    assert len(captured) == 1


@pytest.mark.django_db
def test_leaving_a_role_takes_its_permissions_away_at_the_next_request(rep):
    rep.groups.remove(Group.objects.get(name=Role.SALES_REP))

    assert not fresh(rep).has_perm("customers.view_customer")
    assert fresh(rep).get_all_permissions() == set()


@pytest.mark.django_db
def test_an_inactive_user_has_no_permission_and_a_superuser_every_one(rep):
    superuser = UserFactory(username="root", is_superuser=True)
    assert fresh(superuser).has_perm("webhooks.change_webhookdelivery")
    assert len(fresh(superuser).get_all_permissions()) == Permission.objects.count()

    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert not fresh(rep).has_perm("customers.view_customer")


@pytest.mark.django_db
def test_the_navigation_shows_what_the_role_allows(client, rep, finance, agent):
    def navigation_of(user):
        client.force_login(user)
        return client.get(reverse("dashboard:home")).content.decode()

    def link(name):
        return f'href="{reverse(name)}"'

    assert link("contracts:approval_inbox") in navigation_of(finance)
    assert link("service:ticket_queue") in navigation_of(agent)
    page = navigation_of(rep)
    assert link("contracts:approval_inbox") not in page
    assert link("service:ticket_queue") not in page
    assert link("customers:customer_list") in page


def test_a_session_signed_in_before_the_upgrade_stays_signed_in(client, rep):
    migration = import_module("crm.core.migrations.0015_sessions_name_the_permission_backend")
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(rep.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: rep.get_session_auth_hash(),
        }
    )
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert client.get(reverse("customers:customer_list")).status_code == 302  # to the login page

    migration.sessions_name_the_permission_backend(apps, None)

    assert client.get(reverse("customers:customer_list")).status_code == 200
