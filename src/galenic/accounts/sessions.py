"""Sessions ended during the current request (so the response does not re-save them)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

_ended: ContextVar[frozenset[str]] = ContextVar("galenic_ended_sessions", default=frozenset())


def note_ended(keys: Iterable[str]) -> None:
    _ended.set(_ended.get() | frozenset(keys))


def was_ended(key: str | None) -> bool:
    return bool(key) and key in _ended.get()


def reset() -> None:
    _ended.set(frozenset())


def keep_session_after_password_change(request: Any) -> None:
    """Keep the current session valid under the new password hash.

    Django would otherwise end it (the session stores a hash of the password). The key is not
    cycled, so the UserSession record stays bound to it; other sessions were ended by the service.
    """
    from django.contrib.auth import HASH_SESSION_KEY

    request.session[HASH_SESSION_KEY] = request.user.get_session_auth_hash()
