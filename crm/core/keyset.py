"""Keyset ("next page") navigation: the rows that follow a given row in a list's order.

Past the capped count (crm.core.views.DeferredJoinPaginator) page numbers stop; the list
then goes on from the last row shown: `?after=<id>`. The row's sort values are read back
from the database (the cursor is only an id, parsed by crm.core.querystring, so no value
in the query string is ever trusted), and the next rows are those after it in the list's
own order, primary key last, found by a range on the order's index however deep.
"""

from django.db.models import Q, QuerySet


def list_ordering(queryset: QuerySet) -> list[tuple[str, bool]] | None:
    """The queryset's order as (field path, descending) pairs, or None when it is ordered by
    something other than plain fields (an expression)."""
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    pairs = []
    for item in ordering:
        if not isinstance(item, str) or item == "?":
            return None
        pairs.append((item.lstrip("-"), item.startswith("-")))
    if not any(path in ("pk", "id") for path, _descending in pairs):
        pairs.append(("pk", bool(pairs) and pairs[0][1]))
    return pairs


def rows_after(queryset: QuerySet, pk: int) -> QuerySet | None:
    """The rows after row `pk` in the queryset's order, or None when there is no such row
    among them (not visible, filtered out) or the order has no keyset."""
    ordering = list_ordering(queryset)
    if ordering is None:
        return None
    paths = [path for path, _descending in ordering]
    values = queryset.filter(pk=pk).values(*paths).first()
    if values is None or any(values[path] is None for path in paths):
        return None
    after, equal = Q(), Q()
    for path, descending in ordering:
        after |= equal & Q(**{f"{path}__{'lt' if descending else 'gt'}": values[path]})
        equal &= Q(**{path: values[path]})
    first, descending = ordering[0]
    # The same bound on the first column alone lets PostgreSQL start the index scan there.
    bound = Q(**{f"{first}__{'lte' if descending else 'gte'}": values[first]})
    return queryset.filter(bound & after)
