"""Type aliases the services and selectors share (checked by mypy in `make lint`)."""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

#: Whoever a read is for: the request's user, signed in or not.
Viewer: TypeAlias = User | AnonymousUser
# Who performs a write is `crm.core.workflow.Actor`: a user, or SYSTEM when no person acts.
