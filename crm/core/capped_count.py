"""Counts of lists that stop at a cap, and remember for a while that they reached it.

A list of a million customers says "100,000+": counting to the cap reads 100,001 index
entries on every request (about 8 ms of the database's time, on the cores the web
processes need too). Once a list's count has reached its cap, the same count (the same SQL
and parameters, so the same user's visibility, filters and search) answers "the cap" without
counting for `CAPPED_COUNT_SECONDS` in this process. A count below the cap is never
remembered: a list that shows an exact number always shows the current one. Only the
number of pages shown can be late, and only for a list that shrank from past the cap below
it within those seconds (a page past its real end shows no rows; a search, newest first).
"""

from time import monotonic

from django.conf import settings
from django.db.models import QuerySet

#: (database alias, SQL, parameters) -> when the memory of reaching the cap ends (monotonic s).
_reached: dict[tuple[str, str, str], float] = {}
#: A process remembers at most this many lists; past it the oldest memories are dropped.
MAX_REMEMBERED = 2_000


def capped_count(queryset: QuerySet, cap: int) -> int:
    """The number of rows of `queryset`, counting at most `cap + 1` of them."""
    limited = queryset.order_by()[: cap + 1]
    seconds = settings.CAPPED_COUNT_SECONDS
    if seconds <= 0:
        return limited.count()
    sql, params = limited.query.sql_with_params()
    key = (limited.db, sql, repr(params))
    now = monotonic()
    if _reached.get(key, 0.0) > now:
        return cap + 1
    counted = limited.count()
    if counted > cap:
        if len(_reached) >= MAX_REMEMBERED:
            for old in sorted(_reached, key=_reached.__getitem__)[: MAX_REMEMBERED // 2]:
                _reached.pop(old, None)
        _reached[key] = now + seconds
    return counted


def capped_count_forget() -> None:
    """Forget every count remembered (tests that turn the memory on start from nothing)."""
    _reached.clear()
