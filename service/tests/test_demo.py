"""seed_demo's service desk: tickets of every type and state, met, breached and paused
clocks, and satisfaction ratings from 1 to 5 with the low ones alerting the managers."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.core.models import AuditEvent, Notification
from crm.core.roles import Role
from service.choices import TicketStatus, TicketType
from service.mail_models import SatisfactionRating
from service.models import Ticket
from service.satisfaction import LOW_RATING

pytestmark = pytest.mark.django_db


def test_the_demo_desk_has_every_state_sla_outcome_and_rating():
    out = io.StringIO()
    call_command("seed_demo", customers=60, seed=3, contracts=150, stdout=out, verbosity=0)

    assert "service:" in out.getvalue() and "ratings:" in out.getvalue()
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(TicketType.values)
    assert set(Ticket.objects.values_list("status", flat=True)) == set(TicketStatus.values)
    now = timezone.now()
    done = Ticket.objects.filter(resolved_at__isnull=False)
    met = [ticket for ticket in done if ticket.resolved_at <= ticket.resolution_due_at]
    breached = [ticket for ticket in done if ticket.resolved_at > ticket.resolution_due_at]
    assert met and breached
    waiting = Ticket.objects.filter(status=TicketStatus.WAITING_ON_CUSTOMER)
    assert waiting.exists() and all(ticket.paused_since for ticket in waiting)
    assert Ticket.objects.filter(status__in=[TicketStatus.IN_PROGRESS], resolution_due_at__lt=now).exists()
    assert AuditEvent.objects.filter(action="ticket.escalated").exists()

    scores = set(SatisfactionRating.objects.values_list("score", flat=True))
    assert scores == {1, 2, 3, 4, 5}, scores
    assert SatisfactionRating.objects.exclude(comment="").exists()
    low = SatisfactionRating.objects.filter(score__lte=2).count()
    managers_told = Notification.objects.filter(
        verb=LOW_RATING, recipient__groups__name=Role.SERVICE_MANAGER.value
    ).count()
    assert low and managers_told >= low
    assert AuditEvent.objects.filter(action="ticket.rated").count() == SatisfactionRating.objects.count()
    # The unhappy customer who asked to reopen got their ticket back in progress.
    reopened = SatisfactionRating.objects.get(reopen_requested=True).ticket
    assert reopened.status in (TicketStatus.IN_PROGRESS, TicketStatus.NEW)


def test_the_demo_desk_mails_contacts_in_their_own_language():
    """Contacts of Chinese and of English-speaking customers: the desk's mail (here the
    rating surveys) goes out in Chinese to the first and in English to the others."""
    from crm.core.models import OutgoingMail
    from customers.models import Contact

    call_command("seed_demo", customers=60, seed=3, contracts=150, stdout=io.StringIO(), verbosity=0)

    assert set(Contact.objects.values_list("language", flat=True)) == {"en", "zh-hans"}
    language_of = dict(Contact.objects.exclude(email="").values_list("email", "language"))
    languages = set()
    for outgoing in OutgoingMail.objects.filter(subject__contains="[TK-"):
        language = language_of.get(outgoing.to[0].lower())
        if language is None:
            continue
        chinese = any("\u4e00" <= char <= "\u9fff" for char in outgoing.subject + outgoing.body.split("\n", 1)[0])
        assert chinese == (language == "zh-hans"), (outgoing.subject, language)
        languages.add(language)
    assert languages == {"en", "zh-hans"}
    zh_ticket = Ticket.objects.filter(contact__language="zh-hans", entries__kind="public_reply").first()
    assert zh_ticket.entries.filter(kind="public_reply", body__contains="我们正在处理").exists()
