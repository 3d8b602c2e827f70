"""`fetch_ticket_mail` against a real IMAP server: a private Dovecot (crm/core/tests/dovecot.py)
with real .eml messages delivered into its Maildir."""

import imaplib
import io
import itertools

import pytest
from django.core.management import CommandError, call_command

from crm.core.tests.dovecot import dovecot_missing, dovecot_server
from service.choices import TicketChannel
from service.mail_models import InboundMail, InboundStatus
from service.models import Ticket
from service.tests.mail_helpers import FIXTURE_NUMBER, desk_customer, eml, ticket_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(bool(dovecot_missing()), reason=dovecot_missing() or "dovecot is here"),
]

DELIVERED = ["reply_plain.eml", "new_plain.eml", "unknown_sender.eml", "bounce.eml", "gb18030_chinese.eml"]
_users = itertools.count(1)


@pytest.fixture(scope="module")
def dovecot():
    with dovecot_server() as server:
        yield server


@pytest.fixture
def mailbox_user(dovecot):
    """A mailbox of its own for each test (the static passdb lets any user name in)."""
    return f"desk{next(_users)}"


@pytest.fixture
def desk(rep):
    customer, li, wang = desk_customer(rep)
    ticket = ticket_for(customer, li, number=FIXTURE_NUMBER)
    return customer, li, wang, ticket


def fetch(*args):
    out = io.StringIO()
    call_command("fetch_ticket_mail", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def flags_by_message_id(dovecot, user):
    """Each message's Message-ID and whether the server has it as \\Seen, read over IMAP."""
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login(user, "desk-secret")
        imap.select("INBOX", readonly=True)
        _status, data = imap.uid("search", None, "ALL")
        found = {}
        for uid in data[0].split():
            _status, fetched = imap.uid("fetch", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            flags = fetched[0][0].decode()
            header = fetched[0][1].decode().split(":", 1)[1].strip()
            found.setdefault(header, []).append("\\Seen" in flags)
        return found
    finally:
        imap.logout()


def test_the_command_reads_imap_threads_opens_keeps_and_marks_seen(dovecot, mailbox_user, desk):
    customer, li, wang, ticket = desk
    dovecot.deliver(mailbox_user, *(eml(name) for name in DELIVERED))

    output = fetch("--imap-url", dovecot.url(mailbox_user))

    assert "5 message(s) read, 5 new, 0 taken before." in output
    statuses = dict(InboundMail.objects.values_list("message_id", "status"))
    assert statuses == {
        "<CAF=reply-plain-0001@mail.example.com>": InboundStatus.THREADED,
        "<new-plain-0002@mail.example.com>": InboundStatus.TICKET_OPENED,
        "<unknown-0006@elsewhere.example.org>": InboundStatus.UNSORTED,
        "<bounce-0007@mx.example.com>": InboundStatus.AUTOMATIC,
        "<gb18030-0004@mail.example.cn>": InboundStatus.THREADED,
    }
    # Threaded by the ticket number in the subject: both replies joined the fixture's ticket.
    threaded = InboundMail.objects.filter(status=InboundStatus.THREADED)
    assert {mail.ticket_id for mail in threaded} == {ticket.pk}
    assert ticket.entries.filter(kind="customer_message").count() == 2
    # A new message from a known contact opened a ticket for their customer, by e-mail.
    opened = InboundMail.objects.get(status=InboundStatus.TICKET_OPENED).ticket
    assert (opened.customer, opened.channel) == (customer, TicketChannel.EMAIL)
    assert opened.number != FIXTURE_NUMBER and Ticket.objects.count() == 2
    # The stranger's mail waits for an agent, with the reason.
    unsorted = InboundMail.objects.get(status=InboundStatus.UNSORTED)
    assert unsorted.ticket is None and unsorted.reason == "The sender is not a known contact."

    # Every message taken is \Seen on the server now, and a second run takes nothing.
    flags = flags_by_message_id(dovecot, mailbox_user)
    assert len(flags) == 5 and all(all(seen) for seen in flags.values()), flags
    assert "0 message(s) read, 0 new" in fetch("--imap-url", dovecot.url(mailbox_user))
    assert InboundMail.objects.count() == 5 and ticket.entries.filter(kind="customer_message").count() == 2


def test_a_copy_delivered_again_is_read_but_not_imported_twice(dovecot, mailbox_user, desk):
    _customer, _li, _wang, ticket = desk
    dovecot.deliver(mailbox_user, eml("reply_plain.eml"))
    fetch("--imap-url", dovecot.url(mailbox_user))

    dovecot.deliver(mailbox_user, eml("reply_plain.eml"), eml("new_plain.eml"))  # the reply again, and one new
    output = fetch("--imap-url", dovecot.url(mailbox_user))

    assert "2 message(s) read, 1 new, 1 taken before." in output
    assert ticket.entries.filter(kind="customer_message").count() == 1
    assert all(all(seen) for seen in flags_by_message_id(dovecot, mailbox_user).values())


def test_limit_leaves_the_rest_unseen_for_the_next_run(dovecot, mailbox_user, desk):
    dovecot.deliver(mailbox_user, *(eml(name) for name in DELIVERED))

    assert "2 message(s) read, 2 new" in fetch("--imap-url", dovecot.url(mailbox_user), "--limit", "2")
    seen = [flag for flags in flags_by_message_id(dovecot, mailbox_user).values() for flag in flags]
    assert sorted(seen) == [False, False, False, True, True]
    assert "3 message(s) read, 3 new" in fetch("--imap-url", dovecot.url(mailbox_user))


def test_a_wrong_password_or_folder_exits_with_a_one_line_reason(dovecot, mailbox_user, desk):
    dovecot.deliver(mailbox_user, eml("new_plain.eml"))
    with pytest.raises(CommandError, match="The mailbox cannot be read") as refused:
        fetch("--imap-url", dovecot.url(mailbox_user, password="wrong"))
    assert "\n" not in str(refused.value)
    with pytest.raises(CommandError, match="cannot be opened"):
        fetch("--imap-url", dovecot.url(mailbox_user, folder="Nowhere"))
    assert not InboundMail.objects.exists()
    assert flags_by_message_id(dovecot, mailbox_user) == {"<new-plain-0002@mail.example.com>": [False]}


def test_the_scheduled_job_reads_the_configured_imap_mailbox(dovecot, mailbox_user, desk, settings):
    from crm.core.jobs import job_run

    settings.TICKET_MAILDIR = ""
    settings.TICKET_MAIL_IMAP_URL = dovecot.url(mailbox_user)
    dovecot.deliver(mailbox_user, eml("reply_plain.eml"))

    run = job_run("fetch_ticket_mail")

    assert run.ok, run.error
    assert "1 message(s) read, 1 new" in run.summary
    assert InboundMail.objects.get().status == InboundStatus.THREADED
