"""Admin unlock with a reason after a lockout (21 CFR 11.300(d))."""

from __future__ import annotations

import pytest

from galenic.accounts import services
from galenic.accounts.models import User
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed


def _lock(user, n):
    for _ in range(n):
        with pytest.raises((ValidationFailed, PermissionDenied)):
            services.check_login(user_id=user.username, password="nope-nope")


def test_11_300_d_admin_unlocks_with_a_reason(personas, password, lockout_3, events):
    operator = personas["operator"]
    _lock(operator, 3)
    assert User.objects.get(pk=operator.pk).is_locked
    with pytest.raises(ValidationFailed):
        services.unlock_user(actor=personas["admin"], user=operator, reason="")
    services.unlock_user(
        actor=personas["admin"], user=operator, reason="identity checked by phone; user mistyped"
    )
    row = User.objects.get(pk=operator.pk)
    assert not row.is_locked
    assert row.failed_attempts == 0
    (event,) = events("accounts.user.unlock")
    assert event["category"] == "security"
    assert event["old"]["locked"] is True
    assert event["reason"].startswith("identity checked")
    assert services.check_login(user_id="olivia", password=password) == operator


def test_unlocking_an_unlocked_user_is_a_conflict(personas):
    with pytest.raises(Conflict):
        services.unlock_user(actor=personas["admin"], user=personas["operator"], reason="x")


def test_only_admins_unlock(personas, lockout_3):
    _lock(personas["operator"], 3)
    with pytest.raises(PermissionDenied):
        services.unlock_user(actor=personas["supervisor"], user=personas["operator"], reason="x")
