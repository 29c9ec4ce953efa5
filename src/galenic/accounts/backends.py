from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from galenic.accounts.identity import normalise_user_id


class GalenicBackend(ModelBackend):
    """Normalised IDs; locked or deactivated users cannot log in."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            username = normalise_user_id(username or "")
        except ValueError:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and getattr(user, "is_locked", False):
            return None
        return user

    def user_can_authenticate(self, user: Any) -> bool:
        return bool(getattr(user, "is_active", False)) and not getattr(user, "is_locked", False)
