"""Every account change writes exactly one audit event in its own transaction, with the acting
user, old and new values and the reason (11.10(e), Annex 11 12.3)."""

from __future__ import annotations

import pytest

from galenic.accounts import services
from galenic.audit.models import AuditEvent
from galenic.core.context import action_context


def _lock(user):
    from galenic.accounts.models import User

    User.objects.filter(pk=user.pk).update(locked_at="2026-01-01T00:00:00Z", failed_attempts=5)


def _deactivate(user):
    from galenic.accounts.models import User

    User.objects.filter(pk=user.pk).update(is_active=False)


CASES = {
    "accounts.user.reactivate": lambda p: (
        _deactivate(p["operator"]),
        services.reactivate_user(actor=p["admin"], user=p["operator"], reason="typo"),
    ),
    "accounts.user.update": lambda p: services.update_user(
        actor=p["admin"], user=p["operator"], full_name="Olivia O.", email="", reason="typo"
    ),
    "accounts.role.grant": lambda p: services.grant_role(
        actor=p["admin"], user=p["operator"], role="verifier", reason="typo"
    ),
    "accounts.role.revoke": lambda p: services.revoke_role(
        actor=p["admin"], user=p["inspector"], role="inspector", reason="typo"
    ),
    "accounts.user.deactivate": lambda p: services.deactivate_user(
        actor=p["admin"], user=p["operator"], reason="typo"
    ),
    "accounts.user.unlock": lambda p: (
        _lock(p["operator"]),
        services.unlock_user(actor=p["admin"], user=p["operator"], reason="typo"),
    ),
    "accounts.password.reset": lambda p: services.reset_password(
        actor=p["admin"], user=p["operator"], reason="typo"
    ),
    "accounts.user.create": lambda p: services.create_user(
        actor=p["admin"],
        username="nadia",
        full_name="Nadia",
        password="Correct-horse-42",
        roles=[],
        reason="typo",
    ),
}


@pytest.mark.parametrize("action", sorted(CASES))
def test_11_10_e_each_account_change_has_one_event(personas, action):
    before = AuditEvent.objects.count()
    with action_context("test", request_id="r-" + action):
        CASES[action](personas)
    new = list(AuditEvent.objects.filter(seq__gt=before))
    assert [e.action for e in new] == [action]
    (event,) = new
    assert event.actor_username == "ada"
    assert event.actor_name == "Ada"
    assert event.reason == "typo"
    assert event.request_id == "r-" + action
    assert event.new_values
    if action != "accounts.user.create":
        assert event.old_values or action == "accounts.password.reset"
