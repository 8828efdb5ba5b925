"""Who is acting, and on behalf of which request, for the change log and audit events.

Web and API requests set it in middleware; commands, jobs and tests set it with
``change_context(...)``. Code that writes register objects never has to pass it around.
"""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChangeContext:
    actor: object = None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    source: str = "system"
    remote_addr: str = ""


_current: ContextVar[ChangeContext | None] = ContextVar("aishang_change_context", default=None)


def current_context() -> ChangeContext:
    return _current.get() or ChangeContext()


@contextmanager
def change_context(*, actor=None, source="system", request_id=None, remote_addr=""):
    token = _current.set(
        ChangeContext(actor=actor, source=source, request_id=request_id or uuid.uuid4(), remote_addr=remote_addr)
    )
    try:
        yield current_context()
    finally:
        _current.reset(token)


def set_actor(actor):
    """API authentication happens after middleware; the API view tells us who it was."""
    context = current_context()
    _current.set(ChangeContext(actor=actor, request_id=context.request_id, source=context.source,
                               remote_addr=context.remote_addr))
