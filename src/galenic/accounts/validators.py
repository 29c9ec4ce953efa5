from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError


class PasswordHistoryValidator:
    """Refuse any of the user's last N passwords (GALENIC_PASSWORD_HISTORY)."""

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or settings.PASSWORD_HISTORY <= 0:
            return
        # "The last N" counts the current password as the first of them.
        recent = [
            user.password,
            *user.password_history.values_list("password_hash", flat=True)[
                : settings.PASSWORD_HISTORY - 1
            ],
        ]
        if any(h and check_password(password, h) for h in recent):
            raise ValidationError(
                f"This password was used recently; choose one not among your last {settings.PASSWORD_HISTORY}.",
                code="password_reused",
            )

    def get_help_text(self) -> str:
        return f"Your password cannot be one of your last {settings.PASSWORD_HISTORY} passwords."


class MinimumLengthValidator:
    """At least GALENIC_PASSWORD_MIN_LENGTH characters, read when checking (not at start-up)."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < settings.PASSWORD_MIN_LENGTH:
            raise ValidationError(
                f"This password is too short: use at least {settings.PASSWORD_MIN_LENGTH} characters.",
                code="password_too_short",
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at least {settings.PASSWORD_MIN_LENGTH} characters."
