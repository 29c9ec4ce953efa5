"""Helpers for the MBR tests (importable by name, unlike conftest)."""

from __future__ import annotations

from typing import Any

from galenic.testing.support import PASSWORD


def authority_for(user: Any, *, session: Any = None, full: bool = True) -> Any:
    from galenic.signatures import services

    return services.authenticate_signer(
        session=session,
        actor=user,
        user_id=user.username if full else None,
        password=PASSWORD,
    )
