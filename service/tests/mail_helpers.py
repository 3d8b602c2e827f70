"""What the desk's mail tests share: a customer with two contacts, a ticket numbered as in
the .eml fixtures, and the raw fixtures themselves."""

from pathlib import Path

from crm.core.workflow import SYSTEM
from customers.tests.factories import ContactFactory, CustomerFactory
from service.choices import TicketChannel, TicketType
from service.models import Ticket
from service.services import ticket_create

EML = Path(__file__).parent / "eml"
FIXTURE_NUMBER = "TK-2026-000123"  # the number the .eml fixtures answer


def eml(name: str) -> bytes:
    return (EML / name).read_bytes()


def desk_customer(owner, **fields):
    """A customer with the two contacts who wrote the fixtures: Li Wei and Wang Fang."""
    customer = CustomerFactory(owner=owner, name=fields.pop("name", "Hangzhou Printing Co"), **fields)
    li = ContactFactory(customer=customer, name="Li Wei", email="li.wei@example.com", is_primary=True)
    wang = ContactFactory(customer=customer, name="Wang Fang", email="wang.fang@example.cn")
    return customer, li, wang


def ticket_for(customer, contact, *, subject="The printer does not start", kind=TicketType.INQUIRY, number=None):
    """A ticket opened through the service; `number` renumbers it so the fixtures (whose
    subjects carry FIXTURE_NUMBER, some inside RFC 2047 words) answer it."""
    ticket = ticket_create(
        actor=SYSTEM,
        customer=customer,
        contact=contact,
        kind=kind,
        channel=TicketChannel.PHONE,
        subject=subject,
        description="The display stays dark after power-on.",
    )
    if number:
        Ticket.objects.filter(pk=ticket.pk).update(number=number)
        ticket.refresh_from_db()
    return ticket
