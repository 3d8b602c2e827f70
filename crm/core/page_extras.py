"""Panels and list columns a higher app adds to a lower app's pages.

The customer page shows the customer's segment and next-order likelihood, and the
opportunity page its win probability, but those belong to crm.insight, above customers in
the layers; customers may not import it. So insight registers here, in its
`AppConfig.ready()`, a panel per kind of page and a column (with its filter) for the
customer list, and the customers views ask through `panels_for` and `columns_for`. Without
a provider (the app not installed) the pages show nothing extra.

A panel renders itself for one reader and one object (already visible to the reader) and
must start its own reads from what that reader may see; a column answers for a page of
rows at once (one query, not one per row).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString

from crm.core.types import Viewer

CUSTOMER_DETAIL = "customers.customer"
OPPORTUNITY_DETAIL = "customers.opportunity"
CUSTOMER_LIST = "customers.customer_list"

Panel = Callable[[Viewer, Any], SafeString | str]


@dataclass(frozen=True)
class ListColumn:
    """A column of a list and the filter beside it.

    `values(user, ids) -> {id: text}` for the rows of one page; `choices() -> [(value,
    label)]` for the filter; `filter(user, queryset, value)` narrows the list to the rows
    with that value."""

    key: str
    heading: Any  # a lazy translation
    values: Callable[[Viewer, list[int]], dict[int, str]]
    choices: Callable[[], list[tuple[str, str]]]
    filter: Callable[[Viewer, QuerySet, str], QuerySet]


_panels: dict[str, dict[str, Panel]] = {}
_columns: dict[str, dict[str, ListColumn]] = {}


def panel_register(page: str, name: str, panel: Panel) -> None:
    _panels.setdefault(page, {})[name] = panel


def column_register(page: str, column: ListColumn) -> None:
    _columns.setdefault(page, {})[column.key] = column


def extras_unregister(page: str, name: str) -> None:
    """Forget a panel or column (for tests)."""
    _panels.get(page, {}).pop(name, None)
    _columns.get(page, {}).pop(name, None)


def panels_for(page: str, user: Viewer, obj: Any) -> list[SafeString | str]:
    """The panels of `page` rendered for `user`, in registration order, empty ones left out."""
    rendered = (panel(user, obj) for panel in _panels.get(page, {}).values())
    return [html for html in rendered if html]


def columns_for(page: str) -> list[ListColumn]:
    return list(_columns.get(page, {}).values())
