"""Mail whose hand-over to the queue was lost (the broker was down at commit) is queued
again by the `requeue_pending_mail` job, and still sent only once."""

import datetime

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.core.models import MailStatus, OutgoingMail

pytestmark = pytest.mark.django_db


def _stranded(subject: str, minutes_ago: int, attempts: int = 0) -> OutgoingMail:
    """A mail row as `mail_send_on_commit` leaves it when `delay()` could not reach the broker."""
    outgoing = OutgoingMail.objects.create(subject=subject, body="Hello", to=["buyer@example.com"], attempts=attempts)
    created_at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    OutgoingMail.objects.filter(pk=outgoing.pk).update(created_at=created_at)
    return outgoing


def test_a_stranded_mail_is_sent_once_and_a_fresh_or_retrying_one_is_left():
    stranded = _stranded("Your contract", minutes_ago=30)
    fresh = _stranded("Just queued", minutes_ago=1)
    retrying = _stranded("Mail server was down", minutes_ago=30, attempts=1)
    mail.outbox.clear()

    call_command("requeue_pending_mail", "--older-than-minutes", "10", verbosity=0)
    call_command("requeue_pending_mail", "--older-than-minutes", "10", verbosity=0)

    assert [message.subject for message in mail.outbox] == ["Your contract"]
    stranded.refresh_from_db()
    assert stranded.status == MailStatus.SENT
    assert OutgoingMail.objects.get(pk=fresh.pk).status == MailStatus.PENDING
    assert OutgoingMail.objects.get(pk=retrying.pk).status == MailStatus.PENDING


def test_a_negative_age_is_refused_with_a_reason():
    with pytest.raises(CommandError, match="negative"):
        call_command("requeue_pending_mail", "--older-than-minutes", "-1")


def test_an_age_beyond_a_year_is_refused_with_a_reason_not_a_traceback():
    with pytest.raises(CommandError, match="at most 525600"):
        call_command("requeue_pending_mail", "--older-than-minutes", "99999999999999")
