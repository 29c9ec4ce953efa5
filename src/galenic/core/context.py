"""Per-request context shared by services: request id and acting user.

Set by RequestContextMiddleware for web requests and by `galenic.core.context.action_context`
for the CLI, gateway and tests, so one user action shares one request id (NetBox's change logging).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionContext:
    request_id: str
    source: str  # "web", "api", "cli", "gateway", "system", "test"
    remote_addr: str = ""


_current: ContextVar[ActionContext | None] = ContextVar("galenic_action_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> ActionContext:
    ctx = _current.get()
    if ctx is None:
        # Outside any request (e.g. a shell): still attributable to one id per call site.
        return ActionContext(request_id=new_request_id(), source="system")
    return ctx


@contextmanager
def action_context(
    source: str, request_id: str | None = None, remote_addr: str = ""
) -> Iterator[ActionContext]:
    ctx = ActionContext(
        request_id=request_id or new_request_id(), source=source, remote_addr=remote_addr
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
