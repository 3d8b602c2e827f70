"""A token-authenticated call costs a few queries, whatever the page holds: the token with
its user, the user's permissions, the rows. No write while the token's last-used time is
current, and the throttles count outside the database when Redis is configured."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import CustomerFactory

FEW, MANY = 3, 30
# Token with user 1, permissions 1 (the user's own and the groups', crm.core.auth), the model
# versions the list's insight columns read 1, the rows 1.
LIST_CEILING = 4
DETAIL_CEILING = 3
# Each throttle's counter in the database cache (no Redis): a savepoint, the locked read,
# the update, the release.
THROTTLE_QUERIES = 0 if settings.API_THROTTLE_CACHE != "default" else 2 * 4


def queries_for(api, url):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
        assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_a_token_authenticated_list_does_not_grow_with_rows(request, api_for, rep, role):
    api = api_for(request.getfixturevalue(role), scopes=("read",))
    for _ in range(FEW):
        CustomerFactory(owner=rep)
    api.get("/api/v1/customers/")  # the first call notes the token's last use
    few = queries_for(api, "/api/v1/customers/")
    for _ in range(MANY - FEW):
        CustomerFactory(owner=rep)
    many = queries_for(api, "/api/v1/customers/")

    assert few == many
    assert many <= LIST_CEILING + THROTTLE_QUERIES


def test_a_token_authenticated_customer_is_read_once(api_for, rep):
    api = api_for(rep, scopes=("read",))
    customer = CustomerFactory(owner=rep)
    api.get("/api/v1/customers/")

    assert queries_for(api, f"/api/v1/customers/{customer.pk}/") <= DETAIL_CEILING + THROTTLE_QUERIES
