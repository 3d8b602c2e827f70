"""Fixtures shared by every app's tests: one user per role, and a logged-in client."""

import pytest

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", role=Role.SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep", role=Role.SALES_REP)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.SALES_MANAGER)


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", role=Role.FINANCE_APPROVER)


@pytest.fixture
def signatory(db):
    return UserFactory(username="signatory", role=Role.SIGNATORY)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=Role.SERVICE_AGENT)


@pytest.fixture
def service_manager(db):
    return UserFactory(username="service_manager", role=Role.SERVICE_MANAGER)


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def client_for(client):
    """`client_for(user)`: the test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login
