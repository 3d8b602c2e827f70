"""Real threads on real PostgreSQL: twenty tickets at once are spread evenly, two agents
claiming one ticket get one owner, and an SLA escalation happens once however often and
however concurrently the job runs."""

import datetime
import io
import re
from collections import Counter
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.core.exceptions import TransitionNotAllowed
from crm.core.models import AuditEvent, Notification
from crm.core.roles import Role
from crm.core.tests.concurrency import race
from crm.core.tests.factories import UserFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.choices import TicketPriority, TicketStatus
from service.models import Ticket
from service.tests.factories import agent_for, ticket_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sla_defaults")]


def test_twenty_tickets_at_the_same_moment_are_spread_evenly():
    agents = [agent_for(f"spread{index}") for index in range(4)]
    customers = [CustomerFactory() for _ in range(20)]
    contacts = [ContactFactory(customer=customer) for customer in customers]

    def open_ticket(index):
        return lambda: ticket_for(customers[index], contact=contacts[index], subject=f"Ticket {index}")

    outcomes = race(*[open_ticket(index) for index in range(20)])

    assert all(isinstance(outcome, Ticket) for outcome in outcomes), outcomes
    load = Counter(Ticket.objects.values_list("assignee__username", flat=True))
    assert load == {agent.username: 5 for agent in agents}
    assert len({ticket.number for ticket in outcomes}) == 20


def test_two_agents_claiming_one_ticket_give_it_one_owner():
    ticket = ticket_for()  # nobody on duty: unassigned
    first, second = agent_for("claim_a", on_duty=False), agent_for("claim_b", on_duty=False)

    outcomes = race(
        lambda: services.ticket_claim(actor=first, ticket_id=ticket.pk),
        lambda: services.ticket_claim(actor=second, ticket_id=ticket.pk),
    )

    won = [outcome for outcome in outcomes if isinstance(outcome, Ticket)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, TransitionNotAllowed)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    ticket.refresh_from_db()
    assert ticket.assignee == won[0].assignee and ticket.status == TicketStatus.IN_PROGRESS
    assert AuditEvent.objects.filter(action="ticket.claimed", target_id=str(ticket.pk)).count() == 1


def watch() -> dict[str, int]:
    """Run the scheduled job's command once; what it did."""
    out = io.StringIO()
    call_command("watch_ticket_slas", stdout=out, verbosity=0)
    warned, escalated = re.search(r"(\d+) warning\(s\), (\d+) escalation\(s\)", out.getvalue()).groups()
    return {"warned": int(warned), "escalated": int(escalated)}


@pytest.fixture
def breached_ticket():
    manager = UserFactory(username="desk_manager", role=Role.SERVICE_MANAGER)
    agent = agent_for("late_agent")
    # Opened two weeks ago, never answered: both clocks have run out.
    ticket = ticket_for(created_at=timezone.now() - datetime.timedelta(days=14), priority=TicketPriority.NORMAL)
    assert ticket.assignee == agent
    return ticket, manager


def test_an_escalation_happens_once_when_the_job_runs_twice(breached_ticket):
    ticket, manager = breached_ticket

    first = watch()
    second = watch()

    assert first == {"warned": 0, "escalated": 2}  # the first-response and the resolution clock
    assert second == {"warned": 0, "escalated": 0}
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.URGENT, "normal, raised once per breached clock: high, then urgent"
    assert Notification.objects.filter(recipient=manager).count() == 2


def test_an_escalation_happens_once_when_two_jobs_run_at_once(breached_ticket):
    ticket, manager = breached_ticket

    outcomes = race(watch, watch)

    assert sum(outcome["escalated"] for outcome in outcomes) == 2, outcomes
    assert AuditEvent.objects.filter(action="ticket.escalated", target_id=str(ticket.pk)).count() == 2
    assert Notification.objects.filter(recipient=manager).count() == 2


def test_a_warning_comes_once_before_the_breach():
    agent = agent_for("warned_agent")
    ticket = ticket_for(priority=TicketPriority.URGENT)  # first response within one business hour
    half_an_hour_before = ticket.first_response_due_at - datetime.timedelta(minutes=30)

    with mock.patch("django.utils.timezone.now", return_value=half_an_hour_before):
        assert watch() == {"warned": 1, "escalated": 0}
        assert watch() == {"warned": 0, "escalated": 0}

    ticket.refresh_from_db()
    assert ticket.response_warned and not ticket.response_escalated
    assert ticket.priority == TicketPriority.URGENT, "a warning raises nothing"
    assert Notification.objects.filter(recipient=agent).count() == 2  # assigned, then warned
