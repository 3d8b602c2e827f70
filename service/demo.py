"""Demo tickets, opened and worked through the real services.

Tickets of every type, channel and priority over the last six weeks, in every state: the
older ones were worked late (their clocks breached), the recent ones in time, a few still
open past their deadline (the SLA watch escalates them), some waiting on the customer,
some unassigned in the queue. Complaints point at the customer's order or contract.
"""

import datetime
from collections import Counter

from django.utils import timezone

from crm.core.roles import Role
from crm.core.workflow import SYSTEM
from customers.models import Customer
from service import services
from service.choices import TicketChannel, TicketPriority, TicketStatus, TicketType
from service.models import Ticket

SUBJECTS = {
    TicketType.INQUIRY: [
        ("Lead time for HP-3500 pumps", "How soon can you deliver 4 units to our Suzhou plant?"),
        ("Spare parts price list", "Please send the 2027 price list for seals and bearings."),
        ("Maintenance contract options", "What does the preventive maintenance plan include?"),
    ],
    TicketType.COMPLAINT: [
        ("Delivery arrived damaged", "Two valve housings were cracked on arrival; photos attached by e-mail."),
        ("Invoice does not match the order", "The invoice shows 12 units, we ordered 10."),
        ("Technician did not show up", "The installation visit booked for Tuesday never happened."),
    ],
    TicketType.AFTER_SALES: [
        ("Pump leaks at the shaft seal", "Since last week the HP-2200 loses oil at the seal."),
        ("Drive shows fault E07", "The 11 kW drive trips with E07 under load."),
        ("Request for operator training", "New shift staff need training on the PLC panel."),
    ],
    TicketType.FEEDBACK: [
        ("Great support from your engineer", "Thanks to the engineer who fixed the spindle so fast."),
        ("Suggestion for the order portal", "It would help to see delivery dates per line."),
    ],
}
CHANNELS = list(TicketChannel)
PRIORITIES = [
    TicketPriority.LOW,
    TicketPriority.NORMAL,
    TicketPriority.NORMAL,
    TicketPriority.HIGH,
    TicketPriority.URGENT,
]
# The state each demo ticket is left in, by share.
OUTCOMES = ["closed"] * 5 + ["resolved"] * 3 + ["in_progress"] * 2 + ["waiting"] * 2 + ["assigned", "new"]
OUTCOME_CYCLE = ["new", "assigned", "in_progress", "waiting", "resolved", "closed"]
KIND_CYCLE = [
    TicketType.INQUIRY,
    TicketType.COMPLAINT,
    TicketType.AFTER_SALES,
    TicketType.FEEDBACK,
    TicketType.AFTER_SALES,
    TicketType.INQUIRY,
]


def demo_step(*, rng, users, contracts=300) -> dict:
    """seed_demo's service part; returns how many tickets end in each state."""
    agents = [user for user in users.values() if user.groups.filter(name=Role.SERVICE_AGENT).exists()]
    manager = next(user for user in users.values() if user.groups.filter(name=Role.SERVICE_MANAGER).exists())
    customers = list(Customer.objects.filter(contacts__isnull=False).distinct().order_by("id")[:200])
    if not customers or not agents:
        return {"tickets": 0}
    count = max(contracts // 5, 20)
    now = timezone.now()
    for index in range(count):
        # The first ones go through every type and every outcome; the rest at random.
        kind = KIND_CYCLE[index] if index < len(KIND_CYCLE) else rng.choice(KIND_CYCLE)
        customer = rng.choice(customers)
        subject, description = rng.choice(SUBJECTS[kind])
        order = (
            customer.orders.order_by("-id").first() if kind in (TicketType.COMPLAINT, TicketType.AFTER_SALES) else None
        )
        contract = order.contract if order is not None else None
        created_at = now - datetime.timedelta(hours=rng.randint(1, 6 * 7 * 24))
        outcome = OUTCOME_CYCLE[index] if index < len(OUTCOME_CYCLE) else rng.choice(OUTCOMES)
        if outcome == "new":  # nobody on duty when it came in: it waits in the unassigned queue
            for agent in agents:
                services.agent_duty_set(actor=manager, agent=agent, on_duty=False)
        ticket = services.ticket_create(
            actor=rng.choice(agents) if index % 3 else SYSTEM,
            customer=customer,
            contact=customer.contacts.order_by("-is_primary", "id").first(),
            kind=kind,
            channel=rng.choice(CHANNELS),
            subject=subject,
            description=description,
            priority=rng.choice(PRIORITIES),
            contract=contract,
            order=order,
            created_at=created_at,
        )
        if outcome == "new":
            for agent in agents:
                services.agent_duty_set(actor=manager, agent=agent, on_duty=True)
        _work(rng, ticket, outcome, agents=agents, manager=manager)
    for ticket_id in Ticket.objects.filter(
        status__in=[TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS]
    ).values_list("pk", flat=True):
        services.ticket_sla_check(ticket_id=ticket_id)
    states = Counter(Ticket.objects.values_list("status", flat=True))
    return {"tickets": sum(states.values()), **{str(state): states[state] for state in TicketStatus if states[state]}}


def _work(rng, ticket, outcome, *, agents, manager):
    if outcome == "new":
        return
    worker = ticket.assignee
    if worker is None:
        worker = rng.choice(agents)
        services.ticket_assign(actor=manager, ticket_id=ticket.pk, assignee=worker)
    if outcome == "assigned":
        return
    services.ticket_start(actor=worker, ticket_id=ticket.pk)
    services.ticket_reply_add(actor=worker, ticket=ticket, body="Thank you, we are looking into it.", public=True)
    if rng.random() < 0.5:
        services.ticket_reply_add(actor=worker, ticket=ticket, body="Checked the order history.", public=False)
    if outcome == "in_progress":
        return
    services.ticket_wait(actor=worker, ticket_id=ticket.pk, comment="Asked for the serial number")
    if outcome == "waiting":
        return
    services.ticket_customer_message_add(
        ticket=ticket,
        body="The serial number is SN-2026-0042.",
        author_email=ticket.contact.email if ticket.contact else "",
    )
    services.ticket_resolve(actor=worker, ticket_id=ticket.pk, comment="Replaced the part under warranty.")
    if outcome == "closed":
        services.ticket_close(actor=worker, ticket_id=ticket.pk)
