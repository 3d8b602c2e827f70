import datetime
import itertools

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.api import services


@pytest.fixture
def token_for(db):
    """`token_for(user, scopes=("read", "write"))`: a live token's secret for that user."""

    numbers = itertools.count(1)

    def make(user, scopes=("read", "write"), *, name=None, expires_at=None):
        expires_at = expires_at or timezone.now() + datetime.timedelta(days=30)
        token, secret = services.token_create(
            actor=user, name=name or f"test {next(numbers)}", scopes=list(scopes), expires_at=expires_at
        )
        return secret

    return make


@pytest.fixture
def api_for(token_for):
    """`api_for(user)`: an API client that sends a read-write token of that user."""

    def make(user, scopes=("read", "write")):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, scopes)}")
        return client

    return make
