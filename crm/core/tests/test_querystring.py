"""The one parser for ids and numbers in query strings: only ASCII digits within range."""

import pytest
from django.test import RequestFactory

from crm.core.querystring import BIGINT_MAX, parse_id, query_id, query_ids, query_int


@pytest.mark.parametrize(
    "value", ["²", "٣", "-1", "0", "1.5", "1e3", "NaN", "", " ", "\x00", "1' OR '1'='1", str(BIGINT_MAX + 1), "9" * 30]
)
def test_anything_but_an_ascii_id_in_bigint_range_is_no_id(value):
    assert parse_id(value) is None


def test_ascii_ids_are_read_up_to_the_largest_bigint():
    assert parse_id("42") == 42
    assert parse_id(str(BIGINT_MAX)) == BIGINT_MAX


def test_query_helpers_read_the_request():
    request = RequestFactory().get("/", {"customer": ["7", "²", "8"], "index": "5000", "from": "3"})
    assert query_id(request, "customer") == 8  # the last value, as QueryDict.get gives it
    assert query_ids(request, "customer") == [7, 8]
    assert query_id(request, "missing") is None
    assert query_int(request, "index", default=0, maximum=999) == 0
    assert query_int(request, "from", default=1, minimum=1, maximum=3) == 3
