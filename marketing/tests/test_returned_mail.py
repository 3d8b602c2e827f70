"""Bounces and replies: each copy of a campaign goes out with a return path and a Message-ID
of its own; real bounce files (an RFC 3464 report, Postfix's, Exchange's that only quotes
the original's headers, a temporary failure), an out-of-office reply, a person's reply and
garbage are delivered to a private Dovecot (crm/core/tests/dovecot.py) and read by
`fetch_campaign_mail` over IMAP."""

import imaplib
import io
import itertools
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.core.models import AuditEvent, OutgoingMail
from crm.core.tests.dovecot import dovecot_missing, dovecot_server
from crm.core.tokens import token_hash
from crm.core.workflow import SYSTEM
from customers.tests.factories import CustomerFactory
from marketing import services
from marketing.choices import RecipientStatus, ReturnedMailKind, SuppressionReason
from marketing.inbound import returned_parse
from marketing.models import Campaign, Recipient, ReturnedMail, Suppression
from marketing.tests.factories import campaign_for, one_contact, segment_for

EML = Path(__file__).parent / "eml"
PEOPLE = {
    "li": "li.wei@example.com",
    "wang": "wang.fang@example.org",
    "zhao": "zhao.min@corp.example.cn",
    "chen": "chen.jie@example.org",
    "sun": "sun.li@example.com",
}
_users = itertools.count(1)


def filled(name, copy=None, campaign=None):
    """The .eml file, naming one real copy of the campaign (its address, return path and
    Message-ID, as the bouncing server saw them)."""
    raw = (EML / name).read_bytes()
    if copy is None:
        return raw
    values = {
        b"{EMAIL}": copy.to[0].encode(),
        b"{RETURN_PATH}": copy.from_email.encode(),
        b"{MESSAGE_ID}": copy.extra_headers["Message-ID"].encode(),
        b"{CAMPAIGN}": str(campaign.pk).encode(),
    }
    for placeholder, value in values.items():
        raw = raw.replace(placeholder, value)
    return raw


@pytest.fixture
def campaign_sent(rep, manager, django_capture_on_commit_callbacks):
    """A campaign sent (inline) to five contacts; their copies by first name."""
    for email in PEOPLE.values():
        one_contact(CustomerFactory(owner=rep), email=email, name=email.split("@")[0])
    segment = segment_for(rep)
    campaign = campaign_for(rep, segment)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    copies = {name: next(m for m in mail.outbox if m.to == [email]) for name, email in PEOPLE.items()}
    return Campaign.objects.get(pk=campaign.pk), copies, segment


def recipient(campaign, name):
    return Recipient.objects.get(campaign=campaign, email=PEOPLE[name])


@pytest.mark.django_db
def test_each_copy_has_its_own_return_path_and_message_id_kept_only_as_a_hash(campaign_sent, settings):
    campaign, copies, _segment = campaign_sent
    copy = copies["li"]
    # The envelope sender (where servers send bounces) is the copy's own; From stays ours.
    match = re.fullmatch(r"bounces\+([0-9a-f]{48})@crm\.localhost", copy.from_email)
    assert match, copy.from_email
    assert copy.extra_headers["From"] == settings.DEFAULT_FROM_EMAIL
    assert "Return-Path" not in copy.extra_headers
    assert copy.extra_headers["Message-ID"] == f"<campaign.{campaign.pk}.{match.group(1)}@crm.localhost>"
    li = recipient(campaign, "li")
    assert li.return_token_hash == token_hash(match.group(1)) and li.token_hash != li.return_token_hash
    assert len({copy.from_email for copy in copies.values()}) == len(PEOPLE)


@pytest.mark.parametrize(
    ("name", "kind", "status", "address"),
    [
        ("dsn_standard.eml", ReturnedMailKind.HARD_BOUNCE, "5.1.1", "{EMAIL}"),
        ("postfix_user_unknown.eml", ReturnedMailKind.HARD_BOUNCE, "5.1.1", "{EMAIL}"),
        ("postfix_mailbox_full_delayed.eml", ReturnedMailKind.SOFT_BOUNCE, "4.2.2", "{EMAIL}"),
        ("exchange_quoted_headers.eml", ReturnedMailKind.HARD_BOUNCE, "5.1.10", "{EMAIL}"),
        ("out_of_office.eml", ReturnedMailKind.AUTO_REPLY, "", ""),
        ("reply.eml", ReturnedMailKind.REPLY, "", ""),
        ("stranger.eml", ReturnedMailKind.UNRECOGNISED, "", ""),
        ("garbage.eml", ReturnedMailKind.UNRECOGNISED, "", ""),
    ],
)
def test_each_kind_of_message_is_told_apart(name, kind, status, address):
    token = "0123456789abcdef" * 3
    raw = (
        (EML / name)
        .read_bytes()
        .replace(b"{EMAIL}", b"li.wei@example.com")
        .replace(b"{RETURN_PATH}", f"bounces+{token}@crm.localhost".encode())
        .replace(b"{MESSAGE_ID}", f"<campaign.7.{token}@crm.localhost>".encode())
        .replace(b"{CAMPAIGN}", b"7")
    )
    parsed = returned_parse(raw, bounce_local="bounces")
    assert (parsed.kind, parsed.status_code) == (kind, status)
    assert parsed.address == address.replace("{EMAIL}", "li.wei@example.com")
    if kind in (ReturnedMailKind.HARD_BOUNCE, ReturnedMailKind.SOFT_BOUNCE, ReturnedMailKind.REPLY):
        # Exchange's report has no return path: the token comes from the quoted Message-ID.
        assert parsed.return_tokens == (token,)
    if kind == ReturnedMailKind.HARD_BOUNCE:
        assert status in parsed.diagnostic and parsed.campaign_id == 7


# --- through a real IMAP server ----------------------------------------------------------------

imap = pytest.mark.skipif(bool(dovecot_missing()), reason=dovecot_missing() or "dovecot is here")


@pytest.fixture(scope="module")
def dovecot():
    if dovecot_missing():
        pytest.skip(dovecot_missing())
    with dovecot_server() as server:
        yield server


@pytest.fixture
def mailbox_user(dovecot):
    return f"bounces{next(_users)}"


def fetch(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("fetch_campaign_mail", *args, stdout=out, stderr=err)
    finally:
        fetch.stderr = err.getvalue()
    return out.getvalue()


def seen_flags(dovecot, user):
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        client.login(user, "desk-secret")
        client.select("INBOX", readonly=True)
        _status, data = client.uid("search", None, "ALL")
        flags = []
        for uid in data[0].split():
            _status, fetched = client.uid("fetch", uid, "(FLAGS)")
            flags.append("\\Seen" in fetched[0].decode())
        return flags
    finally:
        client.logout()


@imap
@pytest.mark.django_db
def test_bounces_and_replies_read_over_imap_mark_their_recipients(
    dovecot, mailbox_user, campaign_sent, manager, client, django_capture_on_commit_callbacks
):
    campaign, copies, segment = campaign_sent
    dovecot.deliver(
        mailbox_user,
        filled("dsn_standard.eml", copies["li"], campaign),
        filled("postfix_user_unknown.eml", copies["wang"], campaign),
        filled("exchange_quoted_headers.eml", copies["zhao"], campaign),
        filled("postfix_mailbox_full_delayed.eml", copies["chen"], campaign),
        filled("out_of_office.eml", copies["sun"], campaign),
        filled("reply.eml", copies["sun"], campaign),
        filled("stranger.eml"),
        filled("garbage.eml"),
    )

    output = fetch("--imap-url", dovecot.url(mailbox_user))

    assert "8 message(s) read, 8 new, 0 taken before." in output
    assert "2 message(s) not understood" in output
    for name in ("li", "wang", "zhao"):
        bounced = recipient(campaign, name)
        assert bounced.status == RecipientStatus.BOUNCED and bounced.bounced_at is not None, name
        assert "5.1.1" in bounced.error
        assert Suppression.objects.get(email=PEOPLE[name]).reason == SuppressionReason.BOUNCED
    chen = recipient(campaign, "chen")
    assert (chen.status, chen.soft_bounces) == (RecipientStatus.SENT, 1) and "Mailbox full" in chen.error
    assert not Suppression.objects.filter(email=PEOPLE["chen"]).exists()
    # The out-of-office reply is neither a bounce nor a reply; the person's reply is.
    sun = recipient(campaign, "sun")
    assert sun.status == RecipientStatus.SENT and sun.replied_at is not None and sun.soft_bounces == 0
    kinds = sorted(ReturnedMail.objects.values_list("kind", flat=True))
    assert kinds == sorted(
        [ReturnedMailKind.HARD_BOUNCE] * 3
        + [ReturnedMailKind.SOFT_BOUNCE, ReturnedMailKind.AUTO_REPLY, ReturnedMailKind.REPLY]
        + [ReturnedMailKind.UNRECOGNISED] * 2
    )
    assert AuditEvent.objects.filter(action="campaign.recipient_bounced", target_id=str(campaign.pk)).count() == 3
    assert AuditEvent.objects.filter(action="campaign.recipient_replied").count() == 1
    # Everything read, garbage included, is \Seen; a second run reads nothing.
    assert seen_flags(dovecot, mailbox_user) == [True] * 8
    assert "0 message(s) read" in fetch("--imap-url", dovecot.url(mailbox_user))

    # The same report delivered again is read, not taken twice.
    dovecot.deliver(mailbox_user, filled("postfix_mailbox_full_delayed.eml", copies["chen"], campaign))
    assert "1 message(s) read, 0 new, 1 taken before." in fetch("--imap-url", dovecot.url(mailbox_user))
    assert recipient(campaign, "chen").soft_bounces == 1

    # The results page counts them.
    client.force_login(manager)
    page = client.get(reverse("marketing:campaign_results", args=[campaign.pk])).content.decode()
    assert re.search(r'data-testid="result-bounced">3<', page)
    assert re.search(r'data-testid="result-replied">1<', page)
    assert re.search(r'data-testid="result-soft-bounced">1<', page)

    # The next campaign to the same segment skips the three hard-bounced addresses.
    following = campaign_for(campaign.owner, segment, name="Summer launch")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_schedule(actor=manager, campaign_id=following.pk)
    assert set(Recipient.objects.filter(campaign=following).values_list("email", flat=True)) == {
        PEOPLE["chen"],
        PEOPLE["sun"],
    }
    assert {message.to[0] for message in mail.outbox} == {PEOPLE["chen"], PEOPLE["sun"]}


@imap
@pytest.mark.django_db
def test_the_scheduled_job_reads_the_configured_mailbox(dovecot, mailbox_user, campaign_sent, settings):
    from crm.core.jobs import job_run

    campaign, copies, _segment = campaign_sent
    settings.MARKETING_MAIL_IMAP_URL = dovecot.url(mailbox_user)
    dovecot.deliver(mailbox_user, filled("dsn_standard.eml", copies["li"], campaign))

    run = job_run("fetch_campaign_mail")

    assert run.ok is True, run.error
    assert "1 message(s) read, 1 new" in run.summary
    assert recipient(campaign, "li").status == RecipientStatus.BOUNCED


@imap
@pytest.mark.django_db
def test_a_wrong_password_exits_with_a_one_line_reason(dovecot, mailbox_user):
    with pytest.raises(CommandError, match="The mailbox cannot be read") as refused:
        fetch("--imap-url", dovecot.url(mailbox_user, password="wrong"))
    assert "\n" not in str(refused.value)


@pytest.mark.django_db
def test_without_a_mailbox_the_command_says_so(settings):
    settings.MARKETING_MAILDIR = settings.MARKETING_MAIL_IMAP_URL = ""
    assert "No mailbox is configured" in fetch("--if-configured")
    with pytest.raises(CommandError, match="No mailbox: set MARKETING_MAILDIR or MARKETING_MAIL_IMAP_URL"):
        fetch()
    with pytest.raises(CommandError, match="at least 1"):
        fetch("--limit", "0")


@pytest.mark.django_db
def test_a_bounce_from_a_maildir_before_the_send_outcome_finishes_the_campaign(
    rep, manager, tmp_path, django_capture_on_commit_callbacks
):
    """A report that arrives while the copy is still queued: bounced, and the campaign ends."""
    import mailbox

    one_contact(CustomerFactory(owner=rep), email=PEOPLE["li"])
    campaign = campaign_for(rep, segment_for(rep))
    services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        services.campaign_batch_hand(campaign_id=campaign.pk)  # handed, its outcome not yet known
    li = Recipient.objects.get(campaign=campaign)
    assert li.status == RecipientStatus.QUEUED
    headers = OutgoingMail.objects.get(pk=li.mail_id).headers
    box = mailbox.Maildir(tmp_path / "box", create=True)
    raw = (
        filled("dsn_standard.eml")
        .replace(b"{EMAIL}", PEOPLE["li"].encode())
        .replace(b"{RETURN_PATH}", headers["Return-Path"].strip("<>").encode())
        .replace(b"{MESSAGE_ID}", headers["Message-ID"].encode())
        .replace(b"{CAMPAIGN}", str(campaign.pk).encode())
    )
    box.add(raw)
    box.close()

    assert "1 message(s) read, 1 new" in fetch("--maildir", str(tmp_path / "box"))

    li.refresh_from_db()
    assert li.status == RecipientStatus.BOUNCED
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"
