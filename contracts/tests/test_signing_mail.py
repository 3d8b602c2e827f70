"""Mail never breaks a step: the signing link's e-mail leaves after commit, a failure is
shown, logged and recorded on the link, and sending again works once mail does.

These tests commit for real (transactional), so the on-commit mail actually runs."""

import io
import logging
import socket
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from contracts.models import SigningLink
from contracts.tests.factories import approved_contract, contract_events, default_approval_rules
from crm.core.mail import MailStatus
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def people(db):
    default_approval_rules()
    rep = UserFactory(username="mail_rep", role=Role.SALES_REP)
    return SimpleNamespace(
        rep=rep,
        manager=UserFactory(username="mail_manager", role=Role.SALES_MANAGER),
        customer=CustomerFactory(owner=rep, email="buyer@lakeside.example"),
    )


def send_link_page(client, contract):
    return client.post(reverse("contracts:signing_link_send", args=[contract.pk]), {"email": "buyer@lakeside.example"})


def test_an_unreachable_mail_server_saves_the_link_and_says_it_was_not_delivered(
    people, client, unreachable_smtp, caplog
):
    contract = approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer)
    client.force_login(people.rep)

    with caplog.at_level(logging.WARNING, logger="crm.mail"):
        response = send_link_page(client, contract)

    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "the e-mail to buyer@lakeside.example was not delivered" in message
    assert "ConnectionRefusedError" in message
    link = SigningLink.objects.get(contract=contract)
    assert link.mail_status == MailStatus.FAILED
    assert "ConnectionRefusedError" in link.mail_error
    assert "not delivered" in caplog.text and "buyer@lakeside.example" in caplog.text
    event = contract_events(contract, "contract.signing_link_not_delivered").get()
    assert event.extra["email"] == "buyer@lakeside.example"
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="link-mail-failed"' in page
    assert "e-mail not delivered:" in page

    # The mail server is back: sending again delivers a fresh link.
    unreachable_smtp.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    again = send_link_page(client, contract)
    assert again.status_code == 302
    assert [str(m) for m in get_messages(again.wsgi_request)][0].startswith("Signing link e-mailed to")
    assert len(mail.outbox) == 1
    fresh = SigningLink.objects.filter(contract=contract).order_by("-id").first()
    assert fresh.mail_status == MailStatus.SENT
    assert fresh.is_usable()


def test_seed_demo_with_debug_off_and_no_mail_server_completes(unreachable_smtp):
    default_approval_rules()
    unreachable_smtp.DEBUG = False
    out = io.StringIO()
    call_command("seed_demo", customers=20, contracts=20, seed=5, stdout=out, verbosity=0)
    assert "Seeded 20 customers" in out.getvalue()
    assert SigningLink.objects.exists()
    assert not SigningLink.objects.filter(mail_status=MailStatus.FAILED).exists()
