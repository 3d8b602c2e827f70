"""Mail never breaks a step: the signing link's e-mail is handed to a Celery task after
commit and sent by a real worker; a mail server that is down is retried with back-off,
the mail finally marked failed and shown on the link, and sending again works once mail
does.

These tests commit for real (transactional), so the on-commit hand-over actually runs and
the worker (another connection) sees the rows."""

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
from crm.core.models import OutgoingMail
from crm.core.roles import Role
from crm.core.tasks import mail_deliver
from crm.core.tests.factories import UserFactory
from crm.core.tests.waiting import wait_until
from customers.tests.factories import CustomerFactory

BUYER = "buyer@lakeside.example"  # the customer who is sent the signing link

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
    settings.MAIL_MAX_RETRIES = 2
    settings.MAIL_RETRY_DELAY = 0.1
    return settings


@pytest.fixture
def people(db):
    default_approval_rules()
    rep = UserFactory(username="mail_rep", role=Role.SALES_REP)
    return SimpleNamespace(
        rep=rep,
        manager=UserFactory(username="mail_manager", role=Role.SALES_MANAGER),
        customer=CustomerFactory(owner=rep, email=BUYER),
    )


def send_link_page(client, contract):
    return client.post(reverse("contracts:signing_link_send", args=[contract.pk]), {"email": BUYER})


def link_mail_status(link_id):
    return SigningLink.objects.values_list("mail_status", flat=True).get(pk=link_id)


def test_a_working_mail_server_gets_the_link_through_the_worker_once(people, client, task_worker):
    contract = approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer)
    client.force_login(people.rep)
    mail.outbox.clear()

    response = send_link_page(client, contract)

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)][0].startswith("Signing link e-mailed to")
    link = SigningLink.objects.get(contract=contract)
    wait_until(lambda: link_mail_status(link.pk) == MailStatus.SENT)
    # (The approval's notifications to the staff go out through the same worker.)
    assert [message.to for message in mail.outbox if BUYER in message.to] == [[BUYER]]
    outgoing = OutgoingMail.objects.get(to=[BUYER])
    assert outgoing.status == MailStatus.SENT and outgoing.attempts == 1 and outgoing.sent_at

    # The same task delivered again (a broker redelivery) does not send twice.
    assert mail_deliver.apply(args=[outgoing.pk]).get() == "skipped"
    assert [message.to for message in mail.outbox if BUYER in message.to] == [[BUYER]]


def test_an_unreachable_mail_server_is_retried_then_shown_as_not_delivered(
    people, client, unreachable_smtp, caplog, task_worker
):
    contract = approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer)
    client.force_login(people.rep)

    with caplog.at_level(logging.WARNING, logger="crm.mail"):
        response = send_link_page(client, contract)
        # The step succeeded at once: the mail server is not part of the request.
        assert response.status_code == 302
        link = SigningLink.objects.get(contract=contract)
        assert link.is_usable()
        wait_until(lambda: link_mail_status(link.pk) == MailStatus.FAILED)

    outgoing = OutgoingMail.objects.get(to=[BUYER])
    assert outgoing.status == MailStatus.FAILED
    assert outgoing.attempts == 3, "the first attempt and MAIL_MAX_RETRIES retries"
    assert "ConnectionRefusedError" in outgoing.last_error
    link.refresh_from_db()
    assert "ConnectionRefusedError" in link.mail_error
    assert "will retry" in caplog.text and "failed for good" in caplog.text
    event = contract_events(contract, "contract.signing_link_not_delivered").get()
    assert event.extra["email"] == BUYER
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="link-mail-failed"' in page
    assert "e-mail not delivered:" in page

    # The mail server is back: sending again delivers a fresh link.
    unreachable_smtp.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    again = send_link_page(client, contract)
    assert again.status_code == 302
    fresh = SigningLink.objects.filter(contract=contract).order_by("-id").first()
    wait_until(lambda: link_mail_status(fresh.pk) == MailStatus.SENT)
    assert len(mail.outbox) == 1
    fresh.refresh_from_db()
    assert fresh.is_usable()


def test_seed_demo_with_debug_off_and_no_mail_server_completes(unreachable_smtp):
    default_approval_rules()
    unreachable_smtp.DEBUG = False
    out = io.StringIO()
    call_command("seed_demo", customers=20, contracts=20, seed=5, stdout=out, verbosity=0)
    assert "Seeded 20 customers" in out.getvalue()
    assert SigningLink.objects.exists()
    assert not SigningLink.objects.filter(mail_status=MailStatus.FAILED).exists()
