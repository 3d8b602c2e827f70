class DomainError(Exception):
    """A rule of the business refused the request; the message is shown to the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class TransitionNotAllowed(DomainError):
    """A workflow step is not allowed from the object's current state or for this actor."""


class DuplicateRecord(DomainError):
    """The record would duplicate an existing one, which is named so the user can open it."""

    def __init__(self, message, field=None, existing=None):
        super().__init__(message, field=field)
        self.existing = existing


class StaleVersion(DomainError):
    """The row changed since the caller read it (a lost update refused under the row lock)."""
