"""Marks for the public helpers of the service modules that work inside a caller's transaction.

Every public service is atomic on its own (`transaction.atomic`). A few public helpers
lock or write rows for other services and make sense only inside the caller's
transaction (a lock taken in autocommit is released at once). They say so with
`in_callers_transaction`, which refuses loudly when called outside one, instead of locking
nothing or writing half a change. `crm/core/tests/test_services_atomic.py` holds every
public function of the service modules to one of the two.
"""

import functools

from django.db import transaction
from django.db.transaction import TransactionManagementError


def in_callers_transaction(function):
    """The helper runs only inside the caller's transaction."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not transaction.get_connection().in_atomic_block:
            raise TransactionManagementError(f"{function.__qualname__} must be called inside a transaction.")
        return function(*args, **kwargs)

    wrapper.in_callers_transaction = True
    return wrapper
