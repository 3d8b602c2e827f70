"""What orders do when a lower app's step happens (domain events, crm/core/events.py).

Registered in `OrdersConfig.ready()`; each subscriber calls an orders service."""

from crm.core.events import event_subscribe
from orders.services import quote_opportunity_win


def opportunity_win_on_contract_activated(name: str, payload: dict) -> None:
    """The contract drafted from an accepted quote became active: the deal is won."""
    quote_opportunity_win(contract_id=payload["contract_id"])


def subscribe() -> None:
    event_subscribe("contract.activated", opportunity_win_on_contract_activated)
