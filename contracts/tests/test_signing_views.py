"""The signing pages: the signatory's sign page, the send-link page, link revocation, the
customer's public one-time page, and who may open what."""

import re

import pytest
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from contracts import signatures
from contracts.choices import ContractStatus as S
from contracts.models import SigningLink
from contracts.tests.factories import ContractFactory, contract_events, reload
from contracts.tests.test_signing_workflow import (
    approved,
    send_link,
    sign_both,
    sign_company,
)
from crm.core.tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


def url(name, contract, *args):
    return reverse(f"contracts:{name}", args=[contract.pk, *args])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- the signatory signs -----------------------------------------------------------------


def test_the_signatory_signs_with_their_password(people, client_for):
    contract = approved(people)
    client = client_for(people.signatory)

    page = client.get(url("contract_sign", contract))
    assert page.status_code == 200
    assert "Your password" in page.content.decode()

    response = client.post(url("contract_sign", contract), {"password": PASSWORD}, HTTP_USER_AGENT="Firefox/140")

    assert response.status_code == 302
    assert response["Location"] == contract.get_absolute_url()
    assert messages_of(response) == [f"You signed {contract} for the company."]
    contract = reload(contract)
    assert contract.status == S.SIGNING
    signature = contract.signatures.get()
    assert signature.signer == people.signatory
    assert signature.ip == "127.0.0.1"
    assert signature.user_agent == "Firefox/140"
    signed = contract_events(contract, "contract.signed").get()
    assert signed.actor == people.signatory
    assert signed.source == "web"
    assert signed.ip == "127.0.0.1"


def test_a_wrong_password_is_shown_next_to_the_field(people, client_for):
    contract = approved(people)

    response = client_for(people.signatory).post(url("contract_sign", contract), {"password": "guess"})

    assert response.status_code == 200
    assert "The password is not correct." in response.content.decode()
    assert response.context["form"].errors == {"password": ["The password is not correct."]}
    assert reload(contract).status == S.APPROVED
    assert not contract.signatures.exists()


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_a_signatory_may_open_the_sign_page(people, client_for, who):
    contract = approved(people)
    client = client_for(getattr(people, who))

    assert client.get(url("contract_sign", contract)).status_code == 403
    assert client.post(url("contract_sign", contract), {"password": PASSWORD}).status_code == 403

    assert reload(contract).status == S.APPROVED
    assert not contract.signatures.exists()


def test_the_detail_page_offers_the_signing_actions(people, client_for):
    contract = approved(people)

    page = client_for(people.signatory).get(contract.get_absolute_url()).content.decode()
    assert url("contract_sign", contract) in page

    page = client_for(people.rep).get(contract.get_absolute_url()).content.decode()
    assert url("signing_link_send", contract) in page
    assert url("contract_sign", contract) not in page


# -- the send-link page -------------------------------------------------------------------


def test_the_send_link_page_shows_the_one_time_url_once(people, client_for, django_capture_on_commit_callbacks):
    contract = approved(people)
    client = client_for(people.rep)
    page = client.get(url("signing_link_send", contract))
    assert page.status_code == 200
    assert page.context["form"].initial == {"email": "buyer@lakeside.example"}
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("signing_link_send", contract), {"email": "legal@lakeside.example"}, follow=True)

    page = response.content.decode()
    found = re.search(r"data-testid='signing-url'>(http[^<]+)<", page)
    assert found, "the one-time URL is shown in a message"
    link_url = found.group(1)
    assert "Signing link e-mailed to legal@lakeside.example. It works once:" in page
    assert len(mail.outbox) == 1 and link_url in mail.outbox[0].body
    assert mail.outbox[0].to == ["legal@lakeside.example"]
    assert contract_events(contract, "contract.signing_link_sent").get().extra["email"] == "legal@lakeside.example"
    # The URL is not stored: only its hash is, so the page never shows it again.
    token = link_url.rstrip("/").rsplit("/", 1)[-1]
    assert not SigningLink.objects.filter(token_sha256=token).exists()
    assert token not in client.get(contract.get_absolute_url()).content.decode()

    client.logout()
    customer_page = client.get(link_url.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert customer_page.status_code == 200
    assert contract.title in customer_page.content.decode()


def test_sending_a_link_for_a_draft_shows_the_refusal(people, client_for):
    contract = ContractFactory(owner=people.rep, customer=people.customer)

    response = client_for(people.rep).post(url("signing_link_send", contract), {"email": "a@b.example"})

    assert response.status_code == 200
    assert "cannot be signed" in response.content.decode()
    assert not SigningLink.objects.exists()


def test_the_owner_revokes_a_link_from_its_page(people, client_for):
    contract = approved(people)
    link, token = send_link(contract, people.rep)
    client = client_for(people.rep)

    response = client.post(url("signing_link_revoke", contract, link.pk))

    assert response.status_code == 302
    assert messages_of(response) == ["The signing link was revoked."]
    assert SigningLink.objects.get(pk=link.pk).revoked_at is not None
    assert contract_events(contract, "contract.signing_link_revoked").get().actor == people.rep
    client.logout()
    gone = client.get(reverse("contracts:customer_sign", args=[token]))
    assert gone.status_code == 410
    assert "withdrawn" in gone.content.decode()


# -- the customer's page needs no login ---------------------------------------------------


def test_the_customer_signs_without_logging_in(people, client):
    contract = approved(people)
    sign_company(contract, people.signatory)
    _link, token = send_link(contract, people.rep)
    link_url = reverse("contracts:customer_sign", args=[token])
    page_url = reverse("contracts:customer_sign_page")

    opened = client.get(link_url)
    assert opened.status_code == 302
    assert opened["Location"] == page_url  # the token is exchanged for a session
    assert token not in opened["Location"]
    page = client.get(page_url)
    assert page.status_code == 200
    assert contract.body.splitlines()[0] in page.content.decode()
    assert token not in page.content.decode()

    refused = client.post(page_url, {"full_name": "Li Wei"})
    assert "Tick the box to accept the contract." in refused.content.decode()

    response = client.post(page_url, {"full_name": "Li Wei", "accepted": "on"}, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    assert f"Li Wei accepted contract {contract.number}" in response.content.decode()
    assert reload(contract).status == S.ACTIVE
    signature = contract.signatures.get(party="customer")
    assert signature.ip == "203.0.113.9"
    assert contract_events(contract, "contract.activated").get().source == "web"

    assert client.get(page_url).status_code == 410  # the session ended with the signature
    again = client.get(link_url)
    assert again.status_code == 410
    assert "already used" in again.content.decode()


def test_the_signing_page_without_a_session_from_the_link_is_gone(people, client):
    response = client.get(reverse("contracts:customer_sign_page"))
    assert response.status_code == 410
    assert "open the link again" in response.content.decode()
    refused = client.post(reverse("contracts:customer_sign_page"), {"full_name": "Li Wei", "accepted": "on"})
    assert refused.status_code == 410


def test_the_signing_session_is_short(people, client, settings):
    contract = approved(people)
    _link, token = send_link(contract, people.rep)
    settings.SIGNING_SESSION_MINUTES = -1  # already over when it starts
    assert client.get(reverse("contracts:customer_sign", args=[token])).status_code == 302

    response = client.get(reverse("contracts:customer_sign_page"))

    assert response.status_code == 410
    assert "timed out" in response.content.decode()


def test_a_link_revoked_after_opening_ends_the_session(people, client):
    contract = approved(people)
    link, token = send_link(contract, people.rep)
    client.get(reverse("contracts:customer_sign", args=[token]))
    signatures.signing_link_revoke(actor=people.rep, contract_id=contract.pk, link_id=link.pk)

    response = client.post(reverse("contracts:customer_sign_page"), {"full_name": "Li Wei", "accepted": "on"})

    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not contract.signatures.filter(party="customer").exists()


def test_an_unknown_token_answers_gone(client, db):
    response = client.get(reverse("contracts:customer_sign", args=["no-such-token"]))
    assert response.status_code == 410
    assert "This signing link is not valid." in response.content.decode()


CONTRACT_PAGES = ["contract_detail", "contract_sign", "signing_link_send", "contract_evidence", "contract_certificate"]


def test_every_other_contract_page_needs_a_login(people, client):
    contract = sign_both(approved(people), people)
    link = SigningLink.objects.get(contract=contract)

    for page in CONTRACT_PAGES:
        target = url(page, contract)
        response = client.get(target)
        assert response.status_code == 302, page
        assert response["Location"] == redirect_to_login(target)["Location"]
    for target in (reverse("contracts:contract_list"), url("signing_link_revoke", contract, link.pk)):
        response = client.post(target)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(url("contract_sign", contract), {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    # The public verification page is open to anyone holding a certificate.
    assert client.get(reverse("contracts:verify")).status_code == 200


# -- another rep sees nothing -----------------------------------------------------------


@pytest.mark.parametrize("page", ["contract_sign", "signing_link_send", "contract_evidence", "contract_certificate"])
def test_a_rep_of_another_customer_gets_404(people, client_for, page):
    contract = approved(people)
    sign_company(contract, people.signatory)  # evidence exists
    client = client_for(people.other_rep)

    assert client.get(url(page, contract)).status_code == 404
    if page in ("contract_sign", "signing_link_send"):  # the two that take a POST
        assert client.post(url(page, contract), {"password": PASSWORD, "email": "x@y.example"}).status_code == 404
    assert contract.signatures.count() == 1
    assert not SigningLink.objects.filter(contract=contract).exists()


def test_a_rep_of_another_customer_cannot_revoke_a_link(people, client_for):
    contract = approved(people)
    link, _token = send_link(contract, people.rep)

    response = client_for(people.other_rep).post(url("signing_link_revoke", contract, link.pk))

    assert response.status_code == 404
    assert SigningLink.objects.get(pk=link.pk).revoked_at is None


def test_wrong_signing_passwords_count_towards_the_login_lockout(people, client_for, client, settings):
    contract = approved(people)
    signatory = client_for(people.signatory)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        signatory.post(url("contract_sign", contract), {"password": "guess"})

    response = signatory.post(url("contract_sign", contract), {"password": PASSWORD})

    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert not contract.signatures.exists()
    client.logout()
    login = client.post(reverse("login"), {"username": people.signatory.username, "password": PASSWORD})
    assert login.status_code == 429, "the same lock refuses the login"
