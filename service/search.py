"""Tickets in the navigation's search box (registered in `apps.py`)."""

from django.utils.translation import gettext_lazy as _

from crm.core.search import SearchHit, SearchProvider
from service.selectors import ticket_list, ticket_search


def _tickets(user, text):
    return ticket_search(ticket_list(user=user), text).order_by("-number", "-pk")


def _ticket_hit(ticket, masker):
    return SearchHit(
        heading=ticket.number,
        summary=f"{masker.text(ticket.subject)} · {masker.text(ticket.customer.name)} · {ticket.get_status_display()}",
        url=ticket.get_absolute_url(),
    )


PROVIDERS = [
    SearchProvider(
        kind="tickets",
        label=_("Tickets"),
        permission="service.view_ticket",
        find=_tickets,
        hit=_ticket_hit,
        list_url_name="service:ticket_list",
        position=60,
    )
]
