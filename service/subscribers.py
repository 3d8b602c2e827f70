"""The desk's reactions to its own ticket events, and what it tells the apps below it.

- `ticket.replied` (a public reply): mailed to the customer (`service.mail`).
- `ticket.resolved`: the contact gets the satisfaction survey (`service.satisfaction`).
- The contract approval assistant (contracts, below this app) asks for each customer's
  open complaints through `crm.core.customer_facts`; the count is answered here.
"""

import datetime

from django.db import connection

from crm.core.customer_facts import OPEN_COMPLAINTS, customer_fact_register
from crm.core.events import event_subscribe
from service.choices import TicketStatus, TicketType
from service.mail import ticket_reply_mail_send
from service.models import Ticket
from service.satisfaction import satisfaction_survey_send


def reply_mail(name: str, payload: dict) -> None:
    ticket_reply_mail_send(entry_id=payload["entry_id"])


def survey_mail(name: str, payload: dict) -> None:
    satisfaction_survey_send(ticket_id=payload["ticket_id"])


def open_complaints(pairs: list[tuple[int, datetime.datetime]]) -> dict[tuple[int, datetime.datetime], int]:
    """For each (customer, moment): the customer's complaints opened before that moment and
    not resolved by then (a ticket resolved later, or never, was open then). One query."""
    if not pairs:
        return {}
    table = connection.ops.quote_name(Ticket._meta.db_table)
    values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(pairs))
    sql = f"""
        SELECT wanted.customer_id, wanted.moment, COUNT(ticket.id)
        FROM (VALUES {values}) AS wanted (customer_id, moment)
        LEFT JOIN {table} AS ticket
          ON ticket.customer_id = wanted.customer_id
         AND ticket.kind = %s
         AND ticket.created_at < wanted.moment
         AND (ticket.resolved_at IS NULL OR ticket.resolved_at > wanted.moment)
         AND (ticket.status NOT IN (%s, %s) OR ticket.resolved_at IS NOT NULL)
        GROUP BY wanted.customer_id, wanted.moment
    """
    params: list = [value for pair in pairs for value in pair]
    params += [TicketType.COMPLAINT, TicketStatus.RESOLVED, TicketStatus.CLOSED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted = {(customer_id, moment): count for customer_id, moment, count in cursor.fetchall()}
    return {pair: counted.get(pair, 0) for pair in pairs}


def subscribe() -> None:
    event_subscribe("ticket.replied", reply_mail)
    event_subscribe("ticket.resolved", survey_mail)
    customer_fact_register(OPEN_COMPLAINTS, open_complaints)
