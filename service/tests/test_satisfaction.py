"""The satisfaction survey: mailed on resolution, taken once, expiring, and a low rating
alerts the service managers (and reopens the ticket when the customer asks)."""

import datetime
import re
import threading

import pytest
from django.core import mail
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent, Notification
from service.choices import TicketStatus
from service.mail_models import SatisfactionRating, SatisfactionSurvey
from service.satisfaction import LOW_RATING, satisfaction_rate
from service.services import ticket_resolve, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for

RATE = reverse("service:satisfaction")


def survey_path(message) -> str:
    url = re.search(r"https?://\S+/service/rate/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def resolved(rep, agent, service_manager, django_capture_on_commit_callbacks):
    customer, li, _wang = desk_customer(rep)
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_resolve(actor=agent, ticket_id=ticket.pk, comment="Replaced the power board.")
    (survey_mail,) = [message for message in mail.outbox if message.to == [li.email]]
    return ticket, survey_mail


@pytest.mark.django_db
def test_resolving_mails_the_contact_a_rating_link(resolved):
    ticket, survey_mail = resolved
    assert survey_mail.subject == f"[{ticket.number}] How did we do?"
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    assert survey.email == "li.wei@example.com" and survey.expires_at > timezone.now() + datetime.timedelta(days=13)
    assert AuditEvent.objects.filter(action="ticket.survey_sent", target_id=str(ticket.pk)).exists()


@pytest.mark.django_db
def test_a_good_rating_is_taken_once_and_alerts_nobody(client, resolved, django_capture_on_commit_callbacks):
    ticket, survey_mail = resolved
    assert client.get(survey_path(survey_mail)).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(RATE, {"score": "5", "comment": "Fast and friendly"})

    assert done.status_code == 200 and 'data-testid="rating-received"' in done.content.decode()
    rating = SatisfactionRating.objects.get()
    assert (rating.ticket, rating.score, rating.comment, rating.reopen_requested) == (
        ticket,
        5,
        "Fast and friendly",
        False,
    )
    assert AuditEvent.objects.get(action="ticket.rated", target_id=str(ticket.pk)).extra["score"] == 5
    assert not Notification.objects.filter(verb=LOW_RATING).exists()
    # The page is gone with the session, and the link itself says it was used.
    assert client.post(RATE, {"score": "1"}).status_code == 410
    again = client.get(survey_path(survey_mail))
    assert again.status_code == 410 and "already rated" in again.content.decode()
    assert SatisfactionRating.objects.count() == 1


@pytest.mark.django_db
def test_a_rating_of_two_alerts_the_service_manager_by_notification_and_mail(
    client, resolved, service_manager, django_capture_on_commit_callbacks
):
    ticket, survey_mail = resolved
    client.get(survey_path(survey_mail))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(RATE, {"score": "2", "comment": "Took a week"})

    alert = Notification.objects.get(recipient=service_manager, verb=LOW_RATING)
    assert ticket.number in alert.text and "2 of 5" in alert.text and "Took a week" in alert.text
    assert [message.to for message in mail.outbox] == [[service_manager.email]]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED  # a low rating alone leaves the decision to the manager


@pytest.mark.django_db
def test_the_customer_may_ask_to_reopen(client, resolved):
    ticket, survey_mail = resolved
    client.get(survey_path(survey_mail))

    done = client.post(RATE, {"score": "1", "comment": "Still broken", "reopen": "on"})

    assert "reopened your request" in done.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS  # back to its agent
    event = AuditEvent.objects.get(action="ticket.reopened", target_id=str(ticket.pk))
    assert "Still broken" in event.extra["reason"]


@pytest.mark.django_db
def test_bad_ratings_are_refused_next_to_the_field(client, resolved):
    _ticket, survey_mail = resolved
    client.get(survey_path(survey_mail))
    for score in ("0", "6", "five", ""):
        response = client.post(RATE, {"score": score})
        assert response.status_code == 200 and "score" in response.context["form"].errors
    assert not SatisfactionRating.objects.exists()


@pytest.mark.django_db
def test_an_expired_or_replaced_link_does_not_take_a_rating(client, resolved):
    ticket, survey_mail = resolved
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    gone = client.get(survey_path(survey_mail))
    assert gone.status_code == 410 and "expired" in gone.content.decode()
    with pytest.raises(DomainError, match="expired"):
        satisfaction_rate(survey_id=survey.pk, score=4)


@pytest.mark.django_db(transaction=True)
def test_two_ratings_sent_at_the_same_moment_store_one(rep, agent, service_manager):
    customer, li, _wang = desk_customer(rep)
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    ticket_resolve(actor=agent, ticket_id=ticket.pk, comment="Done")  # outside a transaction: the survey is mailed
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    barrier = threading.Barrier(2)
    outcomes = []

    def rate(score):
        try:
            barrier.wait()
            satisfaction_rate(survey_id=survey.pk, score=score)
            outcomes.append("rated")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=rate, args=(score,)) for score in (4, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["You have already rated this ticket. Thank you!", "rated"]
    assert SatisfactionRating.objects.filter(ticket=ticket).count() == 1
