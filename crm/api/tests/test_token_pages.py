"""The user's tokens page and the admin: created (shown once), listed, revoked."""

import pytest
from rest_framework.test import APIClient

from crm.api.models import ApiToken
from crm.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_sees_it_once_and_revokes_it(client_for, rep):
    client = client_for(rep)
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    assert b'data-testid="nav-api-tokens"' in page.content

    response = client.post("/account/tokens/", {"name": "ERP", "scopes": ["read"], "expires": "30"}, follow=True)

    token = ApiToken.objects.get(user=rep)
    secret = response.context["new_secret"]["secret"]
    assert secret.encode() in response.content and secret.startswith(token.prefix)
    assert token.secret_hash != secret and secret not in str(token.__dict__)
    assert secret.encode() not in client.get("/account/tokens/").content  # shown once
    assert AuditEvent.objects.filter(action="api_token.created", target_id=str(token.pk)).exists()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/customers/").status_code == 200
    assert api.post("/api/v1/customers/", {"name": "Nope Ltd"}, format="json").status_code == 403

    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/customers/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", target_id=str(token.pk)).exists()


def test_the_form_refuses_a_token_without_a_name_or_scope(client_for, rep):
    response = client_for(rep).post("/account/tokens/", {"name": "", "expires": "30"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "scopes"}
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(client_for, rep, other_rep, token_for):
    token_for(other_rep, name="theirs")
    token = ApiToken.objects.get(user=other_rep)
    client_for(rep).post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None
    assert b"theirs" not in client_for(rep).get("/account/tokens/").content


def test_an_admin_creates_a_token_for_a_user_and_revokes_it(client_for, admin_user, rep):
    client = client_for(admin_user)
    response = client.post(
        "/admin/api/apitoken/add/",
        {"user": rep.pk, "name": "Integration", "scopes": "read,write", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=rep, name="Integration")
    assert "The token's secret" in response.content.decode()
    client.post("/admin/api/apitoken/", {"action": "revoke_selected", "_selected_action": [token.pk]}, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
