"""Changing and resetting a password happen in the CRM's own pages, in the user's language."""

import re

import pytest
from django.urls import reverse

from crm.core.services import user_language_set
from crm.core.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lantern-Harbour-42"


def test_a_signed_in_user_changes_their_password_from_the_navigation(client_for, rep):
    client = client_for(rep)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert f'href="{reverse("password_change")}"' in home

    page = client.get(reverse("password_change")).content.decode()
    assert "Change my password" in page and "Django" not in page
    done = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password was changed." in done.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)


def test_a_forgotten_password_is_reset_through_the_mailed_link(client, rep, mailoutbox):
    rep.email = "rep@example.com"
    rep.save()
    login = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in login

    sent = client.post(reverse("password_reset"), {"email": "rep@example.com"}, follow=True)
    assert "Check your e-mail" in sent.content.decode()
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)

    form = client.get(link, follow=True)
    assert "Set my password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Your new password is set." in done.content.decode()
    assert client.login(username=rep.username, password=NEW_PASSWORD)

    used = client.get(link, follow=True).content.decode()
    assert "This link is invalid or was already used." in used


def test_the_password_pages_speak_the_users_language(client_for, rep):
    user_language_set(actor=rep, language="zh-hans")
    page = client_for(rep).get(reverse("password_change")).content.decode()
    assert "修改我的密码" in page and "Change my password" not in page
