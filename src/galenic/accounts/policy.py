"""Password ageing and lockout rules (21 CFR 11.300(b)(d)). Pure Python, no Django import."""

from __future__ import annotations

from datetime import datetime, timedelta


def password_expires_at(changed_at: datetime | None, max_age_days: int) -> datetime | None:
    """When a password set at ``changed_at`` expires; None when ageing is off (max_age_days=0)."""
    if max_age_days <= 0 or changed_at is None:
        return None
    return changed_at + timedelta(days=max_age_days)


def password_expired(changed_at: datetime | None, now: datetime, max_age_days: int) -> bool:
    """A password never recorded as set counts as expired, so it must be changed."""
    if max_age_days <= 0:
        return False
    expires = password_expires_at(changed_at, max_age_days)
    return expires is None or now >= expires


def locks_now(failed_attempts: int, threshold: int) -> bool:
    """True when this failed attempt (already counted) reaches the lockout threshold."""
    return failed_attempts >= threshold
