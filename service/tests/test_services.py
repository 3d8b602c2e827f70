"""Every step of a ticket's life and every refusal, through the services."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from contracts.tests.factories import ContractFactory
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent, Notification
from crm.core.roles import Role
from crm.core.workflow import SYSTEM
from customers.choices import CustomerTier
from customers.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.choices import TicketEntryKind, TicketPriority, TicketStatus, TicketType
from service.models import DeskSettings, Ticket
from service.tests.conftest import SHANGHAI
from service.tests.factories import agent_for, ticket_for

S = TicketStatus
pytestmark = pytest.mark.django_db


def freeze_time(moment):
    """The clock stands at `moment` (Django's `timezone.now`, as the orders' tests do)."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def actions(ticket):
    return list(
        AuditEvent.objects.filter(target_id=str(ticket.pk), action__startswith="ticket.")
        .order_by("seq", "id")
        .values_list("action", flat=True)
    )


def shanghai(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def test_a_new_ticket_gets_a_number_deadlines_and_the_agent_on_duty(on_duty_agent, tuesday_morning):
    ticket = ticket_for(created_at=tuesday_morning)

    assert ticket.number.startswith("TK-2026-") and len(ticket.number) == len("TK-2026-000001")
    assert ticket.status == S.ASSIGNED and ticket.assignee == on_duty_agent
    # Normal priority: first response within 8 business hours, resolution within 5 business days.
    assert ticket.first_response_due_at == shanghai(2026, 12, 2, 10, 0)
    assert ticket.resolution_due_at == shanghai(2026, 12, 8, 10, 0)
    assert actions(ticket) == ["ticket.created", "ticket.assigned"]
    assert Notification.objects.filter(recipient=on_duty_agent).count() == 1


def test_without_an_agent_on_duty_the_ticket_waits_unassigned(db):
    agent_for("resting", on_duty=False)
    ticket = ticket_for()
    assert ticket.status == S.NEW and ticket.assignee is None


def test_a_strategic_customer_gets_the_stricter_policy(on_duty_agent, tuesday_morning):
    customer = CustomerFactory(tier=CustomerTier.STRATEGIC)
    ticket = ticket_for(customer, priority=TicketPriority.URGENT, created_at=tuesday_morning)
    assert ticket.sla_policy.customer_tier == CustomerTier.STRATEGIC
    assert ticket.first_response_due_at == shanghai(2026, 12, 1, 10, 30)


def test_contact_contract_and_order_must_belong_to_the_customer(on_duty_agent):
    customer, other = CustomerFactory(), CustomerFactory()
    with pytest.raises(DomainError) as refused:
        ticket_for(customer, contact=ContactFactory(customer=other))
    assert refused.value.field == "contact"
    with pytest.raises(DomainError) as refused:
        ticket_for(customer, contract=ContractFactory(customer=other, owner=other.owner))
    assert refused.value.field == "contract"
    assert not Ticket.objects.exists()


def test_staff_open_tickets_only_for_customers_they_see(rep, other_rep, customer):
    with pytest.raises(DomainError):
        ticket_for(customer, actor=other_rep)  # a rep may not open tickets at all
    agent = agent_for("opener")
    ticket = ticket_for(customer, actor=agent)
    assert ticket.created_by == agent


def test_the_whole_life_of_a_ticket(on_duty_agent):
    ticket = ticket_for()
    services.ticket_start(actor=on_duty_agent, ticket_id=ticket.pk)
    services.ticket_reply_add(actor=on_duty_agent, ticket=ticket, body="Checking with billing.", public=False)
    services.ticket_reply_add(actor=on_duty_agent, ticket=ticket, body="We corrected it.", public=True)
    services.ticket_wait(actor=on_duty_agent, ticket_id=ticket.pk, comment="Asked to confirm")
    services.ticket_customer_message_add(ticket=ticket, body="Confirmed, thanks", author_email="buyer@example.com")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS, "the customer's answer resumes the ticket"
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Address corrected")
    services.ticket_close(actor=on_duty_agent, ticket_id=ticket.pk)
    ticket.refresh_from_db()

    assert ticket.status == S.CLOSED and ticket.resolved_at and ticket.closed_at
    assert ticket.first_responded_at is not None
    assert [entry.kind for entry in ticket.entries.all()] == [
        TicketEntryKind.INTERNAL_NOTE,
        TicketEntryKind.PUBLIC_REPLY,
        TicketEntryKind.CUSTOMER_MESSAGE,
    ]
    assert actions(ticket) == [
        "ticket.created",
        "ticket.assigned",
        "ticket.started",
        "ticket.noted",
        "ticket.replied",
        "ticket.waiting",
        "ticket.customer_wrote",
        "ticket.resumed",
        "ticket.resolved",
        "ticket.closed",
    ]


def test_an_internal_note_does_not_stop_the_first_response_clock(on_duty_agent):
    ticket = ticket_for()
    services.ticket_reply_add(actor=on_duty_agent, ticket=ticket, body="Internal", public=False)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    services.ticket_reply_add(actor=on_duty_agent, ticket=ticket, body="Hello", public=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


def test_a_public_reply_publishes_the_event_the_mail_listens_to(on_duty_agent, django_capture_on_commit_callbacks):
    from crm.core.events import event_subscribe, event_unsubscribe

    heard = []

    def listener(name, payload):
        heard.append((name, payload))

    event_subscribe("ticket.replied", listener)
    try:
        ticket = ticket_for()
        with django_capture_on_commit_callbacks(execute=True):
            entry = services.ticket_reply_add(actor=on_duty_agent, ticket=ticket, body="Hello", public=True)
    finally:
        event_unsubscribe("ticket.replied", listener)
    assert heard == [("ticket.replied", {"ticket_id": ticket.pk, "entry_id": entry.pk})]


def test_waiting_on_the_customer_pauses_both_clocks(on_duty_agent):
    with freeze_time(shanghai(2026, 12, 1, 10, 0)):
        ticket = ticket_for()
        services.ticket_start(actor=on_duty_agent, ticket_id=ticket.pk)
    due_response, due_resolution = ticket.first_response_due_at, ticket.resolution_due_at
    with freeze_time(shanghai(2026, 12, 1, 11, 0)):
        services.ticket_wait(actor=on_duty_agent, ticket_id=ticket.pk)
    with freeze_time(shanghai(2026, 12, 2, 11, 0)):  # a full working day later
        services.ticket_customer_message_add(ticket=ticket, body="Here it is", author_email="a@example.com")
    ticket.refresh_from_db()
    assert ticket.paused_minutes == 480
    assert ticket.first_response_due_at == due_response + datetime.timedelta(days=1)
    assert ticket.resolution_due_at == shanghai(2026, 12, 9, 10, 0)
    assert due_resolution == shanghai(2026, 12, 8, 10, 0)


def test_the_time_resolved_does_not_count_after_reopening(on_duty_agent):
    with freeze_time(shanghai(2026, 12, 1, 10, 0)):
        ticket = ticket_for()
        services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done")
    with freeze_time(shanghai(2026, 12, 1, 14, 0)):  # three working hours later (lunch does not count)
        services.ticket_reopen(actor=on_duty_agent, ticket_id=ticket.pk, reason="Not fixed")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS and ticket.resolved_at is None
    assert ticket.resolution_due_at == shanghai(2026, 12, 8, 14, 0)


def test_steps_out_of_order_are_refused(on_duty_agent):
    ticket = ticket_for()
    with pytest.raises(TransitionNotAllowed):
        services.ticket_wait(actor=on_duty_agent, ticket_id=ticket.pk)  # not started
    with pytest.raises(TransitionNotAllowed):
        services.ticket_close(actor=on_duty_agent, ticket_id=ticket.pk)  # not resolved
    with pytest.raises(TransitionNotAllowed):
        services.ticket_reopen(actor=on_duty_agent, ticket_id=ticket.pk, reason="x")  # still open
    with pytest.raises(TransitionNotAllowed):
        services.ticket_claim(actor=on_duty_agent, ticket_id=ticket.pk)  # already assigned
    with pytest.raises(DomainError) as refused:
        services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="  ")
    assert refused.value.field == "comment"


def test_another_agent_may_not_work_someone_elses_ticket(on_duty_agent):
    ticket = ticket_for()
    stranger = agent_for("stranger", on_duty=False)
    for attempt in (
        lambda: services.ticket_start(actor=stranger, ticket_id=ticket.pk),
        lambda: services.ticket_resolve(actor=stranger, ticket_id=ticket.pk, comment="x"),
        lambda: services.ticket_reply_add(actor=stranger, ticket=ticket, body="x", public=True),
    ):
        with pytest.raises(DomainError):
            attempt()
    ticket.refresh_from_db()
    assert ticket.status == S.ASSIGNED


def test_only_a_service_manager_assigns(on_duty_agent, service_manager):
    ticket = ticket_for()
    other = agent_for("second", on_duty=False)
    with pytest.raises(TransitionNotAllowed):
        services.ticket_assign(actor=on_duty_agent, ticket_id=ticket.pk, assignee=other)
    services.ticket_assign(actor=service_manager, ticket_id=ticket.pk, assignee=other, comment="Speaks Cantonese")
    ticket.refresh_from_db()
    assert ticket.assignee == other and ticket.status == S.ASSIGNED
    with pytest.raises(DomainError):
        services.ticket_assign(actor=service_manager, ticket_id=ticket.pk, assignee=CustomerFactory().owner)


def test_an_agent_claims_an_unassigned_ticket(db):
    ticket = ticket_for()  # nobody on duty
    agent = agent_for("claimer", on_duty=False)
    services.ticket_claim(actor=agent, ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.status == S.IN_PROGRESS


def test_a_closed_ticket_reopens_only_within_the_set_days(on_duty_agent):
    ticket = ticket_for()
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done")
    services.ticket_close(actor=on_duty_agent, ticket_id=ticket.pk)
    desk = DeskSettings.current()
    desk.reopen_closed_days = 3
    desk.save()
    with (
        freeze_time(timezone.now() + datetime.timedelta(days=4)),
        pytest.raises(TransitionNotAllowed, match="within 3 days"),
    ):
        services.ticket_reopen(actor=on_duty_agent, ticket_id=ticket.pk, reason="Again")
    with freeze_time(timezone.now() + datetime.timedelta(days=2)):
        services.ticket_reopen(actor=on_duty_agent, ticket_id=ticket.pk, reason="Again")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS and ticket.closed_at is None


def test_the_system_reopens_a_ticket_and_closes_resolved_ones(on_duty_agent):
    from django.core.management import call_command

    ticket = ticket_for()
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done")
    services.ticket_reopen(actor=SYSTEM, ticket_id=ticket.pk, reason="Rated 1 of 5")
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done again")
    with freeze_time(timezone.now() + datetime.timedelta(days=8)):
        call_command("close_resolved_tickets", "--older-than", "7", verbosity=0)
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


def test_a_customer_message_on_a_resolved_ticket_tells_the_assignee(on_duty_agent):
    ticket = ticket_for()
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done")
    before = Notification.objects.filter(recipient=on_duty_agent).count()
    services.ticket_customer_message_add(ticket=ticket, body="One more thing", author_email="a@example.com")
    ticket.refresh_from_db()
    assert ticket.status == S.RESOLVED
    assert Notification.objects.filter(recipient=on_duty_agent).count() == before + 1


def test_the_automatic_assignment_goes_to_the_least_loaded_then_round_robin(db):
    first, second = agent_for("first"), agent_for("second")
    owners = [ticket_for().assignee for _ in range(4)]
    assert sorted(owner.username for owner in owners) == ["first", "first", "second", "second"]
    assert owners[0] != owners[1], "a tie goes to whoever waited longest"
    # An urgent ticket weighs double a normal one: the next two go to the other agent.
    urgent = ticket_for(priority=TicketPriority.URGENT)
    following = [ticket_for().assignee for _ in range(2)]
    assert all(owner != urgent.assignee for owner in following)
    agent_for("first", on_duty=False)
    assert {ticket_for().assignee for _ in range(2)} == {second}
    assert first.pk  # still there, just off duty


def test_a_complaint_is_kept_as_its_type(on_duty_agent):
    ticket = ticket_for(kind=TicketType.COMPLAINT)
    assert ticket.get_kind_display() == "Complaint"


def test_role_groups_hold_the_desks_permissions(agent, service_manager, rep):
    assert agent.has_perm("service.work_ticket") and not agent.has_perm("service.assign_ticket")
    assert service_manager.has_perm("service.assign_ticket") and service_manager.has_perm("service.view_all_ticket")
    assert rep.has_perm("service.view_ticket") and not rep.has_perm("service.work_ticket")
    assert Role.SERVICE_AGENT


# --- resolution codes (the admin's list, chosen on resolving) -------------------------------


def test_resolving_records_the_code_and_reopening_clears_it(db, on_duty_agent):
    from service.models import ResolutionCode

    code = ResolutionCode.objects.get(name="Replaced under warranty")  # seeded by the migration
    ticket = ticket_for()
    services.ticket_start(actor=on_duty_agent, ticket_id=ticket.pk)
    services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="New pump sent.", resolution_code=code)

    ticket.refresh_from_db()
    assert (ticket.resolution_code, ticket.resolution) == (code, "New pump sent.")
    event = AuditEvent.objects.get(action="ticket.resolved", target_id=str(ticket.pk))
    assert event.extra["resolution_code"] == "Replaced under warranty"
    assert event.changes["resolution_code"] == [None, "Replaced under warranty"]

    services.ticket_reopen(actor=on_duty_agent, ticket_id=ticket.pk, reason="Leaks again.")
    ticket.refresh_from_db()
    assert ticket.resolution_code is None and ticket.resolution == ""


def test_a_code_no_longer_offered_is_refused(db, on_duty_agent):
    from service.models import ResolutionCode

    retired = ResolutionCode.objects.create(name="Sent a fax", is_active=False)
    ticket = ticket_for()
    services.ticket_start(actor=on_duty_agent, ticket_id=ticket.pk)
    with pytest.raises(DomainError) as refused:
        services.ticket_resolve(actor=on_duty_agent, ticket_id=ticket.pk, comment="Done.", resolution_code=retired)
    assert refused.value.field == "resolution_code"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_the_resolve_page_asks_for_a_code_from_the_list(db, on_duty_agent, client):
    from django.urls import reverse as url_for

    from service.models import ResolutionCode

    ticket = ticket_for()
    services.ticket_start(actor=on_duty_agent, ticket_id=ticket.pk)
    client.force_login(on_duty_agent)
    page_url = url_for("service:ticket_resolve", args=[ticket.pk])
    page = client.get(page_url).content.decode()
    assert "Resolution code" in page and "No fault found" in page

    missing = client.post(page_url, {"comment": "Checked on site."})
    assert missing.status_code == 200 and "resolution_code" in missing.context["form"].errors
    assert "Checked on site." in missing.content.decode()

    code = ResolutionCode.objects.get(name="No fault found")
    done = client.post(page_url, {"comment": "Checked on site.", "resolution_code": code.pk})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_code) == (TicketStatus.RESOLVED, code)
    assert "No fault found" in client.get(ticket.get_absolute_url()).content.decode()
