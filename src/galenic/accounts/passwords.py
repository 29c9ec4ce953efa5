"""Password policy in force for a user (settings: PASSWORD_MAX_AGE_DAYS, PASSWORD_HISTORY, ...)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from galenic.accounts.policy import password_expired
from galenic.core.timefmt import utcnow

MUST_CHANGE = "Your password was set by an administrator: choose your own before continuing."
EXPIRED = "Your password has expired: choose a new one before continuing."


def password_change_reason(user: Any) -> str | None:
    """Why the user must change their password now, or None."""
    if getattr(user, "must_change_password", False):
        return MUST_CHANGE
    if password_expired(
        getattr(user, "password_changed_at", None), utcnow(), settings.PASSWORD_MAX_AGE_DAYS
    ):
        return EXPIRED
    return None
