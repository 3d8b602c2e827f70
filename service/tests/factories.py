"""Tickets for tests, opened through the service as a user would."""

import datetime

from django.contrib.auth.models import User

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.workflow import SYSTEM
from customers.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.choices import TicketChannel, TicketPriority, TicketType
from service.models import AgentDuty


def agent_for(username: str, *, on_duty: bool = True, role=Role.SERVICE_AGENT):
    """A service agent (made once per username) put on or off duty."""
    user = User.objects.filter(username=username).first() or UserFactory(username=username, role=role)
    AgentDuty.objects.update_or_create(agent=user, defaults={"on_duty": on_duty})
    return user


def ticket_for(
    customer=None,
    *,
    actor=SYSTEM,
    contact=None,
    kind=TicketType.INQUIRY,
    channel=TicketChannel.PHONE,
    priority=TicketPriority.NORMAL,
    subject="The invoice shows the wrong address",
    description="Please correct it before month end.",
    created_at: datetime.datetime | None = None,
    **extra,
):
    customer = customer or CustomerFactory()
    if contact is None:
        contact = ContactFactory(customer=customer)
    return services.ticket_create(
        actor=actor,
        customer=customer,
        contact=contact,
        kind=kind,
        channel=channel,
        subject=subject,
        description=description,
        priority=priority,
        created_at=created_at,
        **extra,
    )
