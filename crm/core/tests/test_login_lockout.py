"""Brute-force protection: a username is locked from an address after repeated failures."""

import pytest
from django.urls import reverse

from crm.core.models import AuditEvent
from crm.core.tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def wrong_five_times(client, username, ip="203.0.113.7"):
    for _ in range(5):
        response = attempt(client, username, "wrong-password", ip)
        assert response.status_code in (200, 429)
    return response


@pytest.mark.django_db
def test_five_wrong_passwords_then_the_right_one_is_refused_with_a_message(client, rep):
    wrong_five_times(client, "rep")
    response = attempt(client, "rep", PASSWORD)
    assert response.status_code == 429
    assert "This login is locked after 5 failed attempts" in response.content.decode()
    assert "Try again in 30 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard:home")).status_code == 302  # still not logged in


@pytest.mark.django_db
def test_four_wrong_passwords_still_let_the_right_one_in(client, rep):
    for _ in range(4):
        attempt(client, "rep", "wrong-password")
    response = attempt(client, "rep", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rep.pk)


@pytest.mark.django_db
def test_the_lock_is_on_username_and_address_together(client, rep, other_rep):
    """Someone guessing from one address does not lock the owner out from theirs, nor
    other accounts from the same address."""
    wrong_five_times(client, "rep", ip="203.0.113.7")
    assert attempt(client, "rep", PASSWORD, ip="198.51.100.20").status_code == 302
    client.logout()
    assert attempt(client, "other_rep", PASSWORD, ip="203.0.113.7").status_code == 302


@pytest.mark.django_db
def test_a_lockout_is_audited_once(client, rep):
    wrong_five_times(client, "rep")
    attempt(client, "rep", "wrong-password")
    attempt(client, "rep", PASSWORD)
    events = AuditEvent.objects.filter(action="user.locked_out")
    assert events.count() == 1
    event = events.get()
    assert event.target_id == str(rep.pk)
    assert event.ip == "203.0.113.7"
    assert event.extra == {"username": "rep", "ip_address": "203.0.113.7"}


@pytest.mark.django_db
def test_admin_unlock_lets_the_user_in_and_is_audited(client, rep, admin_user):
    from axes.models import AccessAttempt

    wrong_five_times(client, "rep")
    attempt_row = AccessAttempt.objects.get(username="rep")
    client.force_login(admin_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "rep" in client.get(changelist).content.decode()
    response = client.post(changelist, {"action": "unlock", "_selected_action": [attempt_row.pk]}, follow=True)
    assert "1 login unlocked." in response.content.decode()
    assert not AccessAttempt.objects.exists()
    event = AuditEvent.objects.get(action="user.unlocked")
    assert (event.actor, event.target_id, event.source) == (admin_user, str(rep.pk), "admin")
    client.logout()
    assert attempt(client, "rep", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_admin_delete_of_an_attempt_unlocks_and_is_audited(client, rep, admin_user):
    from axes.models import AccessAttempt

    wrong_five_times(client, "rep")
    attempt_row = AccessAttempt.objects.get(username="rep")
    client.force_login(admin_user)
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt_row.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action="user.unlocked", target_id=str(rep.pk)).count() == 1
    client.logout()
    assert attempt(client, "rep", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_forwarded_for_is_ignored_without_a_declared_proxy(client, rep, settings):
    """An attacker cannot dodge the lock by inventing X-Forwarded-For addresses."""
    settings.USE_X_FORWARDED_FOR = False
    for n in range(5):
        client.post(
            LOGIN,
            {"username": "rep", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    response = client.post(
        LOGIN, {"username": "rep", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.0.0.99"
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_a_declared_proxy_the_forwarded_address_counts(client, rep, settings):
    settings.USE_X_FORWARDED_FOR = True
    wrong = {"username": "rep", "password": "wrong"}
    for _ in range(5):
        client.post(LOGIN, wrong, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    right = {"username": "rep", "password": PASSWORD}
    assert client.post(LOGIN, right, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert client.post(LOGIN, right, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 302


@pytest.mark.django_db
def test_test_client_login_keeps_working(client, rep):
    assert client.login(username="rep", password=PASSWORD)
    assert not client.login(username="rep", password="wrong")


@pytest.mark.django_db
def test_behind_a_proxy_addresses_the_client_prepends_do_not_dodge_the_lock(client, rep, settings):
    """The proxy appends the address it saw; what the client put before it is ignored."""
    settings.USE_X_FORWARDED_FOR = True
    for n in range(5):
        forwarded = f"10.9.9.{n}, 203.0.113.7"
        client.post(
            LOGIN, {"username": "rep", "password": "wrong"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        )
    right = {"username": "rep", "password": PASSWORD}
    forwarded = "10.9.9.99, 203.0.113.7"
    assert client.post(LOGIN, right, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded).status_code == 429


@pytest.mark.django_db
def test_guessing_a_username_nobody_has_is_locked_and_audited_too(client):
    from axes.models import AccessAttempt

    wrong_five_times(client, "no-such-user")
    assert attempt(client, "no-such-user", "anything").status_code == 429
    event = AuditEvent.objects.get(action="user.locked_out")
    assert event.target_id == str(AccessAttempt.objects.get(username="no-such-user").pk)
    assert event.extra["username"] == "no-such-user"
