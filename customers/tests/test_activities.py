"""Activities: planning, completing (the outcome on the timeline, one audit event),
rescheduling, cancelling, My day's buckets, the navigation count, and the reminder sent once
through the real worker."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent, JobRun, Notification
from crm.core.tasks import job_run
from crm.core.tests.waiting import wait_until
from customers.choices import ActivityStatus, InteractionKind
from customers.models import Activity, Interaction
from customers.selectors import my_day
from customers.services import (
    activity_cancel,
    activity_complete,
    activity_create,
    activity_reminders_send,
    activity_reschedule,
)
from customers.tests.factories import ActivityFactory, CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def _plan(actor, customer, *, due_in=datetime.timedelta(hours=3), **values):
    values.setdefault("kind", "call")
    values.setdefault("subject", "Call the buyer about the pilot")
    return activity_create(actor=actor, customer_id=customer.pk, due_at=timezone.now() + due_in, **values)


def test_complete_puts_the_outcome_on_the_timeline_with_one_audit_event(rep, customer):
    opportunity = OpportunityFactory(customer=customer)
    activity = _plan(rep, customer, opportunity=opportunity)
    before = AuditEvent.objects.count()
    done = activity_complete(actor=rep, activity_id=activity.pk, outcome="They want a pilot in March")
    assert done.status == ActivityStatus.DONE and done.done_at is not None
    interaction = Interaction.objects.get(pk=done.interaction_id)
    assert (interaction.kind, interaction.subject, interaction.body, interaction.opportunity) == (
        InteractionKind.CALL,
        "Call the buyer about the pilot",
        "They want a pilot in March",
        opportunity,
    )
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("seq").action == "activity.completed"


def test_complete_needs_an_outcome_and_happens_once(rep, customer):
    activity = _plan(rep, customer)
    with pytest.raises(DomainError):
        activity_complete(actor=rep, activity_id=activity.pk, outcome="  ")
    activity_complete(actor=rep, activity_id=activity.pk, outcome="Done")
    with pytest.raises(TransitionNotAllowed):
        activity_complete(actor=rep, activity_id=activity.pk, outcome="Again")


def test_reschedule_moves_the_due_time_and_rearms_the_reminder(rep, customer):
    activity = _plan(rep, customer)
    Activity.objects.filter(pk=activity.pk).update(reminded_at=timezone.now())
    later = timezone.now() + datetime.timedelta(days=2)
    moved = activity_reschedule(actor=rep, activity_id=activity.pk, due_at=later)
    assert moved.due_at == later and moved.reminded_at is None


def test_cancel_closes_it_and_another_rep_cannot_touch_it(rep, other_rep, customer):
    activity = _plan(rep, customer)
    with pytest.raises(DomainError):
        activity_cancel(actor=other_rep, activity_id=activity.pk)
    assert activity_cancel(actor=rep, activity_id=activity.pk, reason="Meeting moved").status == "cancelled"


def test_an_opportunity_of_another_customer_is_refused(rep, customer):
    foreign = OpportunityFactory(customer=CustomerFactory(owner=rep))
    with pytest.raises(DomainError) as refused:
        _plan(rep, customer, opportunity=foreign)
    assert refused.value.field == "opportunity"


def test_my_day_buckets_and_the_managers_team_view(rep, other_rep, manager, customer):
    now = timezone.now()
    today_end = timezone.localtime(now).replace(hour=23, minute=59)
    overdue = ActivityFactory(customer=customer, due_at=now - datetime.timedelta(hours=2))
    today = ActivityFactory(customer=customer, due_at=min(now + datetime.timedelta(minutes=1), today_end))
    upcoming = ActivityFactory(customer=customer, due_at=now + datetime.timedelta(days=3))
    ActivityFactory(customer=customer, due_at=now - datetime.timedelta(days=1), status=ActivityStatus.DONE, done_at=now)
    theirs = ActivityFactory(customer=CustomerFactory(owner=other_rep), due_at=now - datetime.timedelta(days=1))
    day = my_day(user=rep, now=now)
    assert (day.overdue, day.today, day.upcoming, day.team_overdue) == ([overdue], [today], [upcoming], None)
    assert theirs in my_day(user=manager, now=now).team_overdue


def test_my_day_page_and_the_navigation_count(client_for, rep, customer):
    ActivityFactory(customer=customer, due_at=timezone.now() - datetime.timedelta(hours=1), subject="Send samples")
    page = client_for(rep).get(reverse("customers:my_day"))
    content = page.content.decode()
    assert "Send samples" in content
    assert 'data-testid="nav-my-day-count"' in content


def test_completing_on_the_page_shows_the_outcome_on_the_customer_timeline(client_for, rep, customer):
    activity = _plan(rep, customer)
    client = client_for(rep)
    response = client.post(reverse("customers:activity_complete", args=[activity.pk]), {"outcome": "Agreed a demo"})
    assert response.status_code == 302
    assert "Agreed a demo" in client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()


def test_planning_from_the_opportunity_page(client_for, rep, customer):
    opportunity = OpportunityFactory(customer=customer)
    response = client_for(rep).post(
        reverse("customers:activity_create", args=[customer.pk]),
        {
            "kind": "meeting",
            "subject": "Site visit",
            "due_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "opportunity": opportunity.pk,
            "next": opportunity.get_absolute_url(),
        },
    )
    assert response.status_code == 302 and response["Location"] == opportunity.get_absolute_url()
    assert Activity.objects.get(subject="Site visit").opportunity == opportunity


def test_the_reminder_is_sent_once_shortly_before_due(rep, customer, settings):
    settings.ACTIVITY_REMINDER_MINUTES = 30
    soon = ActivityFactory(customer=customer, due_at=timezone.now() + datetime.timedelta(minutes=20))
    ActivityFactory(customer=customer, due_at=timezone.now() + datetime.timedelta(hours=5))
    assert activity_reminders_send() == [soon]
    assert activity_reminders_send() == []
    assert Notification.objects.filter(recipient=rep).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reminder_goes_through_the_worker_in_app_and_by_mail_once(task_worker, settings):
    from crm.core.roles import Role
    from crm.core.tests.factories import UserFactory

    settings.ACTIVITY_REMINDER_MINUTES = 30
    assignee = UserFactory(username="remindme", role=Role.SALES_REP, email="remindme@example.com")
    customer = CustomerFactory(owner=assignee, name="Reminder Customer")
    ActivityFactory(
        customer=customer, subject="Call 13812345678 back", due_at=timezone.now() + datetime.timedelta(minutes=10)
    )
    mail.outbox.clear()
    for _run in range(2):
        job_run.delay("send_activity_reminders")
    wait_until(lambda: JobRun.objects.filter(job="send_activity_reminders", finished_at__isnull=False).count() == 2)
    wait_until(lambda: any("remindme@example.com" in message.to for message in mail.outbox))
    assert Notification.objects.filter(recipient=assignee).count() == 1
    mails = [message for message in mail.outbox if "remindme@example.com" in message.to]
    assert len(mails) == 1
    assert "Reminder Customer" in mails[0].body
