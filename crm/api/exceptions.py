from crm.core.exceptions import DomainError


class IdempotencyConflict(DomainError):
    """An Idempotency-Key sent again with another request."""
