"""The one parser for ids and numbers read from a query string (or any submitted text).

`str.isdigit()` accepts "²" and "٣", which `int()` then refuses or reads as a number
nobody typed, and a 30-digit id overflows PostgreSQL's bigint: both used to answer 500.
Here only ASCII digits within range count; anything else is "not given" (`None` or the
default), and the view decides what a missing value means.
"""

BIGINT_MAX = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds


def parse_int(value, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int | None:
    """The integer `value` spells in ASCII digits, if it lies within [minimum, maximum]."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def parse_id(value) -> int | None:
    """A primary key: a positive integer within bigint range."""
    return parse_int(value, minimum=1)


def query_id(request, name: str) -> int | None:
    """The id in `?name=`, or None when it is missing or not an id."""
    return parse_id(request.GET.get(name, ""))


def query_ids(request, name: str) -> list[int]:
    """Every id given as `?name=1&name=2`; values that are not ids are left out."""
    return [number for number in map(parse_id, request.GET.getlist(name)) if number is not None]


def query_int(request, name: str, *, default=None, minimum: int = 0, maximum: int = BIGINT_MAX):
    """The integer in `?name=` within [minimum, maximum], else `default`."""
    number = parse_int(request.GET.get(name, ""), minimum=minimum, maximum=maximum)
    return default if number is None else number
