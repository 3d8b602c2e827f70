"""Facts about customers that a higher app knows and a lower app asks for.

The contract approval assistant (contracts) weighs a customer's open complaints, which
only the service app, above contracts in the layers, can count. Contracts may not import
service, so service registers a provider here in its `AppConfig.ready()` and contracts
asks through `customer_fact_counts`. Without a provider (the app not installed) every
count is 0: nothing is known against the customer.

A provider answers for many (customer id, moment) pairs at once, so training on a
thousand past contracts costs one query, and each contract is judged by what was true
when it was decided, never by complaints that came later.
"""

import datetime
from collections.abc import Callable, Iterable

Pair = tuple[int, datetime.datetime]
CountProvider = Callable[[list[Pair]], dict[Pair, int]]

OPEN_COMPLAINTS = "open_complaints"

_providers: dict[str, CountProvider] = {}


def customer_fact_register(name: str, provider: CountProvider) -> None:
    """Let `provider(pairs) -> {(customer id, moment): count}` answer for `name`."""
    _providers[name] = provider


def customer_fact_unregister(name: str) -> None:
    """Forget the provider of `name` (for tests)."""
    _providers.pop(name, None)


def customer_fact_counts(name: str, pairs: Iterable[Pair]) -> dict[Pair, int]:
    """`{(customer id, moment): count}` for each pair; 0 where nobody knows."""
    wanted = list(dict.fromkeys(pairs))
    provider = _providers.get(name)
    known = provider(wanted) if provider and wanted else {}
    return {pair: int(known.get(pair, 0)) for pair in wanted}
