"""Who is acting and from where, for the audit trail.

The middleware fills it for web requests; admin requests are marked as such;
commands set it with `acting_from("command")`. Services read it when they audit.
"""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    source: str = "system"
    ip: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    user_agent: str = ""
    token_name: str = ""  # the personal access token an API call came with


_current = contextvars.ContextVar("crm_request_context", default=None)


def current_context() -> RequestContext:
    return _current.get() or RequestContext()


@contextmanager
def acting_from(source: str, **values):
    token = _current.set(RequestContext(source=source, **values))
    try:
        yield current_context()
    finally:
        _current.reset(token)
