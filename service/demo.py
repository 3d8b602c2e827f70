"""Demo tickets, opened and worked through the real services.

Tickets of every type, channel and priority, in every state. The services work at the
present moment, so the SLA outcome follows from when a ticket came in: about half arrived
in the last hour or so and were answered and resolved in time (both clocks met); the others
came in over the last six weeks and were worked only now (their clocks breached); a few are
still open past their deadline (the SLA watch escalates them), some wait on the customer
(their clocks paused), some are unassigned in the queue. Complaints point at the customer's
order or contract.

Resolved tickets were rated by their contacts through the survey link they were mailed
(`service.satisfaction`): scores from 1 to 5 with comments, mostly good after an answer in
time and poorer after a late one; a 1 or 2 alerted the service managers, and one unhappy
customer asked to reopen their ticket. The contacts of Chinese customers read their mail in
Chinese, the others in English (`Contact.language`, set by the customers' demo), so the desk's
mail goes out in both.
"""

import datetime
from collections import Counter

from django.utils import timezone

from crm.core.roles import Role
from crm.core.workflow import SYSTEM
from customers.models import Customer
from service import satisfaction, services
from service.choices import TicketChannel, TicketPriority, TicketStatus, TicketType
from service.mail_models import SatisfactionRating
from service.models import Ticket
from service.selectors import resolution_codes

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
# (score, comment) a contact gives, after an answer in time and after a late one.
RATINGS_ON_TIME = [
    (5, "Quick and friendly, thank you."),
    (5, "Solved the same day, excellent."),
    (4, "Good help, the technician explained everything."),
    (4, ""),
    (3, "Fine, but I had to explain the problem twice."),
]
RATINGS_LATE = [
    (4, "Took a while, but the fix works."),
    (3, "OK in the end."),
    (2, "Far too slow; our line stood still for two days."),
    (1, "Nobody called back for a week."),
    (2, "The answer did not address our question."),
]
# What the agents write and the customers answer, in the contact's language (the mail around
# it is in that language too: `service.mail.customer_language`).
WORDS = {
    "en": {
        "reply": "Thank you, we are looking into it.",
        "note": "Checked the order history.",
        "wait": "Asked for the serial number",
        "answer": "The serial number is SN-2026-0042.",
        "resolution": "Replaced the part under warranty.",
    },
    "zh-hans": {
        "reply": "感谢您的来信，我们正在处理。",
        "note": "已查看订单记录。",
        "wait": "已请客户提供序列号",
        "answer": "序列号是 SN-2026-0042。",
        "resolution": "已在保修范围内更换零件。",
    },
}
# The first ratings cover every score (each from the list that has it).
FIRST_SCORES = [5, 2, 4, 1, 3]
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
        # In time: came in minutes ago (the first ones alternate, so both outcomes show up).
        on_time = index % 2 == 0 if index < 2 * len(OUTCOME_CYCLE) else rng.random() < 0.5
        if on_time:
            created_at = now - datetime.timedelta(minutes=rng.randint(5, 50))
        else:
            created_at = now - datetime.timedelta(hours=rng.randint(30, 6 * 7 * 24))
        outcome = OUTCOME_CYCLE[index // 2] if index < 2 * len(OUTCOME_CYCLE) else rng.choice(OUTCOMES)
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
        _work(rng, ticket, outcome, agents=agents, manager=manager, on_time=on_time)
    for ticket_id in Ticket.objects.filter(
        status__in=[TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS]
    ).values_list("pk", flat=True):
        services.ticket_sla_check(ticket_id=ticket_id)
    states = Counter(Ticket.objects.values_list("status", flat=True))
    scores = Counter(SatisfactionRating.objects.values_list("score", flat=True))
    return {
        "tickets": sum(states.values()),
        **{str(state): states[state] for state in TicketStatus if states[state]},
        "ratings": sum(scores.values()),
        "low ratings": scores[1] + scores[2],
    }


def _work(rng, ticket, outcome, *, agents, manager, on_time):
    if outcome == "new":
        return
    worker = ticket.assignee
    if worker is None:
        worker = rng.choice(agents)
        services.ticket_assign(actor=manager, ticket_id=ticket.pk, assignee=worker)
    if outcome == "assigned":
        return
    words = WORDS.get(ticket.contact.language if ticket.contact else "", WORDS["en"])
    services.ticket_start(actor=worker, ticket_id=ticket.pk)
    services.ticket_reply_add(actor=worker, ticket=ticket, body=words["reply"], public=True)
    if rng.random() < 0.5:
        services.ticket_reply_add(actor=worker, ticket=ticket, body=words["note"], public=False)
    if outcome == "in_progress":
        return
    services.ticket_wait(actor=worker, ticket_id=ticket.pk, comment=words["wait"])
    if outcome == "waiting":
        return
    services.ticket_customer_message_add(
        ticket=ticket,
        body=words["answer"],
        author_email=ticket.contact.email if ticket.contact else "",
    )
    codes = list(resolution_codes())
    services.ticket_resolve(
        actor=worker,
        ticket_id=ticket.pk,
        comment=words["resolution"],
        resolution_code=rng.choice(codes) if codes else None,
    )
    reopened = _rate(rng, ticket, on_time=on_time)
    if outcome == "closed" and not reopened:
        services.ticket_close(actor=worker, ticket_id=ticket.pk)


def _rate(rng, ticket, *, on_time) -> bool:
    """Most contacts rate the resolved ticket through the survey they were mailed; returns
    whether they asked to reopen it (the first 1 of the demo does)."""
    survey = satisfaction.satisfaction_survey_send(ticket_id=ticket.pk)
    if survey is None or rng.random() < 0.2:  # no address, or the contact did not answer
        return False
    choices = RATINGS_ON_TIME if on_time else RATINGS_LATE
    rated = SatisfactionRating.objects.count()
    first = [choice for choice in choices if choice[0] == FIRST_SCORES[rated]] if rated < len(FIRST_SCORES) else []
    score, comment = first[0] if first else rng.choice(choices)
    reopen = score == 1 and not SatisfactionRating.objects.filter(reopen_requested=True).exists()
    satisfaction.satisfaction_rate(survey_id=survey.pk, score=score, comment=comment, reopen=reopen)
    return reopen
