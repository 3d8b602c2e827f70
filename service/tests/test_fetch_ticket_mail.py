"""`fetch_ticket_mail` and its scheduled job, over a real Maildir of the .eml fixtures."""

import io
import mailbox

import pytest
from django.core.management import CommandError, call_command

from crm.core.jobs import job_run
from service.mail_models import InboundMail, InboundStatus
from service.tests.mail_helpers import EML, FIXTURE_NUMBER, desk_customer, ticket_for

pytestmark = pytest.mark.django_db

DROPPED = ["reply_plain.eml", "new_plain.eml", "unknown_sender.eml", "bounce.eml", "gb18030_chinese.eml"]


@pytest.fixture
def maildir(tmp_path, rep):
    customer, li, _wang = desk_customer(rep)
    ticket_for(customer, li, number=FIXTURE_NUMBER)
    box = mailbox.Maildir(tmp_path / "desk", create=True)
    for name in DROPPED:
        box.add((EML / name).read_bytes())
    return tmp_path / "desk"


def fetch(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("fetch_ticket_mail", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_the_command_takes_each_message_once_and_marks_it_read(maildir):
    output = fetch("--maildir", str(maildir))

    assert "5 message(s) read, 5 new, 0 taken before." in output
    statuses = dict(InboundMail.objects.values_list("message_id", "status"))
    assert statuses == {
        "<CAF=reply-plain-0001@mail.example.com>": InboundStatus.THREADED,
        "<new-plain-0002@mail.example.com>": InboundStatus.TICKET_OPENED,
        "<unknown-0006@elsewhere.example.org>": InboundStatus.UNSORTED,
        "<bounce-0007@mx.example.com>": InboundStatus.AUTOMATIC,
        "<gb18030-0004@mail.example.cn>": InboundStatus.THREADED,
    }
    box = mailbox.Maildir(maildir, create=False)
    assert all("S" in message.get_flags() for message in box)
    assert not list((maildir / "new").iterdir())

    assert "0 message(s) read" in fetch("--maildir", str(maildir))
    assert InboundMail.objects.count() == 5


def test_a_message_put_back_as_unread_is_not_taken_twice(maildir):
    fetch("--maildir", str(maildir), "--limit", "2")
    assert InboundMail.objects.count() == 2
    box = mailbox.Maildir(maildir, create=False)
    box.add((EML / "reply_plain.eml").read_bytes())  # the same message again (a copy left behind)

    output = fetch("--maildir", str(maildir))

    assert "4 message(s) read, 3 new, 1 taken before." in output
    assert InboundMail.objects.count() == 5


def test_the_scheduled_job_reads_the_configured_maildir(maildir, settings):
    settings.TICKET_MAILDIR = str(maildir)
    run = job_run("fetch_ticket_mail")
    assert run.ok, run.error
    assert "5 message(s) read, 5 new" in run.summary
    assert InboundMail.objects.count() == 5


def test_without_a_mailbox_the_job_has_nothing_to_do_and_the_command_says_why(db, settings):
    settings.TICKET_MAILDIR = settings.TICKET_MAIL_IMAP_URL = ""
    assert "No mailbox is configured" in fetch("--if-configured")
    with pytest.raises(CommandError, match="No mailbox: set TICKET_MAILDIR or TICKET_MAIL_IMAP_URL"):
        fetch()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--maildir", "/nonexistent/desk"], "is not a Maildir"),
        (["--limit", "0", "--maildir", "/tmp"], "--limit takes a number"),
        (["--imap-url", "ftp://example.com/INBOX"], "must look like imaps://"),
    ],
)
def test_bad_arguments_exit_with_a_one_line_reason(db, args, reason):
    with pytest.raises(CommandError, match=reason):
        fetch(*args)
